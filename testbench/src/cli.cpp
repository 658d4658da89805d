#include "gca/tb/cli.hpp"

namespace gca::tb {

void add_common_options(CLI::App& cmd, CommonOptions& o, unsigned which,
                        const std::string& seed_help) {
  const std::string group = "Common options (the same on every command)";
  if (which & kOptSet)
    cmd.add_option("--set", o.sets,
                   "override a hardware parameter, key=value (see `gca-sim spec`); repeatable")
        ->group(group)
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
  if (which & kOptScenarioSet)
    cmd.add_option("--scenario-set", o.scenario_sets,
                   "override a scenario key before it is validated, e.g. "
                   "workload.host_ns_per_layer=1000 or stimulus.seed=7; repeatable")
        ->group(group)
        ->type_name("KEY=VALUE")
        ->allow_extra_args(false);
  if (which & kOptSeed)
    cmd.add_option("--seed", o.seed, seed_help)->group(group)->check(CLI::Range(0L, 2147483647L));
  if (which & kOptTokens)
    cmd.add_option("--tokens", o.tokens, "tokens to simulate (overrides workload.tokens)")
        ->group(group)
        ->check(CLI::Range(1L, 100000000L));
  if (which & kOptOut)
    cmd.add_option("--out", o.out,
                   "output folder; replaced as a whole when the command completes, untouched "
                   "when it fails")
        ->group(group)
        ->type_name("DIR")
        ->check([](const std::string& s) {
          return s.empty() ? std::string("empty (allowed: a folder path)") : std::string();
        });
  if (which & kOptQuiet)
    cmd.add_flag("--quiet", o.quiet, "no progress line, and for sweeps no summary")->group(group);
  if (which & kOptProgress)
    cmd.add_flag("--progress", o.progress,
                 "progress line on stderr even when it is not a terminal (one line per update)")
        ->group(group);
  if (which & kOptPlots)
    cmd.add_flag("--no-plots", o.no_plots, "write the plots' data files but render no PNG")
        ->group(group);
}

Scenario load_scenario_with(const std::string& path, const CommonOptions& o) {
  Scenario sc = load_scenario(path, o.scenario_sets);
  if (o.tokens > 0) sc.host.tokens = o.tokens;
  if (o.seed >= 0) {
    sc.stimulus.seed = static_cast<std::uint64_t>(o.seed);
    sc.overrides.push_back("variation.chip_seed=" + std::to_string(o.seed));
    sc.overrides.push_back("noise.seed=" + std::to_string(o.seed));
  }
  for (const auto& s : o.sets) sc.overrides.push_back(s);
  return sc;
}

}  // namespace gca::tb
