// Input-side converters: the write DACs of K and V (3-bit by default) and the Q pulse
// generators (4-bit pulse-width modulation, broadcast to every sub-tile of a head).
#pragma once

#include <systemc>

#include "gca/sc/charge_to_pulse.hpp"  // TraceSource
#include "gca/sc/power_port.hpp"
#include "gca/spec/circuits.hpp"

namespace gca::sc {

// Write DAC: a digital K or V value becomes a stored voltage on a gain cell. The quantization
// itself is applied by the array when it stores (rtl_spec), so that both paths share one
// definition; this module accounts the conversions and the cell writes they drive.
class Dac : public sc_core::sc_module {
 public:
  Dac(sc_core::sc_module_name name, PowerPort power) : sc_module(name), power_(power) {}
  void convert(int values, const sc_core::sc_time& at) const {
    power_.record(power::Action::dac_kv_conversion, values, at);
    power_.record(power::Action::cell_write, values, at);
  }

 private:
  PowerPort power_;
};

// Q pulse generators: one pulse per feature, width = quantized q in units of T_max.
// Traced values: the widths (width_<feature>), from the start of the Q phase (`at`).
class QPulseGenerator : public sc_core::sc_module, public TraceSource {
 public:
  QPulseGenerator(sc_core::sc_module_name name, const spec::CircuitModel& circuits, PowerPort power)
      : sc_module(name), TraceSource("width"), circuits_(circuits), power_(power) {}
  float generate(const double* q, int features, float* width, const sc_core::sc_time& at) const {
    power_.record(power::Action::dac_q_pulse, features, at);
    const float sum = circuits_.q_pulses(q, features, width);
    trace_values(at, width, features);
    return sum;
  }

 private:
  const spec::CircuitModel& circuits_;
  PowerPort power_;
};

}  // namespace gca::sc
