// Trace hooks (traces/VcdTracer). A module that produces values worth tracing (pulse widths,
// counts) hands them to a sink when they appear; the sink shows them on signals. Modules hold
// no sink unless a tracer attached one, so a module that is not traced pays one branch per token.
#pragma once

#include <systemc>

namespace gca::sc {

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void record(const sc_core::sc_time& at, const float* values, int n) = 0;
  virtual void record(const sc_core::sc_time& at, const double* values, int n) = 0;
};

// Base of the modules that expose traced values; a tracer finds them by walking the module
// hierarchy. Their values are traced as <module>.<value_name>_<i>.
class TraceSource {
 public:
  explicit TraceSource(const char* value_name) : value_name_(value_name) {}
  const char* trace_value_name() const { return value_name_; }
  void set_trace_sink(TraceSink* sink) { trace_sink_ = sink; }
  TraceSink* trace_sink() const { return trace_sink_; }
  bool traced() const { return trace_sink_ != nullptr; }
  // Values that appear now.
  template <class T>
  void trace_values(const T* values, int n) const {
    if (trace_sink_) trace_sink_->record(sc_core::sc_time_stamp(), values, n);
  }

 protected:
  ~TraceSource() = default;

 private:
  const char* value_name_;
  TraceSink* trace_sink_ = nullptr;
};

}  // namespace gca::sc
