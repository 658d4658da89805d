#include "gca/tb/sweep_columns.hpp"

#include <algorithm>
#include <sstream>

namespace gca::tb {
namespace {

using json = nlohmann::json;
using Value = std::optional<json>;

// The value at a dotted path ("energy.steady_state.tokens"), if present.
Value at(const json& j, const std::string& path) {
  const json* node = &j;
  std::istringstream in(path);
  std::string part;
  while (std::getline(in, part, '.')) {
    if (!node->is_object() || !node->contains(part)) return std::nullopt;
    node = &(*node)[part];
  }
  if (node->is_null() || node->is_object() || node->is_array()) return std::nullopt;
  return *node;
}

std::optional<double> number(const json& j, const std::string& path) {
  Value v = at(j, path);
  if (!v || !v->is_number()) return std::nullopt;
  return v->get<double>();
}

ReportColumn field(std::string name, std::string path, std::string description) {
  return {std::move(name), std::move(description) + " [" + path + "]",
          [path](const json& r) { return at(r, path); }};
}

// All heads of the run's layers: the per-head steady-state figure times the heads simulated.
Value energy_per_token_pj(const json& r) {
  auto head = number(r, "energy.steady_state_per_head_per_token_pj.total");
  auto heads = number(r, "heads_simulated");
  if (!head || !heads) return std::nullopt;
  return json(*head * *heads);
}

Value mean_layer_latency_ns(const json& r) {
  if (!r.contains("latency") || !r["latency"].contains("per_token_ns")) return std::nullopt;
  const json& l = r["latency"]["per_token_ns"];
  if (!l.is_array() || l.empty()) return std::nullopt;
  double sum = 0.0;
  for (const auto& x : l) {
    if (!x.is_number()) return std::nullopt;
    sum += x.get<double>();
  }
  return json(sum / double(l.size()));
}

Value peak_power_mw(const json& r) {
  if (!r.contains("power") || !r["power"].contains("windows")) return std::nullopt;
  const json& w = r["power"]["windows"];
  if (!w.is_array() || w.empty()) return std::nullopt;
  double peak = 0.0;
  for (const auto& x : w) {
    if (!x.contains("total_mw") || !x["total_mw"].is_number()) return std::nullopt;
    peak = std::max(peak, x["total_mw"].get<double>());
  }
  return json(peak);
}

Value check_result(const json& r) {
  auto against = at(r, "check.against_oracle");
  if (!against) return std::nullopt;
  if (!against->is_boolean() || !against->get<bool>()) return json("off");
  auto mismatches = number(r, "check.mismatches");
  if (!mismatches) return std::nullopt;
  return json(*mismatches == 0 ? "pass" : "fail");
}

}  // namespace

const std::vector<ReportColumn>& report_columns() {
  static const std::vector<ReportColumn> columns{
      field(column::latency, "latency.end_to_end_ns_per_token",
            "ns per generated token through all simulated layers, host time included"),
      {"layer_latency_ns", "ns per token per layer, mean over layers [latency.per_token_ns]",
       mean_layer_latency_ns},
      {column::energy,
       "pJ per token, all heads of the simulated layers, steady state (window full) where "
       "reached [energy.steady_state_per_head_per_token_pj.total x heads_simulated]",
       energy_per_token_pj},
      field("steady_state_tokens", "energy.steady_state.tokens",
            "tokens after the window filled (0: the energy figures are over the whole run)"),
      field("head_qk_pj", "energy.steady_state_per_head_per_token_pj.qk",
            "pJ per head per token, K arrays + HardSigmoid charge-to-pulse"),
      field("head_av_pj", "energy.steady_state_per_head_per_token_pj.av",
            "pJ per head per token, V arrays + signed charge-to-pulse"),
      field("head_digital_pj", "energy.steady_state_per_head_per_token_pj.digital",
            "pJ per head per token, digital and routing"),
      field("head_dac_pj", "energy.steady_state_per_head_per_token_pj.dac",
            "pJ per head per token, DACs and cell writes"),
      field("head_total_pj", "energy.steady_state_per_head_per_token_pj.total",
            "pJ per head per token, all groups"),
      field(column::area, "area_mm2.model", "mm^2 of all heads of the simulated model"),
      field("area_head_mm2", "area_mm2.head", "mm^2 of one head with its control"),
      {"peak_power_mw", "mW, highest average over a power window [power.windows[].total_mw]",
       peak_power_mw},
      field("average_power_mw", "power.average_mw.total", "mW over the run"),
      field("simulated_time_ns", "simulated_time_ns", "ns of simulated time"),
      field("io_bytes_per_token", "io.bytes_per_token",
            "bytes on the host link per token per layer"),
      field("link_utilization", "io.link_utilization", "share of the run the host link was busy"),
      field("bottleneck", "latency.bottleneck", "what sets the pace: arrays or host link"),
      {"check", "pass / fail / off: outputs against the oracle [check.mismatches]", check_result},
      field("check_mismatches", "check.mismatches",
            "outputs that differ from the oracle beyond its allowance"),
      field("outputs_fnv1a64", "outputs.fnv1a64", "fingerprint of every output of the run"),
  };
  return columns;
}

}  // namespace gca::tb
