// Token data for the host: seeded uniform random values, or Q/K/V from .npy files.
#pragma once

#include <cstdint>
#include <vector>

#include "gca/tb/scenario.hpp"
#include "gca/tlm/host.hpp"

namespace gca::tb {

// Counter-based: the value of (token, layer, head, feature) depends only on the seed and
// those indices, never on the order of the calls, so runs repeat exactly.
class UniformStimulus {
 public:
  UniformStimulus(const StimulusConfig& c, int d) : c_(c), d_(d) {}
  void operator()(long t, int l, int h, double* q, double* k, double* v) const;

 private:
  double unit(std::uint64_t base, std::uint64_t i) const;  // in [0, 1)
  StimulusConfig c_;
  int d_;
};

// Builds the host's token source. npy stimulus: every head and layer gets the same [T, d]
// data; heads stimulus: head h of layer l gets rows [l, h] of [L, H, T, d] files (L, H and d
// those of `model`). Throws gca::Error (file named) when a file does not fit: dtype, shape,
// too few tokens for `tokens`, NaN/Inf.
gca::tlm::TokenSource make_stimulus(const StimulusConfig& c, const gca::spec::ModelParams& model,
                                    long tokens);

// The expected outputs of the head check.expect_layer / expect_head ([tokens, d], C order) from
// check.expect_out, empty when none is given; the file must hold [T, d] or [cases, T, d] with d ==
// d_head and T >= tokens (gca::Error naming the file otherwise).
std::vector<double> load_expected_outputs(const ExpectConfig& e, int d, long tokens);

}  // namespace gca::tb
