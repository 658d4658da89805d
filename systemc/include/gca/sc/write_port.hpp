// The write port of a head: two write DACs (K and V) and the write word lines of the slot the
// control points at. It converts one token's K column and V line per token; the stored values
// themselves are the circuit model's (the head's HeadModel writes them).
#pragma once

#include <systemc>

#include "gca/sc/dac.hpp"

namespace gca::sc {

class WritePort : public sc_core::sc_module {
 public:
  WritePort(sc_core::sc_module_name name, PowerFactory& power)
      : sc_module(name),
        k_dac("k_dac", power.child(this->name(), "k_dac", power::Group::dac,
                                   {power::Action::dac_kv_conversion, power::Action::cell_write},
                                   power.static_power().write_dac_mw)),
        v_dac("v_dac", power.child(this->name(), "v_dac", power::Group::dac,
                                   {power::Action::dac_kv_conversion, power::Action::cell_write},
                                   power.static_power().write_dac_mw)) {}

  // Start of the write phase: one K column and one V line are converted and written; `head`
  // holds the head's actions of a token (power::head_actions), half of them each DAC's.
  void write(const power::ActionCounts& head) const {
    const double conversions = 0.5 * head[power::index(power::Action::dac_kv_conversion)];
    const double cells = 0.5 * head[power::index(power::Action::cell_write)];
    k_dac.convert(conversions, cells);
    v_dac.convert(conversions, cells);
  }

  Dac k_dac, v_dac;
};

}  // namespace gca::sc
