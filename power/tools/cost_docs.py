#!/usr/bin/python3
"""Regenerates the generated tables of docs/cost_model.md: the fitted constants beside their
literature ranges (gca-calibrate-energy --markdown) and the one-factor runs
(one_factor_table.py) with the checks on them. Each table sits between <!-- BEGIN name --> and <!-- END name -->.
usage (from the repository root, after a build): power/tools/cost_docs.py [--build build]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def splice(text, name, table):
    pattern = re.compile(r"(<!-- BEGIN %s -->\n).*?(<!-- END %s -->)" % (name, name), re.S)
    if not pattern.search(text):
        sys.exit("docs/cost_model.md: no <!-- BEGIN %s --> ... <!-- END %s --> block" % (name, name))
    return pattern.sub(lambda m: m.group(1) + table + m.group(2), text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--doc", default="docs/cost_model.md")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fit_md = os.path.join(tmp, "fit.md")
        subprocess.run([os.path.join(args.build, "power", "gca-calibrate-energy"), "--markdown",
                        fit_md], check=True, stdout=subprocess.DEVNULL)
        of_md = os.path.join(tmp, "one_factor.md")
        checks_md = os.path.join(tmp, "checks.md")
        subprocess.run([sys.executable, os.path.join(HERE, "one_factor_table.py"), "--sim",
                        os.path.join(args.build, "testbench", "gca-sim"), "--out", of_md,
                        "--checks", checks_md], check=True)
        text = open(args.doc).read()
        text = splice(text, "fit", open(fit_md).read())
        text = splice(text, "one-factor", open(of_md).read())
        text = splice(text, "checks", open(checks_md).read())
    with open(args.doc, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
