// Functional models of the two gain-cell arrays of a sub-tile.
//
// Each cell holds a stored voltage; what a read needs is g(w) of that voltage (paper Eq. 4).
// g is computed once when a value is written, not at every read. With capacitor decay on,
// g(w * f) with f = exp(-lambda * age) changes every token, so the arrays keep the three
// power terms p_i * w^i instead and scale them by f^i per column at read time:
//   g(w f) = p0 + f (p1 w) + f^2 (p2 w^2) + f^3 (p3 w^3).
// Inner loops are plain multiply-adds over contiguous float rows, so that they vectorize.
#pragma once

#include <cstddef>
#include <vector>

#include "gca/spec/circuits.hpp"

namespace gca::spec {

// Per-cell read terms in one of two forms (see above); cell index is chosen by the owner.
class CellTerms {
 public:
  void reset(std::size_t n_cells, bool with_decay);
  void store(std::size_t cell, double w, const GainCellModel& gc);
  bool with_decay() const { return with_decay_; }
  const float* g() const { return g_.data(); }                 // no decay: g(w)
  const float* term(int i) const { return p_[i - 1].data(); }  // decay: p_i * w^i, i = 1..3

 private:
  bool with_decay_ = false;
  std::vector<float> g_;
  std::vector<float> p_[3];
};

// K array: stores K transposed, one column per token slot, one row per feature.
// A read applies one pulse width per row (the query) and integrates charge per column.
class KeyArray {
 public:
  KeyArray(const CircuitModel& circuits, int features, int columns);

  // Stores the key of token `token` in column `col` (k in volts, before the DAC).
  void write_column(int col, const double* k_volts, long token);
  // Forgets every stored token (all columns invalid again).
  void clear();
  // Charge per column for query pulse widths q (already quantized, units of T_max), at the
  // time token `now` is read. Columns never written give 0.
  void integrate(const float* q_pulse, long now, float* charge_out) const;

  int features() const { return features_; }
  int columns() const { return columns_; }
  bool column_valid(int col) const { return written_at_[col] >= 0; }
  long written_at(int col) const { return written_at_[col]; }
  float stored_voltage(int feature, int col) const { return stored_v_[idx(feature, col)]; }
  int valid_columns() const { return valid_count_; }

 private:
  std::size_t idx(int feature, int col) const { return std::size_t(feature) * columns_ + col; }
  const CircuitModel* circuits_;
  int features_, columns_;
  CellTerms terms_;
  std::vector<float> stored_v_;
  std::vector<long> written_at_;
  int valid_count_ = 0;
  mutable std::vector<float> scratch_;  // decay mode: three partial sums per column
};

// V array: one input line per token slot, one output per feature. A read drives each line
// with the HardSigmoid pulse width of its slot and integrates charge per feature.
class ValueArray {
 public:
  ValueArray(const CircuitModel& circuits, int features, int lines);

  void write_line(int line, const double* v_volts, long token);
  void clear();
  // Charge per feature for pulse widths phi (one per line, units of T_max).
  void integrate(const float* phi_pulse, long now, float* charge_out) const;

  int features() const { return features_; }
  int lines() const { return lines_; }
  long written_at(int line) const { return written_at_[line]; }
  float stored_voltage(int line, int feature) const { return stored_v_[idx(line, feature)]; }

 private:
  std::size_t idx(int line, int feature) const { return std::size_t(line) * features_ + feature; }
  const CircuitModel* circuits_;
  int features_, lines_;
  CellTerms terms_;
  std::vector<float> stored_v_;
  std::vector<long> written_at_;
};

}  // namespace gca::spec
