// What `gca-sim run` prints when a run has ended: read from the result, apart from the run.
#include <algorithm>
#include <cstdio>

#include "gca/tb/engine/experiment.hpp"
#include "gca/tb/output_set.hpp"

namespace gca::tb {

void print_run_summary(const RunResult& r) {
  const auto& j = r.report;
  const auto& io = j["io"];
  const auto& check = j["check"];
  const auto& lat = j["latency"];
  const spec::HardwareSpec& s = r.power.spec;
  const long T = j["tokens_simulated"].get<long>();
  const double wall_s = j["wall_time_s"].get<double>();
  const bool decode = j["workload"]["mode"] == "decode";
  const auto& scenario = j["scenario_config"];
  const bool at = scenario.contains("workload") && scenario["workload"].contains("protocol") &&
                  scenario["workload"]["protocol"] == "at";
  std::printf("%s: %ld tokens x %d layers x %d heads, %s, %s, window %d\n",
              j["scenario"].get<std::string>().c_str(), T, s.model.n_layers, s.model.n_heads,
              decode ? "decode" : "prefill", at ? "AT" : "LT", s.window);
  const auto& per_layer = lat["per_token_ns"];
  std::printf("simulated %.3f us (%.1f ns per token end to end; %.1f ns START to done per layer)\n",
              j["simulated_time_ns"].get<double>() / 1000.0,
              lat["end_to_end_ns_per_token"].get<double>(),
              per_layer.empty() ? 0.0 : per_layer[0].get<double>());
  const bool link_bound = lat["bottleneck"] == "host link";
  if (io["ideal"].get<bool>()) {
    std::printf("host link: ideal (%.0f B per token per layer, %ld transactions; not timed)\n",
                io["bytes_per_token"].get<double>(), io["transactions"].get<long>());
  } else {
    std::printf("host link: %.1f B/ns, %.0f B per token per layer, %.1f %% busy%s\n",
                s.host_link.bytes_per_ns, io["bytes_per_token"].get<double>(),
                100.0 * io["link_utilization"].get<double>(),
                link_bound ? "; the link, not the arrays, sets the pace" : "");
  }
  std::printf("%s", power::summary_table(r.power).c_str());
  if (check["against_oracle"].get<bool>()) {
    std::printf(
        "check against the oracle (plain double-precision head, no kernel shared with the model): "
        "%ld of %ld outputs compared (every %ld. token of each head), %ld mismatches, %ld "
        "one-level flips at counter boundaries\n",
        check["outputs_compared"].get<long>(), check["outputs_total"].get<long>(),
        check["oracle_every"].get<long>(), check["mismatches"].get<long>(),
        check["boundary_flips"].get<long>());
  }
  if (check.contains("expected_out_rel_l2")) {
    std::printf("check against %s: relative L2 error %.3e (limit %.1e)\n",
                check["expected_out"].get<std::string>().c_str(),
                check["expected_out_rel_l2"].get<double>(),
                check["expected_out_max_rel_l2"].get<double>());
  }
  if (s.retention.leaks()) {
    const auto& ret = j["retention"];
    std::printf(
        "retention: tau %.3g ms, oldest token %.3g ms old (%.3g tau), decay moves %.2f%% of head "
        "0's outputs (relative L2 %.2e); refresh rewrote %ld columns\n",
        s.retention.tau_ms, ret["oldest_token_age_ns"].get<double>() * 1e-6,
        ret["oldest_token_age_over_tau"].get<double>(),
        100.0 * ret["decay_outputs_moved_share"].get<double>(),
        ret["decay_output_rel_l2"].get<double>(), ret["refresh_stats"]["columns"].get<long>());
  }
  const long steady = j["energy"]["steady_state"]["tokens"].get<long>();
  if (steady > 0) {
    std::printf("with the window full: %.1f tokens/s over %ld tokens\n",
                j["tokens_per_second_steady_state"].get<double>(), steady);
  }
  for (const Metric& m : r.metrics.all())
    std::printf("%-34s %12.6g %s\n", m.name.c_str(), m.value, m.unit == "1" ? "" : m.unit.c_str());
  std::printf(
      "wall time %.2f s (%.1f tokens/s); reports in %s%s%s\n", wall_s, T / std::max(wall_s, 1e-9),
      r.out_dir.c_str(),
      r.plots_message.empty() ? "" : "; plots: ", with_output_paths(r.plots_message).c_str());
}

}  // namespace gca::tb
