// The two gain-cell arrays of a sub-tile as SystemC modules. The cells themselves (stored
// voltages, decay, g(w)) live in the sub-tile's circuit model (rtl_spec KeyArray / ValueArray,
// held by the head's HeadModel); these modules are where the arrays' energy is booked, at the end
// of the phase that reads them (by the head, through SubTileBookings: sub_tile.hpp).
#pragma once

#include <systemc>

#include "gca/power/energy_table.hpp"
#include "gca/sc/power_port.hpp"

namespace gca::sc {

// K array: stores K transposed, one column per token slot; read by the Q pulses.
class KeyGainCellArray : public sc_core::sc_module {
 public:
  KeyGainCellArray(sc_core::sc_module_name name, PowerPort power)
      : sc_module(name), power_(power) {}
  // Books qk_cell_read (through its head's SubTileBookings).
  const PowerPort& power() const { return power_; }

 private:
  PowerPort power_;
  double current_offset_;
};

// V array: one input line per token slot; read by the HardSigmoid pulses.
class ValueGainCellArray : public sc_core::sc_module {
 public:
  ValueGainCellArray(sc_core::sc_module_name name, PowerPort power)
      : sc_module(name), power_(power) {}
  // Books av_cell_read (through its head's SubTileBookings).
  const PowerPort& power() const { return power_; }

 private:
  PowerPort power_;
  double current_offset_;
};

}  // namespace gca::sc
