#include "gca/lm/network.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "gca/spec/error.hpp"

namespace gca::lm {
namespace {

// y = b + x W, W [in, out] row-major. The inner loop runs along rows (it vectorizes); four rows
// per pass so that y is loaded and stored a quarter as often.
void affine(const double* x, int in, const Weights& w, const Weights& b, int out, double* y) {
  std::copy_n(b.data(), out, y);
  const float* row = w.data();
  const std::size_t n = static_cast<std::size_t>(out);
  int i = 0;
  for (; i + 4 <= in; i += 4, row += 4 * n) {
    const double x0 = x[i], x1 = x[i + 1], x2 = x[i + 2], x3 = x[i + 3];
    const float *r0 = row, *r1 = row + n, *r2 = row + 2 * n, *r3 = row + 3 * n;
    for (int o = 0; o < out; ++o) y[o] += (x0 * r0[o] + x1 * r1[o]) + (x2 * r2[o] + x3 * r3[o]);
  }
  for (; i < in; ++i, row += n) {
    const double xi = x[i];
    for (int o = 0; o < out; ++o) y[o] += xi * row[o];
  }
}

double gelu_tanh(double u) {
  constexpr double kSqrt2OverPi = 0.7978845608028654;
  return 0.5 * u * (1.0 + std::tanh(kSqrt2OverPi * (u + 0.044715 * u * u * u)));
}

}  // namespace

// ---- Forward --------------------------------------------------------------------------------

Forward::Forward(const Architecture& arch, const NetworkWeights& weights)
    : arch_(arch), w_(&weights) {
  const auto D = static_cast<std::size_t>(arch.d_model);
  const auto HD = static_cast<std::size_t>(arch.qkv_width());
  x_.assign(D, 0.0);
  h_.assign(D, 0.0);
  q_.assign(HD, 0.0);
  k_ = v_ = a_ = q_;
  m_.assign(static_cast<std::size_t>(arch.d_mlp), 0.0);
  logits_.assign(weights.head.size() / D, 0.0);
}

void Forward::embed(int id, int pos) {
  const int D = arch_.d_model;
  const float* te = w_->tok_emb.data() + std::size_t(id) * D;
  const float* pe = w_->pos_emb.data() + std::size_t(pos) * D;
  for (int i = 0; i < D; ++i) x_[i] = double(te[i]) + double(pe[i]);
}

void Forward::layer_norm(const Weights& w, const Weights& b, double* out) const {
  const int D = arch_.d_model;
  double mean = 0.0;
  for (int i = 0; i < D; ++i) mean += x_[i];
  mean /= D;
  double var = 0.0;
  for (int i = 0; i < D; ++i) var += (x_[i] - mean) * (x_[i] - mean);
  var /= D;
  const double inv = 1.0 / std::sqrt(var + arch_.layer_norm_eps);
  for (int i = 0; i < D; ++i) out[i] = (x_[i] - mean) * inv * w[i] + b[i];
}

void Forward::project(int layer) {
  const LayerWeights& L = w_->layers[static_cast<std::size_t>(layer)];
  const int D = arch_.d_model, HD = arch_.qkv_width();
  layer_norm(L.ln1_w, L.ln1_b, h_.data());
  affine(h_.data(), D, L.wq, L.bq, HD, q_.data());
  affine(h_.data(), D, L.wk, L.bk, HD, k_.data());
  affine(h_.data(), D, L.wv, L.bv, HD, v_.data());
}

void Forward::finish_layer(int layer) {
  const LayerWeights& L = w_->layers[static_cast<std::size_t>(layer)];
  const int D = arch_.d_model, HD = arch_.qkv_width(), F = arch_.d_mlp;
  affine(a_.data(), HD, L.wo, L.bo, D, h_.data());
  for (int i = 0; i < D; ++i) x_[i] += h_[i];
  layer_norm(L.ln2_w, L.ln2_b, h_.data());
  affine(h_.data(), D, L.w1, L.b1, F, m_.data());
  for (int i = 0; i < F; ++i) m_[i] = gelu_tanh(m_[i]);
  affine(m_.data(), F, L.w2, L.b2, D, h_.data());
  for (int i = 0; i < D; ++i) x_[i] += h_[i];
}

const std::vector<double>& Forward::logits() {
  const int D = arch_.d_model, V = static_cast<int>(logits_.size());
  layer_norm(w_->lnf_w, w_->lnf_b, h_.data());
  std::fill(logits_.begin(), logits_.end(), 0.0);
  const float* row = w_->head.data();
  for (int i = 0; i < D; ++i, row += V) {
    const double hi = h_[i];
    for (int o = 0; o < V; ++o) logits_[o] += hi * row[o];
  }
  return logits_;
}

// ---- softmax attention ----------------------------------------------------------------------

SoftmaxAttention::SoftmaxAttention(const Architecture& arch, int window)
    : arch_(arch), window_(window) {
  const std::size_t n = std::size_t(window) * arch.qkv_width();
  k_.assign(static_cast<std::size_t>(arch.n_layers), std::vector<double>(n));
  v_ = k_;
  score_.assign(static_cast<std::size_t>(window), 0.0);
  reset();
}

void SoftmaxAttention::reset() {
  count_.assign(static_cast<std::size_t>(arch_.n_layers), 0);
}

void SoftmaxAttention::attend(int layer, const double* q, const double* k, const double* v,
                              double* out) {
  const int HD = arch_.qkv_width(), dh = arch_.d_head;
  auto& K = k_[static_cast<std::size_t>(layer)];
  auto& V = v_[static_cast<std::size_t>(layer)];
  long& count = count_[static_cast<std::size_t>(layer)];
  const int slot = static_cast<int>(count % window_);
  std::copy_n(k, HD, K.data() + std::size_t(slot) * HD);
  std::copy_n(v, HD, V.data() + std::size_t(slot) * HD);
  ++count;
  const int n = static_cast<int>(std::min<long>(count, window_));
  const double scale = 1.0 / std::sqrt(static_cast<double>(dh));
  for (int h = 0; h < arch_.n_heads; ++h) {
    const double* qh = q + h * dh;
    double top = -std::numeric_limits<double>::infinity();
    for (int j = 0; j < n; ++j) {
      const double* kj = K.data() + std::size_t(j) * HD + h * dh;
      double s = 0.0;
      for (int i = 0; i < dh; ++i) s += qh[i] * kj[i];
      score_[j] = s * scale;
      top = std::max(top, score_[j]);
    }
    double sum = 0.0;
    for (int j = 0; j < n; ++j) sum += (score_[j] = std::exp(score_[j] - top));
    double* oh = out + h * dh;
    std::fill_n(oh, dh, 0.0);
    for (int j = 0; j < n; ++j) {
      const double p = score_[j] / sum;
      const double* vj = V.data() + std::size_t(j) * HD + h * dh;
      for (int i = 0; i < dh; ++i) oh[i] += p * vj[i];
    }
  }
}

// ---- the hardware's attention ---------------------------------------------------------------

double quantize(double x, int levels, double lo, double hi) {
  const double y = std::clamp(x, lo, hi);
  if (levels < 2) return y;
  const double step = (hi - lo) / (levels - 1);
  const double k = std::min(std::floor((y - lo) / step + 0.5), double(levels - 1));
  return lo + step * k;
}

void hardware_inputs(const HardwareAttentionParams& hw, const HeadScalers& s, int d,
                     const double* q, const double* k, const double* v, double* q_hw, double* k_hw,
                     double* v_hw) {
  for (int i = 0; i < d; ++i) {
    q_hw[i] = quantize(s.aq * q[i] + s.bq, hw.q_levels, 0.0, 1.0);
    k_hw[i] = quantize(s.ak * k[i] + s.bk, hw.kv_levels, hw.kv_lo, hw.kv_hi);
    v_hw[i] = quantize(s.av * v[i] + s.bv, hw.kv_levels, hw.kv_lo, hw.kv_hi);
  }
}

HardwareAttention::HardwareAttention(const Architecture& arch, const HardwareAttentionParams& hw,
                                     const NetworkWeights& weights)
    : arch_(arch), hw_(hw), w_(&weights) {
  const std::size_t n = std::size_t(hw.window) * arch.d_head;
  heads_.resize(std::size_t(arch.n_layers) * arch.n_heads);
  for (auto& h : heads_) {
    h.gk.assign(n, 0.0);
    h.gv.assign(n, 0.0);
  }
  const auto dh = static_cast<std::size_t>(arch.d_head);
  qh_.assign(dh, 0.0);
  kh_ = vh_ = o_ = acc_ = qh_;
}

void HardwareAttention::reset() {
  for (auto& h : heads_) h.count = 0;
}

void HardwareAttention::head_step(int layer, int head, const double* q_hw, const double* k_hw,
                                  const double* v_hw, double* out) {
  const int d = arch_.d_head, M = hw_.window, cols = hw_.cols;
  HeadState& st = heads_[std::size_t(layer) * arch_.n_heads + head];
  const int slot = static_cast<int>(st.count % M);
  double* gk = st.gk.data() + std::size_t(slot) * d;
  double* gv = st.gv.data() + std::size_t(slot) * d;
  for (int i = 0; i < d; ++i) {
    gk[i] = hw_.g(k_hw[i]);
    gv[i] = hw_.g(v_hw[i]);
  }
  ++st.count;
  const int written = static_cast<int>(std::min<long>(st.count, M));
  std::fill_n(out, d, 0.0);
  // A sub-tile adds to the output once it holds a written slot (slots fill from 0 up).
  for (int first = 0; first < written; first += cols) {
    const int last = std::min(first + cols, written);
    std::fill(acc_.begin(), acc_.end(), 0.0);
    for (int j = first; j < last; ++j) {
      const double* kj = st.gk.data() + std::size_t(j) * d;
      double s = 0.0;
      for (int i = 0; i < d; ++i) s += q_hw[i] * kj[i];
      const double phi = std::clamp(s / hw_.s_sat_qk, 0.0, 1.0);
      if (phi == 0.0) continue;
      const double* vj = st.gv.data() + std::size_t(j) * d;
      for (int i = 0; i < d; ++i) acc_[i] += phi * vj[i];
    }
    for (int i = 0; i < d; ++i)
      out[i] += quantize(acc_[i] / hw_.s_sat_av, hw_.out_levels, -1.0, 1.0);
  }
}

void HardwareAttention::attend(int layer, const double* q, const double* k, const double* v,
                               double* out) {
  const int d = arch_.d_head;
  const float* scalers = w_->layers[static_cast<std::size_t>(layer)].scalers.data();
  for (int h = 0; h < arch_.n_heads; ++h) {
    const HeadScalers s = HeadScalers::from(scalers + 8 * h);
    hardware_inputs(hw_, s, d, q + h * d, k + h * d, v + h * d, qh_.data(), kh_.data(), vh_.data());
    head_step(layer, h, qh_.data(), kh_.data(), vh_.data(), o_.data());
    for (int i = 0; i < d; ++i) out[h * d + i] = s.ao * o_[i] + s.bo;
  }
}

// ---- one network with float attention -------------------------------------------------------

FloatNetwork::FloatNetwork(const Model& model, const NetworkWeights& weights,
                           const HardwareAttentionParams& hw)
    : forward_(model.arch, weights),
      softmax_(model.arch, model.arch.context),
      hardware_(model.arch, hw, weights),
      is_hardware_(weights.hardware) {}

void FloatNetwork::reset() {
  softmax_.reset();
  hardware_.reset();
}

const std::vector<double>& FloatNetwork::step(int id, int pos) {
  forward_.embed(id, pos);
  for (int l = 0; l < forward_.arch().n_layers; ++l) {
    forward_.project(l);
    if (is_hardware_) {
      hardware_.attend(l, forward_.q(), forward_.k(), forward_.v(), forward_.attention());
    } else {
      softmax_.attend(l, forward_.q(), forward_.k(), forward_.v(), forward_.attention());
    }
    forward_.finish_layer(l);
  }
  return forward_.logits();
}

// ---- scoring, plans, sampling ---------------------------------------------------------------

void ScoreTally::add(const std::vector<double>& logits, int target, bool target_unknown) {
  if (target_unknown) {
    ++unknown_targets;
    return;
  }
  double top = -std::numeric_limits<double>::infinity();
  int best = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (logits[i] > top) {
      top = logits[i];
      best = static_cast<int>(i);
    }
  }
  double sum = 0.0;
  for (double l : logits) sum += std::exp(l - top);
  nats += std::log(sum) + top - logits[static_cast<std::size_t>(target)];
  top1_hits += best == target;
  ++scored;
}

double ScoreTally::bits_per_char() const {
  return scored ? nats / scored / std::log(2.0) : 0.0;
}
double ScoreTally::top1_accuracy() const {
  return scored ? double(top1_hits) / scored : 0.0;
}

std::vector<GenerationStep> generation_plan(long prompt_chars, long generate, int context) {
  std::vector<GenerationStep> plan;
  if (prompt_chars < 1 || generate < 1 || context < 1) return plan;
  const long first_time = prompt_chars + generate - 1;  // the last sample is not fed
  long next = 0, pending_from = 0, pending_to = 0;      // re-fed history [from, to)
  int pos = 0;
  while (next < first_time || pending_from < pending_to) {
    GenerationStep s{};
    if (pos == context) {
      s.reset_before = true;
      pos = 0;
      pending_to = next;
      pending_from = std::max(0L, next - context / 2);
    }
    if (pending_from < pending_to) {
      s.history_index = pending_from++;
    } else {
      s.history_index = next;
      s.sample_before = next >= prompt_chars;
      ++next;
    }
    s.position = pos++;
    plan.push_back(s);
  }
  return plan;
}

Sampler::Sampler(std::uint64_t seed, double temperature)
    : state_(seed), temperature_(temperature) {}

std::uint64_t Sampler::next() {  // splitmix64
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

int Sampler::sample(const std::vector<double>& logits) {
  int best = 0;
  for (std::size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[static_cast<std::size_t>(best)]) best = static_cast<int>(i);
  if (temperature_ <= 0.0) return best;
  p_.resize(logits.size());
  double sum = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i)
    sum += (p_[i] = std::exp((logits[i] - logits[static_cast<std::size_t>(best)]) / temperature_));
  const double u = double(next() >> 11) * 0x1.0p-53 * sum;
  double c = 0.0;
  for (std::size_t i = 0; i < p_.size(); ++i) {
    c += p_[i];
    if (u < c) return static_cast<int>(i);
  }
  return best;
}

}  // namespace gca::lm
