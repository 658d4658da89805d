#!/usr/bin/env python3
"""Captures per-layer, per-head Q/K/V streams of a PyTorch GPT-style model for `gca-sim run`.

Forward hooks on the model's query, key and value projections (found by module-name patterns, or
one fused qkv projection split in three) record their outputs while the model reads a text. Each
head's stream is mapped into the accelerator's input ranges with per-head affine scalers and
written as q.npy, k.npy, v.npy of shape [L, H, T, d] (float32), which the scenario stimulus
`{"kind": "heads", "q": "q.npy", "k": "k.npy", "v": "v.npy"}` feeds head by head. The scalers
used are written to scalers.json (out = a x + b, per layer and head), so that a host can map the
accelerator's outputs back.

Scalers:
  stats  from the captured data itself: per head, q's 0.5th..99.5th percentiles onto [0, 1]; k and
         v centred on their median at the gain cell's centre 0.45 V with the 99.5th percentile of
         |x - median| at 0.45 V (half the DAC range). Values outside are clipped.
  model  the model's own scalers (the shipped hardware network's layer{l}.attn.scalers).

Test case (and example): the shipped model rebuilt as an ordinary torch module with q_proj,
k_proj, v_proj linear layers:
  capture_qkv.py --model testbench/lm/models/fortunes_char --net hardware --text FILE --out DIR
For another model, import this file and call capture() with its name patterns, e.g. for
Hugging Face GPT-2 the fused projection: capture(model, run, qkv=r"h\\.(\\d+)\\.attn\\.c_attn$", ...).
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_charlm as lm  # noqa: E402

Q_RANGE = (0.0, 1.0)  # PWM width in units of T_max
KV_RANGE = (0.0, 0.9)  # stored voltage, V
KV_CENTER = 0.45  # gain cell centre, V


def capture(model, run, n_heads, d_head, q=None, k=None, v=None, qkv=None):
    """Runs `run()` with forward hooks on the projections whose qualified module names match the
    regular expressions q, k, v (or one fused qkv whose output is [q | k | v]); the first group of
    each pattern, when there is one, is the layer index, else layers count in module order.
    Returns raw streams {"q", "k", "v"}: arrays [L, H, T, d] over every token of every call
    (batch rows appended in order)."""
    if qkv is None and not (q and k and v):
        raise ValueError("give q, k and v patterns, or one qkv pattern")
    streams = {"q": {}, "k": {}, "v": {}}
    hooks = []

    def layer_of(match, order):
        return int(match.group(1)) if match.re.groups >= 1 else order

    def add(kind, layer, out):
        y = out.detach().float().reshape(-1, out.shape[-1])  # [tokens, H*d]
        if y.shape[-1] != n_heads * d_head:
            raise ValueError(f"{kind} projection of layer {layer}: {y.shape[-1]} features, "
                             f"expected n_heads x d_head = {n_heads * d_head}")
        streams[kind].setdefault(layer, []).append(y.view(-1, n_heads, d_head).transpose(0, 1))

    patterns = {"qkv": qkv} if qkv else {"q": q, "k": k, "v": v}
    counts = {kind: 0 for kind in patterns}
    for name, module in model.named_modules():
        for kind, pattern in patterns.items():
            m = re.search(pattern, name)
            if not m:
                continue
            layer = layer_of(m, counts[kind])
            counts[kind] += 1
            if kind == "qkv":
                def hook(_mod, _inp, out, layer=layer):
                    for part, kk in zip(out.split(n_heads * d_head, dim=-1), ("q", "k", "v")):
                        add(kk, layer, part)
            else:
                def hook(_mod, _inp, out, layer=layer, kind=kind):
                    add(kind, layer, out)
            hooks.append(module.register_forward_hook(hook))
    if not hooks:
        raise ValueError("no module name matches the patterns")
    try:
        with torch.no_grad():
            run()
    finally:
        for h in hooks:
            h.remove()
    out = {}
    for kind, per_layer in streams.items():
        layers = sorted(per_layer)
        if layers != list(range(len(layers))):
            raise ValueError(f"{kind}: captured layers {layers}, expected 0..{len(layers) - 1}")
        out[kind] = torch.stack([torch.cat(per_layer[l], dim=1) for l in layers]).numpy()
    return out


def stats_scalers(raw):
    """Per-head (a, b) for q, k, v from the streams' own statistics: arrays [L, H, 2]."""
    L, H = raw["q"].shape[:2]
    sc = {n: np.zeros((L, H, 2)) for n in ("q", "k", "v")}
    half = 0.5 * (KV_RANGE[1] - KV_RANGE[0])
    for l in range(L):
        for h in range(H):
            x = raw["q"][l, h].astype(np.float64).ravel()
            lo, hi = np.percentile(x, 0.5), np.percentile(x, 99.5)
            a = 1.0 / max(hi - lo, 1e-12)
            sc["q"][l, h] = (a, -lo * a)
            for n in ("k", "v"):
                x = raw[n][l, h].astype(np.float64).ravel()
                med = np.median(x)
                spread = np.percentile(np.abs(x - med), 99.5)
                a = half / max(spread, 1e-12)
                sc[n][l, h] = (a, KV_CENTER - med * a)
    return sc


def map_streams(raw, scalers):
    """Applies the scalers and clips to the hardware ranges; float32 [L, H, T, d] each."""
    out = {}
    for n, (lo, hi) in (("q", Q_RANGE), ("k", KV_RANGE), ("v", KV_RANGE)):
        a = scalers[n][..., 0][:, :, None, None]
        b = scalers[n][..., 1][:, :, None, None]
        out[n] = np.clip(a * raw[n].astype(np.float64) + b, lo, hi).astype("<f4")
    return out


class Attention(torch.nn.Module):
    """Softmax attention, or the accelerator's function with the model's scalers."""

    def __init__(self, d_model, n_heads, d_head, hw=None, scalers=None):
        super().__init__()
        self.H, self.dh, self.hw = n_heads, d_head, hw
        self.q_proj = torch.nn.Linear(d_model, n_heads * d_head)
        self.k_proj = torch.nn.Linear(d_model, n_heads * d_head)
        self.v_proj = torch.nn.Linear(d_model, n_heads * d_head)
        self.o_proj = torch.nn.Linear(n_heads * d_head, d_model)
        self.register_buffer("scalers", scalers if scalers is not None else torch.zeros(n_heads, 8))

    def forward(self, x):
        B, T, _ = x.shape
        q, k, v = (p(x).view(B, T, self.H, self.dh).transpose(1, 2)
                   for p in (self.q_proj, self.k_proj, self.v_proj))
        if self.hw is None:
            att = (q @ k.transpose(-1, -2)) / self.dh ** 0.5
            causal = torch.arange(T).view(1, T) <= torch.arange(T).view(T, 1)
            a = torch.softmax(att.masked_fill(~causal, float("-inf")), dim=-1) @ v
        else:
            s = self.scalers.view(1, self.H, 1, 1, 8)
            a = self.hw(s[..., 0] * q + s[..., 1], s[..., 2] * k + s[..., 3], s[..., 4] * v + s[..., 5])
            a = s[..., 6] * a + s[..., 7]
        return self.o_proj(a.transpose(1, 2).reshape(B, T, self.H * self.dh))


class Block(torch.nn.Module):
    def __init__(self, d_model, d_mlp, attn):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(d_model, eps=1e-5)
        self.attn = attn
        self.ln2 = torch.nn.LayerNorm(d_model, eps=1e-5)
        self.fc1 = torch.nn.Linear(d_model, d_mlp)
        self.fc2 = torch.nn.Linear(d_mlp, d_model)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(torch.nn.functional.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class TorchCharGPT(torch.nn.Module):
    """The shipped network as an ordinary GPT-style torch module (nn.Linear weights [out, in])."""

    def __init__(self, model_dir, net):
        super().__init__()
        manifest = lm.read_manifest(model_dir)
        arch, spec = manifest["architecture"], manifest["networks"][net]
        folder = os.path.join(model_dir, spec["dir"])
        hardware = spec["attention"] == "hardware"
        hw = lm.HardwareAttention(manifest["hardware"]) if hardware else None

        def t(name):
            return torch.from_numpy(np.load(os.path.join(folder, name + ".npy"), allow_pickle=False))

        D, F, H, dh = arch["d_model"], arch["d_mlp"], arch["n_heads"], arch["d_head"]
        self.context, self.chars, self.n_heads, self.d_head = arch["context"], manifest["vocab"]["chars"], H, dh
        self.manifest = manifest
        self.tok_emb = torch.nn.Parameter(t("tok_emb"))
        self.pos_emb = torch.nn.Parameter(t("pos_emb"))
        self.layers = torch.nn.ModuleList()
        for l in range(arch["n_layers"]):
            p = f"layer{l}."
            attn = Attention(D, H, dh, hw, t(p + "attn.scalers") if hardware else None)
            block = Block(D, F, attn)
            with torch.no_grad():
                for lin, w, b in ((attn.q_proj, "attn.wq", "attn.bq"), (attn.k_proj, "attn.wk", "attn.bk"),
                                  (attn.v_proj, "attn.wv", "attn.bv"), (attn.o_proj, "attn.wo", "attn.bo"),
                                  (block.fc1, "mlp.w1", "mlp.b1"), (block.fc2, "mlp.w2", "mlp.b2")):
                    lin.weight.copy_(t(p + w).T)
                    lin.bias.copy_(t(p + b))
                for ln, n in ((block.ln1, "ln1"), (block.ln2, "ln2")):
                    ln.weight.copy_(t(p + n + ".weight"))
                    ln.bias.copy_(t(p + n + ".bias"))
            self.layers.append(block)
        self.ln_f = torch.nn.LayerNorm(D, eps=1e-5)
        with torch.no_grad():
            self.ln_f.weight.copy_(t("ln_f.weight"))
            self.ln_f.bias.copy_(t("ln_f.bias"))
        self.head = torch.nn.Parameter(t("head"))
        self.eval()

    def forward(self, ids):
        x = self.tok_emb[ids] + self.pos_emb[: ids.shape[1]]
        for block in self.layers:
            x = block(x)
        return self.ln_f(x) @ self.head

    def model_scalers(self):
        """The network's own q, k, v scalers as [L, H, 2] arrays (hardware network only)."""
        s = np.stack([b.attn.scalers.numpy().astype(np.float64) for b in self.layers])
        return {"q": s[..., 0:2], "k": s[..., 2:4], "v": s[..., 4:6]}


def capture_text(model, text, chars):
    """Streams of the shipped model over the first `chars` characters of `text`, read in chunks
    of the context (every chunk from position 0, as the model is scored), concatenated in order."""
    ids, unknown = lm.encode(text[:chars], model.chars)

    def run():
        for c in lm.chunk_ids(ids, model.context):
            model(torch.from_numpy(np.asarray(c)).view(1, -1))

    raw = capture(model, run, model.n_heads, model.d_head,
                  q=r"layers\.(\d+)\.attn\.q_proj$", k=r"layers\.(\d+)\.attn\.k_proj$",
                  v=r"layers\.(\d+)\.attn\.v_proj$")
    return raw, unknown


def write_outputs(out_dir, streams, scalers, info):
    os.makedirs(out_dir, exist_ok=True)
    for n, arr in streams.items():
        np.save(os.path.join(out_dir, n + ".npy"), np.ascontiguousarray(arr), allow_pickle=False)
    doc = dict(info)
    doc["shape"] = list(streams["q"].shape)
    doc["ranges"] = {"q": list(Q_RANGE), "k": list(KV_RANGE), "v": list(KV_RANGE)}
    doc["scalers"] = {n: {"a": scalers[n][..., 0].tolist(), "b": scalers[n][..., 1].tolist()}
                      for n in ("q", "k", "v")}
    with open(os.path.join(out_dir, "scalers.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=lm.DEFAULT_MODEL_DIR, help="shipped model folder")
    ap.add_argument("--net", default="hardware", choices=["softmax", "hardware"])
    ap.add_argument("--text", required=True, help="UTF-8 text file to read")
    ap.add_argument("--chars", type=int, default=128, help="characters (tokens T) to capture")
    ap.add_argument("--scalers", default="stats", choices=["stats", "model"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.chars < 1:
        raise SystemExit("error: --chars must be at least 1")
    try:
        with open(args.text, "rb") as f:
            text = lm.normalize_text(f.read())
    except OSError as e:
        raise SystemExit(f"error: {args.text}: {e.strerror}")
    if not text:
        raise SystemExit(f"error: {args.text}: empty")
    model = TorchCharGPT(args.model, args.net)
    if args.scalers == "model" and args.net != "hardware":
        raise SystemExit("error: --scalers model needs --net hardware (the softmax network has none)")
    raw, unknown = capture_text(model, text, args.chars)
    scalers = model.model_scalers() if args.scalers == "model" else stats_scalers(raw)
    streams = map_streams(raw, scalers)
    write_outputs(args.out, streams, scalers, {
        "model": os.path.abspath(args.model), "net": args.net, "text": os.path.abspath(args.text),
        "chars": int(raw["q"].shape[2]), "unknown_chars": unknown, "scalers_from": args.scalers,
        "note": "chunks of the model's context, each from position 0, concatenated"})
    L, H, T, d = streams["q"].shape
    print(f"wrote {args.out}/q.npy, k.npy, v.npy [L, H, T, d] = [{L}, {H}, {T}, {d}] and scalers.json "
          f"({args.scalers} scalers; {unknown} unknown characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
