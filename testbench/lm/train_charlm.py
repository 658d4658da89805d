#!/usr/bin/env python3
"""Character-level GPT for the gain-cell attention accelerator: training, reference logits, checks.

Two networks share one architecture (docs/lm_format.md): a softmax baseline, and the same network
adapted to the accelerator's attention (clamped and quantized Q/K/V on the hardware's ranges, the
cubic gain-cell product, HardSigmoid, per-sub-tile clipped and quantized outputs, per-head affine
scalers), obtained by training with softmax, swapping in the hardware attention with scalers
calibrated from the softmax heads' statistics, and fine-tuning with straight-through estimators.

Subcommands:
  train           train both networks and write the model folder (manifest, .npy weights,
                  reference text and logits). --steps N is a smoke run of N steps per phase.
  dump-reference  recompute the reference logits of both shipped networks from their .npy files.
  check           verify that a model folder matches the format (tensor names, shapes, dtype).

CPU only, seeded, deterministic (torch.use_deterministic_algorithms, fixed thread count). Runs with
Debian's python3-torch 1.13 and with torch 2.x.
"""

import argparse
import datetime
import json
import math
import os
import platform
import sys
import time

import numpy as np
import torch

FORMAT = "gca-charlm-1"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_MODEL_DIR = os.path.join(HERE, "models", "fortunes_char")
DEFAULT_SPEC = os.path.join(REPO, "rtl_spec", "params", "gpt2.json")
DEFAULT_CORPUS = "/usr/share/games/fortunes"
UNK_CHAR = "\ufffd"  # the vocabulary's entry for unknown characters (id 0)
SCALER_NAMES = ("a_q", "b_q", "a_k", "b_k", "a_v", "b_v", "a_o", "b_o")

# A short English text of our own (not from the corpus) for the reference logits: two chunks of
# the 128-character context, one character outside the vocabulary (the e-acute).
REFERENCE_TEXT = (
    "The small model reads one character at a time and guesses the next. It was trained on "
    "old fortune cookies, so it likes quotes, puns and the odd caf\u00e9 joke.\n"
    "Attention runs on the analog arrays; the rest stays digital.\n"
)


# ----------------------------------------------------------------------------- corpus


def corpus_files(corpus_dir):
    """The fortune text files: plain files only (no .dat index, no .u8 links), sorted by name."""
    names = []
    for name in sorted(os.listdir(corpus_dir)):
        path = os.path.join(corpus_dir, name)
        if name.endswith((".dat", ".u8")) or os.path.islink(path) or not os.path.isfile(path):
            continue
        names.append(name)
    if not names:
        raise SystemExit(f"error: no fortune text files in {corpus_dir}")
    return names


def normalize_text(raw_bytes):
    """UTF-8 with invalid bytes as U+FFFD (unknown), CR LF as LF."""
    return raw_bytes.decode("utf-8", errors="replace").replace("\r\n", "\n")


def load_corpus(corpus_dir, val_every):
    """Splits the corpus by fortune: fortune i (counted over all files in name order) goes to
    validation when i % val_every == val_every - 1. Each fortune keeps its closing '%' line."""
    train, val = [], []
    index = 0
    for name in corpus_files(corpus_dir):
        with open(os.path.join(corpus_dir, name), "rb") as f:
            text = normalize_text(f.read())
        for record in text.split("\n%\n"):
            if not record.strip():
                continue
            piece = record.rstrip("\n%") + "\n%\n"
            (val if index % val_every == val_every - 1 else train).append(piece)
            index += 1
    return "".join(train), "".join(val), index


def build_vocab(train_text, min_count):
    counts = {}
    for ch in train_text:
        counts[ch] = counts.get(ch, 0) + 1
    kept = sorted(ch for ch, n in counts.items() if n >= min_count and ch != UNK_CHAR)
    return [UNK_CHAR] + kept


def encode(text, chars):
    index = {ch: i for i, ch in enumerate(chars)}
    ids = np.fromiter((index.get(ch, 0) for ch in text), dtype=np.int64, count=len(text))
    return ids, int(np.count_nonzero(ids == 0))


# ----------------------------------------------------------------------------- hardware


def spec_value(spec, path):
    node = spec
    for key in path.split("."):
        node = node[key]
    return node["value"] if isinstance(node, dict) and "value" in node else node


def hardware_from_spec(spec_path, window):
    with open(spec_path) as f:
        spec = json.load(f)
    gc_keys = ["v_min_v", "v_max_v", "w_center_v", "v_in_v"] + [
        f"c{i}{j}" for i in range(4) for j in range(4) if i + j <= 3
    ]
    return {
        "window": window,
        "array.cols": int(spec_value(spec, "array.cols")),
        "quant.q_levels": int(spec_value(spec, "quant.q_levels")),
        "quant.kv_levels": int(spec_value(spec, "quant.kv_levels")),
        "quant.out_levels": int(spec_value(spec, "quant.out_levels")),
        "charge_to_pulse.s_sat_qk": float(spec_value(spec, "charge_to_pulse.s_sat_qk")),
        "charge_to_pulse.s_sat_av": float(spec_value(spec, "charge_to_pulse.s_sat_av")),
        "gain_cell": {k: float(spec_value(spec, "gain_cell." + k)) for k in gc_keys},
    }


def gain_poly(gc):
    """Coefficients p[i] of g(w) = sum_i p[i] w^i with the read voltage folded in (Eq. 4)."""
    return [
        sum(gc[f"c{i}{j}"] * gc["v_in_v"] ** j for j in range(4 - i)) for i in range(4)
    ]


class Quantizer:
    """N evenly spaced levels over [lo, hi] (N = 0: clip only). The level index is
    floor((x - lo) / step + 1/2 + 1e-9), computed in float64 so that ties round up as the
    accelerator's quantizer does; the forward value is exact, the gradient straight-through."""

    def __init__(self, levels, lo, hi):
        self.levels, self.lo, self.hi = int(levels), float(lo), float(hi)
        self.step = (hi - lo) / (levels - 1) if levels >= 2 else 0.0
        self.inv_step = (levels - 1) / (hi - lo) if levels >= 2 else 0.0

    def index(self, x):
        y = x.detach().double().clamp(self.lo, self.hi)
        k = torch.floor((y - self.lo) * self.inv_step + 0.5 + 1e-9)
        return k.clamp(max=self.levels - 1)

    def __call__(self, x):
        y = x.clamp(self.lo, self.hi)
        if self.levels < 2:
            return y
        q = (self.lo + self.step * self.index(x)).to(x.dtype)
        return y + (q - y).detach()


class HardwareAttention:
    """The accelerator's head function for whole chunks (positions 0..T-1 of one chunk, the head
    reset at the chunk's start), on inputs already mapped by the per-head scalers."""

    def __init__(self, hw):
        self.window = int(hw["window"])
        self.cols = int(hw["array.cols"])
        gc = hw["gain_cell"]
        self.q_dac = Quantizer(hw["quant.q_levels"], 0.0, 1.0)
        self.kv_dac = Quantizer(hw["quant.kv_levels"], gc["v_min_v"], gc["v_max_v"])
        self.counter = Quantizer(hw["quant.out_levels"], -1.0, 1.0)
        self.s_sat_qk = float(hw["charge_to_pulse.s_sat_qk"])
        self.s_sat_av = float(hw["charge_to_pulse.s_sat_av"])
        self.w_center = gc["w_center_v"]
        self.poly = gain_poly(gc)
        self._masks = {}

    def g(self, volts):
        """Gain-cell product per unit pulse width of a cell storing `volts`. On the DAC levels
        it is g of each level evaluated in float64, as the accelerator tabulates it."""
        p = self.poly
        if self.kv_dac.levels >= 2:
            idx = self.kv_dac.index(volts)
            w = self.kv_dac.lo + self.kv_dac.step * idx - self.w_center
            g_exact = (p[0] + w * (p[1] + w * (p[2] + w * p[3]))).to(volts.dtype)
            w_ste = volts - self.w_center
            g_smooth = p[0] + w_ste * (p[1] + w_ste * (p[2] + w_ste * p[3]))
            return g_smooth + (g_exact - g_smooth).detach()
        w = volts - self.w_center
        return p[0] + w * (p[1] + w * (p[2] + w * p[3]))

    def masks(self, n, device):
        """Window mask [n, n] (query i reads key j) and, per sub-tile, the keys it holds and
        whether it is active (holds at least one written slot) for each query."""
        key = (n, str(device))
        if key not in self._masks:
            i = torch.arange(n).view(n, 1)
            j = torch.arange(n).view(1, n)
            window = (j <= i) & (j > i - self.window)
            subtile_of_key = (torch.arange(n) % self.window) // self.cols
            n_sub = (self.window + self.cols - 1) // self.cols
            per_sub = []
            for s in range(n_sub):
                holds = window & (subtile_of_key.view(1, n) == s)
                active = (s * self.cols <= torch.clamp(torch.arange(n), max=self.window - 1))
                if holds.any():
                    per_sub.append((holds.float().to(device), active.float().view(n, 1).to(device)))
            self._masks[key] = per_sub
        return self._masks[key]

    def __call__(self, q_in, k_in, v_in):
        """q_in, k_in, v_in: [..., T, dh] after the scalers. Returns [..., T, dh] (before a_o, b_o)."""
        q_hw = self.q_dac(q_in)
        gk = self.g(self.kv_dac(k_in))
        gv = self.g(self.kv_dac(v_in))
        charge = q_hw @ gk.transpose(-1, -2)  # S[i, j]
        phi = torch.clamp(charge / self.s_sat_qk, 0.0, 1.0)
        out = 0.0
        for holds, active in self.masks(q_in.shape[-2], q_in.device):
            o = torch.clamp(((phi * holds) @ gv) / self.s_sat_av, -1.0, 1.0)
            out = out + self.counter(o) * active
        return out


# ----------------------------------------------------------------------------- network


class CharGPT(torch.nn.Module):
    """Pre-LayerNorm character GPT; weights stored [in, out] (y = x @ W + b) as in the files."""

    def __init__(self, vocab, d_model, n_layers, n_heads, d_head, d_mlp, context, gen):
        super().__init__()
        self.V, self.D, self.L, self.H, self.dh = vocab, d_model, n_layers, n_heads, d_head
        self.F, self.T = d_mlp, context
        self.hw = None  # HardwareAttention when the network is the hardware one
        P = torch.nn.Parameter

        def normal(*shape, std=0.02):
            return P(torch.randn(*shape, generator=gen) * std)

        def zeros(*shape):
            return P(torch.zeros(*shape))

        def ones(*shape):
            return P(torch.ones(*shape))

        hd = n_heads * d_head
        proj_std = 0.02 / math.sqrt(2 * n_layers)
        t = {"tok_emb": normal(vocab, d_model), "pos_emb": normal(context, d_model)}
        for l in range(n_layers):
            p = f"layer{l}."
            t[p + "ln1.weight"], t[p + "ln1.bias"] = ones(d_model), zeros(d_model)
            for n in ("q", "k", "v"):
                t[p + f"attn.w{n}"], t[p + f"attn.b{n}"] = normal(d_model, hd), zeros(hd)
            t[p + "attn.wo"], t[p + "attn.bo"] = normal(hd, d_model, std=proj_std), zeros(d_model)
            t[p + "ln2.weight"], t[p + "ln2.bias"] = ones(d_model), zeros(d_model)
            t[p + "mlp.w1"], t[p + "mlp.b1"] = normal(d_model, d_mlp), zeros(d_mlp)
            t[p + "mlp.w2"], t[p + "mlp.b2"] = normal(d_mlp, d_model, std=proj_std), zeros(d_model)
        t["ln_f.weight"], t["ln_f.bias"] = ones(d_model), zeros(d_model)
        t["head"] = normal(d_model, vocab)
        self.t = torch.nn.ParameterDict({k.replace(".", "__"): v for k, v in t.items()})

    def w(self, name):
        return self.t[name.replace(".", "__")]

    def names(self):
        return [k.replace("__", ".") for k in self.t.keys()]

    def make_hardware(self, hw):
        self.hw = HardwareAttention(hw)
        for l in range(self.L):
            key = f"layer{l}.attn.scalers".replace(".", "__")
            if key not in self.t:
                self.t[key] = torch.nn.Parameter(torch.zeros(self.H, 8))

    def ln(self, x, prefix):
        return torch.nn.functional.layer_norm(
            x, (self.D,), self.w(prefix + ".weight"), self.w(prefix + ".bias"), 1e-5
        )

    def heads(self, x, name, l):
        y = x @ self.w(f"layer{l}.attn.w{name}") + self.w(f"layer{l}.attn.b{name}")
        B, T, _ = y.shape
        return y.view(B, T, self.H, self.dh).transpose(1, 2)  # [B, H, T, dh]

    def softmax_attention(self, q, k, v):
        T = q.shape[-2]
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.dh)
        causal = torch.arange(T).view(1, T) <= torch.arange(T).view(T, 1)
        att = att.masked_fill(~causal.to(att.device), float("-inf"))
        return torch.softmax(att, dim=-1) @ v

    def attention(self, q, k, v, l):
        if self.hw is None:
            return self.softmax_attention(q, k, v)
        s = self.w(f"layer{l}.attn.scalers").view(1, self.H, 1, 1, 8)
        out = self.hw(
            s[..., 0] * q + s[..., 1], s[..., 2] * k + s[..., 3], s[..., 4] * v + s[..., 5]
        )
        return s[..., 6] * out + s[..., 7]

    def forward(self, ids, capture=None):
        """ids [B, T] of one chunk each (positions 0..T-1). capture(l, q, k, v) sees each
        layer's per-head q, k, v [B, H, T, dh] before the scalers."""
        B, T = ids.shape
        x = self.w("tok_emb")[ids] + self.w("pos_emb")[:T]
        for l in range(self.L):
            h = self.ln(x, f"layer{l}.ln1")
            q, k, v = (self.heads(h, n, l) for n in ("q", "k", "v"))
            if capture is not None:
                capture(l, q, k, v)
            a = self.attention(q, k, v, l).transpose(1, 2).reshape(B, T, self.H * self.dh)
            x = x + a @ self.w(f"layer{l}.attn.wo") + self.w(f"layer{l}.attn.bo")
            h2 = self.ln(x, f"layer{l}.ln2")
            u = torch.nn.functional.gelu(
                h2 @ self.w(f"layer{l}.mlp.w1") + self.w(f"layer{l}.mlp.b1"), approximate="tanh"
            )
            x = x + u @ self.w(f"layer{l}.mlp.w2") + self.w(f"layer{l}.mlp.b2")
        return self.ln(x, "ln_f") @ self.w("head")


def tensor_shapes(arch, vocab_size, hardware):
    V, D, L = vocab_size, arch["d_model"], arch["n_layers"]
    H, dh, F, T = arch["n_heads"], arch["d_head"], arch["d_mlp"], arch["context"]
    hd = H * dh
    shapes = {"tok_emb": [V, D], "pos_emb": [T, D]}
    for l in range(L):
        p = f"layer{l}."
        shapes.update({p + "ln1.weight": [D], p + "ln1.bias": [D]})
        for n in ("q", "k", "v"):
            shapes.update({p + f"attn.w{n}": [D, hd], p + f"attn.b{n}": [hd]})
        shapes.update({p + "attn.wo": [hd, D], p + "attn.bo": [D]})
        shapes.update({p + "ln2.weight": [D], p + "ln2.bias": [D]})
        shapes.update({p + "mlp.w1": [D, F], p + "mlp.b1": [F], p + "mlp.w2": [F, D], p + "mlp.b2": [D]})
        if hardware:
            shapes[p + "attn.scalers"] = [H, 8]
    shapes.update({"ln_f.weight": [D], "ln_f.bias": [D], "head": [D, V]})
    return shapes


# ----------------------------------------------------------------------------- training


def setup_torch(threads, seed):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)


def batches(ids, batch, context, rng):
    starts = rng.randint(0, len(ids) - context, size=batch)
    return torch.from_numpy(np.stack([ids[s : s + context] for s in starts]))


def chunk_ids(ids, context, max_chunks=None):
    """Non-overlapping chunks of `context` characters; the last, shorter one too."""
    chunks = [ids[i : i + context] for i in range(0, len(ids), context)]
    return chunks if max_chunks is None else chunks[:max_chunks]


def chunked_logits(model, ids, context):
    """Logits [N, V] of a text scored in chunks of `context` characters (head reset per chunk)."""
    out = []
    with torch.no_grad():
        for c in chunk_ids(ids, context):
            out.append(model(torch.from_numpy(np.asarray(c)).view(1, -1))[0])
    return torch.cat(out)


def evaluate(model, ids, context, max_chunks=None, batch=64):
    """Mean cross entropy (nats/char) of next-character prediction within each chunk: position i
    predicts chunk character i+1 (the last character of a chunk predicts nothing)."""
    chunks = [c for c in chunk_ids(ids, context + 1, max_chunks) if len(c) == context + 1]
    total, count = 0.0, 0
    model.eval()
    with torch.no_grad():
        for b in range(0, len(chunks), batch):
            x = torch.from_numpy(np.stack(chunks[b : b + batch]))
            logits = model(x[:, :-1])
            loss = torch.nn.functional.cross_entropy(
                logits.reshape(-1, logits.shape[-1]).double(), x[:, 1:].reshape(-1), reduction="sum"
            )
            total += float(loss)
            count += x[:, 1:].numel()
    model.train()
    return total / count


def train_phase(model, name, params, steps, train_ids, val_ids, args, rng, log, eval_chunks, lr=None):
    lr_peak = args.lr if lr is None else lr
    if steps <= 0:
        return []
    decay = [p for n, p in params if p.dim() >= 2 and "scalers" not in n]
    no_decay = [p for n, p in params if not (p.dim() >= 2 and "scalers" not in n)]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr_peak,
        betas=(0.9, 0.95),
    )
    warmup = min(args.warmup, max(1, steps // 10))
    curve = []
    t0 = time.time()
    for step in range(steps):
        lr = lr_peak * min(1.0, (step + 1) / warmup)
        lr *= 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * step / steps))
        for g in opt.param_groups:
            g["lr"] = lr
        x = batches(train_ids, args.batch, model.T + 1, rng)
        logits = model(x[:, :-1])
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, model.V), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in params], 1.0)
        opt.step()
        last = step + 1 == steps
        if last or (step + 1) % args.eval_every == 0:
            val = evaluate(model, val_ids, model.T, eval_chunks)
            curve.append({"step": step + 1, "train_loss": float(loss.detach()), "val_loss": val})
            log(f"{name} step {step + 1}/{steps} train {float(loss):.4f} val {val:.4f} "
                f"({time.time() - t0:.0f} s)")
    return curve


def calibrate_scalers(model, calib_ids, hw, log):
    """Per-head scalers from the softmax network's statistics: q percentiles 0.5..99.5 mapped onto
    the PWM range [0, 1]; k and v mapped symmetrically around the gain cell's centre voltage
    (the 99.5th percentile of |x - median| onto half the DAC range); then a_o, b_o by least
    squares of the softmax head output against the hardware head output on the same batch."""
    gc = hw["gain_cell"]
    centre, half = gc["w_center_v"], 0.5 * (gc["v_max_v"] - gc["v_min_v"])
    model.hw = None
    stats = {}

    def grab(l, q, k, v):
        stats[l] = (q.detach(), k.detach(), v.detach())

    with torch.no_grad():
        model(calib_ids, capture=grab)
    model.make_hardware(hw)
    for l in range(model.L):
        q, k, v = stats[l]
        sc = torch.zeros(model.H, 8)
        for h in range(model.H):
            qh, kh, vh = (t[:, h].reshape(-1).double() for t in (q, k, v))
            lo, hi = torch.quantile(qh, 0.005), torch.quantile(qh, 0.995)
            a_q = 1.0 / float(hi - lo)
            sc[h, 0], sc[h, 1] = a_q, -float(lo) * a_q
            for col, t in ((2, kh), (4, vh)):
                med = torch.median(t)
                spread = torch.quantile((t - med).abs(), 0.995)
                a = half / float(spread)
                sc[h, col], sc[h, col + 1] = a, centre - float(med) * a
            sc[h, 6], sc[h, 7] = 1.0, 0.0
        model.w(f"layer{l}.attn.scalers").data.copy_(sc)
        # Output affine: regress the softmax output on the hardware output, per head.
        with torch.no_grad():
            ref = model.softmax_attention(q, k, v)
            hw_out = model.hw(
                sc[:, 0].view(1, -1, 1, 1) * q + sc[:, 1].view(1, -1, 1, 1),
                sc[:, 2].view(1, -1, 1, 1) * k + sc[:, 3].view(1, -1, 1, 1),
                sc[:, 4].view(1, -1, 1, 1) * v + sc[:, 5].view(1, -1, 1, 1),
            )
        for h in range(model.H):
            x = hw_out[:, h].reshape(-1).double()
            y = ref[:, h].reshape(-1).double()
            xm, ym = x.mean(), y.mean()
            var = float(((x - xm) ** 2).mean())
            a_o = float(((x - xm) * (y - ym)).mean()) / var if var > 0 else 0.0
            sc[h, 6], sc[h, 7] = a_o, float(ym - a_o * xm)
        model.w(f"layer{l}.attn.scalers").data.copy_(sc)
        log(f"layer {l} scalers: " + "; ".join(
            " ".join(f"{n}={float(sc[h, i]):.4g}" for i, n in enumerate(SCALER_NAMES)) for h in range(model.H)))


def save_network(model, folder):
    os.makedirs(folder, exist_ok=True)
    for name in model.names():
        arr = model.w(name).detach().cpu().numpy().astype("<f4")
        np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(arr), allow_pickle=False)


def load_network(model_dir, net_name, manifest, dtype=torch.float32):
    arch = manifest["architecture"]
    net = manifest["networks"][net_name]
    model = CharGPT(len(manifest["vocab"]["chars"]), arch["d_model"], arch["n_layers"], arch["n_heads"],
                    arch["d_head"], arch["d_mlp"], arch["context"], torch.Generator().manual_seed(0))
    hardware = net["attention"] == "hardware"
    if hardware:
        model.make_hardware(manifest["hardware"])
    for name in model.names():
        arr = np.load(os.path.join(model_dir, net["dir"], name + ".npy"), allow_pickle=False)
        model.w(name).data.copy_(torch.from_numpy(arr.astype(np.float32)))
    model.eval()
    return model.to(dtype)


def new_model(args, vocab_size, seed):
    return CharGPT(vocab_size, args.d_model, args.layers, args.heads, args.d_head, args.d_mlp, args.context,
                   torch.Generator().manual_seed(seed))


def write_reference(model_dir, manifest, log):
    text_path = os.path.join(model_dir, manifest["reference"]["text"])
    with open(text_path, "rb") as f:
        text = normalize_text(f.read())
    ids, unknown = encode(text, manifest["vocab"]["chars"])
    T = manifest["architecture"]["context"]
    for kind, dtype in (("logits", torch.float32), ("logits_float64", torch.float64)):
        for net_name, file_name in manifest["reference"].get(kind, {}).items():
            model = load_network(model_dir, net_name, manifest, dtype)
            logits = chunked_logits(model, ids, T).numpy().astype("<f4")
            np.save(os.path.join(model_dir, file_name), logits, allow_pickle=False)
            log(f"reference {kind} {net_name}: {logits.shape} ({unknown} unknown characters) -> {file_name}")


def cmd_train(args):
    log_lines = []

    def log(msg):
        print(msg, flush=True)
        log_lines.append(msg)

    setup_torch(args.threads, args.seed)
    smoke = args.steps is not None
    softmax_steps = args.steps if smoke else args.softmax_steps
    adapt_steps = args.steps if smoke else args.adapt_steps
    scratch_steps = args.steps if smoke else args.scratch_steps
    eval_chunks = 8 if smoke else None
    t_start = time.time()

    train_text, val_text, n_fortunes = load_corpus(args.corpus, args.val_every)
    chars = build_vocab(train_text, args.min_count)
    train_ids, train_unk = encode(train_text, chars)
    val_ids, val_unk = encode(val_text, chars)
    log(f"corpus: {n_fortunes} fortunes, train {len(train_ids)} chars, val {len(val_ids)} chars, "
        f"vocab {len(chars)} (unknown: train {train_unk}, val {val_unk})")
    hw = hardware_from_spec(args.spec, args.context)
    rng = np.random.RandomState(args.seed)
    losses = {}

    calib = batches(train_ids, args.calib_batch, args.context, np.random.RandomState(args.seed + 1))
    if args.scratch_only:
        return train_scratch(args, chars, calib, hw, scratch_steps, train_ids, val_ids,
                             log, eval_chunks)

    # 1. Softmax baseline.
    model = new_model(args, len(chars), args.seed)
    n_params = sum(p.numel() for p in model.parameters())
    log(f"parameters: {n_params}")
    if args.init:  # continue training a shipped softmax network (the equal-steps control)
        for name in model.names():
            arr = np.load(os.path.join(args.init, "softmax", name + ".npy"), allow_pickle=False)
            model.w(name).data.copy_(torch.from_numpy(arr))
        log(f"softmax network initialised from {args.init}")
    curve = train_phase(model, "softmax", list(model.t.named_parameters()), softmax_steps, train_ids, val_ids,
                        args, rng, log, eval_chunks)
    softmax_state = {k: v.detach().clone() for k, v in model.t.items()}
    softmax_val = evaluate(model, val_ids, args.context, eval_chunks)
    losses["softmax"] = {"steps": softmax_steps, "val_loss_nats": softmax_val, "curve": curve}

    # 2. Adapted: the hardware attention swapped in with calibrated scalers, then fine-tuned.
    calibrate_scalers(model, calib, hw, log)
    swap_val = evaluate(model, val_ids, args.context, eval_chunks)
    log(f"hardware attention swapped in, calibrated scalers, before fine-tuning: val {swap_val:.4f}")
    curve = train_phase(model, "adapt", list(model.t.named_parameters()), adapt_steps, train_ids, val_ids,
                        args, rng, log, eval_chunks, lr=args.adapt_lr)
    adapted_val = evaluate(model, val_ids, args.context, eval_chunks)
    losses["hardware_swapped_calibrated"] = {"steps": 0, "val_loss_nats": swap_val}
    losses["hardware_adapted"] = {"steps": adapt_steps, "after_softmax_steps": softmax_steps,
                                  "val_loss_nats": adapted_val, "curve": curve}

    for v in losses.values():
        v["val_bits_per_char"] = v["val_loss_nats"] / math.log(2)
    losses["adapted_vs_softmax_percent"] = 100.0 * (adapted_val / softmax_val - 1.0)

    out = args.out
    os.makedirs(out, exist_ok=True)
    hardware_model = model
    model = new_model(args, len(chars), args.seed)
    for k, v in softmax_state.items():
        model.t[k].data.copy_(v)
    save_network(model, os.path.join(out, "softmax"))
    save_network(hardware_model, os.path.join(out, "hardware"))
    with open(os.path.join(out, "reference_text.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write(REFERENCE_TEXT)
    elapsed = time.time() - t_start
    manifest = {
        "format": FORMAT,
        "architecture": {"n_layers": args.layers, "n_heads": args.heads, "d_head": args.d_head,
                         "d_model": args.d_model, "d_mlp": args.d_mlp, "context": args.context,
                         "layer_norm_eps": 1e-5, "activation": "gelu_tanh",
                         "positions": "learned, chunked scoring", "parameters": n_params},
        "vocab": {"chars": chars, "unk_id": 0},
        "hardware": hw,
        "networks": {
            "softmax": {"dir": "softmax", "attention": "softmax", "val_loss_nats": softmax_val,
                        "val_bits_per_char": softmax_val / math.log(2)},
            "hardware": {"dir": "hardware", "attention": "hardware", "val_loss_nats": adapted_val,
                         "val_bits_per_char": adapted_val / math.log(2)},
        },
        "training": {
            "corpus": f"Debian packages fortunes and fortunes-min: the text files of {os.path.abspath(args.corpus)} "
                      f"(no .dat, no .u8 links), in name order: " + " ".join(corpus_files(args.corpus)),
            "split": f"by fortune (records between '%' lines, counted over all files in name order): "
                     f"fortune i is validation when i % {args.val_every} == {args.val_every - 1}, else training; "
                     f"train {len(train_ids)} chars, validation {len(val_ids)} chars",
            "vocab_rule": f"characters seen at least {args.min_count} times in the training text, sorted by "
                          f"code point, after id 0 = unknown (U+FFFD)",
            "seed": args.seed,
            "steps": {"softmax": softmax_steps, "hardware_adapt": adapt_steps},
            "smoke": smoke,
            "recipe": (
                f"AdamW (betas 0.9, 0.95; weight decay {args.weight_decay} on matrices), lr {args.lr} with "
                f"{args.warmup}-step warm-up and cosine decay to 10 %, gradient clip 1.0, batch {args.batch} x "
                f"{args.context} characters drawn at random offsets (positions 0..{args.context - 1}). "
                f"Softmax network trained {softmax_steps} steps; then the hardware attention swapped in with "
                f"per-head scalers calibrated on {args.calib_batch} training sequences (q percentiles "
                f"0.5/99.5 onto [0, 1]; k and v centred on 0.45 V, 99.5th percentile of |x - median| onto "
                f"0.45 V; a_o, b_o by least squares of the softmax head output on the hardware head output) "
                f"and all weights and scalers fine-tuned {adapt_steps} steps (peak lr {args.adapt_lr}) with straight-through "
                f"estimators for the roundings (clips keep their true gradient)."),
            "losses": losses,
            "validation": "mean cross entropy over non-overlapping chunks of context + 1 characters of the "
                          "validation text (each position predicts the next character of its chunk)",
            "torch_version": torch.__version__,
            "numpy_version": np.__version__,
            "python": platform.python_version(),
            "threads": args.threads,
            "device": args.device,
            "machine": args.machine or platform.node(),
            "wall_seconds": round(elapsed, 1),
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": " ".join(sys.argv),
        },
        "reference": {"text": "reference_text.txt",
                      "logits": {"softmax": "reference_logits_softmax.npy",
                                 "hardware": "reference_logits_hardware.npy"},
                      "logits_float64": {"hardware": "reference_logits_hardware_float64.npy"}},
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=True)
        f.write("\n")
    write_reference(out, manifest, log)
    with open(os.path.join(out, "train_log.txt"), "w") as f:
        f.write("\n".join(log_lines) + "\n")
    log(f"softmax {softmax_val:.4f} nats ({softmax_val / math.log(2):.4f} bits/char), adapted "
        f"{adapted_val:.4f} ({adapted_val / math.log(2):.4f}), {losses['adapted_vs_softmax_percent']:+.2f} %; "
        f"{elapsed:.0f} s")
    return 0


def train_scratch(args, chars, calib, hw, steps, train_ids, val_ids, log, eval_chunks):
    """The hardware network trained from scratch (scalers calibrated on the random initial network),
    for the losses table: writes OUT/scratch.json, which `add-scratch` merges into a manifest."""
    t0 = time.time()
    scratch = new_model(args, len(chars), args.seed)
    calibrate_scalers(scratch, calib, hw, log)
    curve = train_phase(scratch, "scratch", list(scratch.t.named_parameters()), steps, train_ids, val_ids,
                        args, np.random.RandomState(args.seed), log, eval_chunks)
    val = evaluate(scratch, val_ids, args.context, eval_chunks)
    os.makedirs(args.out, exist_ok=True)
    result = {"steps": steps, "val_loss_nats": val, "val_bits_per_char": val / math.log(2), "curve": curve,
              "lr": args.lr, "threads": args.threads, "torch_version": torch.__version__,
              "wall_seconds": round(time.time() - t0, 1)}
    with open(os.path.join(args.out, "scratch.json"), "w") as f:
        json.dump(result, f, indent=1)
    log(f"hardware from scratch: {val:.4f} nats ({val / math.log(2):.4f} bits/char)")
    return 0


def scratch_from_log(path):
    """The losses of a --scratch-only run that was stopped before its end, from its log lines
    'scratch step N/M train X val Y (S s)': the last evaluation counts."""
    curve, planned = [], None
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 7 and parts[0] == "scratch" and parts[1] == "step":
                step, planned = (int(x) for x in parts[2].split("/"))
                curve.append({"step": step, "train_loss": float(parts[4]), "val_loss": float(parts[6])})
    if not curve:
        raise SystemExit(f"error: {path}: no 'scratch step' lines")
    val = curve[-1]["val_loss"]
    return {"steps": curve[-1]["step"], "planned_steps": planned, "stopped_early": curve[-1]["step"] != planned,
            "val_loss_nats": val, "val_bits_per_char": val / math.log(2), "curve": curve}


def cmd_add_control(args):
    """Adds the softmax network of another run (e.g. the shipped one trained further, so that it has
    as many steps as the adapted network) to a manifest's losses table as `softmax_same_steps`."""
    manifest = read_manifest(args.model)
    other = read_manifest(args.other)
    r = dict(other["training"]["losses"]["softmax"])
    r["steps"] = manifest["training"]["steps"]["softmax"] + r["steps"]
    r["continued_steps"] = other["training"]["losses"]["softmax"]["steps"]
    r["recipe"] = other["training"]["command"]
    r["machine"] = other["training"]["machine"]
    manifest["training"]["losses"]["softmax_same_steps"] = r
    with open(os.path.join(args.model, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=True)
        f.write("\n")
    return 0


def cmd_add_scratch(args):
    manifest = read_manifest(args.model)
    if args.scratch.endswith(".json"):
        with open(args.scratch) as f:
            result = json.load(f)
    else:
        result = scratch_from_log(args.scratch)
    losses = manifest["training"]["losses"]
    losses["hardware_from_scratch"] = result
    losses["scratch_vs_softmax_percent"] = 100.0 * (
        result["val_loss_nats"] / losses["softmax"]["val_loss_nats"] - 1.0)
    manifest["training"]["steps"]["hardware_from_scratch"] = result["steps"]
    with open(os.path.join(args.model, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=True)
        f.write("\n")
    return 0


def cmd_losses_table(args):
    """Writes the losses table of a model folder's manifest as Markdown."""
    manifest = read_manifest(args.model)
    tr = manifest["training"]
    losses = tr["losses"]
    soft = losses["softmax"]["val_loss_nats"]
    rows = [
        ("softmax", "softmax network", f"{losses['softmax']['steps']} softmax"),
        ("hardware_swapped_calibrated", "hardware attention swapped into the softmax network, "
         "calibrated scalers, no fine-tuning", "-"),
        ("hardware_adapted", "adapted network (shipped as `hardware/`)",
         f"{losses['softmax']['steps']} softmax + {losses['hardware_adapted']['steps']} hardware"),
        ("hardware_from_scratch", "hardware attention trained from scratch", None),
        ("softmax_same_steps", "softmax network trained further (as many steps as the adapted one)", None),
    ]
    lines = [
        "<!-- generated by testbench/lm/train_charlm.py losses-table from "
        "testbench/lm/models/fortunes_char/manifest.json; do not edit -->",
        "| network | training steps | validation loss (nats/char) | bits/char | vs softmax |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key, label, steps in rows:
        if key not in losses:
            continue
        r = losses[key]
        if steps is None and key == "softmax_same_steps":
            steps = f"{r['steps'] - r['continued_steps']} + {r['continued_steps']} softmax"
        elif steps is None:
            steps = f"{r['steps']} hardware"
            if r.get("stopped_early"):
                steps += f" (run stopped at {r['steps']} of {r['planned_steps']} by the time limit)"
        lines.append(f"| {label} | {steps} | {r['val_loss_nats']:.4f} | {r['val_bits_per_char']:.4f} | "
                     f"{100.0 * (r['val_loss_nats'] / soft - 1.0):+.1f} % |")
    lines.append("")
    if "softmax_same_steps" in losses:
        same = losses["softmax_same_steps"]["val_loss_nats"]
        ad = losses["hardware_adapted"]["val_loss_nats"]
        lines.append(f"At equal training steps ({losses['softmax_same_steps']['steps']}) the adapted network is "
                     f"{100.0 * (ad / same - 1.0):+.1f} % above the softmax one. The shipped `softmax/` network is "
                     f"the {losses['softmax']['steps']}-step one that the adapted network started from.")
        lines.append("")
    lines.append(f"Trained on: {tr['machine']}, {tr['threads']} threads, torch {tr['torch_version']}, "
                 f"{tr['wall_seconds']:.0f} s for the softmax and adapted networks; seed {tr['seed']}.")
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def read_manifest(model_dir):
    path = os.path.join(model_dir, "manifest.json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {path}: {e}")


def cmd_dump_reference(args):
    setup_torch(args.threads, 0)
    manifest = read_manifest(args.model)
    write_reference(args.model, manifest, print)
    if args.eval_val:
        train_text, val_text, _ = load_corpus(args.corpus, args.val_every)
        val_ids, _ = encode(val_text, manifest["vocab"]["chars"])
        for net_name in manifest["networks"]:
            model = load_network(args.model, net_name, manifest)
            val = evaluate(model, val_ids, manifest["architecture"]["context"])
            print(f"{net_name}: validation {val:.5f} nats/char ({val / math.log(2):.5f} bits/char); "
                  f"manifest {manifest['networks'][net_name]['val_loss_nats']:.5f}")
    return 0


def check_model(model_dir):
    """Problems of a model folder against the format, as a list of one-line messages."""
    manifest = read_manifest(model_dir)
    errors = []
    if manifest.get("format") != FORMAT:
        errors.append(f"manifest.json: format {manifest.get('format')!r}, expected {FORMAT!r}")
    arch, vocab = manifest["architecture"], manifest["vocab"]
    chars = vocab["chars"]
    if any(not isinstance(c, str) or len(c) != 1 for c in chars) or len(set(chars)) != len(chars):
        errors.append("manifest.json: vocab.chars must be distinct one-character strings")
    if not 0 <= vocab["unk_id"] < len(chars):
        errors.append("manifest.json: vocab.unk_id out of range")
    if manifest["hardware"]["window"] != arch["context"]:
        errors.append("manifest.json: hardware.window differs from architecture.context")
    for net_name, net in manifest["networks"].items():
        shapes = tensor_shapes(arch, len(chars), net["attention"] == "hardware")
        folder = os.path.join(model_dir, net["dir"])
        present = {f[:-4] for f in os.listdir(folder) if f.endswith(".npy")} if os.path.isdir(folder) else set()
        for extra in sorted(present - set(shapes)):
            errors.append(f"{net['dir']}/{extra}.npy: not a tensor of the format")
        for name, shape in shapes.items():
            path = os.path.join(folder, name + ".npy")
            if name not in present:
                errors.append(f"{path}: missing")
                continue
            arr = np.load(path, allow_pickle=False)
            if arr.dtype != np.dtype("<f4") or list(arr.shape) != shape or not arr.flags.c_contiguous:
                errors.append(f"{path}: {arr.dtype} {list(arr.shape)}, expected float32 {shape}")
            elif not np.all(np.isfinite(arr)):
                errors.append(f"{path}: not finite")
    ref = manifest["reference"]
    with open(os.path.join(model_dir, ref["text"]), "rb") as f:
        n = len(normalize_text(f.read()))
    for net_name, file_name in list(ref["logits"].items()) + list(ref.get("logits_float64", {}).items()):
        arr = np.load(os.path.join(model_dir, file_name), allow_pickle=False)
        if list(arr.shape) != [n, len(chars)] or arr.dtype != np.dtype("<f4"):
            errors.append(f"{file_name}: {arr.dtype} {list(arr.shape)}, expected float32 {[n, len(chars)]}")
    return errors


def cmd_check(args):
    errors = check_model(args.model)
    for e in errors:
        print("error: " + e)
    if not errors:
        print(f"{args.model}: consistent")
    return 1 if errors else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    tr = sub.add_parser("train", help="train both networks and write the model folder")
    tr.add_argument("--out", default=DEFAULT_MODEL_DIR)
    tr.add_argument("--steps", type=int, default=None, help="smoke run: N steps per phase, short evaluation")
    tr.add_argument("--softmax-steps", type=int, default=2000)
    tr.add_argument("--adapt-steps", type=int, default=1500)
    tr.add_argument("--scratch-steps", type=int, default=3500, help="steps of --scratch-only")
    tr.add_argument("--layers", type=int, default=4)
    tr.add_argument("--heads", type=int, default=2)
    tr.add_argument("--d-head", type=int, default=64)
    tr.add_argument("--d-model", type=int, default=128)
    tr.add_argument("--d-mlp", type=int, default=512)
    tr.add_argument("--context", type=int, default=128)
    tr.add_argument("--batch", type=int, default=32)
    tr.add_argument("--lr", type=float, default=3e-3)
    tr.add_argument("--adapt-lr", type=float, default=1e-3)
    tr.add_argument("--init", default=None, help="start the softmax phase from this model folder's softmax/")
    tr.add_argument("--scratch-only", action="store_true",
                    help="train only the hardware network from scratch; write its losses to OUT/scratch.json")
    tr.add_argument("--warmup", type=int, default=100)
    tr.add_argument("--weight-decay", type=float, default=0.1)
    tr.add_argument("--eval-every", type=int, default=500)
    tr.add_argument("--calib-batch", type=int, default=64)
    tr.add_argument("--min-count", type=int, default=20)
    tr.add_argument("--machine", default=None, help="where it ran, for the manifest")
    for p in (tr,):
        p.add_argument("--seed", type=int, default=1234)
    for p in (tr, sub.add_parser("dump-reference", help="recompute the reference logits from the .npy files"),
              sub.add_parser("check", help="check a model folder against the format")):
        p.add_argument("--model" if p is not tr else "--model-unused", default=DEFAULT_MODEL_DIR,
                       dest="model", help="model folder")
        p.add_argument("--corpus", default=DEFAULT_CORPUS)
        p.add_argument("--val-every", type=int, default=20)
        p.add_argument("--spec", default=DEFAULT_SPEC)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--device", default="cpu", choices=["cpu"])
    sub.choices["dump-reference"].add_argument("--eval-val", action="store_true",
                                               help="also print both networks' validation loss")
    add = sub.add_parser("add-scratch", help="merge a scratch.json into a model folder's losses table")
    add.add_argument("scratch", help="scratch.json, or the log of a --scratch-only run stopped early")
    add.add_argument("--model", default=DEFAULT_MODEL_DIR)
    ac = sub.add_parser("add-control", help="add another run's softmax network to the losses table")
    ac.add_argument("other", help="model folder of the control run")
    ac.add_argument("--model", default=DEFAULT_MODEL_DIR)
    lt = sub.add_parser("losses-table", help="write the manifest's losses table as Markdown")
    lt.add_argument("--model", default=DEFAULT_MODEL_DIR)
    lt.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    commands = {"losses-table": cmd_losses_table, "add-control": cmd_add_control, "train": cmd_train, "dump-reference": cmd_dump_reference, "check": cmd_check,
                "add-scratch": cmd_add_scratch}
    return commands[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
