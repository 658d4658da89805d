#include "gca/sc/sub_tile.hpp"

namespace gca::sc {

SubTile::SubTile(sc_core::sc_module_name name, const spec::CircuitModel& circuits, int features,
                 int columns, PowerFactory& power, spec::ArrayPlace place)
    : sc_module(name),
      k_array("k_array", circuits, features, columns,
              power.child(this->name(), "k_array", power::Group::qk, power.array_static_mw()),
              place),
      v_array("v_array", circuits, features, columns,
              power.child(this->name(), "v_array", power::Group::av, power.array_static_mw()),
              place),
      hard_sigmoid("hard_sigmoid", circuits.hard_sigmoid,
                   power.child(this->name(), "hard_sigmoid", power::Group::qk)),
      signed_ctp("signed_ctp", circuits.signed_ctp,
                 power.child(this->name(), "signed_ctp", power::Group::av),
                 power.child(this->name(), "signed_ctp.counter", power::Group::av)),
      shadow_(circuits, features, columns),
      charge_(features) {}

void SubTile::write(int col, const double* k_volts, const double* v_volts, long token,
                    const sc_core::sc_time& at) {
  k_array.write_column(col, k_volts, token, at);
  v_array.write_line(col, v_volts, token, at);
  shadow_.record(col, k_volts, v_volts);
}

bool SubTile::compute(const float* q_pulse, float q_pulse_sum, long now, const TokenSchedule& when,
                      float* charge_out, float* phi_out, double* o_out) const {
  if (!active()) return false;
  k_array.read(q_pulse, q_pulse_sum, now, when.write_start, charge_out, when.q_start);
  const float phi_sum = hard_sigmoid.convert(charge_out, columns(), k_array.cells().valid_columns(),
                                             phi_out, when.phi_start);
  v_array.read(phi_out, phi_sum, now, when.write_start, charge_.data(), when.phi_start);
  signed_ctp.convert(charge_.data(), features(), o_out, when.count_start, when.count_start);
  signed_ctp.counter.trace_values(when.count_end, o_out, features());
  return true;
}

}  // namespace gca::sc
