// The experiment engine: the one place where a run is assembled. From a scenario it builds the
// SystemC/TLM system with the scenario's workload, attaches the observers (oracle check,
// retention probe, expected outputs, output fingerprint, latency, energy series, trace,
// progress, and a command's own), runs it, and returns a RunResult; report.json is written once
// from that result. Every command is a front end over these functions:
//
//   Scenario sc = load_scenario(path, scenario_sets);
//   apply_common_options(sc, common);          // --set, --seed, --tokens (cli.hpp)
//   ExperimentOptions opt;  opt.out_dir = "out/x";
//   RunResult r = run_experiment(sc, opt);     // writes out/x/report.json, modules.csv, plots
//   print_run_summary(r);                      // summary printing is apart
//   return r.exit_code;
//
// One run per process (SystemC allows one elaboration); Monte Carlo (monte_carlo.hpp) runs the
// executable spec in-process instead and may follow a run in the same process.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/power/report.hpp"
#include "gca/tb/engine/exit_codes.hpp"
#include "gca/tb/engine/metrics.hpp"
#include "gca/tb/engine/monte_carlo.hpp"
#include "gca/tb/engine/observer.hpp"
#include "gca/tb/engine/progress.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {

struct ExperimentOptions {
  std::string out_dir;   // published as a whole when the run completes (OutputSet)
  std::string vcd_path;  // empty: no trace
  ProgressMode progress = ProgressMode::automatic;
  bool plots = true;  // render PNGs with gnuplot (also off when the scenario says so)
  // > 0: after the run, a Monte Carlo over this many chips on the same scenario; its figures
  // join the report ("monte_carlo") and the metrics (mc_*).
  MonteCarloOptions monte_carlo;
  // Files of device figures (power/tools/measure_baseline.py) added to the comparison with
  // other devices, after the shipped ones (power/data/gpu_baselines.json).
  std::vector<std::string> baseline_files;
  // A command's own observers, called after the engine's.
  std::vector<std::shared_ptr<Observer>> observers;
  // The caller exits right after the run: the SystemC model is left in memory for the operating
  // system to take back instead of being torn down (SystemC removes each module from its
  // registry by a linear search, which takes seconds for GPT-2 XL's 10^5 modules). Ignored in
  // builds with AddressSanitizer, whose leak check would report it.
  bool leave_model_at_exit = false;
};

struct RunResult {
  int exit_code = kExitOk;
  std::string out_dir;
  nlohmann::ordered_json report;  // report.json as written
  Metrics metrics;                // also report["metrics"]
  power::Report power;            // the energy and power figures (summary table)
  std::string plots_message;      // what gnuplot did
  std::string sim_error;          // non-empty: the simulation failed (exit code 3)
};

// Builds, runs and reports one scenario. Throws gca::Error for bad input found on the way
// (nothing is published then); a failed simulation gives exit_code kExitSimError and no
// outputs.
RunResult run_experiment(const Scenario& scenario, const ExperimentOptions& options);

// The lines printed at the end of `gca-sim run` (stdout).
void print_run_summary(const RunResult& result);

}  // namespace gca::tb
