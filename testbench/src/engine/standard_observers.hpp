// The observers every run gets: the oracle check, the retention probe, the expected-output
// check and the output fingerprint. Each adds its section of report.json.
#pragma once

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
  void finish(RunResult& r) override;

 private:
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

// FNV-1a over every output in the order the host read them: "outputs" in report.json.
class FingerprintObserver : public Observer {
 public:
  explicit FingerprintObserver(int d) : d_(d) {}
  void output(const HeadOutput& o) override;
  void finish(RunResult& r) override;

 private:
  int d_;
  long count_ = 0;
  std::uint64_t hash_ = 0xcbf29ce484222325ULL;
};

}  // namespace gca::tb
