// Charge-to-pulse circuits of a sub-tile, as banks (one circuit per column or per output):
// modelling each circuit as its own module would cost time and add nothing a reader needs.
#pragma once

#include <systemc>

#include "gca/sc/power_port.hpp"
#include "gca/spec/circuits.hpp"

namespace gca::sc {

// One HardSigmoid charge-to-pulse circuit per K column (paper Eq. 3): column charge in,
// pulse width (units of T_max) out, which drives the V array's line of the same slot.
class ChargeToPulse : public sc_core::sc_module {
 public:
  ChargeToPulse(sc_core::sc_module_name name, const spec::HardSigmoidChargeToPulse& circuit,
                PowerPort power)
      : sc_module(name), circuit_(circuit), power_(power) {}
  float convert(const float* charge, int columns, int valid_columns, float* width,
                const sc_core::sc_time& at) const {
    power_.record(power::Action::qk_ctp, valid_columns, at);
    return circuit_.convert(charge, columns, width);
  }

 private:
  spec::HardSigmoidChargeToPulse circuit_;
  PowerPort power_;
};

// One counter per V output: counts the signed pulse into a sign bit + magnitude (the
// quantizer of out_levels over [-1, 1]). Energy follows the count.
class Counter : public sc_core::sc_module {
 public:
  Counter(sc_core::sc_module_name name, PowerPort power) : sc_module(name), power_(power) {}
  void count(double fullscale_counts, const sc_core::sc_time& at) const {
    power_.record(power::Action::av_counter, fullscale_counts, at);
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
    counter.count(counts, count_at);
    return counts;
  }
  Counter counter;

 private:
  spec::SignedChargeToPulse circuit_;
  PowerPort power_;
};

}  // namespace gca::sc
