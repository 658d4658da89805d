// A sub-tile: K array + one HardSigmoid charge-to-pulse per column, V array + one signed
// charge-to-pulse and counter per output (SPEC.md section 2).
#pragma once

#include <systemc>
#include <vector>

#include "gca/sc/charge_to_pulse.hpp"
#include "gca/sc/gain_cell_array.hpp"
#include "gca/sc/phase.hpp"
#include "gca/spec/head_model.hpp"

namespace gca::sc {

class SubTile : public sc_core::sc_module {
 public:
  SubTile(sc_core::sc_module_name name, const spec::CircuitModel& circuits, int features,
          int columns, PowerFactory& power, spec::ArrayPlace place = {});

  // The WritePort stores one token's key column and value line in slot `col`.
  void write(int col, const double* k_volts, const double* v_volts, long token,
             const sc_core::sc_time& at);
  // One read with the schedule of the control. Outputs: charge and HardSigmoid width per
  // column (for score dumps and traces) and the quantized output per feature.
  // Returns false, touching nothing, while the sub-tile holds no token of the window.
  bool compute(const float* q_pulse, float q_pulse_sum, long now, const TokenSchedule& when,
               float* charge_out, float* phi_out, double* o_out) const;

  // The refresh policy at time now_ns (rtl_spec ShadowRefresh): rewrites decayed columns.
  spec::RefreshActivity refresh(double now_ns, long token) {
    return shadow_.apply(k_array.cells(), v_array.cells(), now_ns, token);
  }

  void clear() {
    k_array.clear();
    v_array.clear();
  }
  bool active() const { return k_array.cells().valid_columns() > 0; }
  int columns() const { return k_array.cells().columns(); }
  int features() const { return k_array.cells().features(); }

  KeyGainCellArray k_array;
  ValueGainCellArray v_array;
  ChargeToPulse hard_sigmoid;
  SignedChargeToPulse signed_ctp;

 private:
  spec::ShadowRefresh shadow_;
  mutable std::vector<float> charge_;
};

}  // namespace gca::sc
