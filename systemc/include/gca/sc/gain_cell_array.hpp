// The two gain-cell arrays of a sub-tile as SystemC modules. Cells are data, not processes:
// a read is a function call made by the sub-tile during the phase the control schedules, and
// the numerics (stored voltages, decay by age, g(w)) are those of rtl_spec.
#pragma once

#include <systemc>

#include "gca/sc/power_port.hpp"
#include "gca/spec/gain_cell_array.hpp"
#include "gca/spec/head_model.hpp"  // cell_current_offset

namespace gca::sc {

// Charge the cells of an array drew in one read (spec::cell_current_offset): the signed charge
// of its n outputs plus the offset current over the summed pulse widths of the cells read.
inline double drawn_charge(const float* charge, int n, double width_sum, double offset) {
  double sum = 0.0;
  for (int i = 0; i < n; ++i) sum += charge[i];
  return sum + offset * width_sum;
}

// K array: stores K transposed, one column per token slot, one row per feature.
class KeyGainCellArray : public sc_core::sc_module {
 public:
  KeyGainCellArray(sc_core::sc_module_name name, const spec::CircuitModel& circuits, int features,
                   int columns, PowerPort power)
      : sc_module(name),
        cells_(circuits, features, columns),
        power_(power),
        current_offset_(spec::cell_current_offset(circuits)) {}

  void write_column(int col, const double* k_volts, long token, const sc_core::sc_time& at) {
    (void)at;  // the write's energy is booked by the write port's DAC (dac group)
    cells_.write_column(col, k_volts, token);
  }
  // Q pulses on the rows; charge per column. Energy follows the charge the cells draw.
  void read(const float* q_pulse, float q_pulse_sum, long now, float* charge,
            const sc_core::sc_time& at) const {
    cells_.integrate(q_pulse, now, charge);
    power_.record(power::Action::qk_cell_read,
                  drawn_charge(charge, cells_.columns(),
                               double(q_pulse_sum) * cells_.valid_columns(), current_offset_),
                  at);
  }
  void clear() { cells_.clear(); }
  const spec::KeyArray& cells() const { return cells_; }

 private:
  spec::KeyArray cells_;
  PowerPort power_;
  double current_offset_;
};

// V array: one input line per token slot, one output per feature.
class ValueGainCellArray : public sc_core::sc_module {
 public:
  ValueGainCellArray(sc_core::sc_module_name name, const spec::CircuitModel& circuits, int features,
                     int lines, PowerPort power)
      : sc_module(name),
        cells_(circuits, features, lines),
        power_(power),
        current_offset_(spec::cell_current_offset(circuits)) {}

  void write_line(int line, const double* v_volts, long token, const sc_core::sc_time& at) {
    (void)at;
    cells_.write_line(line, v_volts, token);
  }
  // HardSigmoid pulses on the lines; charge per feature.
  void read(const float* phi_pulse, float phi_pulse_sum, long now, float* charge,
            const sc_core::sc_time& at) const {
    cells_.integrate(phi_pulse, now, charge);
    power_.record(power::Action::av_cell_read,
                  drawn_charge(charge, cells_.features(), double(phi_pulse_sum) * cells_.features(),
                               current_offset_),
                  at);
  }
  void clear() { cells_.clear(); }
  const spec::ValueArray& cells() const { return cells_; }

 private:
  spec::ValueArray cells_;
  PowerPort power_;
  double current_offset_;
};

}  // namespace gca::sc
