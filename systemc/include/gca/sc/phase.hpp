// Phases of one token in a head (docs/hardware.md, "timing") and the times a token went through
// them, as the peripheral control's processes lived them.
#pragma once

#include <systemc>

namespace gca::sc {

// Order within a token: precharge of the column capacitors, during which the WritePort stores
// the token's K column and V line (ASSUMED: the write of token t completes before its read);
// Q pulses on the K arrays; HardSigmoid pulses on the V arrays; signed output pulses counted;
// digital sum over sub-tiles and hand-off. The analog phases (the first four) and the digital
// phase use different resources, so token t+1 may enter the analog phases while token t is
// still in its digital phase: this is where writing the next column overlaps computing the
// current token.
enum class Phase : int {
  idle = 0,
  precharge_write = 1,
  q_pulses = 2,
  phi_pulses = 3,
  count = 4,
  digital = 5
};

const char* phase_name(Phase p);

// Absolute simulated times of one token in one head, recorded as the phases happen.
struct TokenTimes {
  long token = -1;
  sc_core::sc_time arrival;      // START accepted into the input latch
  sc_core::sc_time write_start;  // precharge + write begin (the analog stage took the token)
  sc_core::sc_time q_start;
  sc_core::sc_time phi_start;
  sc_core::sc_time count_start;
  sc_core::sc_time count_end;  // analog phases done
  sc_core::sc_time digital_start;
  sc_core::sc_time done;  // output in the output FIFO
  sc_core::sc_time latency() const { return done - arrival; }
};

}  // namespace gca::sc
