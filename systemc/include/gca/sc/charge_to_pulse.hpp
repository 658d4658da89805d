// Charge-to-pulse circuits of a sub-tile, as banks (one circuit per column or per output):
// modelling each circuit as its own module would cost time and add nothing a reader needs.
#pragma once

#include <systemc>

#include "gca/sc/power_port.hpp"
#include "gca/spec/circuits.hpp"

namespace gca::sc {

// Trace hooks (traces/VcdTracer). A module that produces values worth tracing (pulse widths,
// counts) hands them to a sink with the simulated time at which they appear; the sink replays
// them on signals at that time. Modules hold no sink unless a tracer attached one, so a module
// that is not traced pays one branch per token.
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
  template <class T>
  void trace_values(const sc_core::sc_time& at, const T* values, int n) const {
    if (trace_sink_) trace_sink_->record(at, values, n);
  }

 protected:
  ~TraceSource() = default;

 private:
  const char* value_name_;
  TraceSink* trace_sink_ = nullptr;
};

// One HardSigmoid charge-to-pulse circuit per K column (paper Eq. 3): column charge in,
// pulse width (units of T_max) out, which drives the V array's line of the same slot.
// Traced values: the pulse widths (width_<column>), from the start of the phi phase (`at`).
class ChargeToPulse : public sc_core::sc_module, public TraceSource {
 public:
  ChargeToPulse(sc_core::sc_module_name name, const spec::HardSigmoidChargeToPulse& circuit,
                PowerPort power)
      : sc_module(name), TraceSource("width"), circuit_(circuit), power_(power) {}
  float convert(const float* charge, int columns, int valid_columns, float* width,
                const sc_core::sc_time& at) const {
    power_.record(power::Action::qk_ctp, valid_columns, at);
    const float sum = circuit_.convert(charge, columns, width);
    trace_values(at, width, columns);
    return sum;
  }

 private:
  spec::HardSigmoidChargeToPulse circuit_;
  PowerPort power_;
};

// One counter per V output: counts the signed pulse into a sign bit + magnitude (the
// quantizer of out_levels over [-1, 1]). Energy follows the count. Traced values: the signed
// results (value_<output>), which the sub-tile hands over at the end of the count phase.
class Counter : public sc_core::sc_module, public TraceSource {
 public:
  Counter(sc_core::sc_module_name name, PowerPort power)
      : sc_module(name), TraceSource("value"), power_(power) {}
  void count(double fullscale_counts, int counters, const sc_core::sc_time& at) const {
    power_.record(power::Action::counter_count, fullscale_counts, at);
    power_.record(power::Action::counter_clock, counters, at);
  }

 private:
  PowerPort power_;
};

// One signed charge-to-pulse circuit per V output, followed by its counter.
class SignedChargeToPulse : public sc_core::sc_module {
 public:
  SignedChargeToPulse(sc_core::sc_module_name name, const spec::SignedChargeToPulse& circuit,
                      PowerPort ctp_power, PowerPort counter_power)
      : sc_module(name), counter("counter", counter_power), circuit_(circuit), power_(ctp_power) {}
  // Returns the sum of |output| (full-scale counts), which the counter then counts.
  double convert(const float* charge, int features, double* out, const sc_core::sc_time& at,
                 const sc_core::sc_time& count_at) const {
    power_.record(power::Action::av_ctp, features, at);
    const double counts = circuit_.convert(charge, features, out);
    counter.count(counts, features, count_at);
    return counts;
  }
  Counter counter;

 private:
  spec::SignedChargeToPulse circuit_;
  PowerPort power_;
};

}  // namespace gca::sc
