#!/usr/bin/python3
"""Regenerates every figure, table and PNG in docs/ that comes from a run of gca-sim.

    /usr/bin/python3 docs/regenerate.py                 # everything (a few minutes on 2 cores)
    /usr/bin/python3 docs/regenerate.py --quick         # the short sweeps only (CI)
    /usr/bin/python3 docs/regenerate.py --quick --check # compare with docs/, write nothing
    /usr/bin/python3 docs/regenerate.py --performance-only  # wall-clock tables, on a quiet machine

Tables live in the Markdown files between the markers
    <!-- generated: NAME (docs/regenerate.py) -->  ...  <!-- end generated: NAME -->
and are replaced whole; the prose around them cites them instead of copying numbers. PNGs are
copied into docs/sweeps/, docs/power/ and docs/variation/. Runs go to out/docs/ (kept, so a
second call resumes the sweeps' finished points). The full part also runs docs/lm/make_figures.py
(the language model's tables and PNGs in docs/lm/).

--check reruns the selected part and fails (exit 1) when a shipped sweep fails or a generated
table differs from the committed one beyond a relative 1e-6 per number (tables hold no wall-clock
figures, so the same build gives the same digits); it writes nothing into docs/.
Standard library only; the binary is build/testbench/gca-sim unless --build says otherwise.
"""
import argparse
import csv
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
SWEEPS = ROOT / "testbench" / "sweeps"
SCENARIOS = ROOT / "testbench" / "scenarios"

# Sweeps whose tables and plots are in docs/sweeps.md; "quick" ones run in CI.
QUICK_SWEEPS = ["window_x_array", "tmax_x_resolution", "link_width"]
FULL_SWEEPS = ["technology_x_host_time", "lm_read_noise"]


class Runner:
    def __init__(self, build, out, jobs):
        self.build = pathlib.Path(build).resolve()
        self.sim = str(self.build / "testbench" / "gca-sim")
        self.out = out
        self.jobs = jobs
        self.env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
        self.failures = []

    def run(self, args, what):
        t = time.time()
        r = subprocess.run([self.sim] + args, capture_output=True, text=True, env=self.env,
                           cwd=ROOT)
        print(f"  {what}: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
        if r.returncode != 0:
            self.failures.append(f"{what}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
        return r

    def sweep(self, name, extra=(), folder=None):
        out = self.out / "sweeps" / (folder or name)
        self.run(["sweep", str(SWEEPS / f"{name}.json"), "--jobs", str(self.jobs), "--quiet",
                  "--out", str(out)] + list(extra), f"sweep {name}")
        return out


def fmt(x, digits=4):
    """A number as the tables show it: `digits` significant digits, no exponent below 1e6."""
    if x is None or x == "":
        return ""
    x = float(x)
    if x == 0:
        return "0"
    s = f"{x:.{digits}g}"
    if "e" in s and abs(x) < 1e6:
        s = f"{x:.{max(0, digits - 1 - int(f'{abs(x):e}'.split('e')[1]))}f}"
    return s


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def sweep_table(out, keys):
    rows = list(csv.DictReader(open(out / "sweep.csv")))
    link = any(r.get("bottleneck") == "host link" for r in rows) or any(
        k.startswith("host_link") for k in keys)
    header = ["point"] + keys + ["latency ns/token", "energy nJ/token", "qk pJ", "av pJ",
                                 "digital pJ", "dac pJ", "area mm²", "peak mW"]
    if link:
        header += ["link busy", "bottleneck"]
    # Named metrics (a workload's loss, Monte Carlo figures) are the columns between the fixed
    # ones and "pareto" in sweep.csv.
    names = list(rows[0].keys()) if rows else []
    metrics = names[names.index("outputs_fnv1a64") + 1:names.index("pareto")] if rows else []
    header += metrics + ["check", "Pareto"]
    body = []
    for r in rows:
        if r["status"] in ("failed", "missing"):
            body.append([r["id"]] + [r[k] for k in keys] +
                        [f"**{r['status']}**: {r['error'][:80]}"] + [""] * (len(header) - len(keys) - 2))
            continue
        e = float(r["energy_per_token_pj"]) / 1000 if r["energy_per_token_pj"] else None
        row = [r["id"]] + [r[k] for k in keys] + [
            fmt(r["end_to_end_ns_per_token"]), fmt(e), fmt(r["head_qk_pj"]), fmt(r["head_av_pj"]),
            fmt(r["head_digital_pj"]), fmt(r["head_dac_pj"]), fmt(r["area_mm2"]),
            fmt(r["peak_power_mw"])]
        if link:
            row += [fmt(100 * float(r["link_utilization"] or 0), 3) + " %", r["bottleneck"]]
        row += [fmt(r[m]) for m in metrics]
        row += [r["check"], "yes" if r["pareto"] == "1" else ""]
        body.append(row)
    note = ("Energy per token: all heads of the simulated layers, steady state (window full); "
            "qk/av/digital/dac: per head per token; peak: highest power window.")
    return table(header, body) + "\n\n" + note


def copy_pngs(src, prefix, dest):
    dest.mkdir(parents=True, exist_ok=True)
    names = []
    for png in sorted(src.glob("sweep_*.png")):
        name = prefix + png.name[len("sweep"):]
        shutil.copyfile(png, dest / name)
        names.append(name)
    return names


def sweep_blocks(runner, names, write):
    blocks = {}
    for name in names:
        out = runner.sweep(name)
        keys = json.load(open(out / "sweep.json"))["keys"]
        blocks[f"sweep {name}"] = sweep_table(out, keys)
        if write:
            for old in (DOCS / "sweeps").glob(f"{name}_*.png"):
                old.unlink()
            copy_pngs(out, name, DOCS / "sweeps")
    return blocks


def retention_block(runner, write):
    """docs/retention.md: head 0 of layer 0 under leakage, with and without refresh."""
    runs = [
        ("τ 5 ms, 12 layers, host 0 ns", "gpt2_full.json",
         ["--set", "retention.tau_ms=5", "--set", "model.n_heads=1"]),
        ("τ 5 ms, 12 layers, host 100 µs per layer", "gpt2_full.json",
         ["--set", "retention.tau_ms=5", "--set", "model.n_heads=1",
          "--scenario-set", "workload.host_ns_per_layer=100000"]),
        ("`cmos_realistic_host` (host 10 µs per layer), no refresh", "cmos_realistic_host.json",
         ["--set", "retention.refresh=0"]),
        ("`cmos_realistic_host`, refresh at 5 %", "cmos_realistic_host.json",
         ["--set", "retention.refresh=1"]),
        ("`cmos_realistic_host`, OSFET cells (τ 5 s), refresh at 5 %", "cmos_realistic_host.json",
         ["--set", "retention.refresh=1", "--set", "retention.tau_ms=5000"]),
    ]
    rows = []
    for i, (label, scenario, args) in enumerate(runs):
        out = runner.out / "retention" / f"run{i}"
        # The oracle check is off: these runs measure leakage, the tests check the outputs.
        runner.run(["run", str(SCENARIOS / scenario), "--tokens", "1100", "--quiet",
                    "--no-plots", "--scenario-set", "check.against_oracle=false",
                    "--out", str(out)] + args, f"retention {i}")
        rep = json.load(open(out / "report.json"))
        r = rep["retention"]
        rs = r.get("refresh_stats", {})
        steady = rep["energy"]["steady_state_per_head_per_token_pj"]["total"]
        rows.append([label, fmt(r["oldest_token_age_ns"] / 1e6, 3) + " ms",
                     fmt(r["oldest_token_age_over_tau"], 3),
                     fmt(r["oldest_value_age_ns"] / 1e6, 3) + " ms",
                     fmt(100 * r["decay_outputs_moved_share"], 3) + " %",
                     fmt(r["decay_output_rel_l2"], 3),
                     fmt(rs.get("columns", 0) / max(1, r["tokens"]), 3),
                     fmt(rs.get("energy_pj_per_token", 0) / 1000, 3),
                     fmt(steady / 1000, 4)])
    header = ["run (12 layers of one head, 1100 tokens; head 0 of layer 0)", "oldest token", "its age / τ",
              "oldest value", "decay moves", "rel. L2", "refreshed columns / token",
              "refresh nJ / token", "energy nJ / head / token (steady)"]
    return {"retention": table(header, rows)}


MC_SETTINGS = [
    ("cell gain σ 0.02", ["variation.cell_gain_sigma=0.02"]),
    ("cell gain σ 0.10", ["variation.cell_gain_sigma=0.1"]),
    ("cell threshold offset 10 mV", ["variation.cell_offset_sigma_v=0.01"]),
    ("comparator offset 1 %", ["variation.ctp_offset_sigma=0.01"]),
    ("read noise 1 %", ["noise.read_sigma=0.01"]),
    ("write noise 20 mV", ["noise.write_sigma_v=0.02"]),
    ("all of: gain 0.05, offset 10 mV, comparator 1 %, read 1 %, write 20 mV",
     ["variation.cell_gain_sigma=0.05", "variation.cell_offset_sigma_v=0.01",
      "variation.ctp_offset_sigma=0.01", "noise.read_sigma=0.01", "noise.write_sigma_v=0.02"]),
]


def monte_carlo_block(runner, write):
    """docs/variation.md: 4 chips of one GPT-2 layer per non-ideality, and all of them."""
    rows = []
    for i, (label, sets) in enumerate(MC_SETTINGS):
        out = runner.out / "variation" / f"mc{i}"
        args = ["mc", str(SCENARIOS / "gpt2_layer.json"), "--chips", "4", "--jobs",
                str(runner.jobs), "--tokens", "1100", "--quiet", "--out", str(out)]
        for kv in sets:
            args += ["--set", kv]
        runner.run(args, f"mc {label}")
        mc = json.load(open(out / "mc.json"))
        pm = lambda x, scale=1, unit="": f"{fmt(x['mean'] * scale)} ± {fmt(x['std'] * scale, 2)}{unit}"
        rows.append([label, pm(mc["output_rel_l2"]),
                     pm(mc["outputs_moved_one_level_share"], 100, " %"),
                     pm(mc["topk_overlap"], 100, " %")])
        last = (out, mc)
    out, mc = last
    if write and (out / "mc_error.png").exists():
        (DOCS / "variation").mkdir(exist_ok=True)
        shutil.copyfile(out / "mc_error.png", DOCS / "variation" / "mc_error_gpt2_layer.png")
    sub = [s["mean"] for s in mc["subtile_rel_l2"]]
    hist = [l.split() for l in open(out / "mc_error_hist.dat") if not l.startswith("#")]
    unchanged = next(float(h[2]) for h in hist if h[0] == "0")
    tails = sum(float(h[2]) for h in hist if abs(int(h[0])) == 8)
    notes = (f"All on: relative L2 error per sub-tile {fmt(min(sub), 3)} to {fmt(max(sub), 3)} "
             f"over the {len(sub)} sub-tiles; {fmt(100 * unchanged, 3)} % of outputs unchanged, "
             f"{fmt(100 * tails, 2)} % beyond ±7 levels.")
    header = ["non-idealities (4 chips, seeds 1–4)", "output rel. L2",
              "outputs moved ≥ 1 level", f"top-{mc['top_k']} overlap of Φ(S)"]
    return {"monte carlo": table(header, rows) + "\n\n" + notes}


def power_block(runner, write):
    """README's demo output and docs/power/*.png: the demo scenario, one GPT-2 layer."""
    src = runner.out / "power" / "gpt2_layer"
    r = runner.run(["run", str(SCENARIOS / "gpt2_layer.json"), "--out", str(src)],
                   "run gpt2_layer (the README's demo)")
    if write:
        for png in ("energy_split.png", "energy_per_token.png", "gpu_comparison.png"):
            if (src / png).exists():
                shutil.copyfile(src / png, DOCS / "power" / png)
    # Wall-clock lines vary from run to run: left out.
    lines = [l for l in r.stdout.splitlines()
             if not l.startswith(("wall time", "with the window full:"))]
    return {"demo output": "```\n" + "\n".join(lines) + "\n```"}


PERF_RUNS = [
    ("gpt2_full.json", ["--tokens", "1300"], "whole GPT-2 (12 × 12 heads), 1300 tokens"),
    ("gpt2_layer.json", ["--tokens", "10000"], "one GPT-2 layer, 10 000 tokens"),
    ("gpt2_xl_layer.json", ["--set", "model.n_layers=48", "--tokens", "1100"],
     "whole GPT-2 XL (48 × 25 heads), 1100 tokens"),
]


def performance_block(runner, write):
    """README: simulation rate and peak memory of whole runs (wall-clock: machine-dependent,
    so --check never compares this block; only the full part makes it)."""
    rows = []
    # Each run under a Python of its own, whose children's peak RSS is that run's alone.
    measure = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    for i, (scenario, args, label) in enumerate(PERF_RUNS):
        out = runner.out / "performance" / f"run{i}"
        t = time.time()
        r = subprocess.run([sys.executable, "-c", measure, runner.sim, "run",
                            str(SCENARIOS / scenario), "--quiet", "--no-plots", "--out", str(out)]
                           + args, capture_output=True, text=True, env=runner.env, cwd=ROOT)
        print(f"  performance {scenario}: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
        if r.returncode != 0:
            runner.failures.append(f"performance {scenario}: {r.stderr.strip()[-300:]}")
            continue
        rss_mb = int(r.stdout.strip().splitlines()[-1]) / 1024
        rep = json.load(open(out / "report.json"))
        numerics = rep.get("numerics", {})
        how = (f"{numerics.get('threads', '?')} threads, "
               f"{'a token ahead' if numerics.get('ahead') else 'forked per head'}")
        rows.append([f"`gca-sim run testbench/scenarios/{scenario} {' '.join(args)}` ({label})",
                     fmt(rep["tokens_per_second_steady_state"], 3), how,
                     f"every {rep['check']['oracle_every']}. token", f"{fmt(rss_mb, 3)} MB"])
    return {"performance": table(["command", "tokens/s (window full)", "numerics",
                                  "oracle compares", "peak RSS"], rows)}


def bench_json(runner, program, args, what):
    """Runs a Google Benchmark program of bench/ and returns its benchmarks (JSON output)."""
    exe = runner.build / "bench" / program
    t = time.time()
    r = subprocess.run([str(exe), "--benchmark_format=json"] + args, capture_output=True,
                       text=True, env=runner.env, cwd=ROOT)
    print(f"  {what}: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
    if r.returncode != 0:
        runner.failures.append(f"{what}: exit {r.returncode}: {r.stderr.strip()[-300:]}")
        return []
    return json.loads(r.stdout)["benchmarks"]


def us(seconds):
    return f"{fmt(seconds * 1e6, 2)} µs"


def benchmark_blocks(runner, write):
    """README: the benchmark tables of bench/ (wall-clock: machine-dependent, never compared)."""
    rows = {}
    many = []
    for b in bench_json(runner, "gca_bench_numerics", ["--benchmark_min_time=0.3",
                         "--benchmark_filter=variation:0|BM_FloorMacLoop|ManyHeads"],
                        "bench numerics"):
        name = b["name"]
        seconds = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3}[b["time_unit"]]
        if name.startswith("BM_HeadStepManyHeads"):
            heads = int(re.search(r"heads:(\d+)", name).group(1))
            many.append([str(heads), us(seconds), fmt(1.0 / (seconds * 144), 4)])
            continue
        window = int(re.search(r"window:(\d+)", name).group(1))
        if name.startswith("BM_HeadStep") and "variation:0" in name:
            rows.setdefault(window, {})["decay" if "decay:1" in name else "plain"] = seconds
            if "decay:0" in name:
                rows[window]["gmac"] = b["MAC_per_s"] / 1e9
        elif name.startswith("BM_FloorMacLoop"):
            rows.setdefault(window, {})["floor"] = seconds
    numerics = table(["window", "no decay", "with decay (CMOS, 1.6e-4)",
                      "plain float multiply-add, same MACs"],
                     [[str(w), f"{us(r.get('plain', 0))} ({fmt(r.get('gmac', 0), 3)} GMAC/s)",
                       us(r.get("decay", 0)), us(r.get("floor", 0))]
                      for w, r in sorted(rows.items())])
    sim_rows = []
    for config, label in [("head", "one head (window 1024)"),
                          ("layer", "one GPT-2 layer (12 heads)"),
                          ("gpt2", "whole GPT-2 (12 × 12 heads)")]:
        for b in bench_json(runner, "gca_bench_sim", [f"--config={config}",
                                                      "--benchmark_min_time=2"],
                            f"bench sim {config}"):
            ms = b["real_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0}[b["time_unit"]]
            sim_rows.append([label, f"{fmt(ms, 3)} ms", fmt(1e3 / ms, 4), fmt(b["x_floor"], 3)])
    sim = table(["configuration", "time per token", "tokens/s", "x_floor"], sim_rows)
    t = time.time()
    r = subprocess.run([str(runner.build / "bench" / "gca_roofline")], capture_output=True,
                       text=True, env=runner.env, cwd=ROOT)
    print(f"  roofline: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
    if r.returncode != 0:
        runner.failures.append(f"roofline: exit {r.returncode}: {r.stderr.strip()[-300:]}")
    roofline = "```\n" + r.stdout.strip() + "\n```"
    many_heads = table(["heads stepped in turn (window 1024)", "time per head step",
                        "GPT-2 tokens/s at that rate (144 head steps, one thread)"], many)
    return {"bench_numerics": numerics, "bench_many_heads": many_heads, "bench_sim": sim,
            "roofline": roofline}


def lm_figures(runner, check):
    """docs/lm/: the character model under noise, mismatch, retention and window, and its
    energy on text (a script of its own, docs/lm/make_figures.py, with its own markers)."""
    args = [sys.executable, str(DOCS / "lm" / "make_figures.py"), "--build",
            str(pathlib.Path(runner.sim).parent.parent), "--out", str(runner.out / "lm"),
            "--jobs", str(runner.jobs)] + (["--check"] if check else [])
    t = time.time()
    r = subprocess.run(args, env=runner.env, cwd=ROOT)
    print(f"  docs/lm/make_figures.py: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
    if r.returncode != 0:
        runner.failures.append(f"docs/lm/make_figures.py: exit {r.returncode}")


LM_MODEL = ROOT / "testbench" / "lm" / "models" / "fortunes_char" / "manifest.json"
LM_TEXT = ROOT / "testbench" / "lm" / "texts" / "heldout_en.txt"


def lm_block(runner, write):
    """README: what `gca-sim lm` prints for the held-back text, and a generated text."""
    rel = lambda p: str(p.relative_to(ROOT))
    score = ["lm", rel(LM_MODEL), "--text", rel(LM_TEXT), "--out", str(runner.out / "lm_readme")]
    r = runner.run(score + ["--quiet"], "lm on the held-back text")
    # Wall-clock lines vary from run to run: left out.
    lines = [l for l in r.stdout.splitlines() if not l.startswith("wall time")]
    shown = ["$ gca-sim lm " + " ".join(score[1:4]) + " --out out/lm --quiet"] + lines
    gen = ["lm", rel(LM_MODEL), "--prompt", "The computer ", "--generate", "200", "--seed", "1",
           "--temperature", "0.8", "--quiet"]
    g = runner.run(gen, "lm generation")
    shown_gen = ['$ gca-sim lm ' + rel(LM_MODEL) +
                 ' --prompt "The computer " --generate 200 --seed 1 --temperature 0.8 --quiet']
    shown_gen += g.stdout.rstrip("\n").splitlines()
    return {"lm output": "```\n" + "\n".join(shown) + "\n```",
            "lm generation": "```\n" + "\n".join(shown_gen) + "\n```"}


def cost_tables(runner, check):
    """docs/cost_model.md: the fitted constants beside their ranges and the one-factor runs
    (power/tools/cost_docs.py, markers of its own); skipped with --check (long runs)."""
    if check:
        return
    t = time.time()
    r = subprocess.run([sys.executable, str(ROOT / "power" / "tools" / "cost_docs.py"), "--build",
                        str(pathlib.Path(runner.sim).parent.parent)], env=runner.env, cwd=ROOT)
    print(f"  power/tools/cost_docs.py: exit {r.returncode} in {time.time() - t:.1f} s", flush=True)
    if r.returncode != 0:
        runner.failures.append(f"power/tools/cost_docs.py: exit {r.returncode}")


# Blocks of wall-clock figures: regenerated, never compared.
WALL_CLOCK = {"performance", "bench_numerics", "bench_sim", "roofline"}

MARK = re.compile(r"(<!-- generated: (.+?) \(docs/regenerate\.py\) -->\n)(.*?)(<!-- end generated: \2 -->)",
                  re.S)


def numbers(text):
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text)]


def same(a, b, rel=1e-6):
    if re.sub(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", "#", a) != re.sub(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", "#", b):
        return False
    return all(abs(x - y) <= rel * max(abs(x), abs(y), 1e-12) for x, y in zip(numbers(a), numbers(b)))


def apply_blocks(blocks, write):
    """Puts each block between its markers in docs/*.md and README.md; returns differences."""
    differences, found = [], set()
    for md in sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]:
        text = md.read_text()

        def replace(m):
            name = m.group(2)
            if name not in blocks:
                return m.group(0)
            found.add(name)
            if name not in WALL_CLOCK and not same(m.group(3).strip(), blocks[name].strip()):
                differences.append(f"{md.relative_to(ROOT)}: generated block '{name}' differs")
            return m.group(1) + blocks[name].strip() + "\n" + m.group(4)

        new = MARK.sub(replace, text)
        if write and new != text:
            md.write_text(new)
    for name in blocks:
        if name not in found:
            differences.append(f"no markers for generated block '{name}' in docs/*.md or README.md")
    return differences


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="the short sweeps only (CI)")
    ap.add_argument("--check", action="store_true",
                    help="compare with docs/ and fail on a difference; write nothing")
    ap.add_argument("--build", default=str(ROOT / "build"), help="build folder (default build/)")
    ap.add_argument("--out", default=str(ROOT / "out" / "docs"), help="where the runs go")
    ap.add_argument("--jobs", type=int, default=2, help="points or chips at a time")
    ap.add_argument("--performance-only", action="store_true",
                    help="only the wall-clock blocks (whole-run rates, benchmarks, roofline): "
                         "run them on a quiet machine")
    a = ap.parse_args()
    runner = Runner(a.build, pathlib.Path(a.out), a.jobs)
    write = not a.check
    start = time.time()
    if a.performance_only:
        blocks = performance_block(runner, write)
        blocks.update(benchmark_blocks(runner, write))
    else:
        blocks = sweep_blocks(runner, QUICK_SWEEPS, write)
    if a.performance_only:
        pass
    elif a.quick:
        # The long sweep too, shortened (8 tokens, one head per layer), so that a shipped sweep
        # that fails is noticed.
        # Its table is not compared: it was made with the full token count.
        runner.sweep("technology_x_host_time",
                     ["--tokens", "8", "--no-plots", "--set", "model.n_heads=1"],
                     "technology_x_host_time_quick")
        runner.sweep("lm_read_noise", ["--tokens", "16", "--no-plots"], "lm_read_noise_quick")
    else:
        blocks.update(sweep_blocks(runner, FULL_SWEEPS, write))
        blocks.update(retention_block(runner, write))
        blocks.update(monte_carlo_block(runner, write))
        blocks.update(power_block(runner, write))
        blocks.update(performance_block(runner, write))
        blocks.update(benchmark_blocks(runner, write))
        blocks.update(lm_block(runner, write))
        lm_figures(runner, a.check)
        cost_tables(runner, a.check)
    problems = list(runner.failures)
    # Only the blocks this part made are compared or written; the others stay as committed.
    differences = apply_blocks(blocks, write)
    problems += differences if a.check else [d for d in differences if d.startswith("no markers")]
    print(f"docs/regenerate.py: {'checked' if a.check else 'regenerated'} "
          f"{len(blocks)} tables in {time.time() - start:.0f} s")
    for p in problems:
        print("  FAIL " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
