// The register map of one head (rtl_spec/REGISTER_MAP.md) onto an AttentionHead: decoding,
// checks and the response status. No timing here: the accelerator's protocol side decides when
// an access happens and what it waits for.
#pragma once

#include <cstdint>
#include <tlm>

#include "gca/sc/attention_head.hpp"

namespace gca::sc {

enum class AccessResult {
  done,               // executed; the response status is set
  needs_input_space,  // a START while the input latch is full: nothing changed, try again later
  needs_result,       // a read of OUT_BUF with no result yet: nothing changed, try again later
};

// One access at the current simulated time; `offset` is head-relative. Debug accesses never
// change anything: START, RESET and OUT_BUF pops are refused, reads see the current state.
AccessResult access_head(AttentionHead& head, ::tlm::tlm_generic_payload& trans,
                         std::uint64_t offset, bool debug = false);

}  // namespace gca::sc
