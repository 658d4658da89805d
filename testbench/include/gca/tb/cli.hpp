// The options every command of gca-sim shares, declared once (CLI11) so that --set,
// --scenario-set, --seed, --tokens, --out, --quiet, --progress and --no-plots mean the same on
// every command that takes them, and --help lists them alike.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "gca/tb/engine/progress.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {

struct CommonOptions {
  std::vector<std::string> sets;           // --set key=value (hardware parameters)
  std::vector<std::string> scenario_sets;  // --scenario-set key=value (scenario keys)
  long seed = -1;                          // --seed S; -1: not given
  long tokens = -1;                        // --tokens N; -1: not given
  std::string out;                         // --out DIR; empty: the command's default
  bool quiet = false, progress = false, no_plots = false;

  ProgressMode progress_mode() const {
    return quiet ? ProgressMode::off : progress ? ProgressMode::forced : ProgressMode::automatic;
  }
};

// Which of the shared options a command takes.
enum CommonFlag : unsigned {
  kOptSet = 1u << 0,
  kOptScenarioSet = 1u << 1,
  kOptSeed = 1u << 2,
  kOptTokens = 1u << 3,
  kOptOut = 1u << 4,
  kOptQuiet = 1u << 5,
  kOptProgress = 1u << 6,
  kOptPlots = 1u << 7,
  kOptAll = 0xffu,
};

// Declares the shared options `which` on `cmd`, in one group ("Common options"); `seed_help`
// says what the seed seeds for this command.
void add_common_options(CLI::App& cmd, CommonOptions& o, unsigned which,
                        const std::string& seed_help);

// The scenario at `path` with --scenario-set applied before validation, then --tokens, --seed
// (stimulus.seed, variation.chip_seed, noise.seed) and --set (after the scenario's own).
Scenario load_scenario_with(const std::string& path, const CommonOptions& o);

}  // namespace gca::tb
