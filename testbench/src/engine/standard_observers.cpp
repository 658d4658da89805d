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
    : on_(sc.check_against_oracle),
      d_(s.model.d_head),
      outputs_total_(sc.host.tokens * s.model.n_layers * s.model.n_heads * s.model.d_head) {
  const int L = s.model.n_layers, H = s.model.n_heads;
  if (on_)
    checker_ = std::make_unique<OracleChecker>(s, L, H, oracle_stride(sc, sc.host.tokens * L * H));
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
  if (expected_.empty() || o.layer != 0 || o.head != 0) return;
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
                "relative L2 error of head 0 of layer 0 against check.expect_out");
  if (rel > expect_.max_rel_l2) r.exit_code = std::max<int>(r.exit_code, kExitCheckFailed);
}

void FingerprintObserver::output(const HeadOutput& o) {
  const auto* p = reinterpret_cast<const unsigned char*>(o.out);
  for (std::size_t i = 0; i < sizeof(double) * std::size_t(d_); ++i)
    hash_ = (hash_ ^ p[i]) * 0x100000001b3ULL;
  count_ += d_;
}

void FingerprintObserver::finish(RunResult& r) {
  r.report["outputs"] = {{"fnv1a64", hex(hash_)}, {"count", count_}};
}

}  // namespace gca::tb
