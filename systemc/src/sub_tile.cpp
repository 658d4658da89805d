#include "gca/sc/sub_tile.hpp"

namespace gca::sc {

SubTile::SubTile(sc_core::sc_module_name name, int features, int columns, PowerFactory& power)
    : sc_module(name),
      k_array("k_array",
              power.child(this->name(), "k_array", power::Group::qk, {power::Action::qk_cell_read},
                          power.static_power().k_array_mw)),
      v_array("v_array",
              power.child(this->name(), "v_array", power::Group::av, {power::Action::av_cell_read},
                          power.static_power().v_array_mw)),
      hard_sigmoid("hard_sigmoid", power.child(this->name(), "hard_sigmoid", power::Group::qk,
                                               {power::Action::qk_ctp})),
      // The counters are digital logic: their energy belongs to the digital group.
      signed_ctp("signed_ctp",
                 power.child(this->name(), "signed_ctp", power::Group::av, {power::Action::av_ctp}),
                 power.child(this->name(), "signed_ctp.counter", power::Group::digital,
                             {power::Action::counter_count, power::Action::counter_clock},
                             power.static_power().counters_mw)),
      features_(features),
      columns_(columns) {}

void SubTile::q_phase_done(const power::ActionCounts& a) const {
  k_array.read(a);
}

void SubTile::phi_phase_done(const power::ActionCounts& a) const {
  hard_sigmoid.convert(a);
  v_array.read(a);
}

void SubTile::count_phase_done(const power::ActionCounts& a, const double* outputs) const {
  signed_ctp.convert(a);
  signed_ctp.counter.count(a, outputs, features_);
}

}  // namespace gca::sc
