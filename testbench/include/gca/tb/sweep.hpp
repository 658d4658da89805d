// gca-sim sweep: a design-space sweep over hardware and scenario keys, one gca-sim run per
// point (SystemC allows one elaboration per process), run locally or as a Slurm job array,
// merged into sweep.csv / sweep.json with plots. testbench/README.md documents the sweep files.
#pragma once

#include <string>
#include <vector>

#include "gca/tb/cli.hpp"

namespace gca::tb {

struct SweepArgs {
  std::string file;
  int jobs = 0;            // 0: default
  std::string shard_text;  // "I/N"; empty: every point
  bool merge = false, no_submit = false;
  std::string backend = "local";
  CommonOptions common;  // --set/--scenario-set/--seed reach every point; --out, --quiet, ...
};

// The whole `gca-sim sweep` command; `self_exe` is the gca-sim binary that runs each point
// (e.g. "/proc/self/exe"). Returns the exit code: 0 every point ran and passed its check, 1 a
// point failed or its check failed, 2 bad input, 130 interrupted. Throws gca::Error for bad
// input.
int run_sweep_command(const SweepArgs& args, const std::string& self_exe);

}  // namespace gca::tb
