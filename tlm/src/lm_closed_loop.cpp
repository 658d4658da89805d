#include "gca/tlm/lm_closed_loop.hpp"

#include <algorithm>

namespace gca::tlm {

LmClosedLoop::LmClosedLoop(const lm::Model& model, const lm::HardwareAttentionParams& hw,
                           lm::ScoringPlan plan, std::vector<bool> unknown)
    : model_(&model),
      hw_(hw),
      forward_(model.arch, model.adapted),
      generating_(false),
      plan_(std::move(plan)),
      unknown_(std::move(unknown)) {
  inputs_.assign(std::size_t(model.arch.n_heads) * 3 * model.arch.d_head, 0.0);
  arrived_.assign(static_cast<std::size_t>(model.arch.n_layers), 0);
}

LmClosedLoop::LmClosedLoop(const lm::Model& model, const lm::HardwareAttentionParams& hw,
                           std::vector<int> prompt, long generate, lm::Sampler sampler)
    : model_(&model),
      hw_(hw),
      forward_(model.arch, model.adapted),
      generating_(true),
      history_(std::move(prompt)),
      sampler_(sampler) {
  gen_plan_ = lm::generation_plan(static_cast<long>(history_.size()), generate, model.arch.context);
  inputs_.assign(std::size_t(model.arch.n_heads) * 3 * model.arch.d_head, 0.0);
  arrived_.assign(static_cast<std::size_t>(model.arch.n_layers), 0);
}

long LmClosedLoop::tokens() const {
  return generating_ ? static_cast<long>(gen_plan_.size()) : plan_.tokens();
}

bool LmClosedLoop::reset_before(long t) const {
  return generating_ ? gen_plan_[static_cast<std::size_t>(t)].reset_before : plan_.reset_before(t);
}

void LmClosedLoop::begin_token(long t) {
  int id = 0, pos = 0;
  if (generating_) {
    const lm::GenerationStep& s = gen_plan_[static_cast<std::size_t>(t)];
    if (s.sample_before) history_.push_back(sampler_.sample(last_logits_));
    id = history_[static_cast<std::size_t>(s.history_index)];
    pos = s.position;
  } else {
    id = plan_.ids[static_cast<std::size_t>(t)];
    pos = plan_.position(t);
  }
  forward_.embed(id, pos);
  prepare_inputs(0);
  begun_ = t;
}

// Layer l's projections, then each head's hardware inputs (scalers, clamps, quantizers).
void LmClosedLoop::prepare_inputs(int layer) {
  const int d = model_->arch.d_head;
  forward_.project(layer);
  const float* scalers = model_->adapted.layers[static_cast<std::size_t>(layer)].scalers.data();
  for (int h = 0; h < model_->arch.n_heads; ++h) {
    double* in = inputs_.data() + std::size_t(h) * 3 * d;
    lm::hardware_inputs(hw_, lm::HeadScalers::from(scalers + 8 * h), d, forward_.q() + h * d,
                        forward_.k() + h * d, forward_.v() + h * d, in, in + d, in + 2 * d);
  }
}

void LmClosedLoop::source(long t, int layer, int head, double* q, double* k, double* v) {
  if (layer == 0 && t != begun_) begin_token(t);
  const int d = model_->arch.d_head;
  const double* in = inputs_.data() + std::size_t(head) * 3 * d;
  std::copy_n(in, d, q);
  std::copy_n(in + d, d, k);
  std::copy_n(in + 2 * d, d, v);
}

void LmClosedLoop::sink(long t, int layer, int head, const double* out) {
  const int d = model_->arch.d_head;
  const lm::HeadScalers s = lm::HeadScalers::from(
      model_->adapted.layers[static_cast<std::size_t>(layer)].scalers.data() + 8 * head);
  double* a = forward_.attention() + std::size_t(head) * d;
  for (int i = 0; i < d; ++i) a[i] = s.ao * out[i] + s.bo;
  if (++arrived_[static_cast<std::size_t>(layer)] < model_->arch.n_heads) return;
  arrived_[static_cast<std::size_t>(layer)] = 0;
  forward_.finish_layer(layer);
  if (layer + 1 < model_->arch.n_layers) {
    prepare_inputs(layer + 1);
  } else {
    token_done(t);
  }
}

void LmClosedLoop::token_done(long t) {
  last_logits_ = forward_.logits();
  if (generating_) {
    if (t + 1 == tokens()) history_.push_back(sampler_.sample(last_logits_));
    return;
  }
  if (t + 1 < plan_.tokens()) {
    const auto next = static_cast<std::size_t>(t + 1);
    tally_.add(last_logits_, plan_.ids[next], unknown_[next]);
  }
}

}  // namespace gca::tlm
