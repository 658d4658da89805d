#include "gca/spec/head_model.hpp"

#include <algorithm>
#include <cmath>

namespace gca::spec {

namespace {

// The two converters of a sub-tile read, also compiled for AVX2 and chosen when the program
// loads where the processor has it: the same operations in the same order (AVX2 alone has no
// fused multiply-add), in wider vectors.
__attribute__((target_clones("avx2", "default"))) float hard_sigmoid_columns(
    const HardSigmoidChargeToPulse& hs, const float* charge, int n, float* width_out) {
  return hs.convert(charge, n, width_out);
}

__attribute__((target_clones("avx2", "default"))) double counter_outputs(
    const SignedChargeToPulse& counter, const float* charge, int n, double* out) {
  return counter.convert(charge, n, out);
}

}  // namespace

SubTileModel::SubTileModel(const CircuitModel& circuits, int features, int columns,
                           ArrayPlace place)
    : circuits_(&circuits),
      key_(circuits, features, columns, place),
      value_(circuits, features, columns, place),
      shadow_(circuits, features, columns),
      charge_(features) {}

void SubTileModel::write(int col, const double* k_volts, const double* v_volts, double now_ns,
                         long token) {
  key_.write_column(col, k_volts, now_ns, token);
  value_.write_line(col, v_volts, now_ns, token);
  shadow_.record(col, k_volts, v_volts);
}

RefreshActivity SubTileModel::refresh(double now_ns, long token) {
  return shadow_.apply(key_, value_, now_ns, token);
}

ShadowRefresh::ShadowRefresh(const CircuitModel& circuits, int features, int columns)
    : circuits_(&circuits), features_(features) {
  if (circuits.refresh.refreshes()) {
    k_.assign(std::size_t(features) * columns, 0.0);
    v_.assign(k_.size(), 0.0);
  }
}

void ShadowRefresh::record(int col, const double* k_volts, const double* v_volts) {
  if (k_.empty()) return;
  std::copy_n(k_volts, features_, k_.data() + std::size_t(col) * features_);
  std::copy_n(v_volts, features_, v_.data() + std::size_t(col) * features_);
}

RefreshActivity ShadowRefresh::apply(KeyArray& key, ValueArray& value, double now_ns,
                                     long token) const {
  RefreshActivity r;
  if (k_.empty()) return r;
  // Oldest first is not needed: every column past the threshold is rewritten at once.
  const double keep = 1.0 - circuits_->refresh.refresh_threshold;
  for (int c = 0; c < key.columns(); ++c) {
    if (!key.column_valid(c) || key.decay_factor(c, now_ns) >= keep) continue;
    key.write_column(c, k_.data() + std::size_t(c) * features_, now_ns, token, true);
    value.write_line(c, v_.data() + std::size_t(c) * features_, now_ns, token, true);
    ++r.columns;
    r.cells += 2L * features_;
  }
  return r;
}

double SubTileModel::oldest_written_ns() const {
  double oldest = -1.0;
  for (int c = 0; c < key_.columns(); ++c) {
    if (!key_.column_valid(c)) continue;
    if (oldest < 0.0 || key_.written_ns(c) < oldest) oldest = key_.written_ns(c);
  }
  return oldest;
}

bool SubTileModel::compute(const float* q_pulse, double q_pulse_sum, double now_ns, long token,
                           float* s_out, float* phi_out, double* o_out, SubTileActivity* activity,
                           const PulseCodes* q_codes) const {
  if (!active()) return false;
  const int cols = key_.columns(), features = key_.features();
  key_.integrate(q_pulse, now_ns, token, s_out, q_codes);
  const float phi_sum = hard_sigmoid_columns(circuits_->hard_sigmoid, s_out, cols, phi_out);
  value_.integrate(phi_out, now_ns, token, charge_.data());
  const double counts = counter_outputs(circuits_->signed_ctp, charge_.data(), features, o_out);
  if (activity) *activity = read_activity(q_pulse, q_pulse_sum, phi_out, phi_sum, counts, now_ns);
  return true;
}

SubTileActivity SubTileModel::read_activity(const float* q_pulse, double q_pulse_sum,
                                            const float* phi_out, float phi_sum, double counts,
                                            double now_ns) const {
  const int features = key_.features();
  SubTileActivity a;
  a.q_pulse_sum = q_pulse_sum * key_.valid_columns();
  a.columns_converted = key_.valid_columns();
  a.phi_pulse_sum = double(phi_sum) * features;
  a.outputs_converted = features;
  a.counter_fullscale = counts;
  // What the push-pull cells drew (cell_read_charge): the arrays keep the per-row and
  // per-line sums, so this is not a second pass over the cells.
  a.qk_read_charge = key_.read_charge(q_pulse, now_ns);
  a.av_read_charge = value_.read_charge(phi_out, now_ns);
  return a;
}

HeadModel::HeadModel(const HardwareSpec& spec, int head_index)
    : circuits_(std::make_shared<CircuitModel>(spec)),
      tiling_(spec.window, spec.array.cols),
      d_(spec.model.d_head),
      q_pulse_(spec.model.d_head),
      s_(spec.window, 0.0f),
      phi_(spec.window, 0.0f),
      o_(std::size_t(tiling_.subtiles) * spec.model.d_head, 0.0),
      subtile_activity_(tiling_.subtiles),
      nominal_period_ns_(spec.nominal_token_period_ns()) {
  subtiles_.reserve(tiling_.subtiles);
  for (int s = 0; s < tiling_.subtiles; ++s) {
    const ArrayPlace place{head_index, s, s * tiling_.cols};
    subtiles_.emplace_back(*circuits_, d_, tiling_.width(s), place);
  }
}

void HeadModel::step(const double* q, const double* k, const double* v, double* out) {
  step(q, k, v, out, double(t_) * nominal_period_ns_);
}

double HeadModel::oldest_age_ns() const {
  double oldest = -1.0;
  for (const SubTileModel& st : subtiles_) {
    const double w = st.oldest_written_ns();
    if (w >= 0.0 && (oldest < 0.0 || w < oldest)) oldest = w;
  }
  return oldest < 0.0 ? 0.0 : now_ns_ - oldest;
}

void HeadModel::step(const double* q, const double* k, const double* v, double* out,
                     double now_ns) {
  const long t = t_++;
  now_ns_ = now_ns;
  const int slot = tiling_.slot_of_token(t);
  SubTileModel& written = subtiles_[tiling_.subtile_of_slot(slot)];
  const int col = tiling_.column_of_slot(slot);
  // The cells of the write (a K column touches one byte in each of d_head lines) come into
  // cache while the Q pulses are worked out; the write does not depend on them.
  written.prefetch_write(col);
  circuits_->q_pulses(q, d_, q_pulse_.data());
  q_codes_.assign(q_pulse_.data(), d_, circuits_->q_dac);
  double q_sum = 0.0;  // in double: the activity the energy model multiplies
  for (int f = 0; f < d_; ++f) q_sum += q_pulse_[f];

  written.write(col, k, v, now_ns, t);
  // Written first, so that the column of this token is fresh when the policy looks.
  refresh_ = RefreshActivity{};
  for (SubTileModel& st : subtiles_) refresh_.add(st.refresh(now_ns, t));

  std::fill(out, out + d_, 0.0);
  activity_ = SubTileActivity{};
  active_subtiles_ = 0;
  // Without views, one sub-tile's S, phi and outputs in a warm per-thread buffer, reused by
  // every sub-tile of every head, instead of the head's own cold arrays.
  thread_local std::vector<float> s_scratch, phi_scratch;
  thread_local std::vector<double> o_scratch;
  if (!views_) {
    s_scratch.resize(std::size_t(tiling_.cols));
    phi_scratch.resize(std::size_t(tiling_.cols));
    o_scratch.resize(std::size_t(d_));
  }
  // Each sub-tile's arrays are brought into cache while the one before computes.
  subtiles_[0].prefetch();
  for (int s = 0; s < tiling_.subtiles; ++s) {
    if (s + 1 < tiling_.subtiles) subtiles_[s + 1].prefetch();
    const int base = s * tiling_.cols;
    double* o = views_ ? o_.data() + std::size_t(s) * d_ : o_scratch.data();
    float* s_out = views_ ? s_.data() + base : s_scratch.data();
    float* phi_out = views_ ? phi_.data() + base : phi_scratch.data();
    SubTileActivity& a = subtile_activity_[s];
    a = SubTileActivity{};
    if (!subtiles_[s].compute(q_pulse_.data(), q_sum, now_ns, t, s_out, phi_out, o, &a,
                              &q_codes_)) {
      std::fill(o, o + d_, 0.0);
      continue;
    }
    activity_.add(a);
    ++active_subtiles_;
    for (int f = 0; f < d_; ++f) out[f] += o[f];
  }
  const Affine& sc = circuits_->scalers.out;
  if (!sc.identity()) {
    for (int f = 0; f < d_; ++f) out[f] = sc.apply(out[f]);
  }
}

}  // namespace gca::spec

namespace gca::spec {

std::size_t ShadowRefresh::state_bytes() const {
  return sizeof(*this) + heap_bytes(k_) + heap_bytes(v_);
}

std::size_t SubTileModel::state_bytes() const {
  return sizeof(*this) - sizeof(key_) - sizeof(value_) - sizeof(shadow_) + key_.state_bytes() +
         value_.state_bytes() + shadow_.state_bytes() + heap_bytes(charge_);
}

std::size_t HeadModel::state_bytes() const {
  // The sub-tiles live in the vector's buffer: their own sizes are its capacity's bytes.
  std::size_t bytes = sizeof(*this) + sizeof(CircuitModel) + heap_bytes(subtiles_) +
                      heap_bytes(q_pulse_) + heap_bytes(s_) + heap_bytes(phi_) + heap_bytes(o_) +
                      heap_bytes(subtile_activity_) + heap_bytes(q_codes_.code);
  for (const SubTileModel& st : subtiles_) bytes += st.state_bytes() - sizeof(SubTileModel);
  return bytes;
}

}  // namespace gca::spec
