// gca-sim mc: Monte Carlo over chips (docs/variation.md). Each chip is the scenario's hardware
// with its own chip and noise seeds, run in-process on the executable spec (HeadModel, one per
// head) rather than a SystemC elaboration: the statistics concern the numerics, which the two
// share, and a chip then costs milliseconds per token instead of a kernel per process. Every
// chip is compared with the ideal circuits (all variation and noise at zero, retention as
// configured) on the same inputs.
#pragma once

#include <string>
#include <vector>

namespace gca::tb {

struct MonteCarloOptions {
  std::string scenario_path;
  int chips = 8;
  int jobs = 1;                        // chips simulated in parallel
  long tokens = -1;                    // > 0: overrides the scenario's token count
  long first_seed = 1;                 // chip c uses chip and noise seeds first_seed + c
  int top_k = 16;                      // size of the Phi(S) ranking compared with the ideal
  std::string out_dir;                 // default out/<scenario>_mc
  std::vector<std::string> overrides;  // --set key=value, after the scenario's
  bool plots = true;
};

// Runs the chips, writes mc.json, mc_chips.csv, mc_error_hist.dat and the plot; returns an
// exit code (0 ok). Throws gca::Error for bad input.
int run_monte_carlo(const MonteCarloOptions& options);

}  // namespace gca::tb
