// A plain, obviously-correct O(T * M * d) implementation of SPEC.md section 3, written
// independently of rtl_spec's optimized kernels: it keeps the whole token history, evaluates
// paper Eq. 4 term by term in double precision for every read, and applies the decay to the
// stored deviation directly. Tests compare HeadModel and the SystemC model against it.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

#include "gca/spec/params.hpp"

namespace gca::test {

inline double ref_quantize(double x, int levels, double lo, double hi) {
  x = std::min(std::max(x, lo), hi);
  if (levels == 0) return x;
  double step = (hi - lo) / (levels - 1);
  return lo + step * std::floor((x - lo) / step + 0.5);
}

inline double ref_g(const spec::GainCellParams& p, double w) {
  double sum = 0.0, w_pow = 1.0;
  for (int i = 0; i <= 3; ++i, w_pow *= w) {
    double vin_pow = 1.0;
    for (int j = 0; i + j <= 3; ++j, vin_pow *= p.v_in_v) sum += p.c[i][j] * vin_pow * w_pow;
  }
  return sum;
}

struct ReferenceToken {
  std::vector<double> out;                     // [d]
  std::vector<double> scores, phi;             // [M], by slot
  std::vector<std::vector<double>> pre_quant;  // [subtiles][d]: clip(A / s_sat_av, -1, 1)
  std::vector<std::vector<double>> o;          // [subtiles][d], quantized
  std::vector<bool> active;                    // [subtiles]
};

class ReferenceHead {
 public:
  explicit ReferenceHead(const spec::HardwareSpec& s) : s_(s) {}

  ReferenceToken step(const std::vector<double>& q, const std::vector<double>& k,
                      const std::vector<double>& v) {
    const int d = s_.model.d_head, M = s_.window, cols = s_.array.cols;
    const int n_sub = (M + cols - 1) / cols;
    const auto& gc = s_.gain_cell;
    const auto& sc = s_.scalers;
    std::vector<double> kq(d), vq(d), qq(d);
    for (int i = 0; i < d; ++i) {
      kq[i] =
          ref_quantize(sc.k.gain * k[i] + sc.k.offset, s_.quant.kv_levels, gc.v_min_v, gc.v_max_v);
      vq[i] =
          ref_quantize(sc.v.gain * v[i] + sc.v.offset, s_.quant.kv_levels, gc.v_min_v, gc.v_max_v);
      qq[i] = ref_quantize(sc.q.gain * q[i] + sc.q.offset, s_.quant.q_levels, 0.0, 1.0);
    }
    keys_.push_back(kq);
    values_.push_back(vq);
    const long t = static_cast<long>(keys_.size()) - 1;

    ReferenceToken r;
    r.scores.assign(M, 0.0);
    r.phi.assign(M, 0.0);
    r.pre_quant.assign(n_sub, std::vector<double>(d, 0.0));
    r.o.assign(n_sub, std::vector<double>(d, 0.0));
    r.active.assign(n_sub, false);
    std::vector<std::vector<double>> acc(n_sub, std::vector<double>(d, 0.0));
    for (long j = std::max(0L, t - M + 1); j <= t; ++j) {
      const int slot = static_cast<int>(j % M);
      const int sub = slot / cols;
      const double decay = std::exp(-s_.retention.decay_per_token * double(t - j));
      double S = 0.0;
      for (int i = 0; i < d; ++i) S += qq[i] * ref_g(gc, (keys_[j][i] - gc.w_center_v) * decay);
      // The column integrates for T_max; the saturation charge holds for t_ref.
      const double charge_scale = s_.timing.t_max_ns / s_.charge_to_pulse.t_ref_ns;
      double phi = std::min(std::max(S * charge_scale / s_.charge_to_pulse.s_sat_qk, 0.0), 1.0);
      r.scores[slot] = S;
      r.phi[slot] = phi;
      r.active[sub] = true;
      for (int i = 0; i < d; ++i)
        acc[sub][i] += phi * ref_g(gc, (values_[j][i] - gc.w_center_v) * decay);
    }
    r.out.assign(d, 0.0);
    for (int s = 0; s < n_sub; ++s) {
      if (!r.active[s]) continue;
      for (int i = 0; i < d; ++i) {
        const double charge_scale = s_.timing.t_max_ns / s_.charge_to_pulse.t_ref_ns;
        double y =
            std::min(std::max(acc[s][i] * charge_scale / s_.charge_to_pulse.s_sat_av, -1.0), 1.0);
        r.pre_quant[s][i] = y;
        r.o[s][i] = ref_quantize(y, s_.quant.out_levels, -1.0, 1.0);
        r.out[i] += r.o[s][i];
      }
    }
    for (int i = 0; i < d; ++i) r.out[i] = sc.out.gain * r.out[i] + sc.out.offset;
    return r;
  }

 private:
  spec::HardwareSpec s_;
  std::vector<std::vector<double>> keys_, values_;  // quantized stored voltages, by token
};

// Distance of y to the nearest decision boundary of an out_levels quantizer over [-1, 1]
// (infinite when not quantizing): a float-vs-double difference can flip a level only there.
inline double distance_to_boundary(double y, int levels) {
  if (levels == 0) return INFINITY;
  double step = 2.0 / (levels - 1);
  double u = (y + 1.0) / step - 0.5;  // boundaries at integer u
  return std::fabs(u - std::round(u)) * step;
}

}  // namespace gca::test
