#include "gca/spec/head_model.hpp"

#include <algorithm>
#include <cmath>

namespace gca::spec {

SubTileModel::SubTileModel(const CircuitModel& circuits, int features, int columns)
    : circuits_(&circuits),
      key_(circuits, features, columns),
      value_(circuits, features, columns),
      charge_(features) {}

void SubTileModel::write(int col, const double* k_volts, const double* v_volts, long token) {
  key_.write_column(col, k_volts, token);
  value_.write_line(col, v_volts, token);
}

bool SubTileModel::compute(const float* q_pulse, double q_pulse_sum, long now, float* s_out,
                           float* phi_out, double* o_out, SubTileActivity* activity) const {
  if (!active()) return false;
  const int cols = key_.columns(), features = key_.features();
  key_.integrate(q_pulse, now, s_out);
  const float phi_sum = circuits_->hard_sigmoid.convert(s_out, cols, phi_out);
  value_.integrate(phi_out, now, charge_.data());
  const double counts = circuits_->signed_ctp.convert(charge_.data(), features, o_out);
  if (activity) {
    activity->q_pulse_sum = q_pulse_sum * key_.valid_columns();
    activity->columns_converted = key_.valid_columns();
    activity->phi_pulse_sum = double(phi_sum) * features;
    activity->outputs_converted = features;
    activity->counter_fullscale = counts;
    const double offset = cell_current_offset(*circuits_);
    double column_charge = 0.0, output_charge = 0.0;
    for (int c = 0; c < cols; ++c) column_charge += s_out[c];
    for (int f = 0; f < features; ++f) output_charge += charge_[f];
    activity->qk_read_charge = column_charge + offset * activity->q_pulse_sum;
    activity->av_read_charge = output_charge + offset * activity->phi_pulse_sum;
  }
  return true;
}

HeadModel::HeadModel(const HardwareSpec& spec)
    : circuits_(std::make_shared<CircuitModel>(spec)),
      tiling_(spec.window, spec.array.cols),
      d_(spec.model.d_head),
      q_pulse_(spec.model.d_head),
      s_(spec.window, 0.0f),
      phi_(spec.window, 0.0f),
      o_(std::size_t(tiling_.subtiles) * spec.model.d_head, 0.0),
      subtile_activity_(tiling_.subtiles) {
  subtiles_.reserve(tiling_.subtiles);
  for (int s = 0; s < tiling_.subtiles; ++s)
    subtiles_.emplace_back(*circuits_, d_, tiling_.width(s));
}

void HeadModel::step(const double* q, const double* k, const double* v, double* out) {
  const long t = t_++;
  const int slot = tiling_.slot_of_token(t);
  subtiles_[tiling_.subtile_of_slot(slot)].write(tiling_.column_of_slot(slot), k, v, t);

  circuits_->q_pulses(q, d_, q_pulse_.data());
  double q_sum = 0.0;  // in double: the activity the energy model multiplies
  for (int f = 0; f < d_; ++f) q_sum += q_pulse_[f];
  std::fill(out, out + d_, 0.0);
  activity_ = SubTileActivity{};
  active_subtiles_ = 0;
  for (int s = 0; s < tiling_.subtiles; ++s) {
    const int base = s * tiling_.cols;
    double* o = o_.data() + std::size_t(s) * d_;
    SubTileActivity& a = subtile_activity_[s];
    a = SubTileActivity{};
    if (!subtiles_[s].compute(q_pulse_.data(), q_sum, t, s_.data() + base, phi_.data() + base, o,
                              &a)) {
      std::fill(o, o + d_, 0.0);
      continue;
    }
    activity_.add(a);
    ++active_subtiles_;
    for (int f = 0; f < d_; ++f) out[f] += o[f];
  }
  const Affine& sc = circuits_->scalers.out;
  if (!sc.identity()) {
    for (int f = 0; f < d_; ++f) out[f] = sc.apply(out[f]);
  }
}

}  // namespace gca::spec
