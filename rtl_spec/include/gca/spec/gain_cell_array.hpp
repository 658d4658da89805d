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
#include <cstdint>
#include <vector>

#include "gca/spec/circuits.hpp"

namespace gca::spec {

// Per-cell read terms in one of three forms; the cell index is chosen by the owner.
//  - levels: the write DAC quantizes (kv_levels >= 2, no decay): a cell holds the index of its
//    level (one byte) and g of every level sits in a small table. A quarter of the memory
//    traffic of floats, which is what bounds a whole-model run.
//  - dense: ideal DAC, no decay: g(w) as a float per cell.
//  - decay: the three power terms p_i w^i per cell (see above), ideal DAC.
//  - decay_levels: decay with a quantizing DAC: a level index per cell and the three power
//    terms of every level in small tables.
class CellTerms {
 public:
  enum class Form { levels, dense, decay, decay_levels };
  void reset(std::size_t n_cells, const CircuitModel& circuits);
  // Stores the cell's value: `volts` is already quantized by the DAC.
  void store(std::size_t cell, double volts, const CircuitModel& circuits);
  Form form() const { return form_; }
  float stored_voltage(std::size_t cell) const;
  const float* g() const { return g_.data(); }                 // dense: g(w)
  const float* term(int i) const { return p_[i - 1].data(); }  // decay: p_i * w^i, i = 1..3
  const std::uint8_t* level() const { return level_.data(); }  // levels: index per cell
  const float* level_g() const { return level_g_.data(); }     // levels: g of each level
  const float* level_term(int i) const { return level_t_[i - 1].data(); }  // decay_levels
  int level_count() const { return static_cast<int>(level_v_.size()); }
  bool has_levels() const { return form_ == Form::levels || form_ == Form::decay_levels; }
  bool has_decay() const { return form_ == Form::decay || form_ == Form::decay_levels; }

 private:
  Form form_ = Form::dense;
  std::vector<float> g_, volts_;
  std::vector<float> p_[3];
  std::vector<std::uint8_t> level_;
  std::vector<float> level_g_, level_v_;
  std::vector<float> level_t_[3];
};

// out[c] = sum over r < rows of weight[r] * table[index[r * stride + c]], for c < n; rows of
// zero weight are skipped. The read kernel of the `levels` form (K: rows = features, weights =
// Q pulses; V: rows = lines, weights = HardSigmoid pulses).
void gemv_levels(const float* weight, int rows, const std::uint8_t* index, std::size_t stride,
                 const float* table, int levels, float* out, int n);

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
  float stored_voltage(int feature, int col) const {
    return terms_.stored_voltage(idx(feature, col));
  }
  int valid_columns() const { return valid_count_; }

 private:
  std::size_t idx(int feature, int col) const { return std::size_t(feature) * columns_ + col; }
  const CircuitModel* circuits_;
  int features_, columns_;
  CellTerms terms_;
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
  float stored_voltage(int line, int feature) const {
    return terms_.stored_voltage(idx(line, feature));
  }

 private:
  std::size_t idx(int line, int feature) const { return std::size_t(line) * features_ + feature; }
  const CircuitModel* circuits_;
  int features_, lines_;
  CellTerms terms_;
  std::vector<long> written_at_;
  mutable std::vector<float> weight_;   // pulse width per line, zero for lines never written
  mutable std::vector<float> partial_;  // decay_levels: the three weighted sums
};

}  // namespace gca::spec
