// The executable specification of one attention head (docs/hardware.md): a sliding
// window of M token slots kept as a circular buffer over ceil(M / cols) sub-tiles.
// For token t: write k_t and v_t to slot t mod M, then read with q_t:
//   S_j = sum_d q_d g(k_jd)         per slot in the window (0 for slots never written)
//   phi_j = clip(S_j / s_sat_qk, 0, 1)
//   o_sd = Q_out(clip(sum_{j in s} phi_j g(v_jd) / s_sat_av, -1, 1))   per sub-tile
//   out_d = sum_s o_sd              over the active sub-tiles
// A sub-tile is active once it holds at least one written slot; before that the peripheral
// control leaves it idle (it holds no token of the window), so it adds nothing.
// Time: each token is written and read at one simulated time now_ns (the few ns between its
// write and its read are negligible against the retention time constant); stored values decay
// with the time since they were written (docs/retention.md).
#pragma once

#include <memory>
#include <vector>

#include "gca/spec/circuits.hpp"
#include "gca/spec/gain_cell_array.hpp"
#include "gca/spec/params.hpp"

namespace gca::spec {

// Where the slots of the window live.
struct WindowTiling {
  WindowTiling(int window, int cols)
      : window(window), cols(cols), subtiles((window + cols - 1) / cols) {}
  int window, cols, subtiles;
  int slot_of_token(long t) const { return static_cast<int>(t % window); }
  int subtile_of_slot(int slot) const { return slot / cols; }
  int column_of_slot(int slot) const { return slot % cols; }
  // Columns of sub-tile s that hold window slots (the last one may be partly unused).
  int width(int s) const { return std::min(cols, window - s * cols); }
};

// What the circuits of one sub-tile did for one read: the action counts that the power
// model multiplies by energy per action. Pulse widths are in units of T_max.
struct SubTileActivity {
  double q_pulse_sum = 0.0;        // sum over K-array cells read of the Q pulse width
  int columns_converted = 0;       // HardSigmoid charge-to-pulse conversions (valid columns)
  double phi_pulse_sum = 0.0;      // sum over V-array cells read of the HardSigmoid pulse width
  int outputs_converted = 0;       // signed charge-to-pulse conversions (one per feature)
  double counter_fullscale = 0.0;  // sum of |output| in units of a full-scale count
  // Charge the cells drew, in charge units at t_ref_ns: sum over cells read of
  // width x cell_read_charge(g) = width x |g| (circuits.hpp).
  double qk_read_charge = 0.0;
  double av_read_charge = 0.0;
  void add(const SubTileActivity& o) {
    qk_read_charge += o.qk_read_charge;
    av_read_charge += o.av_read_charge;
    q_pulse_sum += o.q_pulse_sum;
    columns_converted += o.columns_converted;
    phi_pulse_sum += o.phi_pulse_sum;
    outputs_converted += o.outputs_converted;
    counter_fullscale += o.counter_fullscale;
  }
};

// Refresh of one token (docs/retention.md): columns rewritten from the shadow copy, and the
// cells written (a K column and a V line each), for the energy and time the caller books.
struct RefreshActivity {
  int columns = 0;
  long cells = 0;
  void add(const RefreshActivity& o) {
    columns += o.columns;
    cells += o.cells;
  }
};

// The refresh policy of one sub-tile (docs/retention.md): a digital shadow copy of every
// column's K and V values, and the rewrite of each column whose stored deviation has decayed
// below 1 - retention.refresh_threshold. Inactive (no memory) unless retention.refresh = 1.
class ShadowRefresh {
 public:
  ShadowRefresh(const CircuitModel& circuits, int features, int columns);
  void record(int col, const double* k_volts, const double* v_volts);
  RefreshActivity apply(KeyArray& key, ValueArray& value, double now_ns, long token) const;
  std::size_t state_bytes() const;  // the object and its heap

 private:
  const CircuitModel* circuits_;
  int features_;
  std::vector<double> k_, v_;  // [col][feature]
};

// One sub-tile: K array + HardSigmoid charge-to-pulse per column, V array + signed
// charge-to-pulse and counter per output.
class SubTileModel {
 public:
  SubTileModel(const CircuitModel& circuits, int features, int columns, ArrayPlace place = {});

  // Writes token `token` at simulated time now_ns (also into the shadow copy when refreshing).
  void write(int col, const double* k_volts, const double* v_volts, double now_ns, long token);
  // Refresh policy: rewrites, from the shadow copy, each column whose stored deviation has
  // decayed below 1 - retention.refresh_threshold at now_ns. No-op unless retention.refresh.
  RefreshActivity refresh(double now_ns, long token);
  // One read at now_ns by token `token`: q pulse widths in; charge and HardSigmoid widths per
  // column, quantized output per feature out. Returns false (and touches nothing) when the
  // sub-tile is idle. q_pulse_sum: the sum of the q pulse widths (the same for every sub-tile).
  // q_codes: the Q DAC codes of q_pulse, when the caller has them (KeyArray::integrate).
  bool compute(const float* q_pulse, double q_pulse_sum, double now_ns, long token, float* s_out,
               float* phi_out, double* o_out, SubTileActivity* activity = nullptr,
               const PulseCodes* q_codes = nullptr) const;
  bool active() const { return key_.valid_columns() > 0; }
  // A cache hint: the cells the next write(col, ...) stores.
  void prefetch_write(int col) const {
    key_.prefetch_column(col);
    value_.prefetch_line(col);
  }
  // A cache hint: the arrays the next compute() reads.
  void prefetch() const {
    key_.prefetch();
    value_.prefetch();
  }
  // Earliest write time of the columns held (the oldest value), or -1 when idle.
  double oldest_written_ns() const;

  const KeyArray& key() const { return key_; }
  const ValueArray& value() const { return value_; }
  std::size_t state_bytes() const;  // the object and its heap

 private:
  // What the circuits did in the read just computed (q pulses in, HardSigmoid widths phi_out):
  // the activity the power model turns into energy.
  SubTileActivity read_activity(const float* q_pulse, double q_pulse_sum, const float* phi_out,
                                float phi_sum, double counts, double now_ns) const;

  const CircuitModel* circuits_;
  KeyArray key_;
  ValueArray value_;
  ShadowRefresh shadow_;
  mutable std::vector<float> charge_;
};

class HeadModel {
 public:
  // head_index: layer * n_heads + head, the head's place in the chip's mismatch draws.
  explicit HeadModel(const HardwareSpec& spec, int head_index = 0);
  HeadModel(const HeadModel&) = delete;
  HeadModel& operator=(const HeadModel&) = delete;
  HeadModel(HeadModel&&) = default;

  // Consumes one token at simulated time now_ns (its write and its read): q, k, v hold d_head
  // values each; out receives d_head values. Times must not decrease.
  void step(const double* q, const double* k, const double* v, double* out, double now_ns);
  // Without a clock: token t is at t x nominal_token_period_ns() (n_layers x 65 ns for
  // GPT-2, so that CMOS tau = 5 ms decays by 1.56e-4 per token).
  void step(const double* q, const double* k, const double* v, double* out);
  double nominal_token_period_ns() const { return nominal_period_ns_; }

  long tokens() const { return t_; }
  int d_head() const { return d_; }
  const WindowTiling& tiling() const { return tiling_; }
  const CircuitModel& circuits() const { return *circuits_; }
  // Whether step() keeps the views below (scores, phi, subtile_output) of each token (on by
  // default). Off, they keep their last kept values and step() writes less memory per token: for
  // a platform that never reads them.
  void keep_views(bool on) { views_ = on; }
  bool views_kept() const { return views_; }
  // Of the last token, by slot (size M): charge S and HardSigmoid width phi.
  const std::vector<float>& scores() const { return s_; }
  const std::vector<float>& phi() const { return phi_; }
  // Of the last token: quantized output of sub-tile s, d_head values.
  const double* subtile_output(int s) const { return o_.data() + std::size_t(s) * d_; }
  const SubTileModel& subtile(int s) const { return subtiles_[s]; }
  // Of the last token: summed activity of the sub-tiles and the number that were active.
  const SubTileActivity& activity() const { return activity_; }
  int active_subtiles() const { return active_subtiles_; }
  // Of the last token, per sub-tile: what its circuits did (all zero for an idle sub-tile).
  const SubTileActivity& subtile_activity(int s) const { return subtile_activity_[s]; }
  bool subtile_active(int s) const { return subtile_activity_[s].columns_converted > 0; }
  // Of the last token: what the refresh policy rewrote, and its simulated time.
  const RefreshActivity& refresh_activity() const { return refresh_; }
  double last_time_ns() const { return now_ns_; }
  // Age at the last token of the oldest value in the window (0 before any token).
  double oldest_age_ns() const;
  // Bytes of memory the head holds (the object, its sub-tiles, its circuit model): what a run
  // needs per head, for memory estimates before it starts.
  std::size_t state_bytes() const;

 private:
  std::shared_ptr<const CircuitModel> circuits_;
  WindowTiling tiling_;
  int d_;
  std::vector<SubTileModel> subtiles_;
  std::vector<float> q_pulse_, s_, phi_;
  PulseCodes q_codes_;  // of q_pulse_, once per token for every sub-tile
  std::vector<double> o_;
  SubTileActivity activity_;
  std::vector<SubTileActivity> subtile_activity_;
  int active_subtiles_ = 0;
  RefreshActivity refresh_;
  double nominal_period_ns_;
  bool views_ = true;
  double now_ns_ = 0.0;
  long t_ = 0;
};

}  // namespace gca::spec
