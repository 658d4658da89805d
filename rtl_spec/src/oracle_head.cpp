#include "gca/spec/oracle_head.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gca/spec/variation.hpp"

namespace gca::spec {

OracleHead::Layout::Layout(const HardwareSpec& spec)
    : shadow(spec.retention.tau_ms > 0.0 && spec.retention.refresh == 1),
      decays(spec.retention.tau_ms > 0.0),
      varies(spec.variation.cells_vary()),
      by_level(!spec.variation.cells_vary() && spec.noise.write_sigma_v <= 0.0 &&
               spec.quant.kv_levels >= 2 && spec.quant.kv_levels <= 256) {}

std::size_t OracleHead::state_bytes(const HardwareSpec& spec) {
  const Layout l(spec);
  const std::size_t cells = std::size_t(spec.window) * spec.model.d_head;  // per kind
  std::size_t bytes = std::size_t(spec.window) * sizeof(double);           // written_ns_
  if (l.shadow) bytes += 2 * cells * sizeof(double);
  if (l.decays) bytes += 2 * cells * sizeof(double);
  if (l.varies) bytes += 4 * cells * sizeof(double);
  bytes += l.by_level ? 2 * cells + std::size_t(spec.quant.kv_levels) * sizeof(double)
                      : 2 * cells * sizeof(double);
  return bytes + sizeof(OracleHead);
}

OracleHead::OracleHead(const HardwareSpec& spec, int head_index)
    : spec_(spec),
      layout_(spec),
      head_(head_index),
      d_(spec.model.d_head),
      window_(spec.window),
      cols_(spec.array.cols),
      subtiles_((spec.window + spec.array.cols - 1) / spec.array.cols),
      written_ns_(window_, -1.0) {
  const std::size_t cells = std::size_t(window_) * d_;
  if (layout_.shadow) key_in_.assign(cells, 0.0), value_in_.assign(cells, 0.0);
  if (layout_.decays) key_v_.assign(cells, 0.0), value_v_.assign(cells, 0.0);
  if (layout_.by_level) {
    fresh_level_.assign(2 * cells, 0);
    const GainCellParams& gc = spec.gain_cell;
    const int levels = spec.quant.kv_levels;
    const double v_top = std::min(gc.v_max_v, spec.cost.vdd_v);  // the supply caps storage
    const double step = (v_top - gc.v_min_v) / (levels - 1);
    level_g_.resize(std::size_t(levels));
    for (int k = 0; k < levels; ++k)
      level_g_[std::size_t(k)] = g(gc.v_min_v + step * k - gc.w_center_v);
  } else {
    fresh_.assign(2 * cells, 0.0);
  }
  const VariationParams& var = spec.variation;
  if (!layout_.varies) return;
  gain_.assign(2 * cells, 1.0);
  offset_v_.assign(2 * cells, 0.0);
  for (int kind = 0; kind < 2; ++kind) {
    for (int slot = 0; slot < window_; ++slot) {
      for (int i = 0; i < d_; ++i) {
        const std::size_t c = (std::size_t(kind) * window_ + slot) * d_ + i;
        const std::uint64_t where = kind_index(ArrayKind(kind), std::uint64_t(slot));
        gain_[c] = 1.0 + var.cell_gain_sigma *
                             normal_draw(std::uint64_t(var.chip_seed), Draw::cell_gain,
                                         {std::uint64_t(head_), where, std::uint64_t(i)});
        offset_v_[c] =
            var.cell_offset_sigma_v * normal_draw(std::uint64_t(var.chip_seed), Draw::cell_offset,
                                                  {std::uint64_t(head_), where, std::uint64_t(i)});
      }
    }
  }
}

double OracleHead::level_of(double x, int levels, double lo, double hi) const {
  x = std::min(std::max(x, lo), hi);
  const double step = (hi - lo) / (levels - 1);
  // Ties round up; decimal midpoints (0.45 V) count as ties whatever their binary rounding.
  return std::floor((x - lo) / step + 0.5 + 1e-9);
}

double OracleHead::quantize(double x, int levels, double lo, double hi) const {
  if (levels == 0) return std::min(std::max(x, lo), hi);
  return lo + (hi - lo) / (levels - 1) * level_of(x, levels, lo, hi);
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

double OracleHead::decay(double age_ns) const {
  const double tau_ns = spec_.retention.tau_ms * 1e6;
  return tau_ns > 0.0 ? std::exp(-age_ns / tau_ns) : 1.0;
}

double OracleHead::cell(int kind, int slot, int i, double v, double f) const {
  const double w = (v - spec_.gain_cell.w_center_v) * f;
  if (!layout_.varies) return g(w);
  const std::size_t c = (std::size_t(kind) * window_ + slot) * d_ + i;
  return gain_[c] * g(w + offset_v_[c]);
}

double OracleHead::g_of_stored(double v) {
  for (const auto& [stored, g_value] : g_memo_) {
    if (stored == v) return g_value;
  }
  const double g_value = g(v - spec_.gain_cell.w_center_v);
  if (g_memo_.size() < 64) g_memo_.emplace_back(v, g_value);
  return g_value;
}

void OracleHead::store_slot(int slot, const double* k, const double* v, double now_ns, long token,
                            bool refresh) {
  const GainCellParams& gc = spec_.gain_cell;
  const ScalerParams& sc = spec_.scalers;
  const NoiseParams& noise = spec_.noise;
  const int levels = spec_.quant.kv_levels;
  const Draw what = refresh ? Draw::refresh_write : Draw::write;
  // The cells cannot store above the supply.
  const double v_top = std::min(gc.v_max_v, spec_.cost.vdd_v);
  const std::size_t other_kind = std::size_t(window_) * d_;
  for (int i = 0; i < d_; ++i) {
    const std::size_t c = std::size_t(slot) * d_ + i;
    const double in[2] = {sc.k.apply(k[i]), sc.v.apply(v[i])};
    if (layout_.by_level) {
      // Exactly the quantized voltage's level: g of it is level_g_ (same expression).
      fresh_level_[c] = static_cast<std::uint8_t>(level_of(in[0], levels, gc.v_min_v, v_top));
      fresh_level_[other_kind + c] =
          static_cast<std::uint8_t>(level_of(in[1], levels, gc.v_min_v, v_top));
      if (layout_.decays) {
        key_v_[c] = quantize(in[0], levels, gc.v_min_v, v_top);
        value_v_[c] = quantize(in[1], levels, gc.v_min_v, v_top);
      }
      continue;
    }
    double kv[2] = {quantize(in[0], levels, gc.v_min_v, v_top),
                    quantize(in[1], levels, gc.v_min_v, v_top)};
    if (noise.write_sigma_v > 0.0) {
      for (int kind = 0; kind < 2; ++kind) {
        const double z =
            normal_draw(std::uint64_t(noise.seed), what,
                        {std::uint64_t(head_), kind_index(ArrayKind(kind), std::uint64_t(slot)),
                         std::uint64_t(i), std::uint64_t(token)});
        kv[kind] = std::min(std::max(kv[kind] + noise.write_sigma_v * z, gc.v_min_v), v_top);
      }
    }
    if (layout_.decays) key_v_[c] = kv[0], value_v_[c] = kv[1];
    // Without leakage a stored value reads the same until rewritten: evaluate it once here.
    fresh_[c] = layout_.varies ? cell(0, slot, i, kv[0], 1.0) : g_of_stored(kv[0]);
    fresh_[other_kind + c] = layout_.varies ? cell(1, slot, i, kv[1], 1.0) : g_of_stored(kv[1]);
  }
  written_ns_[slot] = now_ns;
}

void OracleHead::write(const double* k, const double* v, double now_ns) {
  const int slot = static_cast<int>(tokens_ % window_);
  if (layout_.shadow) {
    std::copy_n(k, d_, key_in_.data() + std::size_t(slot) * d_);
    std::copy_n(v, d_, value_in_.data() + std::size_t(slot) * d_);
  }
  store_slot(slot, k, v, now_ns, tokens_, false);
  if (layout_.shadow) {
    for (int s = 0; s < window_; ++s) {
      const std::size_t row = std::size_t(s) * d_;
      if (written_ns_[s] >= 0.0 &&
          decay(now_ns - written_ns_[s]) < 1.0 - spec_.retention.refresh_threshold)
        store_slot(s, key_in_.data() + row, value_in_.data() + row, now_ns, tokens_, true);
    }
  }
  ++tokens_;
}

OracleToken OracleHead::read(const double* q_in, double now_ns, bool detail) const {
  const ChargeToPulseParams& ctp = spec_.charge_to_pulse;
  const int out_levels = spec_.quant.out_levels;
  const double read_sigma = spec_.noise.read_sigma, ctp_sigma = spec_.variation.ctp_offset_sigma;
  const long token = tokens_ - 1;
  // Comparator offset and read noise of one output, in units of its saturation charge.
  auto charge_error = [&](int kind, std::uint64_t index) {
    const std::uint64_t where = kind_index(ArrayKind(kind), index), head = std::uint64_t(head_);
    double e = 0.0;
    if (ctp_sigma > 0.0)
      e += ctp_sigma *
           normal_draw(std::uint64_t(spec_.variation.chip_seed), Draw::ctp_offset, {head, where});
    if (read_sigma > 0.0)
      e += read_sigma * normal_draw(std::uint64_t(spec_.noise.seed), Draw::read,
                                    {head, where, std::uint64_t(token)});
    return e;
  };
  // A column integrates for T_max; the saturation charges hold for a pulse of t_ref.
  const double charge_scale = spec_.timing.t_max_ns / ctp.t_ref_ns;
  std::vector<double> q(d_);
  for (int i = 0; i < d_; ++i)
    q[i] = quantize(spec_.scalers.q.apply(q_in[i]), spec_.quant.q_levels, 0.0, 1.0);

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
    if (written_ns_[slot] < 0.0) continue;
    const int sub = slot / cols_;
    const double f = decay(now_ns - written_ns_[slot]);
    const std::size_t base = std::size_t(slot) * d_;
    const bool fresh = f == 1.0;
    const std::size_t v_base = std::size_t(window_) * d_ + base;
    // Four interleaved partial sums (i mod 4), added at the end: independent chains, in double.
    double part[4] = {0.0, 0.0, 0.0, 0.0};
    int i0 = 0;
    if (fresh && layout_.by_level) {
      // The common case spelled out, so that the four chains stay in registers (the same
      // products and sums in the same order as the loop below).
      const std::uint8_t* lv = fresh_level_.data() + base;
      const double* lg = level_g_.data();
      double p0 = 0.0, p1 = 0.0, p2 = 0.0, p3 = 0.0;
      for (; i0 + 4 <= d_; i0 += 4) {
        p0 += q[i0] * lg[lv[i0]];
        p1 += q[i0 + 1] * lg[lv[i0 + 1]];
        p2 += q[i0 + 2] * lg[lv[i0 + 2]];
        p3 += q[i0 + 3] * lg[lv[i0 + 3]];
      }
      part[0] = p0, part[1] = p1, part[2] = p2, part[3] = p3;
    }
    for (int i = i0; i < d_; ++i)
      part[i % 4] += q[i] * (fresh ? this->fresh(base + i) : cell(0, slot, i, key_v_[base + i], f));
    double S = (part[0] + part[1]) + (part[2] + part[3]);
    // Errors are in units of the converter's saturation charge (as integrated over T_max).
    S += charge_error(0, std::uint64_t(slot)) * ctp.s_sat_qk / charge_scale;
    const double phi = std::min(std::max(S * charge_scale / ctp.s_sat_qk, 0.0), 1.0);
    if (detail) {
      r.scores[slot] = S;
      r.phi[slot] = phi;
    }
    r.active[sub] = true;
    double* a = acc.data() + std::size_t(sub) * d_;
    if (fresh && layout_.by_level) {
      const std::uint8_t* lv = fresh_level_.data() + v_base;
      const double* lg = level_g_.data();
      for (int i = 0; i < d_; ++i) a[i] += phi * lg[lv[i]];
    } else {
      for (int i = 0; i < d_; ++i)
        a[i] += phi * (fresh ? this->fresh(v_base + i) : cell(1, slot, i, value_v_[base + i], f));
    }
  }
  r.out.assign(d_, 0.0);
  r.allowance.assign(d_, 0.0);
  const double level_step = out_levels >= 2 ? 2.0 / (out_levels - 1) : 0.0;
  for (int s = 0; s < subtiles_; ++s) {
    if (!r.active[s]) continue;
    for (int i = 0; i < d_; ++i) {
      const double A = acc[std::size_t(s) * d_ + i] * charge_scale +
                       charge_error(1, std::uint64_t(s) * d_ + std::uint64_t(i)) * ctp.s_sat_av;
      const double y = std::min(std::max(A / ctp.s_sat_av, -1.0), 1.0);
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

OracleToken OracleHead::step(const double* q, const double* k, const double* v, double now_ns,
                             bool detail) {
  write(k, v, now_ns);
  return read(q, now_ns, detail);
}

double counter_boundary_distance(double y, int levels) {
  if (levels < 2) return std::numeric_limits<double>::infinity();
  const double step = 2.0 / (levels - 1);
  const double u = (y + 1.0) / step - 0.5;  // decision boundaries at integer u
  return std::fabs(u - std::round(u)) * step;
}

}  // namespace gca::spec
