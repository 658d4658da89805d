#!/usr/bin/python3
"""One-factor runs of the cost model: steady-state pJ per head per token of one GPT-2 layer
(testbench/scenarios/gpt2_layer.json, 2 heads) with one parameter moved at a time, written as a
markdown table, and the checks the cost model is held to on those runs (ratios between runs) as
a second table. Called by the docs regeneration; usage:
  one_factor_table.py [--sim build/testbench/gca-sim] [--out FILE.md] [--checks FILE.md]
                      [--tokens N] [--spec rtl_spec/params/gpt2.json]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

RUNS = [
    ("paper's point", []),
    ("V_DD 0.72 V", ["cost.vdd_v=0.72"]),
    ("V_DD 1.08 V", ["cost.vdd_v=1.08"]),
    ("clock 0.5 GHz", ["timing.clock_ghz=0.5"]),
    ("clock 2 GHz", ["timing.clock_ghz=2"]),
    ("write 10 ns", ["timing.write_ns=10"]),
    ("T_max 10 ns", ["timing.t_max_ns=10"]),
    ("window 4096", ["window=4096"], 4608),
    ("K, V in [0.4, 0.5] V", "kv_narrow"),
    ("node 65 nm", ["technology.node_nm=65"]),
    ("node 22 nm", ["technology.node_nm=22"]),
    ("refresh on (CMOS cells, tau 5 ms)", ["retention.tau_ms=5", "retention.refresh=1"]),
]


def run(sim, sets, scenario_sets, tokens):
    with tempfile.TemporaryDirectory() as out:
        cmd = [sim, "run", "testbench/scenarios/gpt2_layer.json", "--quiet", "--out", out,
               "--tokens", str(tokens), "--set", "model.n_heads=2"]
        for s in sets:
            cmd += ["--set", s]
        for s in scenario_sets:
            cmd += ["--scenario-set", s]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "report.json")) as f:
            return json.load(f)


def cost_value(spec_path, key):
    section, name = key.split(".")
    with open(spec_path) as f:
        return json.load(f)[section][name]["value"]


def checks_table(results, spec_path):
    """The one-factor checks: each a ratio of two runs (or a value) against its bound."""
    def e(run, group):
        return results[run]["energy"]["steady_state_per_head_per_token_pj"][group]

    def area(run):
        return results[run]["area_mm2"]["head"]

    def lat(run):
        return results[run]["latency"]["per_token_ns"][0]

    vdd = cost_value(spec_path, "cost.vdd_v")
    e_sink = (cost_value(spec_path, "cost.c_ff_clock_ff") +
              cost_value(spec_path, "cost.c_clock_tree_per_sink_ff")) * vdd * vdd
    base = "paper's point"
    narrow = "K, V in [0.4, 0.5] V"
    rows = [
        ("digital, V_DD 1.08 V / 0.72 V", e("V_DD 1.08 V", "digital") / e("V_DD 0.72 V", "digital"),
         ">= 1.8", lambda x: x >= 1.8),
        ("digital per token, clock 2 GHz / 0.5 GHz",
         e("clock 2 GHz", "digital") / e("clock 0.5 GHz", "digital"), "0.85-1.15",
         lambda x: 0.85 <= x <= 1.15),
        ("dac, write 10 ns / 5 ns", e("write 10 ns", "dac") / e(base, "dac"), "<= 1.05",
         lambda x: x <= 1.05),
        ("qk, K and V in [0.4, 0.5] V / uniform", e(narrow, "qk") / e(base, "qk"), "<= 0.6",
         lambda x: x <= 0.6),
        ("av, K and V in [0.4, 0.5] V / uniform", e(narrow, "av") / e(base, "av"), "<= 0.6",
         lambda x: x <= 0.6),
        ("digital, node 65 nm / 28 nm", e("node 65 nm", "digital") / e(base, "digital"), "> 1.3",
         lambda x: x > 1.3),
        ("head area, node 65 nm / 28 nm", area("node 65 nm") / area(base), "> 1.5",
         lambda x: x > 1.5),
        ("head area, refresh on / off", area("refresh on (CMOS cells, tau 5 ms)") / area(base),
         "> 1", lambda x: x > 1.0),
        ("clocked flip-flop per cycle (pin + clock tree), fJ", e_sink, "<= 6",
         lambda x: x <= 6.0),
        ("latency per token at the paper's point, ns", lat(base), "65",
         lambda x: abs(x - 65.0) < 0.05),
    ]
    paper = results[base]["energy"]["paper_per_head_per_token_pj"]
    for group in ("qk", "av", "digital", "dac"):
        rows.append(("%s at the paper's point / paper's %.0f pJ (Fig. 5e)" % (group, paper[group]),
                     e(base, group) / paper[group], "0.95-1.05",
                     lambda x: 0.95 <= x <= 1.05))
    rows.append(("head area at the paper's point, mm^2", area(base), "0.5",
                 lambda x: abs(x - 0.5) <= 0.025))
    lines = ["| check | measured | bound | holds |", "|---|---|---|---|"]
    for name, x, bound, ok in rows:
        lines.append("| %s | %.3f | %s | %s |" % (name, x, bound, "yes" if ok(x) else "no"))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", default="build/testbench/gca-sim")
    ap.add_argument("--out", default="")
    ap.add_argument("--checks", default="")
    ap.add_argument("--spec", default="rtl_spec/params/gpt2.json")
    ap.add_argument("--tokens", type=int, default=1536)
    args = ap.parse_args()
    results = {}
    lines = ["| run | qk | av | digital | dac | total | latency ns | head mm^2 |",
             "|---|---|---|---|---|---|---|---|"]
    for run_def in RUNS:
        name, sets = run_def[0], run_def[1]
        tokens = run_def[2] if len(run_def) > 2 else args.tokens
        scen = []
        if sets == "kv_narrow":
            sets, scen = [], ["stimulus.kv_range=[0.4,0.5]"]
        try:
            r = run(args.sim, sets, scen, tokens)
        except subprocess.CalledProcessError:
            lines.append("| %s | (rejected) | | | | | | |" % name)
            continue
        results[name] = r
        e = r["energy"]["steady_state_per_head_per_token_pj"]
        lat = r["latency"]["per_token_ns"][0]
        area = r["area_mm2"]["head"]
        lines.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f |" % (
            name, e["qk"], e["av"], e["digital"], e["dac"], e["total"], lat, area))
        print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    if args.checks:
        with open(args.checks, "w") as f:
            f.write(checks_table(results, args.spec))
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
