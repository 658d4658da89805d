// The observers every run gets: the oracle check, the retention probe, the expected-output
// check and the output fingerprint. Each adds its section of report.json.
#pragma once

#include <map>
#include <utility>

#include <cstdint>
#include <memory>
#include <vector>

#include "gca/tb/engine/observer.hpp"
#include "gca/tb/oracle_checker.hpp"
#include "gca/tb/retention_probe.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {

// Every output against the oracle (a plain double-precision head), on a thread of its own:
// "check" in report.json; a mismatch fails the run (exit code 1).
class OracleObserver : public Observer {
 public:
  OracleObserver(const Scenario& sc, const spec::HardwareSpec& s);
  bool wants_inputs(int, int) const override { return checker_ != nullptr; }
  void output(const HeadOutput& o) override;
  void heads_reset(int layer) override;
  void finish(RunResult& r) override;

 private:
  int heads_;
  bool on_;
  int d_;
  long outputs_total_;
  std::unique_ptr<OracleChecker> checker_;
};

// Head 0 of layer 0 against the same head without leakage: "retention" in report.json.
class RetentionObserver : public Observer {
 public:
  explicit RetentionObserver(const spec::HardwareSpec& s)
      : leaks_(s.retention.leaks()), d_(s.model.d_head), probe_(s) {}
  bool wants_inputs(int layer, int head) const override {
    return leaks_ && layer == 0 && head == 0;
  }
  void output(const HeadOutput& o) override;
  void heads_reset(int layer) override {
    if (leaks_ && layer == 0) probe_.reset();
  }
  void finish(RunResult& r) override;

 private:
  bool leaks_;
  int d_;
  RetentionProbe probe_;
};

// Head 0 of layer 0 against check.expect_out: relative L2 error, a limit, exit code 1 beyond.
class ExpectedOutputObserver : public Observer {
 public:
  ExpectedOutputObserver(const Scenario& sc, int d);
  void output(const HeadOutput& o) override;
  void finish(RunResult& r) override;

 private:
  ExpectConfig expect_;
  int d_;
  std::vector<double> expected_;
  double err2_ = 0.0, ref2_ = 0.0;
};

// FNV-1a over every output, independent of the order the host reads heads and layers in: one
// chain per (layer, head) over its tokens (a head's results come in token order), the chains
// folded in (layer, head) order at the end: "outputs" in report.json.
class FingerprintObserver : public Observer {
 public:
  explicit FingerprintObserver(int d) : d_(d) {}
  void output(const HeadOutput& o) override;
  void finish(RunResult& r) override;

 private:
  void flush();  // hashes the waiting outputs into their heads' chains
  static constexpr std::size_t kBatch = 8;
  int d_;
  long count_ = 0;
  std::map<std::pair<int, int>, std::uint64_t> head_hash_;  // node-based: pointers stay valid
  std::vector<std::uint64_t*> pending_chain_;  // heads whose outputs wait, at most kBatch
  std::vector<unsigned char> pending_bytes_;   // their outputs' bytes, one after the other
};

}  // namespace gca::tb
