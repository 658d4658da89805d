#include "gca/sc/head_registers.hpp"

#include <cstring>

namespace gca::sc {

namespace regs = gca::spec::regs;
using ::tlm::tlm_generic_payload;

namespace {

void respond(tlm_generic_payload& trans, ::tlm::tlm_response_status status) {
  trans.set_response_status(status);
}

AccessResult write_control(AttentionHead& head, tlm_generic_payload& trans, std::uint64_t value,
                           bool debug) {
  if (debug) {
    respond(trans, ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (value & regs::kCtrlReset) {
    if (!head.reset()) {
      respond(trans, ::tlm::TLM_GENERIC_ERROR_RESPONSE);  // a token is in flight
      return AccessResult::done;
    }
  }
  if ((value & regs::kCtrlStart) && !head.start()) return AccessResult::needs_input_space;
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

bool read_register(const AttentionHead& head, std::uint64_t off, std::uint64_t& value) {
  switch (off) {
    case regs::kId:
      value = regs::kIdValue;
      return true;
    case regs::kStatus:
      value = (head.busy() ? regs::kStatusBusy : 0) |
              (head.has_result() ? regs::kStatusOutValid : 0) |
              (head.input_full() ? regs::kStatusFull : 0);
      return true;
    case regs::kTokenCount:
      value = static_cast<std::uint64_t>(head.tokens_started());
      return true;
    case regs::kWritePtr:
      value = static_cast<std::uint64_t>(head.write_pointer());
      return true;
    case regs::kDHead:
      value = static_cast<std::uint64_t>(head.d_head());
      return true;
    case regs::kWindow:
      value = static_cast<std::uint64_t>(head.window());
      return true;
    case regs::kLastLatencyPs:
      value = head.last_times().token < 0
                  ? 0
                  : static_cast<std::uint64_t>(head.last_times().latency().value() *
                                                   sc_core::sc_get_time_resolution().to_seconds() *
                                                   1e12 +
                                               0.5);
      return true;
    case regs::kOutPending:
      value = head.pending();
      return true;
    case regs::kOutToken:
      value = head.has_result() ? static_cast<std::uint64_t>(head.front().token) : ~0ULL;
      return true;
    default:
      return false;
  }
}

AccessResult register_access(AttentionHead& head, tlm_generic_payload& trans, std::uint64_t off,
                             bool debug) {
  if (off % 8 != 0) {
    respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (trans.get_data_length() != 8) {
    respond(trans, ::tlm::TLM_BURST_ERROR_RESPONSE);
    return AccessResult::done;
  }
  std::uint64_t value = 0;
  if (trans.is_write()) {
    if (off != regs::kCtrl) {
      // Read-only register, or unmapped.
      std::uint64_t ignored;
      respond(trans, read_register(head, off, ignored) ? ::tlm::TLM_COMMAND_ERROR_RESPONSE
                                                       : ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return AccessResult::done;
    }
    std::memcpy(&value, trans.get_data_ptr(), 8);
    return write_control(head, trans, value, debug);
  }
  if (off == regs::kCtrl) {
    respond(trans, ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (!read_register(head, off, value)) {
    respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return AccessResult::done;
  }
  std::memcpy(trans.get_data_ptr(), &value, 8);
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

AccessResult output_access(AttentionHead& head, tlm_generic_payload& trans, std::uint64_t rel,
                           std::uint64_t bytes, bool debug) {
  if (trans.is_write()) {
    respond(trans, ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (!head.has_result()) {
    if (!debug) return AccessResult::needs_result;
    respond(trans, ::tlm::TLM_GENERIC_ERROR_RESPONSE);
    return AccessResult::done;
  }
  const std::uint64_t len = trans.get_data_length();
  std::memcpy(trans.get_data_ptr(),
              reinterpret_cast<const unsigned char*>(head.front().out.data()) + rel, len);
  if (!debug && rel + len == bytes) head.pop();  // the read that reaches the end pops
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

AccessResult buffer_access(AttentionHead& head, tlm_generic_payload& trans, std::uint64_t off,
                           bool debug) {
  const std::uint64_t base = off - (off % regs::kBufferSpan);
  const std::uint64_t rel = off - base;
  const std::uint64_t len = trans.get_data_length();
  const std::uint64_t bytes = 8ULL * static_cast<std::uint64_t>(head.d_head());
  if (rel >= bytes) {
    respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);  // beyond the head's features
    return AccessResult::done;
  }
  if (rel % 8 != 0 || len % 8 != 0 || len == 0 || rel + len > bytes) {
    respond(trans, ::tlm::TLM_BURST_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (base == regs::kOutBuf) return output_access(head, trans, rel, bytes, debug);
  const InputBuffer which = base == regs::kKBuf   ? InputBuffer::k
                            : base == regs::kVBuf ? InputBuffer::v
                                                  : InputBuffer::q;
  unsigned char* buf = reinterpret_cast<unsigned char*>(head.input(which)) + rel;
  if (trans.is_write()) {
    if (debug) {
      respond(trans, ::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return AccessResult::done;
    }
    std::memcpy(buf, trans.get_data_ptr(), len);
  } else {
    std::memcpy(trans.get_data_ptr(), buf, len);
  }
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

}  // namespace

AccessResult access_head(AttentionHead& head, tlm_generic_payload& trans, std::uint64_t off,
                         bool debug) {
  if (trans.get_byte_enable_ptr() != nullptr) {
    respond(trans, ::tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (trans.get_streaming_width() < trans.get_data_length()) {
    respond(trans, ::tlm::TLM_BURST_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (off < regs::kRegisterEnd) return register_access(head, trans, off, debug);
  if (off >= regs::kKBuf && off < regs::kHeadEnd) return buffer_access(head, trans, off, debug);
  respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
  return AccessResult::done;
}

}  // namespace gca::sc
