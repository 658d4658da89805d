#!/usr/bin/env bash
# power/tools/measure_baseline.py on this machine's CPU with a small shape, and its file read by
# `gca-sim run --baselines`: the file's format and shape labels, the comparison labelled with
# the device and the shape (compared when the shapes match, named with its shape otherwise), and
# a bad file refused in one line naming the file and the key, with no output folder left.
# Usage: measure_baseline_test.sh GCA_SIM TOOL SCENARIO. Exit 77 (skipped) without PyTorch.
set -euo pipefail
sim=$1 tool=$2 scenario=$3
py=${GCA_PYTHON:-/usr/bin/python3}
if ! "$py" -c 'import torch' 2>/dev/null; then
  echo "skipped: $py has no PyTorch (Debian: apt install python3-torch)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. The tool: 1 head, d 64, window 64 (what the run below simulates), batch 1 and 64.
"$py" "$tool" --device cpu --heads 1 --d-head 64 --window 64 --repeats 3 --repeat-seconds 0.01 \
  --warmup-seconds 0.05 --energy-seconds 0.2 --idle-seconds 0.2 --name "CI CPU" \
  --out "$tmp/cpu.json" > "$tmp/tool.txt"
cat "$tmp/tool.txt"
"$py" - "$tmp/cpu.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["format"] == "gca-tlm.gpu-baselines/1", d["format"]
assert (d["workload"]["n_heads"], d["workload"]["d_head"], d["workload"]["window"]) == (1, 64, 64)
m = d["measurement"]
for key in ("device", "date", "method", "energy", "software", "tool"):
    assert m[key], key
assert m["device"] == "CI CPU" and m["device_kind"] == "cpu"
assert "torch" in m["software"] and "python" in m["software"]
assert "wall clock" in m["method"] and "median" in m["method"], m["method"]
assert [g["batch"] for g in d["gpus"]] == [1, 64]
for g in d["gpus"]:
    assert g["name"] == "CI CPU float32 (batch %d)" % g["batch"], g["name"]
    assert g["latency_us"] > 0 and g["dtype"] == "float32" and g["launch"] == "eager"
    e = g["measured"]["eager"]
    assert abs(g["latency_us"] - e["step_us"] / g["batch"]) <= 1e-9 * g["latency_us"]
    assert e["step_us_min"] <= e["step_us"] <= e["step_us_max"]
    # energy: RAPL where readable, else "not measured" with the reason
    if g["energy_mj"] is None:
        assert m["energy"].startswith("not measured: "), m["energy"]
        assert m["idle_w"] is None
    else:
        assert g["energy_mj"] > 0 and m["idle_w"] > 0 and "RAPL" in m["energy"]
print("tool file: ok")
EOF

# 2. gca-sim reads it: 1 head, window 64 compared with it; the shipped 12-head figures not.
"$sim" run "$scenario" --tokens 80 --set window=64 --set model.n_heads=1 --quiet \
  --out "$tmp/run" --baselines "$tmp/cpu.json" > "$tmp/run.txt"
grep -q "simulated shape (1 head, d 64, window 64)" "$tmp/run.txt" || fail "shape not stated: $(cat "$tmp/run.txt")"
grep -q "CI CPU float32 (batch 64) .* x[0-9.e+]* latency" "$tmp/run.txt" || fail "device not compared: $(cat "$tmp/run.txt")"
grep -q "not compared, measured on 12 heads, d 64, window 1024: GCA (paper), .*H100 SXM fp16 (batch 1)" \
  "$tmp/run.txt" || fail "other shapes not named: $(cat "$tmp/run.txt")"
"$py" - "$tmp/run" "$tmp/cpu.json" <<'EOF'
import json, sys
out, base = sys.argv[1], sys.argv[2]
g = json.load(open(out + "/report.json"))["gpu_comparison"]
assert g["simulated_shape"]["label"] == "1 head, d 64, window 64", g["simulated_shape"]
assert g["added_files"] == [base]
devs = {d["name"]: d for d in g["devices"]}
cpu = devs["CI CPU float32 (batch 1)"]
assert cpu["comparable"] and cpu["shape"]["label"] == "1 head, d 64, window 64"
assert cpu["latency_ratio"] > 0 and cpu["file"] == base and cpu["device"] == "CI CPU"
h100 = devs["H100 SXM fp16 (batch 1)"]
assert not h100["comparable"] and "latency_ratio" not in h100 and "not compared" in h100["note"]
csv = open(out + "/gpu_comparison.csv").read()
assert csv.startswith("# title: One layer of attention per token, as simulated: 1 head, d 64, window 64\n"), csv
assert "CI CPU float32 (batch 64)" in csv and "H100" not in csv, csv
print("report: ok")
EOF

# 3. A bad file: one line naming the file and the key, exit 2, no output folder.
sed 's/"latency_us": [0-9.e+-]*/"latency_us": "fast"/' "$tmp/cpu.json" > "$tmp/bad.json"
set +e
"$sim" run "$scenario" --tokens 80 --quiet --out "$tmp/bad_run" --baselines "$tmp/bad.json" \
  > /dev/null 2> "$tmp/err.txt"
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "bad file: exit $rc, expected 2"
[ "$(wc -l < "$tmp/err.txt")" -eq 1 ] || fail "bad file: not one line: $(cat "$tmp/err.txt")"
grep -q "$tmp/bad.json: gpus\[0\].latency_us: must be a number" "$tmp/err.txt" ||
  fail "bad file: $(cat "$tmp/err.txt")"
[ ! -e "$tmp/bad_run" ] || fail "bad file: output folder written"
set +e
"$sim" run "$scenario" --tokens 80 --quiet --out "$tmp/bad_run" --baselines "$tmp/none.json" \
  > /dev/null 2> "$tmp/err.txt"
rc=$?
"$py" "$tool" --device cpu --heads 0 --out "$tmp/x.json" > /dev/null 2> "$tmp/tool_err.txt"
rc_tool=$?
set -e
[ "$rc" -eq 2 ] && grep -q "none.json" "$tmp/err.txt" || fail "missing file: $(cat "$tmp/err.txt")"
[ "$rc_tool" -eq 2 ] && [ "$(wc -l < "$tmp/tool_err.txt")" -eq 1 ] &&
  grep -q -- "--heads must be >= 1" "$tmp/tool_err.txt" || fail "tool: $(cat "$tmp/tool_err.txt")"
[ ! -e "$tmp/x.json" ] || fail "tool wrote a file on bad input"
echo "bad files: ok"
