#!/usr/bin/python3
"""The memory estimate of gca-sim run against its peak resident memory, as a Markdown table.

usage: memory_table.py GCA_SIM [WORK_DIR]

Runs GPT-2 (12 layers x 12 heads, 2 tokens) at several windows, with and without the oracle,
with ideal, mismatched and leaky cells; each run is a child process started with an argument
vector, its peak resident memory taken from wait4's rusage, the estimate from its report.json
("memory"). The table in docs/reliability.md is this script's output.
"""
import json
import os
import subprocess
import sys
import tempfile

CASES = [  # window, oracle, extra hardware.set
    (256, False, {}), (256, True, {}), (512, True, {}),
    (512, False, {"variation.cell_gain_sigma": 0.01}), (1024, True, {}),
    (1024, False, {"retention.tau_ms": 5}), (2048, False, {}), (4096, True, {}),
    (4096, False, {}), (4096, True, {"variation.cell_gain_sigma": 0.01}),
]


def run(sim, work, window, oracle, extra):
    hardware_set = {"window": window, **extra}
    scenario = {"name": "memory", "hardware": {"spec": "gpt2.json", "set": hardware_set},
                "workload": {"tokens": 2}, "check": {"against_oracle": oracle},
                "report": {"plots": False}}
    path = os.path.join(work, "memory.json")
    with open(path, "w") as f:
        json.dump(scenario, f)
    out = os.path.join(work, "out")
    child = subprocess.Popen([sim, "run", path, "--out", out, "--quiet", "--no-plots"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"gca-sim failed ({child.returncode}) at window {window}")
    with open(os.path.join(out, "report.json")) as f:
        estimate = json.load(f)["memory"]["estimated_peak_bytes"]
    return estimate, usage.ru_maxrss * 1024  # Linux counts kilobytes


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="gca_memory_")
    print("| window | oracle | cells | estimate (MiB) | peak RSS (MiB) | estimate / peak |")
    print("|---|---|---|---|---|---|")
    mib = 1024.0 * 1024.0
    for window, oracle, extra in CASES:
        estimate, peak = run(sys.argv[1], work, window, oracle, extra)
        cells = ("mismatch" if "variation.cell_gain_sigma" in extra
                 else "leaky" if "retention.tau_ms" in extra else "ideal")
        print(f"| {window} | {'yes' if oracle else 'no'} | {cells} | {estimate / mib:.1f} "
              f"| {peak / mib:.1f} | {estimate / peak:.2f} |")


if __name__ == "__main__":
    main()
