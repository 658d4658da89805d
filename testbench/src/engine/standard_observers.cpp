#include "standard_observers.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gca/tb/engine/experiment.hpp"
#include "gca/tb/stimulus.hpp"

namespace gca::tb {
namespace {

// Outputs compared with the oracle: every token of every head unless the run is long, then
// every n-th token of each head so that about kOracleBudget head-tokens are compared.
constexpr long kOracleBudget = 8000;
long oracle_stride(const Scenario& sc, long head_tokens) {
  if (sc.oracle_every > 0) return sc.oracle_every;
  return std::max(1L, (head_tokens + kOracleBudget - 1) / kOracleBudget);
}

std::string hex(std::uint64_t x) {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

}  // namespace

OracleObserver::OracleObserver(const Scenario& sc, const spec::HardwareSpec& s)
    : heads_(s.model.n_heads),
      on_(sc.check_against_oracle),
      d_(s.model.d_head),
      outputs_total_(sc.host.tokens * s.model.n_layers * s.model.n_heads * s.model.d_head) {
  const int L = s.model.n_layers, H = s.model.n_heads;
  if (on_)
    checker_ = std::make_unique<OracleChecker>(s, L, H, oracle_stride(sc, sc.host.tokens * L * H));
}

void OracleObserver::heads_reset(int layer) {
  if (!checker_) return;
  for (int h = 0; h < heads_; ++h) checker_->reset(layer, h);
}

void OracleObserver::output(const HeadOutput& o) {
  if (!checker_) return;
  checker_->submit(o.layer, o.head, o.token, o.in, o.in + d_, o.in + 2 * d_, o.out, o.write_ns);
}

void OracleObserver::finish(RunResult& r) {
  if (checker_) checker_->finish();  // the run is complete once every output is checked
  const long mismatches = checker_ ? checker_->mismatches() : 0;
  r.report["check"] = {
      {"against_oracle", on_},
      {"oracle",
       "rtl_spec OracleHead: plain double-precision head sharing no kernel code with the model"},
      {"oracle_every", checker_ ? checker_->every() : 0},
      {"outputs_compared", checker_ ? checker_->compared() : 0},
      {"outputs_total", outputs_total_},
      {"mismatches", mismatches},
      {"boundary_flips", checker_ ? checker_->boundary_flips() : 0},
      {"max_abs_error", checker_ ? checker_->max_abs_error() : 0.0}};
  if (mismatches > 0) r.exit_code = std::max<int>(r.exit_code, kExitCheckFailed);
}

void RetentionObserver::output(const HeadOutput& o) {
  if (o.in) probe_.submit(o.in, o.in + d_, o.in + 2 * d_, o.out, o.write_ns);
}

void RetentionObserver::finish(RunResult& r) {
  r.report["retention"] = probe_.summary();
}

ExpectedOutputObserver::ExpectedOutputObserver(const Scenario& sc, int d)
    : expect_(sc.expect), d_(d), expected_(load_expected_outputs(sc.expect, d, sc.host.tokens)) {}

void ExpectedOutputObserver::output(const HeadOutput& o) {
  if (expected_.empty() || o.layer != expect_.layer || o.head != expect_.head) return;
  for (int i = 0; i < d_; ++i) {
    const double e = expected_[std::size_t(o.token) * d_ + i];
    err2_ += (o.out[i] - e) * (o.out[i] - e);
    ref2_ += e * e;
  }
}

void ExpectedOutputObserver::finish(RunResult& r) {
  if (expected_.empty()) return;
  const double rel = std::sqrt(err2_ / std::max(ref2_, 1e-300));
  r.report["check"]["expected_out_rel_l2"] = rel;
  r.report["check"]["expected_out_max_rel_l2"] = expect_.max_rel_l2;
  r.report["check"]["expected_out"] = expect_.out_path;
  r.metrics.set("expected_out_rel_l2", rel, "1",
                "relative L2 error of head check.expect_head of layer check.expect_layer "
                "against check.expect_out");
  if (rel > expect_.max_rel_l2) r.exit_code = std::max<int>(r.exit_code, kExitCheckFailed);
}

namespace {

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

constexpr std::uint64_t kFnvBasis = 0xcbf29ce484222325ULL;

}  // namespace

// A head's chain is a sequence of dependent multiplies, one per byte: outputs of different
// heads wait here, and kBatch chains advance together, byte by byte (the same hash per head,
// several times the throughput). A head that is already waiting flushes the batch first, so
// that each head's outputs enter its chain in order.
void FingerprintObserver::output(const HeadOutput& o) {
  auto it = head_hash_.try_emplace({o.layer, o.head}, kFnvBasis).first;
  std::uint64_t* chain = &it->second;
  const std::size_t bytes = sizeof(double) * std::size_t(d_);
  if (std::find(pending_chain_.begin(), pending_chain_.end(), chain) != pending_chain_.end() ||
      pending_chain_.size() == kBatch)
    flush();
  pending_chain_.push_back(chain);
  const auto* p = reinterpret_cast<const unsigned char*>(o.out);
  pending_bytes_.insert(pending_bytes_.end(), p, p + bytes);
  count_ += d_;
}

void FingerprintObserver::flush() {
  const std::size_t n = pending_chain_.size();
  if (n == 0) return;
  const std::size_t bytes = pending_bytes_.size() / n;
  std::uint64_t h[kBatch];
  for (std::size_t j = 0; j < n; ++j) h[j] = *pending_chain_[j];
  const unsigned char* base = pending_bytes_.data();
  for (std::size_t i = 0; i < bytes; ++i)
    for (std::size_t j = 0; j < n; ++j) h[j] = (h[j] ^ base[j * bytes + i]) * 0x100000001b3ULL;
  for (std::size_t j = 0; j < n; ++j) *pending_chain_[j] = h[j];
  pending_chain_.clear();
  pending_bytes_.clear();
}

void FingerprintObserver::finish(RunResult& r) {
  flush();
  std::uint64_t hash = kFnvBasis;
  for (const auto& [head, h] : head_hash_) hash = fnv1a(hash, &h, sizeof h);
  r.report["outputs"] = {{"fnv1a64", hex(hash)}, {"count", count_}};
}

}  // namespace gca::tb
