#!/usr/bin/env python3
"""Tests of the shipped character model and its scripts (Debian python3-torch and numpy).

- the shipped folder matches the format (tensor names, shapes, float32), by train_charlm.py check;
- a plain NumPy implementation of the network written from docs/lm_format.md (float64) gives the
  shipped reference logits of both networks;
- capture_qkv.py on the shipped model: raw streams equal a NumPy recomputation of layer 0's
  projections, mapped streams lie in the hardware ranges, [L, H, T, d] shape;
- train_charlm.py train --steps N (smoke) writes a consistent folder, the same bytes twice.
Run: /usr/bin/python3 tests/lm/test_lm.py [REPO [TestClass ...]]
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import numpy as np

REPO = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".."))
LM = os.path.join(REPO, "testbench", "lm")
MODEL = os.path.join(LM, "models", "fortunes_char")
PY = sys.executable


def load(net_dir, name):
    return np.load(os.path.join(MODEL, net_dir, name + ".npy")).astype(np.float64)


def ln(x, w, b):
    m = x.mean(-1, keepdims=True)
    var = ((x - m) ** 2).mean(-1, keepdims=True)
    return (x - m) / np.sqrt(var + 1e-5) * w + b


def quant(x, n, lo, hi):
    y = np.clip(x, lo, hi)
    if n < 2:
        return y
    step = (hi - lo) / (n - 1)
    k = np.minimum(np.floor((y - lo) / step + 0.5 + 1e-9), n - 1)
    return lo + step * k


def hw_head(q, k, v, sc, hw):
    """The accelerator's head on one chunk, written from docs/lm_format.md: q, k, v [n, dh]."""
    gc = hw["gain_cell"]
    p = [sum(gc[f"c{i}{j}"] * gc["v_in_v"] ** j for j in range(4 - i)) for i in range(4)]

    def g(u):
        w = u - gc["w_center_v"]
        return p[0] + p[1] * w + p[2] * w ** 2 + p[3] * w ** 3

    a_q, b_q, a_k, b_k, a_v, b_v, a_o, b_o = sc
    qh = quant(a_q * q + b_q, hw["quant.q_levels"], 0.0, 1.0)
    gk = g(quant(a_k * k + b_k, hw["quant.kv_levels"], gc["v_min_v"], gc["v_max_v"]))
    gv = g(quant(a_v * v + b_v, hw["quant.kv_levels"], gc["v_min_v"], gc["v_max_v"]))
    M, cols = hw["window"], hw["array.cols"]
    n = q.shape[0]
    out = np.zeros_like(q)
    for i in range(n):
        js = np.arange(max(0, i - M + 1), i + 1)
        phi = np.clip((gk[js] @ qh[i]) / hw["charge_to_pulse.s_sat_qk"], 0.0, 1.0)
        sub = (js % M) // cols
        for s in range((M + cols - 1) // cols):
            if s * cols > min(i, M - 1):
                continue  # holds no written slot yet
            sel = sub == s
            o = np.clip((phi[sel] @ gv[js[sel]]) / hw["charge_to_pulse.s_sat_av"], -1.0, 1.0)
            out[i] += quant(o, hw["quant.out_levels"], -1.0, 1.0)
    return a_o * out + b_o


def numpy_logits(manifest, net, ids):
    arch, hw = manifest["architecture"], manifest["hardware"]
    d = manifest["networks"][net]["dir"]
    H, dh, T = arch["n_heads"], arch["d_head"], arch["context"]
    logits = []
    for c0 in range(0, len(ids), T):
        chunk = ids[c0:c0 + T]
        n = len(chunk)
        x = load(d, "tok_emb")[chunk] + load(d, "pos_emb")[:n]
        for l in range(arch["n_layers"]):
            P = f"layer{l}."
            h = ln(x, load(d, P + "ln1.weight"), load(d, P + "ln1.bias"))
            q, k, v = (h @ load(d, P + f"attn.w{t}") + load(d, P + f"attn.b{t}") for t in "qkv")
            heads = []
            for hh in range(H):
                s = slice(hh * dh, (hh + 1) * dh)
                if manifest["networks"][net]["attention"] == "softmax":
                    att = q[:, s] @ k[:, s].T / math.sqrt(dh)
                    att = np.where(np.tril(np.ones((n, n), bool)), att, -np.inf)
                    att = np.exp(att - att.max(-1, keepdims=True))
                    heads.append((att / att.sum(-1, keepdims=True)) @ v[:, s])
                else:
                    heads.append(hw_head(q[:, s], k[:, s], v[:, s], load(d, P + "attn.scalers")[hh], hw))
            x = x + np.concatenate(heads, 1) @ load(d, P + "attn.wo") + load(d, P + "attn.bo")
            h2 = ln(x, load(d, P + "ln2.weight"), load(d, P + "ln2.bias"))
            u = h2 @ load(d, P + "mlp.w1") + load(d, P + "mlp.b1")
            u = 0.5 * u * (1 + np.tanh(math.sqrt(2 / math.pi) * (u + 0.044715 * u ** 3)))
            x = x + u @ load(d, P + "mlp.w2") + load(d, P + "mlp.b2")
        logits.append(ln(x, load(d, "ln_f.weight"), load(d, "ln_f.bias")) @ load(d, "head"))
    return np.concatenate(logits)


def text_ids(manifest, path):
    with open(path, "rb") as f:
        text = f.read().decode("utf-8", errors="replace").replace("\r\n", "\n")
    index = {c: i for i, c in enumerate(manifest["vocab"]["chars"])}
    return np.array([index.get(c, manifest["vocab"]["unk_id"]) for c in text])


class ShippedModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(os.path.join(MODEL, "manifest.json")) as f:
            cls.manifest = json.load(f)

    def test_format_check(self):
        r = subprocess.run([PY, os.path.join(LM, "train_charlm.py"), "check", "--model", MODEL],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_check_names_a_wrong_shape(self):
        with tempfile.TemporaryDirectory() as tmp:
            dst = os.path.join(tmp, "m")
            subprocess.run(["cp", "-r", MODEL, dst], check=True)
            np.save(os.path.join(dst, "softmax", "head.npy"), np.zeros((3, 3), np.float32))
            os.remove(os.path.join(dst, "hardware", "layer1.attn.scalers.npy"))
            r = subprocess.run([PY, os.path.join(LM, "train_charlm.py"), "check", "--model", dst],
                               capture_output=True, text=True)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("softmax/head.npy: float32 [3, 3], expected float32 [128, 100]", r.stdout)
            self.assertIn("layer1.attn.scalers.npy: missing", r.stdout)

    def test_numpy_from_docs_matches_reference_logits(self):
        # Softmax: the float32 reference. Hardware: the float64 one, since a float32 evaluation
        # moves a few quantizer inputs across a rounding boundary (a level flip changes logits
        # by about 1e-2); against the float32 file most positions still agree to 1e-4.
        ref_files = self.manifest["reference"]
        ids = text_ids(self.manifest, os.path.join(MODEL, ref_files["text"]))
        for net, file_name in (("softmax", ref_files["logits"]["softmax"]),
                               ("hardware", ref_files["logits_float64"]["hardware"])):
            ref = np.load(os.path.join(MODEL, file_name))
            mine = numpy_logits(self.manifest, net, ids)
            self.assertEqual(ref.shape, mine.shape)
            self.assertLess(np.abs(ref - mine).max(), 1e-4, net)
            if net == "hardware":
                f32 = np.load(os.path.join(MODEL, ref_files["logits"]["hardware"]))
                agree = np.mean(np.abs(f32 - mine).max(1) <= 1e-4)
                self.assertGreater(agree, 0.5)
                print(f"hardware: float32 reference within 1e-4 at {100 * agree:.0f} % of positions")

    def test_manifest_losses(self):
        tr = self.manifest["training"]["losses"]
        for net in ("softmax", "hardware"):
            n = self.manifest["networks"][net]
            self.assertAlmostEqual(n["val_bits_per_char"], n["val_loss_nats"] / math.log(2), places=9)
        # The adapted network is within 3 % of the softmax one (the aim).
        self.assertLess(tr["hardware_adapted"]["val_loss_nats"], 1.03 * tr["softmax"]["val_loss_nats"])


class Capture(unittest.TestCase):
    def test_streams_of_the_shipped_model(self):
        sys.path.insert(0, LM)
        import capture_qkv as cap
        import torch
        torch.set_num_threads(2)
        with open(os.path.join(MODEL, "manifest.json")) as f:
            manifest = json.load(f)
        text = "Attention is what you pay to the cookie.\n"
        model = cap.TorchCharGPT(MODEL, "hardware")
        raw, unknown = cap.capture_text(model, text, 1000)
        L, H, dh = 4, 2, 64
        self.assertEqual(raw["q"].shape, (L, H, len(text), dh))
        self.assertEqual(unknown, 0)
        # Layer 0 recomputed with NumPy from the .npy files.
        ids = text_ids_str(manifest, text)
        x = load("hardware", "tok_emb")[ids] + load("hardware", "pos_emb")[:len(ids)]
        h = ln(x, load("hardware", "layer0.ln1.weight"), load("hardware", "layer0.ln1.bias"))
        for t in "qkv":
            y = h @ load("hardware", f"layer0.attn.w{t}") + load("hardware", f"layer0.attn.b{t}")
            for hh in range(H):
                np.testing.assert_allclose(raw[t][0, hh], y[:, hh * dh:(hh + 1) * dh], atol=1e-4)
        for mode in ("stats", "model"):
            sc = cap.stats_scalers(raw) if mode == "stats" else model.model_scalers()
            s = cap.map_streams(raw, sc)
            self.assertEqual(s["q"].dtype, np.float32)
            self.assertTrue(0.0 <= s["q"].min() and s["q"].max() <= 1.0)
            for t in "kv":
                self.assertTrue(0.0 <= s[t].min() and s[t].max() <= np.float32(0.9))
            if mode == "model":  # the hardware network's own scalers, head by head
                a, b = load("hardware", "layer2.attn.scalers")[1, 2:4]
                np.testing.assert_allclose(s["k"][2, 1], np.clip(a * raw["k"][2, 1] + b, 0, 0.9), atol=1e-6)


def text_ids_str(manifest, text):
    index = {c: i for i, c in enumerate(manifest["vocab"]["chars"])}
    return np.array([index.get(c, 0) for c in text])


class SmokeTraining(unittest.TestCase):
    def test_a_few_steps_are_deterministic(self):
        digests = []
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(2):
                out = os.path.join(tmp, f"m{run}")
                cmd = [PY, os.path.join(LM, "train_charlm.py"), "train", "--steps", "2", "--out", out,
                       "--layers", "1", "--context", "32", "--batch", "4", "--eval-every", "1"]
                r = subprocess.run(cmd, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                r = subprocess.run([PY, os.path.join(LM, "train_charlm.py"), "check", "--model", out],
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, r.stdout)
                digests.append([open(os.path.join(out, p), "rb").read() for p in
                                ("softmax/layer0.attn.wq.npy", "hardware/layer0.attn.scalers.npy",
                                 "reference_logits_hardware.npy")])
        self.assertEqual(digests[0], digests[1])


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[2:])
