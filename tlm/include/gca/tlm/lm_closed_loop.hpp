// The host side of a language model on the accelerator: everything but attention, computed from
// the shipped weights, in a closed loop with the simulated heads. The host's layer processes ask
// it for each head's inputs (TokenSource) and hand it each head's output (OutputSink):
//   token t, layer 0:   embed the character, LN, projections, the hardware's input scalers;
//   layer l's outputs:  output scalers, W_o, residual, MLP -> layer l+1's inputs;
//   last layer's:       the logits -> the score of the next character, or the next sample.
// Decode only (token t+1 enters layer 0 once token t has left the last layer), so one forward
// state suffices. Every head is reset before each chunk (reset_heads_before).
#pragma once

#include <functional>
#include <vector>

#include "gca/lm/network.hpp"
#include "gca/tlm/host.hpp"

namespace gca::tlm {

class LmClosedLoop {
 public:
  // Scoring: feeds plan.ids in chunks; the logits after token t score plan.ids[t + 1] (skipped
  // and counted where unknown[t + 1]).
  LmClosedLoop(const lm::Model& model, const lm::HardwareAttentionParams& hw, lm::ScoringPlan plan,
               std::vector<bool> unknown);
  // Generation: prompt ids, then `generate` sampled characters.
  LmClosedLoop(const lm::Model& model, const lm::HardwareAttentionParams& hw,
               std::vector<int> prompt, long generate, lm::Sampler sampler);

  long tokens() const;
  // For the host (the source asks for layer l's inputs of token t, head h).
  void source(long t, int layer, int head, double* q, double* k, double* v);
  void sink(long t, int layer, int head, const double* out);
  bool reset_before(long t) const;

  const lm::ScoreTally& tally() const { return tally_; }
  // Generation: prompt + generated characters.
  const std::vector<int>& history() const { return history_; }
  // Tokens (in stream order) at which the logits were computed, for tests.
  const std::vector<double>& last_logits() const { return last_logits_; }

 private:
  void begin_token(long t);
  void layer_done(int layer);
  void prepare_inputs(int layer);
  void token_done(long t);

  const lm::Model* model_;
  lm::HardwareAttentionParams hw_;
  lm::Forward forward_;
  bool generating_;
  lm::ScoringPlan plan_;
  std::vector<bool> unknown_;
  std::vector<lm::GenerationStep> gen_plan_;
  std::vector<int> history_;
  lm::Sampler sampler_{0, 0.0};
  lm::ScoreTally tally_;
  std::vector<double> inputs_;  // [head][q | k | v] hardware inputs of the current layer
  std::vector<int> arrived_;    // per layer: heads whose output came in for the token
  std::vector<double> last_logits_;
  long begun_ = -1;
};

}  // namespace gca::tlm
