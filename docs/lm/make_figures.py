#!/usr/bin/python3
"""Regenerates the language-model figures: docs/lm/*.csv, the tables in docs/lm/README.md, PNGs.

    /usr/bin/python3 docs/lm/make_figures.py            # every point (a few minutes on 2 cores)
    /usr/bin/python3 docs/lm/make_figures.py --check    # rerun, compare with docs/lm, write nothing

The shipped character model (testbench/lm/models/fortunes_char) scores the held-back text
(testbench/lm/texts/heldout_en.txt, every character unless --chars says fewer) with each setting
below, every attention head on the simulated accelerator:
  - read noise σ, cell-gain σ and the window M through `gca-sim lm` (which also gives the energy
    per head per token on the text and on uniform data of the same shape);
  - CMOS gain cells (τ 5 ms) with host time per layer 0 / 1 / 10 µs, refresh off and on, through
    `gca-sim run testbench/scenarios/lm_fortunes.json` (host time per layer is a scenario key).
Runs go to out/docs/lm/; each table is written between the markers
    <!-- generated: NAME (docs/lm/make_figures.py) -->  ...  <!-- end generated: NAME -->
of docs/lm/README.md. docs/regenerate.py calls this script as part of its full run.
Standard library only; plots with gnuplot, started from an argument vector.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import pathlib
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# The number format and table layout of every generated doc table: docs/regenerate.py's.
sys.path.insert(0, str(ROOT / "docs"))
from regenerate import fmt, table  # noqa: E402
HERE = ROOT / "docs" / "lm"
MANIFEST = "testbench/lm/models/fortunes_char/manifest.json"
TEXT = "testbench/lm/texts/heldout_en.txt"
SCENARIO = "testbench/scenarios/lm_fortunes.json"

# (series, label, extra --set values) for `gca-sim lm`; the first point is the model's own.
LM_POINTS = (
    [("read noise", f"σ {s}", [f"noise.read_sigma={s}"]) for s in ("0", "0.01", "0.02", "0.05")]
    + [("cell gain", f"σ {s}", [f"variation.cell_gain_sigma={s}"])
       for s in ("0", "0.02", "0.05", "0.1", "0.2")]
    + [("window", f"M {m}", [f"window={m}"]) for m in (16, 32, 64, 128)])
# (host ns per layer, refresh) for the CMOS runs.
RETENTION_POINTS = [(h, r) for h in (0, 1000, 10000) for r in (0, 1)]


def pct(ratio):
    """A relative change as a signed percentage with two decimals (float dust shows as +0.00)."""
    x = 100 * (ratio - 1)
    return f"{0.0 if abs(x) < 0.005 else x:+.2f} %"


class Runner:
    def __init__(self, build, out, jobs, chars, reuse):
        self.reuse = reuse
        self.sim = str(pathlib.Path(build).resolve() / "testbench" / "gca-sim")
        self.out = out
        self.jobs = jobs
        self.chars = chars
        self.env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        self.failures = []

    def run(self, args, what):
        out = pathlib.Path(args[args.index("--out") + 1])
        if self.reuse and (out / "report.json").exists():
            print(f"  lm {what}: reused {out}", flush=True)
            return True
        t = time.time()
        r = subprocess.run([self.sim] + args, capture_output=True, text=True, env=self.env,
                           cwd=ROOT)
        print(f"  lm {what}: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
        if r.returncode != 0:
            self.failures.append(f"lm {what}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
            return None
        return r

    def lm_point(self, i, sets):
        out = self.out / f"lm{i}"
        args = ["lm", MANIFEST, "--text", TEXT, "--chars", str(self.chars), "--quiet",
                "--out", str(out)]
        for kv in sets:
            args += ["--set", kv]
        if self.run(args, f"point {i} ({' '.join(sets)})") is None:
            return None
        return json.load(open(out / "report.json"))["lm"]

    def retention_point(self, i, host_ns, refresh):
        out = self.out / f"retention{i}"
        args = ["run", SCENARIO, "--quiet", "--no-plots", "--out", str(out),
                "--scenario-set", "hardware.spec=tech_cmos.json",
                "--scenario-set", f"workload.chars={self.chars}",
                "--scenario-set", f"workload.host_ns_per_layer={host_ns}",
                "--set", f"retention.refresh={refresh}"]
        if self.run(args, f"CMOS host {host_ns} ns refresh {refresh}") is None:
            return None
        return json.load(open(out / "report.json"))


def heads_per_token():
    arch = json.load(open(ROOT / MANIFEST))["architecture"]
    return arch["n_layers"] * arch["n_heads"]


def lm_rows(runner):
    with concurrent.futures.ThreadPoolExecutor(runner.jobs) as pool:
        reports = list(pool.map(lambda p: runner.lm_point(p[0], p[1][2]), enumerate(LM_POINTS)))
    n_heads = heads_per_token()
    rows = []
    for (series, label, sets), lm in zip(LM_POINTS, reports):
        if lm is None:
            continue
        e = lm["energy_per_head_per_token_pj"]
        g = e["groups"]
        rows.append({
            "series": series, "setting": label, "set": " ".join(sets),
            "chars_scored": lm["chars_scored"],
            "bits_per_char": lm["bits_per_char"]["accelerator"],
            "bits_per_char_ideal": lm["bits_per_char"]["ideal"],
            "bits_per_char_softmax": lm["bits_per_char"]["softmax"],
            "top1_accuracy": lm["top1_accuracy"]["accelerator"],
            "top1_accuracy_ideal": lm["top1_accuracy"]["ideal"],
            "energy_per_token_nj_text": e["text"] * n_heads / 1000,
            "energy_per_token_nj_uniform": e["uniform"] * n_heads / 1000,
            **{f"{grp}_pj_text": g["text"][grp] for grp in g["text"]},
            **{f"{grp}_pj_uniform": g["uniform"][grp] for grp in g["uniform"]},
        })
    return rows


def retention_rows(runner):
    with concurrent.futures.ThreadPoolExecutor(runner.jobs) as pool:
        reports = list(pool.map(lambda p: runner.retention_point(p[0], *p[1]),
                                enumerate(RETENTION_POINTS)))
    n_heads = heads_per_token()
    rows = []
    for (host_ns, refresh), rep in zip(RETENTION_POINTS, reports):
        if rep is None:
            continue
        m = rep["metrics"]
        r = rep["retention"]
        rows.append({
            "host_us_per_layer": host_ns / 1000, "refresh": refresh,
            "chars_scored": rep["workload"]["chars_scored"],
            "bits_per_char": m["lm_bits_per_char"]["value"],
            "bits_per_char_ideal": m["lm_bits_per_char_ideal"]["value"],
            "top1_accuracy": m["lm_top1_accuracy"]["value"],
            "oldest_token_age_over_tau": r["oldest_token_age_over_tau"],
            "refreshed_columns_per_token": r.get("refresh_stats", {}).get("columns", 0) / max(1, r["tokens"]),
            "energy_per_token_nj": rep["energy"]["steady_state_per_head_per_token_pj"]["total"]
            * n_heads / 1000,
        })
    return rows


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (fmt(v, 6) if isinstance(v, float) else v) for k, v in r.items()})


def blocks_of(lm, ret):
    ideal = lm[0]["bits_per_char_ideal"]
    soft = lm[0]["bits_per_char_softmax"]
    blocks = {}
    for series, key in (("read noise", "lm read noise"), ("cell gain", "lm cell gain"),
                        ("window", "lm window")):
        rows = [[r["setting"], fmt(r["bits_per_char"]), fmt(r["bits_per_char_ideal"]),
                 pct(r["bits_per_char"] / r["bits_per_char_ideal"]),
                 fmt(100 * r["top1_accuracy"], 4) + " %", fmt(r["energy_per_token_nj_text"])]
                for r in lm if r["series"] == series]
        blocks[key] = table([series, "bits/char (accelerator)", "bits/char (ideal, same setting)",
                             "accelerator vs ideal", "top-1 (accelerator)", "energy nJ/token (text)"],
                            rows)
    blocks["lm reference"] = (
        f"On {lm[0]['chars_scored']} scored characters of `{TEXT}` with the model's own settings: "
        f"ideal (float surrogate of the hardware attention) {fmt(ideal)} bits/char, softmax network "
        f"{fmt(soft)} bits/char.")
    rows = [[fmt(r["host_us_per_layer"]) + " µs", "on" if r["refresh"] else "off",
             fmt(r["oldest_token_age_over_tau"], 3), fmt(r["refreshed_columns_per_token"], 3),
             fmt(r["bits_per_char"]), pct(r["bits_per_char"] / r["bits_per_char_ideal"]),
             fmt(100 * r["top1_accuracy"], 4) + " %", fmt(r["energy_per_token_nj"])] for r in ret]
    blocks["lm retention"] = table(
        ["host time per layer", "refresh", "oldest token age / τ", "refreshed columns / token",
         "bits/char (accelerator)", "vs ideal", "top-1", "energy nJ/token (steady state)"], rows)
    base = lm[0]
    groups = [k[:-len("_pj_text")] for k in base if k.endswith("_pj_text")]
    rows = [[g, fmt(base[f"{g}_pj_text"]), fmt(base[f"{g}_pj_uniform"]),
             pct(base[f"{g}_pj_text"] / base[f"{g}_pj_uniform"])]
            for g in groups]
    t, u = (base["energy_per_token_nj_text"] * 1000 / heads_per_token(),
            base["energy_per_token_nj_uniform"] * 1000 / heads_per_token())
    rows.append(["**total**", fmt(t), fmt(u), pct(t / u)])
    blocks["lm energy"] = table(["group", "pJ per head per token, text", "uniform data",
                                 "text vs uniform"], rows)
    return blocks


def gnuplot(script, what, failures):
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"gnuplot {what}: {r.stderr.strip()[-300:]}")


def plots(lm, ret, out, failures):
    """PNGs in docs/lm/: one per non-ideality, energy by group, bits/char against energy."""
    out.mkdir(parents=True, exist_ok=True)
    dat = out / "plots"
    dat.mkdir(exist_ok=True)
    head = "set terminal pngcairo size 800,480 font ',11'\nset grid\nset key top left\n"
    ideal = lm[0]["bits_per_char_ideal"]
    soft = lm[0]["bits_per_char_softmax"]
    for series, xlabel, name, logx in (("read noise", "read-noise σ (relative)", "read_noise", False),
                                       ("cell gain", "cell-gain σ (relative)", "cell_gain", False),
                                       ("window", "window M (keys)", "window", True)):
        f = dat / f"{name}.dat"
        with open(f, "w") as o:
            for r in lm:
                if r["series"] == series:
                    x = r["setting"].split()[-1]
                    o.write(f"{x} {r['bits_per_char']} {r['bits_per_char_ideal']}\n")
        gnuplot(head + (
            "set logscale x 2\n" if logx else "") + f"""set output '{HERE / (f'bits_vs_{name}.png')}'
set title 'Character model on the accelerator: loss against {series}'
set xlabel '{xlabel}'
set ylabel 'bits per character (held-back text)'
plot '{f}' using 1:2 with linespoints lw 2 pt 7 title 'accelerator', \\
     '{f}' using 1:3 with linespoints lw 1 dt 2 pt 6 title 'ideal (float surrogate)', \\
     {soft} with lines lc rgb 'black' lw 1.5 dt 3 title 'softmax network'
""", name, failures)
    f = dat / "retention.dat"
    with open(f, "w") as o:
        for refresh in (0, 1):
            o.write(f"# refresh {refresh}\n")
            for r in ret:
                if r["refresh"] == refresh:
                    o.write(f"{r['host_us_per_layer']} {r['bits_per_char']}\n")
            o.write("\n\n")
    gnuplot(head + f"""set output '{HERE / 'bits_vs_retention.png'}'
set title 'CMOS gain cells (τ 5 ms): loss against host time per layer'
set xlabel 'host time per layer (µs)'
set ylabel 'bits per character (held-back text)'
set xrange [-0.5:10.5]
plot '{f}' index 0 using 1:2 with linespoints lw 2 pt 7 title 'no refresh', \\
     '{f}' index 1 using 1:2 with linespoints lw 2 pt 5 title 'refresh', \\
     {ideal} with lines lc rgb 'black' lw 1.5 dt 2 title 'ideal (float surrogate)'
""", "retention", failures)
    base = lm[0]
    groups = [k[:-len("_pj_text")] for k in base if k.endswith("_pj_text")]
    f = dat / "energy_groups.dat"
    with open(f, "w") as o:
        for g in groups:
            o.write(f"{g} {base[f'{g}_pj_text']} {base[f'{g}_pj_uniform']}\n")
    gnuplot(head + f"""set output '{HERE / 'energy_text_vs_uniform.png'}'
set title 'Energy per head per token: held-back text against uniform data'
set ylabel 'pJ per head per token'
set logscale y
set style data histograms
set style fill solid 0.8 border -1
set key top left
plot '{f}' using 2:xtic(1) title 'text', '' using 3 title 'uniform data'
""", "energy", failures)
    f = dat / "pareto.dat"
    with open(f, "w") as o:
        for series in ("window", "read noise", "cell gain"):
            o.write(f"# {series}\n")
            for r in lm:
                if r["series"] == series:
                    o.write(f"{r['energy_per_token_nj_text']} {r['bits_per_char']} \"{r['setting']}\"\n")
            o.write("\n\n")
    gnuplot(head + f"""set output '{HERE / 'bits_vs_energy.png'}'
set title 'Loss against energy per token (all {heads_per_token()} heads, held-back text)'
set xlabel 'energy per token (nJ)'
set ylabel 'bits per character'
set key top right
plot '{f}' index 0 using 1:2 with linespoints lw 2 pt 7 title 'window M', \\
     '' index 0 using 1:2:3 with labels offset 0,1 notitle, \\
     '' index 1 using 1:2 with points pt 5 ps 1.3 title 'read noise σ', \\
     '' index 2 using 1:2 with points pt 9 ps 1.3 title 'cell gain σ', \\
     {soft} with lines lc rgb 'black' lw 1.5 dt 3 title 'softmax network'
""", "pareto", failures)


MARK = re.compile(r"(<!-- generated: (.+?) \(docs/lm/make_figures\.py\) -->\n)(.*?)"
                  r"(<!-- end generated: \2 -->)", re.S)
NUM = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"


def same(a, b, rel=1e-6):
    if re.sub(NUM, "#", a) != re.sub(NUM, "#", b):
        return False
    pairs = zip(map(float, re.findall(NUM, a)), map(float, re.findall(NUM, b)))
    return all(abs(x - y) <= rel * max(abs(x), abs(y), 1e-12) for x, y in pairs)


def apply_blocks(blocks, write):
    md = HERE / "README.md"
    text = md.read_text()
    differences, found = [], set()

    def replace(m):
        name = m.group(2)
        if name not in blocks:
            return m.group(0)
        found.add(name)
        if not same(m.group(3).strip(), blocks[name].strip()):
            differences.append(f"docs/lm/README.md: generated block '{name}' differs")
        return m.group(1) + blocks[name].strip() + "\n" + m.group(4)

    new = MARK.sub(replace, text)
    if write and new != text:
        md.write_text(new)
    differences += [f"no markers for '{n}' in docs/lm/README.md" for n in blocks if n not in found]
    return differences


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true",
                    help="compare with docs/lm and fail on a difference; write nothing")
    ap.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    ap.add_argument("--out", default=str(ROOT / "out" / "docs" / "lm"), help="where the runs go")
    ap.add_argument("--jobs", type=int, default=2, help="points at a time")
    ap.add_argument("--reuse", action="store_true",
                    help="read a point's report.json from --out where there is one instead of "
                         "running it (only for the same build and points)")
    ap.add_argument("--chars", type=int, default=2855,
                    help="characters of the text per point (default 2855: all of it)")
    a = ap.parse_args()
    runner = Runner(a.build, pathlib.Path(a.out), a.jobs, a.chars, a.reuse)
    start = time.time()
    lm = lm_rows(runner)
    ret = retention_rows(runner)
    problems = list(runner.failures)
    if len(lm) == len(LM_POINTS) and len(ret) == len(RETENTION_POINTS):
        blocks = blocks_of(lm, ret)
        differences = apply_blocks(blocks, not a.check)
        problems += differences if a.check else [d for d in differences if d.startswith("no markers")]
        if not a.check:
            write_csv(HERE / "points.csv", lm)
            write_csv(HERE / "retention.csv", ret)
            plots(lm, ret, pathlib.Path(a.out), problems)
    print(f"docs/lm/make_figures.py: {len(lm) + len(ret)} points in {time.time() - start:.0f} s")
    for p in problems:
        print("  FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
