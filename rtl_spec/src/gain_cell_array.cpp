#include "gca/spec/gain_cell_array.hpp"

#include <algorithm>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace gca::spec {

void CellTerms::reset(std::size_t n_cells, const CircuitModel& circuits) {
  const Quantizer& dac = circuits.kv_dac;
  const float center = static_cast<float>(circuits.gain_cell.w_center());
  const GainCellModel& gc = circuits.gain_cell;
  const bool quantizing = dac.levels() >= 2 && dac.levels() <= 256;
  if (circuits.retention.enabled() && !quantizing) {
    form_ = Form::decay;
    for (auto& p : p_) p.assign(n_cells, 0.0f);
    volts_.assign(n_cells, center);
  } else if (quantizing) {
    form_ = circuits.retention.enabled() ? Form::decay_levels : Form::levels;
    level_g_.resize(dac.levels());
    level_v_.resize(dac.levels());
    if (form_ == Form::decay_levels) {
      for (auto& t : level_t_) t.resize(dac.levels());
    }
    for (int i = 0; i < dac.levels(); ++i) {
      const double v = dac.lo() + dac.step() * i;
      const double w = v - gc.w_center();
      level_v_[i] = static_cast<float>(v);
      level_g_[i] = static_cast<float>(gc.g(w));
      if (form_ == Form::decay_levels) {
        // The same products as the per-cell terms of the decay form.
        level_t_[0][i] = static_cast<float>(gc.poly(1) * w);
        level_t_[1][i] = static_cast<float>(gc.poly(2) * w * w);
        level_t_[2][i] = static_cast<float>(gc.poly(3) * w * w * w);
      }
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
    case Form::decay_levels:
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
  return has_levels() ? level_v_[level_[cell]] : volts_[cell];
}

void gemv_levels(const float* weight, int rows, const std::uint8_t* index, std::size_t stride,
                 const float* table, int levels, float* out, int n) {
  int c = 0;
#if defined(__AVX2__)
  if (levels <= 8) {
    // Eight levels fit one register: a lane-wise permute is the table look-up. Blocks of 32
    // outputs stay in registers over all rows; each output still adds its rows in order,
    // multiply then add, with the rounding of the scalar loop below.
    float padded[8] = {};
    std::copy(table, table + levels, padded);
    const __m256 lut = _mm256_loadu_ps(padded);
    auto gather8 = [&lut](const std::uint8_t* p) {
      const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
      return _mm256_permutevar8x32_ps(lut, _mm256_cvtepu8_epi32(bytes));
    };
    for (; c + 32 <= n; c += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int r = 0; r < rows; ++r) {
        if (weight[r] == 0.0f) continue;
        const __m256 w = _mm256_set1_ps(weight[r]);
        const std::uint8_t* p = index + std::size_t(r) * stride + c;
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(w, gather8(p)));
        a1 = _mm256_add_ps(a1, _mm256_mul_ps(w, gather8(p + 8)));
        a2 = _mm256_add_ps(a2, _mm256_mul_ps(w, gather8(p + 16)));
        a3 = _mm256_add_ps(a3, _mm256_mul_ps(w, gather8(p + 24)));
      }
      _mm256_storeu_ps(out + c, a0);
      _mm256_storeu_ps(out + c + 8, a1);
      _mm256_storeu_ps(out + c + 16, a2);
      _mm256_storeu_ps(out + c + 24, a3);
    }
    for (; c + 8 <= n; c += 8) {
      __m256 a0 = _mm256_setzero_ps();
      for (int r = 0; r < rows; ++r) {
        if (weight[r] == 0.0f) continue;
        a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_set1_ps(weight[r]),
                                             gather8(index + std::size_t(r) * stride + c)));
      }
      _mm256_storeu_ps(out + c, a0);
    }
  }
#else
  (void)levels;
#endif
  for (; c < n; ++c) {
    float acc = 0.0f;
    for (int r = 0; r < rows; ++r) {
      if (weight[r] == 0.0f) continue;
      acc += weight[r] * table[index[std::size_t(r) * stride + c]];
    }
    out[c] = acc;
  }
}

KeyArray::KeyArray(const CircuitModel& circuits, int features, int columns)
    : circuits_(&circuits), features_(features), columns_(columns), written_at_(columns, -1) {
  terms_.reset(std::size_t(features) * columns, circuits);
  if (terms_.has_decay()) scratch_.resize(3 * std::size_t(columns));
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
    gemv_levels(q, features_, terms_.level(), std::size_t(n), terms_.level_g(),
                terms_.level_count(), out, n);
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
    float q_sum = 0.0f;
    for (int f = 0; f < features_; ++f) q_sum += q[f];
    if (terms_.form() == CellTerms::Form::decay_levels) {
      float* a[3] = {a1, a2, a3};
      for (int i = 0; i < 3; ++i) {
        gemv_levels(q, features_, terms_.level(), std::size_t(n), terms_.level_term(i + 1),
                    terms_.level_count(), a[i], n);
      }
    } else {
      std::fill(a1, a1 + 3 * std::size_t(n), 0.0f);
      for (int f = 0; f < features_; ++f) {
        const float qf = q[f];
        const float* r1 = terms_.term(1) + std::size_t(f) * n;
        const float* r2 = terms_.term(2) + std::size_t(f) * n;
        const float* r3 = terms_.term(3) + std::size_t(f) * n;
        for (int c = 0; c < n; ++c) {
          a1[c] += qf * r1[c];
          a2[c] += qf * r2[c];
          a3[c] += qf * r3[c];
        }
      }
    }
    const float p0 = static_cast<float>(circuits_->gain_cell.poly(0));
    for (int c = 0; c < n; ++c) {
      if (written_at_[c] < 0) continue;
      const float d = static_cast<float>(circuits_->retention.factor(now - written_at_[c]));
      out[c] = p0 * q_sum + d * (a1[c] + d * (a2[c] + d * a3[c]));
    }
  }
  if (valid_count_ < n) {
    for (int c = 0; c < n; ++c) {
      if (written_at_[c] < 0) out[c] = 0.0f;
    }
  }
}

ValueArray::ValueArray(const CircuitModel& circuits, int features, int lines)
    : circuits_(&circuits),
      features_(features),
      lines_(lines),
      written_at_(lines, -1),
      weight_(lines) {
  terms_.reset(std::size_t(features) * lines, circuits);
  if (terms_.form() == CellTerms::Form::decay_levels) {
    weight_.resize(3 * std::size_t(lines));
    partial_.resize(3 * std::size_t(features));
  }
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
    // A line never written gets no pulse, hence no charge.
    for (int l = 0; l < lines_; ++l) weight_[l] = written_at_[l] < 0 ? 0.0f : phi[l];
    gemv_levels(weight_.data(), lines_, terms_.level(), std::size_t(n), terms_.level_g(),
                terms_.level_count(), out, n);
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
  if (terms_.form() == CellTerms::Form::decay_levels) {
    // The three weighted sums as three level look-up passes.
    float* w[3] = {weight_.data(), weight_.data() + lines_, weight_.data() + 2 * lines_};
    for (int l = 0; l < lines_; ++l) {
      const float x = written_at_[l] < 0 ? 0.0f : phi[l];
      const float d =
          x == 0.0f ? 0.0f : static_cast<float>(circuits_->retention.factor(now - written_at_[l]));
      phi_sum += x;
      w[0][l] = x * d;
      w[1][l] = w[0][l] * d;
      w[2][l] = w[1][l] * d;
    }
    float* part = partial_.data();
    for (int i = 0; i < 3; ++i) {
      gemv_levels(w[i], lines_, terms_.level(), std::size_t(n), terms_.level_term(i + 1),
                  terms_.level_count(), part + std::size_t(i) * n, n);
    }
    const float c0 = static_cast<float>(circuits_->gain_cell.poly(0)) * phi_sum;
    for (int f = 0; f < n; ++f) out[f] = part[f] + part[n + f] + part[2 * n + f] + c0;
    return;
  }
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
