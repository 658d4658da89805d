// Input-side converters: the write DACs of K and V (3-bit by default) and the Q pulse
// generators (4-bit pulse-width modulation, broadcast to every sub-tile of a head). The
// quantization itself is the circuit model's (rtl_spec CircuitModel); these modules book the
// conversions when they happen.
#pragma once

#include <memory>
#include <systemc>
#include <vector>

#include "gca/sc/power_port.hpp"
#include "gca/sc/trace_source.hpp"
#include "gca/spec/circuits.hpp"

namespace gca::sc {

// Write DAC: digital K or V values become stored voltages on the gain cells of one slot.
class Dac : public sc_core::sc_module {
 public:
  Dac(sc_core::sc_module_name name, PowerPort power) : sc_module(name), power_(power) {}
  void convert(double conversions, double cells_written) const {
    power_.record(power::Action::dac_kv_conversion, conversions);
    power_.record(power::Action::cell_write, cells_written);
  }

 private:
  PowerPort power_;
};

// Q pulse generators: one pulse per feature, width = quantized q in units of T_max.
// Traced values: the widths (width_<feature>), from the start of the Q phase.
class QPulseGenerator : public sc_core::sc_module, public TraceSource {
 public:
  QPulseGenerator(sc_core::sc_module_name name, std::shared_ptr<const spec::CircuitModel> circuits,
                  PowerPort power)
      : sc_module(name), TraceSource("width"), circuits_(std::move(circuits)), power_(power) {}
  void generate(const double* q, int features, double pulses) {
    power_.record(power::Action::dac_q_pulse, pulses);
    if (!traced()) return;
    widths_.resize(static_cast<std::size_t>(features));
    circuits_->q_pulses(q, features, widths_.data());
    trace_values(widths_.data(), features);
  }

 private:
  std::shared_ptr<const spec::CircuitModel> circuits_;
  PowerPort power_;
  std::vector<float> widths_;
};

}  // namespace gca::sc
