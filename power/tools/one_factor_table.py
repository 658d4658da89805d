#!/usr/bin/python3
"""One-factor runs of the cost model: steady-state pJ per head per token of one GPT-2 layer
(testbench/scenarios/gpt2_layer.json, 2 heads) with one parameter moved at a time, written as a
markdown table. Called by the docs regeneration; usage:
  one_factor_table.py [--sim build/testbench/gca-sim] [--out FILE.md] [--tokens N]
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", default="build/testbench/gca-sim")
    ap.add_argument("--out", default="")
    ap.add_argument("--tokens", type=int, default=1536)
    args = ap.parse_args()
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
        e = r["energy"]["steady_state_per_head_per_token_pj"]
        lat = r["latency"]["per_token_ns"][0]
        area = r["area_mm2"]["head"]
        lines.append("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.3f |" % (
            name, e["qk"], e["av"], e["digital"], e["dac"], e["total"], lat, area))
        print(lines[-1], file=sys.stderr)
    text = "\n".join(lines) + "\n"
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
