// One simulation run of the SystemC/TLM model from a scenario: elaboration, the host's token
// stream, checks against the oracle, reports. One per process (SystemC).
#pragma once

#include <string>
#include <vector>

#include "gca/tb/scenario.hpp"

namespace gca::tb {

// Exit codes of gca-sim.
enum ExitCode : int {
  kExitOk = 0,
  kExitCheckFailed = 1,  // outputs differ from the oracle or the expected data
  kExitBadInput = 2,     // usage, parameters, scenario or data files
  kExitSimError = 3,     // a transaction failed inside the simulation
};

struct RunOptions {
  std::string out_dir;   // reports go here (created); results are written atomically
  std::string vcd_path;  // empty: no trace
  bool quiet = false;    // no progress line
  std::vector<std::string> baseline_files;  // device figures added to the comparison
};

// Runs the scenario; returns an ExitCode. Throws gca::Error for bad input found late.
int run_scenario(const Scenario& scenario, const RunOptions& options);

struct HeadRunOptions {
  std::string q_path, k_path, v_path, out_dir, spec_path;
  std::vector<std::string> overrides;
  bool dump_scores = false;
};
// gca-sim head: one SystemC head over the tokens of Q, K, V ([T, d] each).
int run_head(const HeadRunOptions& options);

}  // namespace gca::tb
