// Digital sum of the sub-tile outputs of a head.
#pragma once

#include <systemc>

#include "gca/sc/power_port.hpp"

namespace gca::sc {

class AdderTree : public sc_core::sc_module {
 public:
  AdderTree(sc_core::sc_module_name name, PowerPort power) : sc_module(name), power_(power) {}
  // End of the digital phase: each active sub-tile's output was added into the head's sum.
  void sum(double adds) const { power_.record(power::Action::digital_add, adds); }

 private:
  PowerPort power_;
};

}  // namespace gca::sc
