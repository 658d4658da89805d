#!/usr/bin/python3
"""Speed of two gca-sim builds on one scenario, run in alternation (before, after, before, ...):
the rate with the window full, the user CPU time and the peak RSS of each run, as the Markdown
table README's "Performance" section shows.

    bench/ab_runs.py --before OLD/build/testbench/gca-sim --after build/testbench/gca-sim \\
        [--runs 2] [--label-before 109258c] -- testbench/scenarios/gpt2_full.json --tokens 1300

Wall-clock figures: run it on an otherwise idle machine and report the load it saw.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile


def one_run(binary, args, out):
    """Runs `binary run ARGS` and returns (tokens/s with the window full, user s, peak MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([binary, "run"] + args + ["--quiet", "--no-plots", "--out", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       env=dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1"))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"ab_runs.py: {binary} exited {r.returncode}: {r.stderr.strip()[-300:]}")
    with open(os.path.join(out, "report.json")) as f:
        rep = json.load(f)
    peak_mb = rep.get("memory", {}).get("peak_resident_bytes", 0.0) / 1e6
    return rep["tokens_per_second_steady_state"], after.ru_utime - before.ru_utime, peak_mb


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True, help="gca-sim binary of the old build")
    ap.add_argument("--after", required=True, help="gca-sim binary of the new build")
    ap.add_argument("--runs", type=int, default=2, help="runs of each (default 2)")
    ap.add_argument("--label-before", default="before")
    ap.add_argument("--label-after", default="now")
    ap.add_argument("args", nargs="+", help="after --: the scenario and gca-sim run's options")
    a = ap.parse_args()
    if a.runs < 1:
        sys.exit("ab_runs.py: --runs: at least 1")
    results = {"before": [], "after": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(a.runs):
            for which in ("before", "after"):
                out = os.path.join(tmp, f"{which}{i}")
                results[which].append(one_run(getattr(a, which), a.args, out))
    load = os.getloadavg()[0]

    def cells(k, fmt):
        return [", ".join(fmt(r[k]) for r in results[w]) for w in ("before", "after")]

    rate = cells(0, lambda x: f"{x:.0f}")
    user = cells(1, lambda x: f"{x:.2f} s")
    rss = cells(2, lambda x: f"{x:.0f} MB")
    print(f"| `gca-sim run {' '.join(a.args)}` | {a.label_before} | {a.label_after} |")
    print("|---|---|---|")
    print(f"| tokens/s with the window full | {rate[0]} | {rate[1]} |")
    print(f"| user CPU time of the whole run | {user[0]} | {user[1]} |")
    print(f"| peak RSS | {rss[0]} | {rss[1]} |")
    print(f"\n(load average at the end: {load:.2f})")


if __name__ == "__main__":
    main()
