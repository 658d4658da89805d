// The oracle: a plain, obviously-correct implementation of one head (docs/hardware.md, "what one
// head computes"), written apart from the fast kernels (CellTerms, gemv_levels, the charge-to-pulse
// structs) and sharing no code with them: it quantizes with its own formula, evaluates the
// gain-cell polynomial term by term in double precision, and loops over the window slot by slot.
// `gca-sim run` compares the model's outputs with it, and tests use it as their reference.
// Time and non-idealities: stored deviations decay as exp(-(t - t_written) / tau); mismatch,
// write noise, read noise and comparator offsets take their random numbers from the shared
// keyed draw function (normal_draw: data, not arithmetic) and apply them with their own code
// here (docs/variation.md, docs/retention.md).
//
// Float versus double: the model integrates charges in float, the oracle in double. Where a
// sub-tile's pre-quantization output lies within `kBoundaryBand` of a counter decision boundary,
// the two may round to neighbouring levels; `OracleToken::allowance` says by how much each output
// may then legitimately differ.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gca/spec/params.hpp"

namespace gca::spec {

// Everything the oracle knows of one token of one head.
struct OracleToken {
  std::vector<double> out;                     // [d]: digital sum over sub-tiles, scaled
  std::vector<double> allowance;               // [d]: tolerated |model - oracle| per output
  std::vector<double> scores, phi;             // [M] by slot: charge S and HardSigmoid width
  std::vector<std::vector<double>> pre_quant;  // [subtiles][d]: clip(A / s_sat_av, -1, 1)
  std::vector<std::vector<double>> o;          // [subtiles][d]: counter outputs
  std::vector<bool> active;                    // [subtiles]: holds a token of the window
};

class OracleHead {
 public:
  // Pre-quantization outputs this close to a counter boundary may flip one level.
  static constexpr double kBoundaryBand = 1e-4;
  // Continuous outputs (ideal counter): tolerated difference per sub-tile output.
  static constexpr double kContinuousTolerance = 1e-4;

  // head_index: layer * n_heads + head, as the model's HeadModel.
  explicit OracleHead(const HardwareSpec& spec, int head_index = 0);

  // Stores the token's key and value (volts, before the DACs) in the next slot of the window
  // at simulated time now_ns; then applies the refresh policy at now_ns.
  void write(const double* k, const double* v, double now_ns);
  // Reads the window (every token written so far, the newest included) with query q at now_ns.
  // `detail`: also fill scores, phi, pre_quant, o and active.
  OracleToken read(const double* q, double now_ns, bool detail = false) const;
  // write() then read(): one token as the hardware processes it.
  OracleToken step(const double* q, const double* k, const double* v, double now_ns,
                   bool detail = true);

  long tokens() const { return tokens_; }
  // Bytes of state one head keeps for `spec` (what the constructor allocates, for memory
  // estimates before a run).
  static std::size_t state_bytes(const HardwareSpec& spec);

 private:
  // What the state holds; each array exists only where some configuration reads it.
  struct Layout {
    explicit Layout(const HardwareSpec& spec);
    bool shadow;    // refresh on: the digital values as given, to rewrite from
    bool decays;    // leakage: stored voltages, g evaluated at each read
    bool varies;    // cell mismatch: gain and threshold offset per cell
    bool by_level;  // a quantizing DAC, cells alike, no write noise: a level index per cell
  };
  // Level index k of x on a `levels` quantizer over [lo, hi]: the value is lo + k x step.
  double level_of(double x, int levels, double lo, double hi) const;
  double quantize(double x, int levels, double lo, double hi) const;
  double g(double w) const;  // gain-cell polynomial, paper Eq. 4, term by term
  double decay(double age_ns) const;
  // Stores slot's K and V from their digital values k and v at now_ns, drawing the write noise
  // of write event `token` (a refresh draws from its own stream).
  void store_slot(int slot, const double* k, const double* v, double now_ns, long token,
                  bool refresh);
  // The cell's read current for stored voltage v decayed by f (mismatch included).
  double cell(int kind, int slot, int i, double v, double f) const;
  // g of cell i of a slot as stored (f = 1): the read when nothing leaks.
  double fresh(std::size_t kind_cell) const {
    return layout_.by_level ? level_g_[fresh_level_[kind_cell]] : fresh_[kind_cell];
  }

  HardwareSpec spec_;
  Layout layout_;
  int head_, d_, window_, cols_, subtiles_;
  std::vector<double> key_in_, value_in_;  // [slot][d] digital values as given (the shadow)
  std::vector<double> key_v_, value_v_;    // [slot][d] stored voltages
  std::vector<double> gain_, offset_v_;    // [kind][slot][d] cell mismatch
  std::vector<double> fresh_;              // [kind][slot][d] cell(...) at f = 1, set at store
  std::vector<std::uint8_t> fresh_level_;  // [kind][slot][d] level index (by_level)
  std::vector<double> level_g_;            // g of each DAC level (by_level)
  // g of the stored voltages seen so far (a quantizing DAC stores few distinct values).
  double g_of_stored(double v);
  std::vector<std::pair<double, double>> g_memo_;
  std::vector<double> written_ns_;  // [slot] write time, -1 when never written
  long tokens_ = 0;
};

// Distance of y to the nearest decision boundary of a `levels` quantizer over [-1, 1]
// (infinite when not quantizing).
double counter_boundary_distance(double y, int levels);

}  // namespace gca::spec
