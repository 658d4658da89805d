// VCD traces of a run, for GTKWave (traces/README.md): for each selected head the phase and
// registers of its peripheral control, its Q pulse widths and outputs; for each selected
// sub-tile its HardSigmoid pulse widths and counter values; and the energy of each group so
// far. Signals sit in VCD scopes that follow the module hierarchy from the accelerator down,
// e.g. accelerator.layer0.head0.control.phase.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gca/power/power_tracker.hpp"
#include "gca/sc/accelerator.hpp"

namespace sc_core {
class sc_trace_file;
}

namespace gca::traces {

// What to trace. Indices are checked against the accelerator (see validate).
struct TraceSelection {
  std::vector<int> layers{0};
  std::vector<int> heads{0};     // in each selected layer
  std::vector<int> subtiles{0};  // in each selected head
  // HardSigmoid widths and counters of the first N columns/outputs; likewise the Q pulse
  // widths and the head outputs of the first N features.
  int columns = 4;
};

// Throws gca::Error naming trace.layers, trace.heads, trace.subtiles or trace.columns and the
// allowed range when an index is out of range or listed twice.
void validate(const TraceSelection& selection, const sc::Accelerator& accelerator);

class VcdTracer {
 public:
  // Create during elaboration: after the accelerator exists, before sc_start. `path` may end
  // in ".vcd" or not; its folder is created. `tracker` may be null (then no energy signals).
  // The accelerator and the tracker must outlive the tracer, or close() must come first.
  VcdTracer(const std::string& path, sc::Accelerator& accelerator, const TraceSelection& selection,
            const power::PowerTracker* tracker);
  ~VcdTracer();  // closes the file
  VcdTracer(const VcdTracer&) = delete;
  VcdTracer& operator=(const VcdTracer&) = delete;

  // Detaches the trace hooks from the modules and closes the file (idempotent). Values after
  // this are not recorded.
  void close();
  bool is_open() const { return file_ != nullptr; }
  // After close(): empty when the whole trace was written, else what went wrong (a full disk).
  const std::string& write_error() const { return write_error_; }
  const std::string& file_path() const { return file_path_; }  // ends in ".vcd"
  // The traced signals by their VCD names (dots separate the scopes), in tracing order.
  const std::vector<std::string>& signal_names() const { return names_; }

  // Top-level VCD scope of the energy signals (power.qk_pj, ..., power.total_pj).
  static constexpr const char* kPowerScope = "power";

 private:
  class Replay;
  class Sink;
  class CheckedCopy;
  void trace_replayed(int channel, int i, const std::string& name);
  void append_final_values();

  std::string file_path_;
  std::string write_error_;
  sc_core::sc_trace_file* file_ = nullptr;
  std::unique_ptr<CheckedCopy> copy_;  // the kernel writes into a pipe; this checks every write
  std::unique_ptr<Replay> replay_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::vector<sc::TraceSource*> sources_;  // modules whose hooks point at sinks_
  std::vector<std::string> names_;
  std::vector<std::function<std::string()>> values_;  // by names_: current value, VCD syntax
};

}  // namespace gca::traces
