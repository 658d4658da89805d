#include "gca/tb/retention_probe.hpp"

#include "gca/power/energy_table.hpp"

#include <algorithm>
#include <cmath>

namespace gca::tb {

RetentionProbe::RetentionProbe(const spec::HardwareSpec& spec) : spec_(spec) {
  if (!spec.retention.leaks()) return;
  leaking_ = std::make_unique<spec::HeadModel>(spec, 0);
  spec::HardwareSpec no_leak = spec;
  no_leak.retention.tau_ms = 0.0;
  ideal_ = std::make_unique<spec::HeadModel>(no_leak, 0);
  leak_out_.resize(spec.model.d_head);
  ideal_out_.resize(spec.model.d_head);
}

void RetentionProbe::reset() {
  if (!leaking_) return;
  leaking_ = std::make_unique<spec::HeadModel>(spec_, 0);
  spec::HardwareSpec no_leak = spec_;
  no_leak.retention.tau_ms = 0.0;
  ideal_ = std::make_unique<spec::HeadModel>(no_leak, 0);
}

void RetentionProbe::submit(const double* q, const double* k, const double* v,
                            const double* model_out, double now_ns) {
  if (!leaking_) return;
  (void)model_out;  // the run's checker compares it with the leaking head already
  leaking_->step(q, k, v, leak_out_.data(), now_ns);
  ideal_->step(q, k, v, ideal_out_.data(), now_ns);
  ++tokens_;
  const int levels = spec_.quant.out_levels;
  const double level = levels >= 2 ? 2.0 / (levels - 1) : 0.0;
  for (std::size_t i = 0; i < leak_out_.size(); ++i) {
    const double e = leak_out_[i] - ideal_out_[i];
    err2_ += e * e;
    ref2_ += ideal_out_[i] * ideal_out_[i];
    ++outputs_;
    if (levels >= 2 ? std::fabs(e) >= 0.5 * level : std::fabs(e) > 1e-9) ++moved_;
  }
  oldest_token_age_ns_ = std::max(oldest_token_age_ns_, ideal_->oldest_age_ns());
  oldest_value_age_ns_ = std::max(oldest_value_age_ns_, leaking_->oldest_age_ns());
  const spec::RefreshActivity& r = leaking_->refresh_activity();
  refreshed_columns_ += r.columns;
  refreshed_cells_ += r.cells;
  refresh_tokens_ += r.columns > 0;
}

nlohmann::json RetentionProbe::summary() const {
  const spec::RetentionParams& ret = spec_.retention;
  nlohmann::json j = {{"tau_ms", ret.tau_ms},
                      {"refresh", ret.refresh == 1 ? "shadow_rewrite" : "none"},
                      {"head", "layer 0 head 0"}};
  if (!leaking_) {
    j["note"] = "no leakage (retention.tau_ms = 0)";
    return j;
  }
  const double tau_ns = ret.tau_ns();
  j["tokens"] = tokens_;
  j["oldest_token_age_ns"] = oldest_token_age_ns_;
  j["oldest_token_age_over_tau"] = oldest_token_age_ns_ / tau_ns;
  j["oldest_value_age_ns"] = oldest_value_age_ns_;
  j["weakest_decay_factor"] = std::exp(-oldest_value_age_ns_ / tau_ns);
  j["decay_output_rel_l2"] = ref2_ > 0 ? std::sqrt(err2_ / ref2_) : 0.0;
  j["decay_outputs_moved_share"] = outputs_ ? double(moved_) / double(outputs_) : 0.0;
  // A refreshed column is a new token's write: one K and one V DAC conversion per feature,
  // two cell writes per feature, in one write slot (timing.write_ns).
  const double conversions = double(refreshed_cells_);
  const power::EnergyTable table(spec_);
  const double energy_pj = conversions * table.energy_pj(power::Action::dac_kv_conversion) +
                           double(refreshed_cells_) * table.energy_pj(power::Action::cell_write);
  j["refresh_stats"] = {
      {"threshold", ret.refresh_threshold},
      {"columns", refreshed_columns_},
      {"cells", refreshed_cells_},
      {"tokens_with_refresh", refresh_tokens_},
      {"energy_pj", energy_pj},
      {"energy_pj_per_token", tokens_ ? energy_pj / double(tokens_) : 0.0},
      {"write_time_ns_per_token",
       tokens_ ? double(refreshed_columns_) * spec_.timing.write_ns / double(tokens_) : 0.0}};
  return j;
}

}  // namespace gca::tb
