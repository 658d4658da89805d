#include "gca/sc/phase.hpp"

namespace gca::sc {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::idle:
      return "idle";
    case Phase::precharge_write:
      return "precharge_write";
    case Phase::q_pulses:
      return "q_pulses";
    case Phase::phi_pulses:
      return "phi_pulses";
    case Phase::count:
      return "count";
    case Phase::digital:
      return "digital";
  }
  return "?";
}

}  // namespace gca::sc
