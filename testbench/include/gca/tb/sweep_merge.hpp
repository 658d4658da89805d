// Merging a sweep: every point's report into DIR/sweep.csv and DIR/sweep.json (same bytes for
// the same points, whatever the order they ran in or the shards), the Pareto front of energy
// against latency, and the plots (gnuplot, power/plots/plot_sweep.gp).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "gca/tb/sweep_file.hpp"

namespace gca::tb {

struct MergeResult {
  int points = 0, ok = 0, check_failed = 0, failed = 0, missing = 0;
  int pareto = 0;  // points on the front
  std::string plots_message;
  std::string csv_path;
};

MergeResult merge_sweep(const SweepFile& sweep, const std::string& out_dir);

// For (latency, energy) pairs, both minimized: true where no other pair is at least as good in
// both and better in one.
std::vector<bool> pareto_front(const std::vector<std::pair<double, double>>& latency_energy);

std::string default_sweep_plot_script();

// The command line of the sweep's plots: gnuplot -e "nkeys=N; keynames='k1 k2'" SCRIPT, the
// names as one gnuplot string literal (gca::Error when they hold a control character).
std::vector<std::string> sweep_gnuplot_argv(
    const std::vector<std::string>& keys,
    const std::string& script);  // $GCA_POWER_PLOTS_DIR or power/plots, + /plot_sweep.gp

}  // namespace gca::tb
