// Observers watch a run and add to its result: the oracle check, the retention probe, the
// expected-output check, the output fingerprint, the energy series, progress. The engine calls
// them; a command adds its own (e.g. `gca-sim head` keeps every output).
#pragma once

#include <functional>
#include <string>

#include "gca/tb/engine/metrics.hpp"

namespace gca::sc {
struct HeadResult;
}
namespace gca::tlm {
class System;
}

namespace gca::tb {

struct RunResult;

// One output of one head as the host read it.
struct HeadOutput {
  long token = 0;
  int layer = 0, head = 0;
  const double* out = nullptr;  // d_head values
  // q | k | v the head received (3 d_head values) when the observer asked for inputs of this
  // head (wants_inputs), else nullptr.
  const double* in = nullptr;
  double write_ns = 0.0;  // simulated time the head wrote this token (its numerics' "now")
};

class Observer {
 public:
  virtual ~Observer() = default;
  // The engine keeps the inputs of the heads some observer asks for (memory: a few tokens).
  virtual bool wants_inputs(int layer, int head) const {
    (void)layer, (void)head;
    return false;
  }
  // Once the system is built, before it runs (e.g. to ask a head to keep its scores).
  virtual void attach(tlm::System& system) { (void)system; }
  virtual void output(const HeadOutput& o) { (void)o; }
  // A head's own record of a token (phases, scores when captured).
  virtual void head_result(int layer, int head, const sc::HeadResult& r) {
    (void)layer, (void)head, (void)r;
  }
  // After each token has left every layer.
  virtual void token_done(long tokens_done, double simulated_ns) {
    (void)tokens_done, (void)simulated_ns;
  }
  // When the run has ended: add report sections and metrics; may lower the exit code's
  // standing (a failed check sets kExitCheckFailed).
  virtual void finish(RunResult& result) { (void)result; }
  // Files of its own in the run's output set: `path_of(name)` is where to write file `name`.
  virtual void write_files(const std::function<std::string(const std::string&)>& path_of) {
    (void)path_of;
  }
};

}  // namespace gca::tb
