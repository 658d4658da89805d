// The float forward pass of the character GPT (docs/lm_format.md), one token at a time, split at
// the attention so that the attention of each layer can be computed elsewhere (the float
// functions below, or the simulated accelerator):
//   embed(id, pos) -> project(0) -> [attention of layer 0 into attention()] -> finish_layer(0)
//   -> project(1) -> ... -> finish_layer(L-1) -> logits()
// Everything is computed in double from the float32 weights. Pure C++ (no SystemC).
#pragma once

#include <cstdint>
#include <vector>

#include "gca/lm/model.hpp"

namespace gca::lm {

class Forward {
 public:
  Forward(const Architecture& arch, const NetworkWeights& weights);
  // x = tok_emb[id] + pos_emb[pos]
  void embed(int id, int pos);
  // h = LN(x; ln1); q, k, v = h W + b of the layer ([H * d_head] each; head h = slice h).
  void project(int layer);
  const double* q() const { return q_.data(); }
  const double* k() const { return k_.data(); }
  const double* v() const { return v_.data(); }
  // The attention output of every head ([H * d_head]), to be filled before finish_layer.
  double* attention() { return a_.data(); }
  // x += attention W_o + b_o; x += gelu(LN(x; ln2) W_1 + b_1) W_2 + b_2.
  void finish_layer(int layer);
  // LN(x; ln_f) head: [V] scores of the next character.
  const std::vector<double>& logits();

  const Architecture& arch() const { return arch_; }
  const NetworkWeights& weights() const { return *w_; }

 private:
  void layer_norm(const Weights& w, const Weights& b, double* out) const;
  Architecture arch_;
  const NetworkWeights* w_;
  std::vector<double> x_, h_, q_, k_, v_, a_, m_, logits_;
};

// Softmax attention over the window of the current chunk, all layers and heads of a network:
// a = sum_j softmax_j(q.k_j / sqrt(d_head)) v_j over the last `window` tokens since reset().
class SoftmaxAttention {
 public:
  SoftmaxAttention(const Architecture& arch, int window);
  void reset();
  // Stores k, v of the layer's current token and writes the attention of every head to out.
  // Call once per layer per token, layers in order.
  void attend(int layer, const double* q, const double* k, const double* v, double* out);

 private:
  Architecture arch_;
  int window_;
  std::vector<long> count_;                 // per layer: tokens since reset
  std::vector<std::vector<double>> k_, v_;  // per layer: [window][H * d_head]
  std::vector<double> score_;
};

// The hardware's inputs and outputs of one head (docs/lm_format.md): the per-head scalers
// (a_q b_q a_k b_k a_v b_v a_o b_o), the input clamps and quantizers.
struct HeadScalers {
  double aq, bq, ak, bk, av, bv, ao, bo;
  static HeadScalers from(const float* s8) {
    return {s8[0], s8[1], s8[2], s8[3], s8[4], s8[5], s8[6], s8[7]};
  }
};
// Quant(x, N) over [lo, hi] after the clamp; N = 0: clamp only.
double quantize(double x, int levels, double lo, double hi);
// q_hw = Quant(clip(a_q q + b_q, 0, 1)); k_hw, v_hw = Quant(clip(a x + b, kv_lo, kv_hi)).
void hardware_inputs(const HardwareAttentionParams& hw, const HeadScalers& s, int d,
                     const double* q, const double* k, const double* v, double* q_hw, double* k_hw,
                     double* v_hw);

// The float surrogate of the accelerator: the hardware's attention function (window slots,
// sub-tiles of `cols` keys, HardSigmoid, per-sub-tile clip and counter quantization) applied by
// the network's scalers, all layers and heads. No non-idealities.
class HardwareAttention {
 public:
  HardwareAttention(const Architecture& arch, const HardwareAttentionParams& hw,
                    const NetworkWeights& weights);
  void reset();
  void attend(int layer, const double* q, const double* k, const double* v, double* out);
  // The head function alone on hardware inputs: writes k_hw, v_hw into the head's next slot and
  // reads with q_hw (out: d_head values before the output scaler).
  void head_step(int layer, int head, const double* q_hw, const double* k_hw, const double* v_hw,
                 double* out);

 private:
  struct HeadState {
    long count = 0;              // tokens since reset
    std::vector<double> gk, gv;  // [window][d]: g of the stored voltages
  };
  Architecture arch_;
  HardwareAttentionParams hw_;
  const NetworkWeights* w_;
  std::vector<HeadState> heads_;  // [layer * H + head]
  std::vector<double> qh_, kh_, vh_, o_, phi_, acc_;
};

// One network over a token stream with its own float attention.
class FloatNetwork {
 public:
  // hw: the hardware function for the adapted network (ignored for the softmax one).
  FloatNetwork(const Model& model, const NetworkWeights& weights,
               const HardwareAttentionParams& hw);
  void reset();
  // Consumes token `id` at chunk position pos; returns the logits of the next character.
  const std::vector<double>& step(int id, int pos);

 private:
  Forward forward_;
  SoftmaxAttention softmax_;
  HardwareAttention hardware_;
  bool is_hardware_;
};

// Bits per character and top-1 accuracy of predictions.
struct ScoreTally {
  long scored = 0, top1_hits = 0, unknown_targets = 0;
  double nats = 0.0;
  // Adds the prediction `logits` for the character `target` (skipped and counted when unknown).
  void add(const std::vector<double>& logits, int target, bool target_unknown);
  double bits_per_char() const;
  double top1_accuracy() const;
};

// What the token stream of a run feeds: chunks of `context` characters with a reset of every
// head before each (docs/lm_format.md, positions).
struct ScoringPlan {
  std::vector<int> ids;  // the characters fed, in order
  int context = 0;
  long tokens() const { return static_cast<long>(ids.size()); }
  int position(long t) const { return static_cast<int>(t % context); }
  bool reset_before(long t) const { return t > 0 && t % context == 0; }
};

// Generation: the prompt, then sampled characters; when the position reaches the context, every
// head is reset and the last context/2 characters are fed again before sampling continues.
struct GenerationStep {
  long history_index;  // the character fed (index into prompt + generated text)
  int position;
  bool reset_before;
  bool sample_before;  // a new character is sampled (from the previous token's logits) first
};
std::vector<GenerationStep> generation_plan(long prompt_chars, long generate, int context);

// Sampling with temperature (0: argmax) from a 64-bit generator state (same seed, same text).
class Sampler {
 public:
  Sampler(std::uint64_t seed, double temperature);
  int sample(const std::vector<double>& logits);

 private:
  std::uint64_t next();
  std::uint64_t state_;
  double temperature_;
  std::vector<double> p_;
};

}  // namespace gca::lm
