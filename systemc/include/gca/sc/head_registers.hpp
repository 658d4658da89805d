// The register map of one head (rtl_spec/REGISTER_MAP.md) onto an AttentionHead: decoding,
// checks, the payload rules and the response status. No timing here: the accelerator's protocol
// side decides when an access happens and what it waits for.
#pragma once

#include <cstdint>
#include <tlm>
#include <vector>

#include "gca/sc/attention_head.hpp"
#include "gca/spec/buffer_codes.hpp"
#include "gca/spec/register_map.hpp"

namespace gca::sc {

enum class AccessResult {
  done,          // executed (or refused); the response status is set
  needs_result,  // a read of OUT_BUF with no result yet: nothing changed, try again later
};

// One head as its register window sees it: the head and its K, V, Q buffers in the codes format
// (the binary64 format writes the head's own input registers).
struct HeadPort {
  AttentionHead* head = nullptr;
  std::vector<std::uint8_t> k_codes, v_codes, q_codes;
};

// What an access is executed with.
struct AccessContext {
  bool debug = false;  // transport_dbg: no side effects, writes refused
  spec::regs::BufferFormat format = spec::regs::BufferFormat::binary64;
  const spec::BufferCodes* codes = nullptr;
  bool control_written = false;  // out: CTRL was written (the interrupt may change)
};

// Checks common to every block: byte enables (all 0xFF is accepted as none) and the streaming
// width (debug: 0 means the data length). Sets the error response and returns false on failure.
bool check_payload(::tlm::tlm_generic_payload& trans, bool debug);

// Checks a register access (4 bytes, or 8 bytes at an 8-byte aligned offset) inside a block's
// register area and returns the number of 32-bit words, or 0 with the error response set.
int check_register_access(::tlm::tlm_generic_payload& trans, std::uint64_t offset);

// One access at the current simulated time; `offset` is relative to the head's window.
AccessResult access_head(HeadPort& port, ::tlm::tlm_generic_payload& trans, std::uint64_t offset,
                         AccessContext& ctx);

// Loosely timed: whether the access's outcome may depend on what the head does between the
// kernel's time and the initiator's annotated time (then it must synchronise first).
bool access_depends_on_time(const HeadPort& port, const ::tlm::tlm_generic_payload& trans,
                            std::uint64_t offset);

}  // namespace gca::sc
