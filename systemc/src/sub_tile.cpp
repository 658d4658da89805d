#include "gca/sc/sub_tile.hpp"

namespace gca::sc {

SubTile::SubTile(sc_core::sc_module_name name, int features, int columns, PowerFactory& power)
    : sc_module(name),
      k_array("k_array",
              power.child(this->name(), "k_array", power::Group::qk, power.array_static_mw())),
      v_array("v_array",
              power.child(this->name(), "v_array", power::Group::av, power.array_static_mw())),
      hard_sigmoid("hard_sigmoid", power.child(this->name(), "hard_sigmoid", power::Group::qk)),
      signed_ctp("signed_ctp", power.child(this->name(), "signed_ctp", power::Group::av),
                 power.child(this->name(), "signed_ctp.counter", power::Group::av)),
      features_(features),
      columns_(columns) {}

void SubTile::q_phase_done(const spec::SubTileActivity& a) const {
  k_array.read(a);
}

void SubTile::phi_phase_done(const spec::SubTileActivity& a) const {
  hard_sigmoid.convert(a);
  v_array.read(a);
}

void SubTile::count_phase_done(const spec::SubTileActivity& a, const double* outputs) const {
  signed_ctp.convert(a);
  signed_ctp.counter.count(a, outputs, features_);
}

}  // namespace gca::sc
