#include "gca/spec/gain_cell_array.hpp"

#include <algorithm>

namespace gca::spec {

void CellTerms::reset(std::size_t n_cells, bool with_decay) {
  with_decay_ = with_decay;
  if (with_decay) {
    g_.clear();
    for (auto& p : p_) p.assign(n_cells, 0.0f);
  } else {
    g_.assign(n_cells, 0.0f);
    for (auto& p : p_) p.clear();
  }
}

void CellTerms::store(std::size_t cell, double w, const GainCellModel& gc) {
  if (with_decay_) {
    p_[0][cell] = static_cast<float>(gc.poly(1) * w);
    p_[1][cell] = static_cast<float>(gc.poly(2) * w * w);
    p_[2][cell] = static_cast<float>(gc.poly(3) * w * w * w);
  } else {
    g_[cell] = static_cast<float>(gc.g(w));
  }
}

KeyArray::KeyArray(const CircuitModel& circuits, int features, int columns)
    : circuits_(&circuits),
      features_(features),
      columns_(columns),
      stored_v_(std::size_t(features) * columns, static_cast<float>(circuits.gain_cell.w_center())),
      written_at_(columns, -1) {
  terms_.reset(std::size_t(features) * columns, circuits.retention.enabled());
  if (terms_.with_decay()) scratch_.resize(3 * std::size_t(columns));
}

void KeyArray::write_column(int col, const double* k_volts, long token) {
  for (int f = 0; f < features_; ++f) {
    double v = circuits_->k_voltage(k_volts[f]);
    stored_v_[idx(f, col)] = static_cast<float>(v);
    terms_.store(idx(f, col), v - circuits_->gain_cell.w_center(), circuits_->gain_cell);
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
  if (!terms_.with_decay()) {
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
    : circuits_(&circuits),
      features_(features),
      lines_(lines),
      stored_v_(std::size_t(features) * lines, static_cast<float>(circuits.gain_cell.w_center())),
      written_at_(lines, -1) {
  terms_.reset(std::size_t(features) * lines, circuits.retention.enabled());
}

void ValueArray::write_line(int line, const double* v_volts, long token) {
  for (int f = 0; f < features_; ++f) {
    double v = circuits_->v_voltage(v_volts[f]);
    stored_v_[idx(line, f)] = static_cast<float>(v);
    terms_.store(idx(line, f), v - circuits_->gain_cell.w_center(), circuits_->gain_cell);
  }
  written_at_[line] = token;
}

void ValueArray::clear() { std::fill(written_at_.begin(), written_at_.end(), -1L); }

void ValueArray::integrate(const float* phi, long now, float* out) const {
  const int n = features_;
  std::fill(out, out + n, 0.0f);
  if (!terms_.with_decay()) {
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
