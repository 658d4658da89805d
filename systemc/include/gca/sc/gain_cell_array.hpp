// The two gain-cell arrays of a sub-tile as SystemC modules. Cells are data, not processes:
// a read is a function call made by the sub-tile during the phase the control schedules, and
// the numerics (stored voltages, decay by age, g(w)) are those of rtl_spec.
#pragma once

#include <systemc>

#include "gca/sc/power_port.hpp"
#include "gca/spec/gain_cell_array.hpp"

namespace gca::sc {

// K array: stores K transposed, one column per token slot, one row per feature.
class KeyGainCellArray : public sc_core::sc_module {
 public:
  KeyGainCellArray(sc_core::sc_module_name name, const spec::CircuitModel& circuits, int features,
                   int columns, PowerPort power, spec::ArrayPlace place = {})
      : sc_module(name), cells_(circuits, features, columns, place), power_(power) {}

  // The write's energy is booked by the write port's DAC (dac group); `at` starts the decay.
  void write_column(int col, const double* k_volts, long token, const sc_core::sc_time& at) {
    cells_.write_column(col, k_volts, at.to_seconds() * 1e9, token);
  }
  // Q pulses on the rows; charge per column. Energy follows the pulse widths. token_time:
  // when the token was written (its reads decay from the same clock, docs/retention.md).
  void read(const float* q_pulse, float q_pulse_sum, long now, const sc_core::sc_time& token_time,
            float* charge, const sc_core::sc_time& at) const {
    cells_.integrate(q_pulse, token_time.to_seconds() * 1e9, now, charge);
    power_.record(power::Action::qk_cell_read, double(q_pulse_sum) * cells_.valid_columns(), at);
  }
  void clear() { cells_.clear(); }
  const spec::KeyArray& cells() const { return cells_; }
  spec::KeyArray& cells() { return cells_; }  // for the refresh rewrite

 private:
  spec::KeyArray cells_;
  PowerPort power_;
};

// V array: one input line per token slot, one output per feature.
class ValueGainCellArray : public sc_core::sc_module {
 public:
  ValueGainCellArray(sc_core::sc_module_name name, const spec::CircuitModel& circuits, int features,
                     int lines, PowerPort power, spec::ArrayPlace place = {})
      : sc_module(name), cells_(circuits, features, lines, place), power_(power) {}

  void write_line(int line, const double* v_volts, long token, const sc_core::sc_time& at) {
    cells_.write_line(line, v_volts, at.to_seconds() * 1e9, token);
  }
  // HardSigmoid pulses on the lines; charge per feature.
  void read(const float* phi_pulse, float phi_pulse_sum, long now,
            const sc_core::sc_time& token_time, float* charge, const sc_core::sc_time& at) const {
    cells_.integrate(phi_pulse, token_time.to_seconds() * 1e9, now, charge);
    power_.record(power::Action::av_cell_read, double(phi_pulse_sum) * cells_.features(), at);
  }
  void clear() { cells_.clear(); }
  const spec::ValueArray& cells() const { return cells_; }
  spec::ValueArray& cells() { return cells_; }  // for the refresh rewrite

 private:
  spec::ValueArray cells_;
  PowerPort power_;
};

}  // namespace gca::sc
