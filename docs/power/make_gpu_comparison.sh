#!/usr/bin/env bash
# Redraws docs/power/gpu_comparison.png: one GPT-2 layer (12 heads, d 64, window 1024) simulated
# to steady state, against the shipped figures and the H200 file of power/tools/measure_baseline.py.
# Run from anywhere after the build of the README: bash docs/power/make_gpu_comparison.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$root/build/testbench/gca-sim" run "$root/testbench/scenarios/gpt2_layer.json" --quiet \
  --out "$out/run" --baselines "$root/power/data/measured/h200_2026-12-04.json" > /dev/null
cp "$out/run/gpu_comparison.png" "$root/docs/power/gpu_comparison.png"
echo "wrote docs/power/gpu_comparison.png"
