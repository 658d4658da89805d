#include "gca/spec/oracle_head.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gca::spec {

OracleHead::OracleHead(const HardwareSpec& spec)
    : spec_(spec),
      d_(spec.model.d_head),
      window_(spec.window),
      cols_(spec.array.cols),
      subtiles_((spec.window + spec.array.cols - 1) / spec.array.cols),
      key_v_(std::size_t(window_) * d_, 0.0),
      value_v_(std::size_t(window_) * d_, 0.0),
      key_g_(std::size_t(window_) * d_, 0.0),
      value_g_(std::size_t(window_) * d_, 0.0),
      written_(window_, -1) {}

double OracleHead::quantize(double x, int levels, double lo, double hi) const {
  x = std::min(std::max(x, lo), hi);
  if (levels == 0) return x;
  const double step = (hi - lo) / (levels - 1);
  // Ties round up; decimal midpoints (0.45 V) count as ties whatever their binary rounding.
  return lo + step * std::floor((x - lo) / step + 0.5 + 1e-9);
}

double OracleHead::g(double w) const {
  const GainCellParams& p = spec_.gain_cell;
  double sum = 0.0, w_pow = 1.0;
  for (int i = 0; i <= 3; ++i, w_pow *= w) {
    double vin_pow = 1.0;
    for (int j = 0; i + j <= 3; ++j, vin_pow *= p.v_in_v) sum += p.c[i][j] * vin_pow * w_pow;
  }
  return sum;
}

double OracleHead::decay(long age) const {
  return std::exp(-spec_.retention.decay_per_token * double(age));
}

void OracleHead::write(const double* k, const double* v) {
  const GainCellParams& gc = spec_.gain_cell;
  const ScalerParams& sc = spec_.scalers;
  const int slot = static_cast<int>(tokens_ % window_);
  for (int i = 0; i < d_; ++i) {
    const std::size_t c = std::size_t(slot) * d_ + i;
    key_v_[c] = quantize(sc.k.apply(k[i]), spec_.quant.kv_levels, gc.v_min_v, gc.v_max_v);
    value_v_[c] = quantize(sc.v.apply(v[i]), spec_.quant.kv_levels, gc.v_min_v, gc.v_max_v);
    key_g_[c] = g(key_v_[c] - gc.w_center_v);
    value_g_[c] = g(value_v_[c] - gc.w_center_v);
  }
  written_[slot] = tokens_++;
}

OracleToken OracleHead::read(const double* q_in, bool detail) const {
  const GainCellParams& gc = spec_.gain_cell;
  const ChargeToPulseParams& ctp = spec_.charge_to_pulse;
  const int out_levels = spec_.quant.out_levels;
  const long now = tokens_ - 1;
  const bool decays = spec_.retention.decay_per_token > 0.0;
  // A column integrates for T_max; the saturation charges hold for a pulse of t_ref.
  const double charge_scale = spec_.timing.t_max_ns / ctp.t_ref_ns;
  std::vector<double> q(d_);
  for (int i = 0; i < d_; ++i) q[i] = quantize(spec_.scalers.q.apply(q_in[i]), spec_.quant.q_levels, 0.0, 1.0);

  OracleToken r;
  if (detail) {
    r.scores.assign(window_, 0.0);
    r.phi.assign(window_, 0.0);
    r.pre_quant.assign(subtiles_, std::vector<double>(d_, 0.0));
    r.o.assign(subtiles_, std::vector<double>(d_, 0.0));
  }
  r.active.assign(subtiles_, false);
  std::vector<double> acc(std::size_t(subtiles_) * d_, 0.0);
  for (int slot = 0; slot < window_; ++slot) {
    if (written_[slot] < 0) continue;
    const int sub = slot / cols_;
    const double f = decays ? decay(now - written_[slot]) : 1.0;
    const std::size_t base = std::size_t(slot) * d_;
    double S = 0.0;
    for (int i = 0; i < d_; ++i)
      S += q[i] * (decays ? g((key_v_[base + i] - gc.w_center_v) * f) : key_g_[base + i]);
    const double phi = std::min(std::max(S * charge_scale / ctp.s_sat_qk, 0.0), 1.0);
    if (detail) {
      r.scores[slot] = S;
      r.phi[slot] = phi;
    }
    r.active[sub] = true;
    double* a = acc.data() + std::size_t(sub) * d_;
    for (int i = 0; i < d_; ++i)
      a[i] += phi * (decays ? g((value_v_[base + i] - gc.w_center_v) * f) : value_g_[base + i]);
  }
  r.out.assign(d_, 0.0);
  r.allowance.assign(d_, 0.0);
  const double level_step = out_levels >= 2 ? 2.0 / (out_levels - 1) : 0.0;
  for (int s = 0; s < subtiles_; ++s) {
    if (!r.active[s]) continue;
    for (int i = 0; i < d_; ++i) {
      const double y =
          std::min(std::max(acc[std::size_t(s) * d_ + i] * charge_scale / ctp.s_sat_av, -1.0), 1.0);
      const double o = quantize(y, out_levels, -1.0, 1.0);
      if (detail) {
        r.pre_quant[s][i] = y;
        r.o[s][i] = o;
      }
      r.out[i] += o;
      if (out_levels == 0) {
        r.allowance[i] += kContinuousTolerance;
      } else if (counter_boundary_distance(y, out_levels) < kBoundaryBand) {
        r.allowance[i] += level_step;
      }
    }
  }
  const Affine& so = spec_.scalers.out;
  for (int i = 0; i < d_; ++i) {
    r.out[i] = so.apply(r.out[i]);
    r.allowance[i] = std::fabs(so.gain) * r.allowance[i] + 1e-9 * (1.0 + std::fabs(r.out[i]));
  }
  return r;
}

OracleToken OracleHead::step(const double* q, const double* k, const double* v, bool detail) {
  write(k, v);
  return read(q, detail);
}

double counter_boundary_distance(double y, int levels) {
  if (levels < 2) return std::numeric_limits<double>::infinity();
  const double step = 2.0 / (levels - 1);
  const double u = (y + 1.0) / step - 0.5;  // decision boundaries at integer u
  return std::fabs(u - std::round(u)) * step;
}

}  // namespace gca::spec
