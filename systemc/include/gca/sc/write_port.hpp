// The write port of a head: two write DACs (K and V) and the write word lines of the slot the
// control points at. It stores one token's K column and V line per token.
#pragma once

#include <systemc>

#include "gca/sc/dac.hpp"
#include "gca/sc/sub_tile.hpp"

namespace gca::sc {

class WritePort : public sc_core::sc_module {
 public:
  WritePort(sc_core::sc_module_name name, int features, PowerFactory& power)
      : sc_module(name),
        k_dac("k_dac", power.child(this->name(), "k_dac", power::Group::dac,
                                   power.static_power().write_dac_mw)),
        v_dac("v_dac", power.child(this->name(), "v_dac", power::Group::dac,
                                   power.static_power().write_dac_mw)),
        features_(features) {}

  void write(SubTile& target, int col, const double* k, const double* v, long token,
             const sc_core::sc_time& at) {
    k_dac.convert(features_, at);
    v_dac.convert(features_, at);
    target.write(col, k, v, token, at);
  }

  Dac k_dac, v_dac;

 private:
  int features_;
};

}  // namespace gca::sc
