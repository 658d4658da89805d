// Workloads: what the host feeds the accelerator and what it does with the results. A kind of
// workload is named by the scenario's "workload": {"kind": ...} (default "synthetic": the
// stimulus section's uniform or .npy data). Adding a kind is a class deriving from Workload, a
// WorkloadKind describing it and one line in src/engine/workload_kinds.cpp; the engine, the
// scenario loader and the commands need no change.
//
// A workload may run a closed loop: the host asks for the inputs of (token, layer, head) only
// after it has delivered every output of the layer before (decode and prefill alike), so a
// workload can compute layer l+1's Q, K, V from layer l's outputs.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gca/spec/params.hpp"
#include "gca/tb/engine/metrics.hpp"
#include "gca/tb/scenario.hpp"

namespace gca::tb {

class Workload {
 public:
  virtual ~Workload() = default;
  // Fills q, k, v (d_head values each) of head `head` of layer `layer` for token `token`.
  virtual void inputs(long token, int layer, int head, double* q, double* k, double* v) = 0;
  // The output (d_head values) of that head, as the host read it.
  virtual void output(long token, int layer, int head, const double* out) {
    (void)token, (void)layer, (void)head, (void)out;
  }
  // True when every head of every layer must be emptied (RESET) before token `token` enters:
  // a closed loop scoring a text in chunks. Asked once per layer per token, in decode order.
  virtual bool reset_heads_before(long token) const {
    (void)token;
    return false;
  }
  // Open loop: the same values as inputs(), from a pure function that any thread may call at
  // any time (the heads' numerics then run a token ahead of the simulation); null when inputs
  // depend on outputs or on the order of calls.
  virtual tlm::TokenSource open_loop_inputs() const { return nullptr; }
  // Figures of the run (a language model's loss, ...), added when the run has ended.
  virtual void add_metrics(Metrics& metrics) const { (void)metrics; }
  // The "workload" section of report.json beyond kind and mode (may be empty).
  virtual nlohmann::ordered_json report() const { return nlohmann::ordered_json::object(); }
};

struct WorkloadKind {
  std::string name;
  std::string description;  // one line, for --help and the docs
  // Keys of the scenario's "workload" section this kind reads, beyond the host's own (mode,
  // tokens, host_ns_per_layer, protocol, quantum_ns, completion, poll_ns, kind).
  std::vector<std::string> keys;
  // Called once the scenario is loaded: validate scenario.workload_section (gca::Error naming
  // the file and key), and set what the kind decides (token count, hardware overrides put
  // before the scenario's own). May be empty.
  std::function<void(Scenario& scenario)> configure;
  // A fresh workload for one run (Monte Carlo makes one per chip and one for the ideal chip).
  std::function<std::unique_ptr<Workload>(const Scenario& scenario, const spec::HardwareSpec& spec)>
      make;
};

// The registered kinds: the built-in list (src/engine/workload_kinds.cpp) and any added with
// register_workload_kind (tests, or a tool linking the engine); a later kind of the same name
// replaces the earlier.
const std::vector<WorkloadKind>& workload_kinds();
void register_workload_kind(WorkloadKind kind);
// The kind called `name`; gca::Error naming `file`, workload.kind and the allowed names.
const WorkloadKind& find_workload_kind(const std::string& name, const std::string& file);

// Runs the configure hook of scenario.workload_kind (load_scenario does it; a command that builds
// a Scenario in memory, e.g. from its own flags, calls it once the workload section is set).
void configure_workload(Scenario& scenario);

// The built-in kind: the scenario's stimulus (uniform random or .npy), open loop.
WorkloadKind synthetic_workload_kind();
// A character language model scoring a text in a closed loop (src/engine/lm_workload.cpp).
WorkloadKind lm_workload_kind();

}  // namespace gca::tb
