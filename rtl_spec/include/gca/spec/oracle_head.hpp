// The oracle: a plain, obviously-correct implementation of one head (docs/hardware.md, "what one
// head computes"), written apart from the fast kernels (CellTerms, gemv_levels, the charge-to-pulse
// structs) and sharing no code with them: it quantizes with its own formula, evaluates the gain-cell
// polynomial term by term in double precision, and loops over the window slot by slot.
// `gca-sim run` compares the model's outputs with it, and tests use it as their reference.
//
// Float versus double: the model integrates charges in float, the oracle in double. Where a
// sub-tile's pre-quantization output lies within `kBoundaryBand` of a counter decision boundary,
// the two may round to neighbouring levels; `OracleToken::allowance` says by how much each output
// may then legitimately differ.
#pragma once

#include <cstddef>
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

  explicit OracleHead(const HardwareSpec& spec);

  // Stores the token's key and value (volts, before the DACs) in the next slot of the window.
  void write(const double* k, const double* v);
  // Reads the window (every token written so far, the newest included) with query q.
  // `detail`: also fill scores, phi, pre_quant, o and active.
  OracleToken read(const double* q, bool detail = false) const;
  // write() then read(): one token as the hardware processes it.
  OracleToken step(const double* q, const double* k, const double* v, bool detail = true);

  long tokens() const { return tokens_; }

 private:
  double quantize(double x, int levels, double lo, double hi) const;
  double g(double w) const;  // gain-cell polynomial, paper Eq. 4, term by term
  double decay(long age) const;

  HardwareSpec spec_;
  int d_, window_, cols_, subtiles_;
  std::vector<double> key_v_, value_v_;  // [slot][d] stored voltages, quantized
  std::vector<double> key_g_, value_g_;  // [slot][d] g of the stored deviation (no decay)
  std::vector<long> written_;            // [slot] token index, -1 when never written
  long tokens_ = 0;
};

// Distance of y to the nearest decision boundary of a `levels` quantizer over [-1, 1]
// (infinite when not quantizing).
double counter_boundary_distance(double y, int levels);

}  // namespace gca::spec
