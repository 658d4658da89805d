// Charge-to-pulse circuits of a sub-tile, as banks (one circuit per column or per output):
// modelling each circuit as its own module would cost time and add nothing a reader needs.
// Their conversions are computed by the sub-tile's circuit model (rtl_spec SubTileModel); these
// modules book the energy of what that model reports, at the end of their phase (through their
// head's SubTileBookings: sub_tile.hpp), and show the values on traces.
#pragma once

#include <systemc>

#include "gca/power/energy_table.hpp"
#include "gca/sc/power_port.hpp"
#include "gca/sc/trace_source.hpp"
#include "gca/spec/head_model.hpp"

namespace gca::sc {

// One HardSigmoid charge-to-pulse circuit per K column (paper Eq. 3): column charge in, pulse
// width out, which drives the V array's line of the same slot. Traced values: the pulse widths
// (width_<column>), during the phi phase.
class ChargeToPulse : public sc_core::sc_module, public TraceSource {
 public:
  ChargeToPulse(sc_core::sc_module_name name, PowerPort power)
      : sc_module(name), TraceSource("width"), power_(power) {}
  // Start of the phi phase: the pulses appear.
  void emit(const float* widths, int columns) const { trace_values(widths, columns); }
  // Books qk_ctp at the end of the phi phase (through its head's SubTileBookings).
  const PowerPort& power() const { return power_; }

 private:
  PowerPort power_;
};

// One counter per V output: counts the signed pulse into a sign bit + magnitude. Energy follows
// the count. Traced values: the signed results (value_<output>) at the end of the count phase.
class Counter : public sc_core::sc_module, public TraceSource {
 public:
  Counter(sc_core::sc_module_name name, PowerPort power)
      : sc_module(name), TraceSource("value"), power_(power) {}
  // End of the count phase: the results appear.
  void show(const double* values, int outputs) const { trace_values(values, outputs); }
  // Books counter_count and counter_clock at the end of the count phase (through its head's
  // SubTileBookings).
  const PowerPort& power() const { return power_; }

 private:
  PowerPort power_;
};

// One signed charge-to-pulse circuit per V output, followed by its counter.
class SignedChargeToPulse : public sc_core::sc_module {
 public:
  SignedChargeToPulse(sc_core::sc_module_name name, PowerPort ctp_power, PowerPort counter_power)
      : sc_module(name), counter("counter", counter_power), power_(ctp_power) {}
  // Books av_ctp at the end of the count phase (through its head's SubTileBookings).
  const PowerPort& power() const { return power_; }
  Counter counter;

 private:
  PowerPort power_;
};

}  // namespace gca::sc
