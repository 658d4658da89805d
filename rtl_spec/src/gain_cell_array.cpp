#include "gca/spec/gain_cell_array.hpp"

#include <algorithm>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace gca::spec {

void CellTerms::reset(std::size_t n_cells, const CircuitModel& circuits) {
  const Quantizer& dac = circuits.kv_dac;
  const float center = static_cast<float>(circuits.gain_cell.w_center());
  if (circuits.retention.enabled()) {
    form_ = Form::decay;
    for (auto& p : p_) p.assign(n_cells, 0.0f);
    volts_.assign(n_cells, center);
  } else if (dac.levels() >= 2 && dac.levels() <= 256) {
    form_ = Form::levels;
    level_g_.resize(dac.levels());
    level_v_.resize(dac.levels());
    for (int i = 0; i < dac.levels(); ++i) {
      const double v = dac.lo() + dac.step() * i;
      level_v_[i] = static_cast<float>(v);
      level_g_[i] = static_cast<float>(circuits.gain_cell.g(v - circuits.gain_cell.w_center()));
    }
    // Unwritten cells read as the level nearest the centre; they are never read anyway.
    level_.assign(n_cells,
                  static_cast<std::uint8_t>(dac.level_index(circuits.gain_cell.w_center())));
  } else {
    form_ = Form::dense;
    g_.assign(n_cells, 0.0f);
    volts_.assign(n_cells, center);
  }
}

void CellTerms::store(std::size_t cell, double volts, const CircuitModel& circuits) {
  const double w = volts - circuits.gain_cell.w_center();
  const GainCellModel& gc = circuits.gain_cell;
  switch (form_) {
    case Form::levels:
      level_[cell] = static_cast<std::uint8_t>(circuits.kv_dac.level_index(volts));
      return;
    case Form::dense:
      g_[cell] = static_cast<float>(gc.g(w));
      break;
    case Form::decay:
      p_[0][cell] = static_cast<float>(gc.poly(1) * w);
      p_[1][cell] = static_cast<float>(gc.poly(2) * w * w);
      p_[2][cell] = static_cast<float>(gc.poly(3) * w * w * w);
      break;
  }
  volts_[cell] = static_cast<float>(volts);
}

float CellTerms::stored_voltage(std::size_t cell) const {
  return form_ == Form::levels ? level_v_[level_[cell]] : volts_[cell];
}

void axpy_levels(float a, const std::uint8_t* index, const float* table, int levels, float* out,
                 int n) {
  int i = 0;
#if defined(__AVX2__)
  if (levels <= 8) {
    // Eight levels fit one register: a lane-wise permute is the table look-up.
    float padded[8] = {};
    std::copy(table, table + levels, padded);
    const __m256 lut = _mm256_loadu_ps(padded);
    const __m256 va = _mm256_set1_ps(a);
    for (; i + 8 <= n; i += 8) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(index + i));
      const __m256 g = _mm256_permutevar8x32_ps(lut, _mm256_cvtepu8_epi32(bytes));
      const __m256 acc = _mm256_loadu_ps(out + i);
      // Multiply then add (not fused), the same rounding as the scalar tail and as dense rows.
      _mm256_storeu_ps(out + i, _mm256_add_ps(acc, _mm256_mul_ps(va, g)));
    }
  }
#else
  (void)levels;
#endif
  for (; i < n; ++i) out[i] += a * table[index[i]];
}

KeyArray::KeyArray(const CircuitModel& circuits, int features, int columns)
    : circuits_(&circuits), features_(features), columns_(columns), written_at_(columns, -1) {
  terms_.reset(std::size_t(features) * columns, circuits);
  if (terms_.form() == CellTerms::Form::decay) scratch_.resize(3 * std::size_t(columns));
}

void KeyArray::write_column(int col, const double* k_volts, long token) {
  for (int f = 0; f < features_; ++f) {
    terms_.store(idx(f, col), circuits_->k_voltage(k_volts[f]), *circuits_);
  }
  if (written_at_[col] < 0) ++valid_count_;
  written_at_[col] = token;
}

void KeyArray::clear() {
  std::fill(written_at_.begin(), written_at_.end(), -1L);
  valid_count_ = 0;
}

void KeyArray::integrate(const float* q, long now, float* out) const {
  const int n = columns_;
  if (terms_.form() == CellTerms::Form::levels) {
    std::fill(out, out + n, 0.0f);
    for (int f = 0; f < features_; ++f) {
      axpy_levels(q[f], terms_.level() + std::size_t(f) * n, terms_.level_g(), terms_.level_count(),
                  out, n);
    }
  } else if (terms_.form() == CellTerms::Form::dense) {
    std::fill(out, out + n, 0.0f);
    const float* g = terms_.g();
    for (int f = 0; f < features_; ++f) {
      const float qf = q[f];
      const float* row = g + std::size_t(f) * n;
      for (int c = 0; c < n; ++c) out[c] += qf * row[c];
    }
  } else {
    float* a1 = scratch_.data();
    float* a2 = a1 + n;
    float* a3 = a2 + n;
    std::fill(a1, a1 + 3 * std::size_t(n), 0.0f);
    float q_sum = 0.0f;
    for (int f = 0; f < features_; ++f) {
      const float qf = q[f];
      q_sum += qf;
      const float* r1 = terms_.term(1) + std::size_t(f) * n;
      const float* r2 = terms_.term(2) + std::size_t(f) * n;
      const float* r3 = terms_.term(3) + std::size_t(f) * n;
      for (int c = 0; c < n; ++c) {
        a1[c] += qf * r1[c];
        a2[c] += qf * r2[c];
        a3[c] += qf * r3[c];
      }
    }
    const float p0 = static_cast<float>(circuits_->gain_cell.poly(0));
    for (int c = 0; c < n; ++c) {
      if (written_at_[c] < 0) continue;
      const float d = static_cast<float>(circuits_->retention.factor(now - written_at_[c]));
      out[c] = p0 * q_sum + d * (a1[c] + d * (a2[c] + d * a3[c]));
    }
  }
  for (int c = 0; c < n; ++c) {
    if (written_at_[c] < 0) out[c] = 0.0f;
  }
}

ValueArray::ValueArray(const CircuitModel& circuits, int features, int lines)
    : circuits_(&circuits), features_(features), lines_(lines), written_at_(lines, -1) {
  terms_.reset(std::size_t(features) * lines, circuits);
}

void ValueArray::write_line(int line, const double* v_volts, long token) {
  for (int f = 0; f < features_; ++f) {
    terms_.store(idx(line, f), circuits_->v_voltage(v_volts[f]), *circuits_);
  }
  written_at_[line] = token;
}

void ValueArray::clear() {
  std::fill(written_at_.begin(), written_at_.end(), -1L);
}

void ValueArray::integrate(const float* phi, long now, float* out) const {
  const int n = features_;
  std::fill(out, out + n, 0.0f);
  if (terms_.form() == CellTerms::Form::levels) {
    for (int l = 0; l < lines_; ++l) {
      const float x = phi[l];
      if (x == 0.0f || written_at_[l] < 0) continue;  // no pulse, no charge
      axpy_levels(x, terms_.level() + std::size_t(l) * n, terms_.level_g(), terms_.level_count(),
                  out, n);
    }
    return;
  }
  if (terms_.form() == CellTerms::Form::dense) {
    const float* g = terms_.g();
    for (int l = 0; l < lines_; ++l) {
      const float x = phi[l];
      if (x == 0.0f || written_at_[l] < 0) continue;  // no pulse, no charge
      const float* row = g + std::size_t(l) * n;
      for (int f = 0; f < n; ++f) out[f] += x * row[f];
    }
    return;
  }
  float phi_sum = 0.0f;
  for (int l = 0; l < lines_; ++l) {
    const float x = phi[l];
    if (x == 0.0f || written_at_[l] < 0) continue;
    phi_sum += x;
    const float d = static_cast<float>(circuits_->retention.factor(now - written_at_[l]));
    const float x1 = x * d, x2 = x1 * d, x3 = x2 * d;
    const float* r1 = terms_.term(1) + std::size_t(l) * n;
    const float* r2 = terms_.term(2) + std::size_t(l) * n;
    const float* r3 = terms_.term(3) + std::size_t(l) * n;
    for (int f = 0; f < n; ++f) out[f] += x1 * r1[f] + x2 * r2[f] + x3 * r3[f];
  }
  const float c0 = static_cast<float>(circuits_->gain_cell.poly(0)) * phi_sum;
  for (int f = 0; f < n; ++f) out[f] += c0;
}

}  // namespace gca::spec
