// Monte Carlo over chips (docs/variation.md). Each chip is the scenario's hardware with its own
// chip and noise seeds, run in-process on the executable spec (HeadModel, one per head) rather
// than a SystemC elaboration: the statistics concern the numerics, which the two share, and a
// chip then costs milliseconds per token instead of a kernel per process. Every chip and the
// ideal circuits (all variation and noise at zero, retention as configured) each get a workload
// of their own from the scenario's kind, so closed-loop workloads follow their own outputs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/tb/engine/metrics.hpp"
#include "gca/tb/engine/progress.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {

struct MonteCarloOptions {
  int chips = 0;        // 0: no Monte Carlo
  int jobs = 1;         // chips simulated in parallel
  long first_seed = 1;  // chip c uses chip and noise seeds first_seed + c
  int top_k = 16;       // size of the Phi(S) ranking compared with the ideal
  ProgressMode progress = ProgressMode::automatic;
};

// What one chip did against the ideal circuits.
struct ChipResult {
  long seed = 0;
  double rel_l2 = 0.0;                 // head outputs, all heads and tokens
  std::vector<double> subtile_rel_l2;  // per sub-tile output
  double moved_share = 0.0;            // outputs that moved by one counter level or more
  double topk_overlap = 0.0;           // mean |top-k(chip) ∩ top-k(ideal)| / k
  std::vector<long> hist;              // output difference in levels, -kHistHalf..kHistHalf
  Metrics workload;                    // the chip's workload figures (e.g. its loss)
  Metrics ideal_workload;              // the same of the ideal circuits
};

struct MonteCarloResult {
  std::vector<ChipResult> chips;
  nlohmann::ordered_json json;  // mc.json
  Metrics metrics;              // mc_* figures: mean and std over chips
  std::vector<long> hist;       // all chips
  int hist_half = 8;
};

// Runs the chips. Throws gca::Error for bad input (no non-ideality on, top-k beyond the window).
MonteCarloResult run_monte_carlo(const Scenario& scenario, const MonteCarloOptions& options);

// Files of `gca-sim mc` in dir: mc.json, mc_chips.csv, mc_error_hist.dat (+ mc_error.gp).
void write_monte_carlo_files(const std::string& dir, const MonteCarloResult& r, bool plots);
// Renders mc_error.png in dir (gnuplot); returns a note for the summary line.
std::string render_monte_carlo_plot(const std::string& dir);
void print_monte_carlo_summary(const Scenario& scenario, const MonteCarloResult& r);

}  // namespace gca::tb
