// Functional models of the two gain-cell arrays of a sub-tile.
//
// Each cell holds a stored voltage; what a read needs is g(w) of that voltage (paper Eq. 4).
// g is computed once when a value is written, not at every read. With capacitor decay on,
// g(w * f) with f = exp(-age / tau) changes every read, so the arrays keep the power terms of
// f instead and scale them by f^i per column at read time:
//   g(w f + delta) = t0 + f t1 + f^2 t2 + f^3 t3,
// with t_i from the polynomial of paper Eq. 4, the deviation w and the cell's threshold offset
// delta (0 without mismatch: then t0 = p0 and t_i = p_i w^i).
// Mismatch, write noise, read noise and comparator offsets (docs/variation.md) are applied
// here too, so that every user of the arrays (HeadModel, the SystemC sub-tiles) sees them.
// Inner loops are plain multiply-adds over contiguous float rows, so that they vectorize.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gca/spec/circuits.hpp"
#include "gca/spec/level_moments.hpp"
#include "gca/spec/variation.hpp"

namespace gca::spec {

// Bytes a vector holds on the heap (its capacity): what state_bytes() methods add up.
template <class T>
std::size_t heap_bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}

// A cache hint for a whole vector's elements (write: the next access stores to them).
template <class T>
void prefetch_all(const std::vector<T>& v, bool write = false) {
  const char* p = reinterpret_cast<const char*>(v.data());
  const std::size_t bytes = v.size() * sizeof(T);
  for (std::size_t off = 0; off < bytes; off += 64) {
    if (write) {
      __builtin_prefetch(p + off, 1);
    } else {
      __builtin_prefetch(p + off);
    }
  }
}

// Per-cell read terms in one of three forms; the cell index is chosen by the owner.
//  - levels: the write DAC quantizes (kv_levels >= 2, no decay, every cell alike: no mismatch,
//    no write noise): a cell holds the index of its level and g of every level sits in a small
//    table. With at most 16 levels and rows of an even number of cells, two cells share a byte
//    (packed(): the even cell of a row in the low nibble, the odd one in the high nibble);
//    else a byte per cell. An eighth of the memory traffic of floats when packed, which is
//    what bounds a whole-model run.
//  - dense: no decay, cells differ or the DAC is ideal: the cell's g as a float per cell.
//  - decay: the four terms t_i per cell (see above).
//  - decay_levels: decay with a quantizing DAC and cells alike: a level index per cell (one
//    byte) and the three power terms of every level in small tables.
class CellTerms {
 public:
  enum class Form { levels, dense, decay, decay_levels };
  // n_cells cells in rows of row_cells (cell index = row x row_cells + position in the row).
  void reset(std::size_t n_cells, std::size_t row_cells, const CircuitModel& circuits);
  // Stores the cell's value: `volts` as written (DAC level plus any write noise); `gain` and
  // `offset_v` are the cell's mismatch (1 and 0 for an ideal cell).
  void store(std::size_t cell, double volts, const CircuitModel& circuits, double gain = 1.0,
             double offset_v = 0.0);
  Form form() const { return form_; }
  float stored_voltage(std::size_t cell) const;
  const float* g() const { return g_.data(); }             // dense: g(w)
  const float* term(int i) const { return t_[i].data(); }  // decay: t_i, i = 0..3
  // Level forms: the level index of every cell, a byte per cell or, when packed(), a nibble.
  const std::uint8_t* level() const { return level_.data(); }
  bool packed() const { return packed_; }
  // Level forms: the byte that holds the cell's level (for cache hints).
  const std::uint8_t* level_byte(std::size_t cell) const {
    return level_.data() + (packed_ ? cell >> 1 : cell);
  }
  // Bytes from one row of level() to the next.
  std::size_t level_row_bytes() const { return packed_ ? row_cells_ / 2 : row_cells_; }
  const float* level_g() const { return level_g_.data(); }  // levels: g of each level
  // levels, decay_levels: g of level l as a cubic in l (exact, before any rounding to float).
  const BinomialCubic& level_g_cubic() const { return level_g_cubic_; }
  // decay_levels: the power term p_i w^i of level l as a cubic in l, i = 1..3.
  const BinomialCubic& level_term_cubic(int i) const { return level_t_cubic_[i - 1]; }
  const float* level_term(int i) const { return level_t_[i - 1].data(); }  // decay_levels
  int level_count() const { return static_cast<int>(level_v_.size()); }
  bool has_levels() const { return form_ == Form::levels || form_ == Form::decay_levels; }
  bool has_decay() const { return form_ == Form::decay || form_ == Form::decay_levels; }
  // g of one cell whose deviation has decayed by `factor` (1 without decay), for any form.
  float g_at(std::size_t cell, float factor) const;
  // Level forms: cell_read_charge(g) of every level at decay `factor`, into out[level_count()]
  // (the same float arithmetic as g_at, so sums over cells give the same bits).
  void level_read_charges(float factor, float* out) const;
  // Level forms: cell_read_charge(g) of every level as stored (no decay), what a write adds.
  const float* level_charge() const { return level_charge_.data(); }
  // Bytes of memory these terms hold (the object and its heap).
  std::size_t state_bytes() const;
  // Asks the processor to bring the terms a read walks into cache (a hint; changes nothing).
  void prefetch() const;
  // Level forms: puts `level` in the cell; returns the level it held.
  int replace_level(std::size_t cell, int level) {
    const int old = level_of(cell);
    set_level(cell, level);
    return old;
  }

 private:
  int level_of(std::size_t cell) const {
    return packed_ ? (level_[cell >> 1] >> ((cell & 1) * 4)) & 0x0F : level_[cell];
  }
  void set_level(std::size_t cell, int level) {
    if (!packed_) {
      level_[cell] = static_cast<std::uint8_t>(level);
      return;
    }
    std::uint8_t& byte = level_[cell >> 1];
    const int shift = (cell & 1) * 4;
    byte = static_cast<std::uint8_t>((byte & ~(0x0F << shift)) | (level << shift));
  }
  Form form_ = Form::dense;
  bool packed_ = false;
  std::size_t row_cells_ = 0;
  float p0_ = 0.0f;  // decay_levels: the constant term of g
  std::vector<float> g_, volts_;
  std::vector<float> t_[4];
  std::vector<std::uint8_t> level_;
  std::vector<float> level_g_, level_v_, level_charge_;
  std::vector<float> level_t_[3];
  BinomialCubic level_g_cubic_;
  BinomialCubic level_t_cubic_[3];
};

// out[c] = sum over r < rows of weight[r] * table[index[r * stride + c]], for c < n; rows of
// zero weight are skipped. The read kernel of the `levels` form (K: rows = features, weights =
// Q pulses; V: rows = lines, weights = HardSigmoid pulses). Each product is rounded to float and
// added in row order (no fused multiply-add), so every machine gets the same bits; the kernel is
// chosen at run time (AVX2 where the processor has it, a portable loop elsewhere).
void gemv_levels(const float* weight, int rows, const std::uint8_t* index, std::size_t stride,
                 const float* table, int levels, float* out, int n);
// The portable loop alone, whatever the processor (for tests of the dispatched kernel).
void gemv_levels_reference(const float* weight, int rows, const std::uint8_t* index,
                           std::size_t stride, const float* table, int levels, float* out, int n);
// The same over levels packed two to a byte (column 2i of a row in the low nibble of byte i,
// 2i + 1 in the high one; `stride` in bytes, at least (n + 1) / 2), levels <= 16: the same
// products added in the same order, so the same bits as gemv_levels on the unpacked codes.
void gemv_levels_packed(const float* weight, int rows, const std::uint8_t* nibbles,
                        std::size_t stride, const float* table, int levels, float* out, int n);
void gemv_levels_packed_reference(const float* weight, int rows, const std::uint8_t* nibbles,
                                  std::size_t stride, const float* table, int levels, float* out,
                                  int n);

// Write time of each column (K) or line (V) and its decay factor exp(-(t - t_w) / tau) at the
// last read time t. Reads in time order cost one exp() per read, not one per column.
class ColumnClock {
 public:
  void reset(int n);
  void write(int c, double t_ns, const RetentionModel& retention);
  void forget();
  bool valid(int c) const { return written_[c] >= 0.0; }
  double written_ns(int c) const { return written_[c]; }
  // Decay factors of all columns at time now_ns (1 without leakage).
  const float* factors(double now_ns, const RetentionModel& retention);
  std::size_t state_bytes() const;  // the object and its heap

 private:
  void advance(double now_ns, const RetentionModel& retention);
  std::vector<double> written_, factor_;  // factor_ at time ref_ns_
  std::vector<float> factor_f_;
  double ref_ns_ = 0.0;
};

// The chip's fixed draws of one array and its read-noise stream (docs/variation.md).
class ArrayVariation {
 public:
  // cells: features x columns; outputs: one comparator per column (K) or per feature (V).
  ArrayVariation(const CircuitModel& circuits, ArrayKind kind, ArrayPlace place, int features,
                 int columns);
  double cell_gain(int feature, int col) const;
  double cell_offset_v(int feature, int col) const;
  // Write noise of one DAC conversion, volts.
  double write_noise_v(int feature, int col, long token, bool refresh) const;
  // Adds the comparator offset and the read noise of this token to each output's charge,
  // referred to the comparator input; outputs of columns `written` says were never written
  // are left alone (nullptr: all outputs). saturation: the full-scale charge.
  void add_to_charge(float* charge, int n, const ColumnClock* written, long token,
                     double saturation) const;
  bool charge_varies() const { return ctp_on_ || read_on_; }
  std::size_t state_bytes() const;  // the object and its heap

 private:
  std::uint64_t output_index(int i) const;
  std::uint64_t slot_of(int col) const { return std::uint64_t(place_.first_slot + col); }
  const CircuitModel* circuits_;
  ArrayKind kind_;
  ArrayPlace place_;
  int features_;
  bool ctp_on_, read_on_;
  std::vector<float> gain_, offset_v_;   // per cell [col * features + feature], when cells vary
  std::vector<float> ctp_offset_;        // per output, in units of the saturation charge
  std::vector<std::uint64_t> read_key_;  // per output: the read-noise key without the token
};

// The Q DAC codes of a set of pulse widths (a DAC over [0, 1]): width[f] = step x code[f]
// exactly, as the DAC gives it (Quantizer::level_value), and the sum of the codes. `exact` is
// false when some width is not a code of the DAC (an ideal DAC, widths from elsewhere).
struct PulseCodes {
  std::vector<std::uint8_t> code;
  std::int64_t sum = 0;
  bool exact = false;
  void assign(const float* width, int n, const Quantizer& q_dac);
};

// K array: stores K transposed, one column per token slot, one row per feature.
// A read applies one pulse width per row (the query) and integrates charge per column.
class KeyArray {
 public:
  KeyArray(const CircuitModel& circuits, int features, int columns, ArrayPlace place = {});

  // Stores the key of token `token` in column `col` at simulated time now_ns (k in volts,
  // before the DAC). refresh: a rewrite from the shadow copy (its own write-noise draws).
  void write_column(int col, const double* k_volts, double now_ns, long token,
                    bool refresh = false);
  // Forgets every stored token (all columns invalid again).
  void clear();
  // Charge per column for query pulse widths q (already quantized, units of T_max), read at
  // time now_ns by token `token`. Columns never written give 0.
  // codes: the Q DAC codes of q_pulse when the caller has them (one set for every sub-tile of a
  // head), else derived here.
  void integrate(const float* q_pulse, double now_ns, long token, float* charge_out,
                 const PulseCodes* codes = nullptr) const;

  int features() const { return features_; }
  int columns() const { return columns_; }
  bool column_valid(int col) const { return clock_.valid(col); }
  double written_ns(int col) const { return clock_.written_ns(col); }
  float stored_voltage(int feature, int col) const {
    return terms_.stored_voltage(idx(feature, col));
  }
  int valid_columns() const { return valid_count_; }
  // Decay factor of column col at time now_ns.
  double decay_factor(int col, double now_ns) const;
  // Charge the cells drew for query pulse widths q at now_ns, in charge units: sum over valid
  // cells of q x cell_read_charge(g) (circuits.hpp).
  double read_charge(const float* q_pulse, double now_ns) const;
  // Bytes of memory the array holds (the object and its heap): for memory estimates.
  std::size_t state_bytes() const;
  void prefetch() const;                // a cache hint before a read: what it walks
  void prefetch_column(int col) const;  // a cache hint before write_column(col)

 private:
  std::size_t idx(int feature, int col) const { return std::size_t(feature) * columns_ + col; }
  // With Q pulses that are codes of the Q DAC: the binomial moments of the codes over every
  // column into the thread's moments scratch and the sum of the codes (level_moments.hpp), exact.
  // False (nothing written) when some width is not a code, e.g. with an ideal Q DAC.
  bool code_moments(const float* q, const PulseCodes* given, std::int64_t* code_sum) const;
  // out[c] = cubic weighted by the widths, summed over the features of column c, from the
  // moments: one rounding to float per column.
  void combine_moments(const BinomialCubic& cubic, std::int64_t code_sum, float* out) const;
  const CircuitModel* circuits_;
  int features_, columns_;
  // A level-indexed form and a Q DAC whose codes the moments take.
  bool integer_reads_ = false;
  mutable PulseCodes own_codes_;
  CellTerms terms_;
  ArrayVariation variation_;
  mutable ColumnClock clock_;
  int valid_count_ = 0;
  mutable std::vector<float> scratch_;       // decay mode: four partial sums per column
  mutable std::vector<float> charge_table_;  // decay with levels: read charge per column, level
  // Without decay: per feature, the read charge of its valid cells at full width (kept
  // up to date by the writes, so that a read costs d multiply-adds).
  std::vector<double> row_read_charge_;
};

// V array: one input line per token slot, one output per feature. A read drives each line
// with the HardSigmoid pulse width of its slot and integrates charge per feature.
class ValueArray {
 public:
  ValueArray(const CircuitModel& circuits, int features, int lines, ArrayPlace place = {});

  void write_line(int line, const double* v_volts, double now_ns, long token, bool refresh = false);
  void clear();
  // Charge per feature for pulse widths phi (one per line, units of T_max).
  void integrate(const float* phi_pulse, double now_ns, long token, float* charge_out) const;

  int features() const { return features_; }
  int lines() const { return lines_; }
  bool line_valid(int line) const { return clock_.valid(line); }
  double written_ns(int line) const { return clock_.written_ns(line); }
  float stored_voltage(int line, int feature) const {
    return terms_.stored_voltage(idx(line, feature));
  }
  // Charge the cells drew for pulse widths phi at now_ns, in charge units: sum over cells of
  // valid lines of phi x cell_read_charge(g) (circuits.hpp).
  double read_charge(const float* phi_pulse, double now_ns) const;
  // Bytes of memory the array holds (the object and its heap): for memory estimates.
  std::size_t state_bytes() const;
  void prefetch() const;               // a cache hint before a read: what it walks
  void prefetch_line(int line) const;  // a cache hint before write_line(line)

 private:
  std::size_t idx(int line, int feature) const { return std::size_t(line) * features_ + feature; }
  // The dense, decay and decay_levels forms of integrate(), before offsets and noise.
  void integrate_analog(const float* phi, double now_ns, float* out) const;
  const CircuitModel* circuits_;
  int features_, lines_;
  CellTerms terms_;
  ArrayVariation variation_;
  mutable ColumnClock clock_;
  int valid_count_ = 0;                      // lines written since the last clear
  mutable std::vector<float> weight_;        // pulse width per line, zero for lines never written
  mutable std::vector<float> charge_table_;  // decay with levels: read charge per level
  mutable std::vector<float> partial_;       // decay_levels: the three weighted sums
  // Without decay: per line, the read charge of its cells at full width (kept by the writes).
  std::vector<double> line_read_charge_;
};

}  // namespace gca::spec
