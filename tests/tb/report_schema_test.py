#!/usr/bin/python3
"""Validates report.json of every shipped scenario (and of gca-sim head, and of a run with a
Monte Carlo) against docs/report.schema.json.

The validator covers the part of JSON Schema the schema uses: type, properties, required,
additionalProperties (true, false or a schema), items, enum, minimum. It also checks that every
leaf of the schema states a unit and a description, so the schema stays a complete reference.

usage: report_schema_test.py GCA_SIM SCHEMA SCENARIOS_DIR WORK_DIR
"""
import json
import os
import pathlib
import struct
import subprocess
import sys

TYPES = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "integer": lambda x: isinstance(x, int) and not isinstance(x, bool),
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
}


def validate(value, schema, path, errors):
    t = schema.get("type")
    if t and not TYPES[t](value):
        errors.append(f"{path}: {type(value).__name__} where the schema says {t}")
        return
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{path}: {value!r} is not one of {schema['enum']}")
    if "minimum" in schema and TYPES["number"](value) and value < schema["minimum"]:
        errors.append(f"{path}: {value} is below the minimum {schema['minimum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append(f"{path}.{key}: required, missing")
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            if key in props:
                validate(v, props[key], f"{path}.{key}", errors)
            elif extra is False:
                errors.append(f"{path}.{key}: not in the schema (document it in docs/report.schema.json)")
            elif isinstance(extra, dict):
                validate(v, extra, f"{path}.{key}", errors)
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            validate(v, schema["items"], f"{path}[{i}]", errors)


def leaves_documented(schema, path, errors):
    """Every leaf (a typed non-object, non-array) has a unit and a description."""
    t = schema.get("type")
    if t in ("object", None):
        if "description" not in schema and path != "$":
            errors.append(f"schema {path}: no description")
        for k, s in schema.get("properties", {}).items():
            leaves_documented(s, f"{path}.{k}", errors)
        if isinstance(schema.get("additionalProperties"), dict):
            leaves_documented(schema["additionalProperties"], f"{path}.*", errors)
    elif t == "array":
        if "description" not in schema:
            errors.append(f"schema {path}: no description")
        leaves_documented(schema.get("items", {}), f"{path}[]", errors)
    elif "unit" not in schema or "description" not in schema:
        errors.append(f"schema {path}: a leaf needs \"unit\" and \"description\"")


def write_npy(path, rows, cols, value):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (%d, %d), }" % (rows, cols)
    header += " " * (63 - (len(header) + 10) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%dd" % (rows * cols), *([value] * (rows * cols))))


def main():
    sim, schema_path, scenarios, work = sys.argv[1:5]
    schema = json.load(open(schema_path))
    errors = []
    leaves_documented(schema, "$", errors)
    work = pathlib.Path(work)
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, SYSTEMC_DISABLE_COPYRIGHT_MESSAGE="1")
    runs = []
    for sc in sorted(pathlib.Path(scenarios).glob("*.json")):
        runs.append((sc.stem, ["run", str(sc), "--tokens", "3"]))
    runs.append(("mc", ["run", str(pathlib.Path(scenarios) / "window_wrap.json"), "--tokens", "20",
                        "--mc-chips", "2", "--set", "variation.cell_gain_sigma=0.05"]))
    q = work / "q.npy"
    write_npy(q, 4, 64, 0.5)
    runs.append(("head", ["head", "--q", str(q), "--k", str(q), "--v", str(q), "--set", "window=64"]))
    validated = 0
    for name, args in runs:
        out = work / name
        r = subprocess.run([sim] + args + ["--quiet", "--no-plots", "--out", str(out)],
                           capture_output=True, text=True, env=env)
        if r.returncode == 2 and "cannot open" in r.stderr and ".npy" in r.stderr:
            print(f"{name}: skipped, its data are not here ({r.stderr.strip()})")
            continue
        if r.returncode != 0:
            errors.append(f"{name}: gca-sim exited {r.returncode}: {r.stderr.strip()}")
            continue
        before = len(errors)
        validate(json.load(open(out / "report.json")), schema, name, errors)
        validated += 1
        print(f"{name}: {'valid' if len(errors) == before else 'INVALID'}")
    for e in errors:
        print(e)
    if validated < 3:
        errors.append("fewer than three reports validated")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
