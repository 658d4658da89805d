// Functional models of the analog circuits (docs/hardware.md, building blocks): quantizers, the
// gain-cell multiply g(w) of paper Eq. 4, capacitor decay, and the two charge-to-pulse circuits.
// Pure C++, no SystemC: both the executable spec (HeadModel) and the SystemC modules use
// these, so that they agree by construction and can be unit-tested on their own.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "gca/spec/lane_sum.hpp"
#include "gca/spec/params.hpp"
#include "gca/spec/technology.hpp"

namespace gca::spec {

// N evenly spaced levels over [lo, hi]; N = 0 is ideal (clamp only: the physical range
// still bounds a pulse width or a stored voltage). Ties round up; a value within 1e-9 of a
// step of a midpoint counts as a tie, so that decimal midpoints such as 0.45 V on the 0.9/7 V
// grid round up as written rather than as their binary representation falls.
class Quantizer {
 public:
  Quantizer() = default;
  Quantizer(int levels, double lo, double hi)
      : levels_(levels),
        lo_(lo),
        hi_(hi),
        step_(levels >= 2 ? (hi - lo) / (levels - 1) : 0.0),
        inv_step_(levels >= 2 ? (levels - 1) / (hi - lo) : 0.0),
        top_(levels >= 2 ? levels - 1 : 0) {}

  double operator()(double x) const {
    double y = std::clamp(x, lo_, hi_);
    return levels_ < 2 ? y : level_value(y);
  }
  // Index of the level x maps to (0 .. levels-1); only meaningful when quantizing.
  int level_index(double x) const {
    double y = std::clamp(x, lo_, hi_);
    // The argument is >= 0.5: truncation is the floor (and needs no library call).
    const int k = static_cast<int>((y - lo_) * inv_step_ + 0.5 + kTieTolerance);
    return std::min(k, levels_ - 1);
  }
  // The level of an x already inside [lo, hi] (levels >= 2), without branches. The argument
  // of the floor is >= 0 and small, where truncation to an integer is the floor: a conversion
  // that vectorizes on every x86-64 (std::floor needs SSE4.1 to do so).
  double level_value(double y) const {
    const double u = (y - lo_) * inv_step_ + 0.5 + kTieTolerance;
    const double k = std::min(static_cast<double>(static_cast<int>(u)), top_);
    return lo_ + step_ * k;
  }
  int levels() const { return levels_; }
  double lo() const { return lo_; }
  double hi() const { return hi_; }
  double step() const { return step_; }

 private:
  static constexpr double kTieTolerance = 1e-9;
  int levels_ = 0;
  double lo_ = 0.0, hi_ = 1.0, step_ = 0.0, inv_step_ = 0.0, top_ = 0.0;
};

// Paper Eq. 4 with the read voltage folded in: g(w) = sum_i p[i] * w^i, where
// p[i] = sum_j C[i][j] * v_in^j and w = stored voltage - w_center. The input pulse width
// multiplies g linearly, so a cell read with pulse width x contributes x * g(w).
class GainCellModel {
 public:
  GainCellModel() = default;
  explicit GainCellModel(const GainCellParams& p) : w_center_(p.w_center_v) {
    for (int i = 0; i <= 3; ++i) {
      double vin_pow = 1.0;
      poly_[i] = 0.0;
      for (int j = 0; i + j <= 3; ++j) {
        poly_[i] += p.c[i][j] * vin_pow;
        vin_pow *= p.v_in_v;
      }
    }
  }
  double g(double w) const { return poly_[0] + w * (poly_[1] + w * (poly_[2] + w * poly_[3])); }
  double g_of_voltage(double stored_v) const { return g(stored_v - w_center_); }
  // Coefficient of w^i.
  double poly(int i) const { return poly_[i]; }
  double w_center() const { return w_center_; }

 private:
  std::array<double, 4> poly_{};
  double w_center_ = 0.0;
};

// Charge a cell read with a full pulse moves, in units of g: the paper's cell is a single
// push-pull gain cell whose stored voltage makes it source (g > 0) or sink (g < 0) current on
// the read bit line, so the charge drawn from the supplies follows |g| (a cell holding about
// the centre voltage conducts almost nothing). The one definition of the read charge.
inline float cell_read_charge(float g) {
  return std::fabs(g);
}

// Capacitor leakage in simulated time: the deviation from w_center written at time t_w reads,
// at time t, as w * exp(-(t - t_w) / tau). tau = 0 means no leakage.
class RetentionModel {
 public:
  RetentionModel() = default;
  explicit RetentionModel(double tau_ns) : tau_ns_(tau_ns) {}
  bool enabled() const { return tau_ns_ > 0.0; }
  double factor(double age_ns) const { return enabled() ? std::exp(-age_ns / tau_ns_) : 1.0; }
  double tau_ns() const { return tau_ns_; }

 private:
  double tau_ns_ = 0.0;
};

// K-array column readout (paper Eq. 3): charge S becomes a pulse of width
// clip(S / s_sat, 0, 1) * T_max; widths here are in units of T_max.
struct HardSigmoidChargeToPulse {
  explicit HardSigmoidChargeToPulse(double saturation = 1.0)
      : s_sat(saturation), inv_s_sat(static_cast<float>(1.0 / saturation)) {}
  double s_sat;
  float inv_s_sat;
  float operator()(float s) const { return std::clamp(s * inv_s_sat, 0.0f, 1.0f); }
  // One conversion per column; returns the sum of the pulse widths.
  float convert(const float* charge, int n, float* width_out) const {
    for (int c = 0; c < n; ++c) width_out[c] = (*this)(charge[c]);
    return lane_sum<float>(width_out, n);
  }
};

// V-array output: signed charge-to-pulse, then a counter with sign bit quantizes the
// pulse to out_levels over [-1, 1].
struct SignedChargeToPulse {
  SignedChargeToPulse(double saturation, Quantizer c)
      : s_sat(saturation), inv_s_sat(1.0 / saturation), counter(c) {}
  double s_sat, inv_s_sat;
  Quantizer counter;
  double operator()(double a) const { return counter(std::clamp(a * inv_s_sat, -1.0, 1.0)); }
  // One conversion per output; returns the sum of |output| (full-scale counts). Written as
  // branch-free loops so that they vectorize; same arithmetic as operator().
  double convert(const float* charge, int n, double* out) const {
    if (counter.levels() < 2) {
      for (int f = 0; f < n; ++f) out[f] = std::clamp(charge[f] * inv_s_sat, -1.0, 1.0);
    } else {
      for (int f = 0; f < n; ++f)
        out[f] = counter.level_value(std::clamp(charge[f] * inv_s_sat, -1.0, 1.0));
    }
    return lane_sum<double>(out, n, [](double o) { return std::fabs(o); });
  }
};

// Everything a head's circuits need, derived once from the spec.
struct CircuitModel {
  explicit CircuitModel(const HardwareSpec& spec)
      : q_dac(spec.quant.q_levels, 0.0, 1.0),
        // The write DAC spans the storable range, which the supply caps.
        kv_dac(spec.quant.kv_levels, spec.gain_cell.v_min_v, storable_max_v(spec)),
        gain_cell(spec.gain_cell),
        retention(spec.retention.tau_ns()),
        // A column integrates for as long as its pulses last: with T_max other than t_ref_ns
        // the same inputs give T_max / t_ref_ns times the charge, so the converters saturate
        // at charges (in units at t_ref_ns) scaled by the inverse.
        hard_sigmoid(spec.charge_to_pulse.s_sat_qk /
                     spec.charge_to_pulse.charge_scale(spec.timing.t_max_ns)),
        signed_ctp(
            spec.charge_to_pulse.s_sat_av / spec.charge_to_pulse.charge_scale(spec.timing.t_max_ns),
            Quantizer(spec.quant.out_levels, -1.0, 1.0)),
        scalers(spec.scalers),
        variation(spec.variation),
        noise(spec.noise),
        refresh(spec.retention),
        per_cell_analog(spec.variation.cells_vary() || spec.noise.write_sigma_v > 0.0) {}

  Quantizer q_dac;   // Q pulse width in units of T_max, [0, 1]
  Quantizer kv_dac;  // stored voltage of K and V cells
  GainCellModel gain_cell;
  RetentionModel retention;
  HardSigmoidChargeToPulse hard_sigmoid;
  SignedChargeToPulse signed_ctp;
  ScalerParams scalers;
  VariationParams variation;
  NoiseParams noise;
  RetentionParams refresh;  // the refresh policy (retention.refresh, refresh_threshold)
  // Each cell's read current is its own (mismatch or write noise): no shared level tables.
  bool per_cell_analog;

  double q_pulse(double q) const { return q_dac(scalers.q.apply(q)); }
  // The Q pulse generators of a head: one width per feature; returns the sum of widths.
  float q_pulses(const double* q, int n, float* width_out) const {
    float sum = 0.0f;
    for (int f = 0; f < n; ++f) sum += width_out[f] = static_cast<float>(q_pulse(q[f]));
    return sum;
  }
  double k_voltage(double k) const { return kv_dac(scalers.k.apply(k)); }
  double v_voltage(double v) const { return kv_dac(scalers.v.apply(v)); }
};

}  // namespace gca::spec
