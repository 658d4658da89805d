// The write port of a head: two write DACs (K and V) and the write word lines of the slot the
// control points at. It converts one token's K column and V line per token; the stored values
// themselves are the circuit model's (the head's HeadModel writes them).
#pragma once

#include <systemc>

#include "gca/sc/dac.hpp"

namespace gca::sc {

class WritePort : public sc_core::sc_module {
 public:
  WritePort(sc_core::sc_module_name name, int features, PowerFactory& power)
      : sc_module(name),
        k_dac("k_dac", power.child(this->name(), "k_dac", power::Group::dac)),
        v_dac("v_dac", power.child(this->name(), "v_dac", power::Group::dac)),
        features_(features) {}

  // Start of the write phase: one K column and one V line are converted and written.
  void write() const {
    k_dac.convert(features_);
    v_dac.convert(features_);
  }

  Dac k_dac, v_dac;

 private:
  int features_;
};

}  // namespace gca::sc
