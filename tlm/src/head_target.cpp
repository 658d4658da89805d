#include "gca/tlm/head_target.hpp"

#include <cstring>

#include "gca/spec/register_map.hpp"

namespace gca::tlm {

namespace regs = gca::spec::regs;
using ::tlm::tlm_generic_payload;

HeadTarget::HeadTarget(sc_core::sc_module_name name, sc::AttentionHead& head)
    : sc_module(name), socket("socket"), head_(head) {
  socket.register_b_transport(this, &HeadTarget::b_transport);
  socket.register_transport_dbg(this, &HeadTarget::transport_dbg);
}

void HeadTarget::b_transport(tlm_generic_payload& trans, sc_core::sc_time& delay) {
  access(trans, delay);
}

unsigned int HeadTarget::transport_dbg(tlm_generic_payload& trans) {
  // Debug reads see buffers and registers without side effects on timing or the FIFO.
  if (!trans.is_read()) return 0;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  const std::uint64_t off = trans.get_address();
  if (off == regs::kOutBuf) return 0;  // reading OUT pops: not a debug access
  access(trans, delay);
  return trans.is_response_ok() ? trans.get_data_length() : 0;
}

void HeadTarget::access(tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const std::uint64_t off = trans.get_address();  // the router made it head-relative
  const sc_core::sc_time at = sc_core::sc_time_stamp() + delay;
  if (trans.get_byte_enable_ptr() != nullptr) {
    trans.set_response_status(::tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (trans.get_streaming_width() < trans.get_data_length()) {
    trans.set_response_status(::tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  bool mapped;
  if (off < regs::kRegisterEnd) {
    mapped = register_access(trans, off, at, delay);
  } else if (off >= regs::kKBuf && off < regs::kHeadEnd) {
    mapped = buffer_access(trans, off, at, delay);
  } else {
    mapped = false;
  }
  if (!mapped) trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

bool HeadTarget::register_access(tlm_generic_payload& trans, std::uint64_t off,
                                 const sc_core::sc_time& at, sc_core::sc_time& delay) {
  (void)delay;
  if (off % 8 != 0) return false;
  if (trans.get_data_length() != 8) {
    trans.set_response_status(::tlm::TLM_BURST_ERROR_RESPONSE);
    return true;
  }
  std::uint64_t value = 0;
  if (trans.is_write()) {
    std::memcpy(&value, trans.get_data_ptr(), 8);
    if (off != regs::kCtrl) {
      trans.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return true;
    }
    if (value & regs::kCtrlReset) head_.reset();
    if (value & regs::kCtrlStart) {
      if (!head_.start(at)) {
        trans.set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);
        return true;
      }
      // The head takes the token when its write stage is free: the host waits until then.
      const sc_core::sc_time taken = head_.last_schedule().write_start;
      if (taken > at) delay += taken - at;
    }
    trans.set_response_status(::tlm::TLM_OK_RESPONSE);
    return true;
  }
  switch (off) {
    case regs::kId:
      value = regs::kIdValue;
      break;
    case regs::kStatus:
      value =
          (head_.busy_at(at) ? regs::kStatusBusy : 0) |
          (head_.has_result() && head_.front().schedule.done <= at ? regs::kStatusOutValid : 0) |
          (head_.pending() >= sc::AttentionHead::kOutputFifoDepth ? regs::kStatusFull : 0);
      break;
    case regs::kTokenCount:
      value = static_cast<std::uint64_t>(head_.tokens());
      break;
    case regs::kWritePtr:
      value = static_cast<std::uint64_t>(head_.write_pointer());
      break;
    case regs::kDHead:
      value = static_cast<std::uint64_t>(head_.d_head());
      break;
    case regs::kWindow:
      value = static_cast<std::uint64_t>(head_.window());
      break;
    case regs::kLastLatencyPs:
      value = static_cast<std::uint64_t>(head_.last_schedule().latency().to_seconds() * 1e12 + 0.5);
      break;
    case regs::kOutPending:
      value = head_.pending();
      break;
    case regs::kOutToken:
      value = head_.has_result() ? static_cast<std::uint64_t>(head_.front().token) : ~0ULL;
      break;
    case regs::kCtrl:
      trans.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return true;
    default:
      return false;
  }
  std::memcpy(trans.get_data_ptr(), &value, 8);
  trans.set_response_status(::tlm::TLM_OK_RESPONSE);
  return true;
}

bool HeadTarget::buffer_access(tlm_generic_payload& trans, std::uint64_t off,
                               const sc_core::sc_time& at, sc_core::sc_time& delay) {
  const std::uint64_t base = off - (off % regs::kBufferSpan);
  const std::uint64_t rel = off - base;
  const std::uint64_t len = trans.get_data_length();
  const std::uint64_t bytes = 8ULL * static_cast<std::uint64_t>(head_.d_head());
  if (rel >= bytes) return false;  // beyond the head's features: unmapped
  if (rel % 8 != 0 || len % 8 != 0 || len == 0 || rel + len > bytes) {
    trans.set_response_status(::tlm::TLM_BURST_ERROR_RESPONSE);
    return true;
  }
  unsigned char* data = trans.get_data_ptr();
  if (base == regs::kOutBuf) {
    if (trans.is_write()) {
      trans.set_response_status(::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return true;
    }
    if (!head_.has_result()) {
      trans.set_response_status(::tlm::TLM_GENERIC_ERROR_RESPONSE);
      return true;
    }
    const sc::HeadResult& r = head_.front();
    // The output exists once the token is done: the read completes then.
    if (r.schedule.done > at) delay += r.schedule.done - at;
    std::memcpy(data, reinterpret_cast<const unsigned char*>(r.out.data()) + rel, len);
    if (rel + len == bytes) head_.pop();
    trans.set_response_status(::tlm::TLM_OK_RESPONSE);
    return true;
  }
  sc::InputBuffer which = base == regs::kKBuf   ? sc::InputBuffer::k
                          : base == regs::kVBuf ? sc::InputBuffer::v
                                                : sc::InputBuffer::q;
  unsigned char* buf = reinterpret_cast<unsigned char*>(head_.input(which)) + rel;
  if (trans.is_write()) {
    std::memcpy(buf, data, len);
  } else {
    std::memcpy(data, buf, len);
  }
  trans.set_response_status(::tlm::TLM_OK_RESPONSE);
  return true;
}

}  // namespace gca::tlm
