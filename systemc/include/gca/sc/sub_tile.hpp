// A sub-tile: K array + one HardSigmoid charge-to-pulse per column, V array + one signed
// charge-to-pulse and counter per output (docs/hardware.md, "structure"). Its cells and circuits
// compute in the head's circuit model (rtl_spec SubTileModel); this module is the sub-tile's place
// in the hierarchy, where its energy is booked phase by phase and its values are traced.
#pragma once

#include <systemc>

#include "gca/sc/charge_to_pulse.hpp"
#include "gca/sc/gain_cell_array.hpp"

namespace gca::sc {

class SubTile : public sc_core::sc_module {
 public:
  SubTile(sc_core::sc_module_name name, int features, int columns, PowerFactory& power);

  // What the sub-tile's modules book for one token is power::subtile_actions() of what its
  // circuits did: each module books its own actions at the end of its phase.
  // End of the Q phase: the K array was read by the Q pulses.
  void q_phase_done(const power::ActionCounts& a) const;
  // Start of the phi phase: the HardSigmoid pulses (`widths`, one per column) appear.
  void phi_phase_starts(const float* widths) const { hard_sigmoid.emit(widths, columns_); }
  // End of the phi phase: the HardSigmoid pulses drove the V array.
  void phi_phase_done(const power::ActionCounts& a) const;
  // End of the count phase: signed conversions counted into `outputs` (one per feature).
  void count_phase_done(const power::ActionCounts& a, const double* outputs) const;

  int columns() const { return columns_; }
  int features() const { return features_; }

  KeyGainCellArray k_array;
  ValueGainCellArray v_array;
  ChargeToPulse hard_sigmoid;
  SignedChargeToPulse signed_ctp;

 private:
  int features_, columns_;
};

}  // namespace gca::sc
