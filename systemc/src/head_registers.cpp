#include "gca/sc/head_registers.hpp"

#include <algorithm>
#include <cstring>

namespace gca::sc {

namespace regs = gca::spec::regs;
using ::tlm::tlm_generic_payload;

namespace {

void respond(tlm_generic_payload& trans, ::tlm::tlm_response_status status) {
  trans.set_response_status(status);
}

// ---- registers -----------------------------------------------------------------------------

bool is_register(std::uint64_t off) {
  switch (off) {
    case regs::kId:
    case regs::kDHead:
    case regs::kCtrl:
    case regs::kStatus:
    case regs::kWindow:
    case regs::kCmdDepth:
    case regs::kCmdPending:
    case regs::kTokenCount:
    case regs::kWritePtr:
    case regs::kOutPending:
    case regs::kOutToken:
    case regs::kLastLatencyPs:
      return true;
    default:
      return false;
  }
}

std::uint32_t saturated(std::uint64_t v) {
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xFFFF'FFFFu));
}

std::uint32_t read_register(const AttentionHead& head, std::uint64_t off) {
  switch (off) {
    case regs::kId:
      return regs::kIdValue;
    case regs::kDHead:
      return static_cast<std::uint32_t>(head.d_head());
    case regs::kStatus:
      return (head.busy() ? regs::kStatusBusy : 0u) |
             (head.has_result() ? regs::kStatusOutValid : 0u) |
             (head.input_full() ? regs::kStatusFull : 0u) |
             (head.overflow() ? regs::kStatusOverflow : 0u);
    case regs::kWindow:
      return static_cast<std::uint32_t>(head.window());
    case regs::kCmdDepth:
      return static_cast<std::uint32_t>(head.command_depth());
    case regs::kCmdPending:
      return static_cast<std::uint32_t>(head.commands_pending());
    case regs::kTokenCount:
      return static_cast<std::uint32_t>(head.tokens_started());  // modulo 2^32
    case regs::kWritePtr:
      return static_cast<std::uint32_t>(head.write_pointer());
    case regs::kOutPending:
      return static_cast<std::uint32_t>(head.pending());
    case regs::kOutToken:
      return head.has_result() ? static_cast<std::uint32_t>(head.front().token) : 0xFFFF'FFFFu;
    case regs::kLastLatencyPs: {
      if (head.last_times().token < 0) return 0;
      const double ps = head.last_times().latency().to_seconds() * 1e12;
      return saturated(static_cast<std::uint64_t>(ps + 0.5));
    }
    default:
      return 0;
  }
}

spec::BufferKind kind_of(std::uint64_t buffer) {
  if (buffer == regs::kKBuf) return spec::BufferKind::k;
  if (buffer == regs::kVBuf) return spec::BufferKind::v;
  if (buffer == regs::kQBuf) return spec::BufferKind::q;
  return spec::BufferKind::out;
}

std::vector<std::uint8_t>& codes_of(HeadPort& port, std::uint64_t buffer) {
  return buffer == regs::kKBuf ? port.k_codes : buffer == regs::kVBuf ? port.v_codes : port.q_codes;
}

double* values_of(AttentionHead& head, std::uint64_t buffer) {
  return head.input(buffer == regs::kKBuf   ? InputBuffer::k
                    : buffer == regs::kVBuf ? InputBuffer::v
                                            : InputBuffer::q);
}

// Bytes of a buffer in the current format.
std::uint64_t buffer_bytes(const AttentionHead& head, std::uint64_t buffer,
                           const AccessContext& ctx) {
  const auto d = static_cast<std::uint64_t>(head.d_head());
  if (ctx.format == regs::BufferFormat::codes) return ctx.codes->bytes(kind_of(buffer), d);
  return 8 * d;
}

void write_control(HeadPort& port, tlm_generic_payload& trans, std::uint32_t value,
                   AccessContext& ctx) {
  AttentionHead& head = *port.head;
  ctx.control_written = true;
  if (value & regs::kCtrlClearOverflow) head.set_overflow(false);
  if (value & regs::kCtrlReset) {
    head.reset();
    for (auto* b : {&port.k_codes, &port.v_codes, &port.q_codes})
      std::fill(b->begin(), b->end(), 0);
    for (InputBuffer w : {InputBuffer::k, InputBuffer::v, InputBuffer::q})
      std::fill(head.input(w), head.input(w) + head.d_head(), 0.0);
  }
  if (value & regs::kCtrlStart) {
    if (ctx.format == regs::BufferFormat::codes) {
      for (std::uint64_t b : {regs::kKBuf, regs::kVBuf, regs::kQBuf})
        ctx.codes->decode_input(kind_of(b), codes_of(port, b).data(), head.d_head(),
                                values_of(head, b));
    }
    if (!head.start()) {
      head.set_overflow(true);  // the command queue is full: refused, never held
      respond(trans, ::tlm::TLM_GENERIC_ERROR_RESPONSE);
      return;
    }
  }
  respond(trans, ::tlm::TLM_OK_RESPONSE);
}

AccessResult register_access(HeadPort& port, tlm_generic_payload& trans, std::uint64_t off,
                             AccessContext& ctx) {
  const int words = check_register_access(trans, off);
  if (words == 0) return AccessResult::done;
  for (int w = 0; w < words; ++w) {
    const std::uint64_t o = off + 4u * static_cast<unsigned>(w);
    if (!is_register(o)) {
      respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return AccessResult::done;
    }
    const bool writable = o == regs::kCtrl;
    if ((trans.is_write() && (!writable || ctx.debug)) || (trans.is_read() && writable)) {
      respond(trans, ::tlm::TLM_COMMAND_ERROR_RESPONSE);
      return AccessResult::done;
    }
  }
  if (trans.get_command() == ::tlm::TLM_IGNORE_COMMAND) {
    respond(trans, ::tlm::TLM_OK_RESPONSE);
    return AccessResult::done;
  }
  if (trans.is_write()) {  // the one writable register, CTRL, in a 4-byte access
    std::uint32_t value = 0;
    std::memcpy(&value, trans.get_data_ptr(), 4);
    write_control(port, trans, value, ctx);
    return AccessResult::done;
  }
  for (int w = 0; w < words; ++w) {
    const std::uint32_t v = read_register(*port.head, off + 4u * static_cast<unsigned>(w));
    std::memcpy(trans.get_data_ptr() + 4 * w, &v, 4);
  }
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

// ---- data buffers --------------------------------------------------------------------------

AccessResult output_access(HeadPort& port, tlm_generic_payload& trans, std::uint64_t rel,
                           std::uint64_t bytes, AccessContext& ctx) {
  AttentionHead& head = *port.head;
  if (!head.has_result()) {
    if (!ctx.debug) return AccessResult::needs_result;
    respond(trans, ::tlm::TLM_GENERIC_ERROR_RESPONSE);  // nothing to show
    return AccessResult::done;
  }
  const std::uint64_t len = trans.get_data_length();
  const double* out = head.front().out.data();
  if (ctx.format == regs::BufferFormat::codes) {
    std::vector<std::uint8_t> packed(bytes, 0);
    ctx.codes->encode_output(out, head.d_head(), packed.data());
    std::memcpy(trans.get_data_ptr(), packed.data() + rel, len);
  } else {
    std::memcpy(trans.get_data_ptr(), reinterpret_cast<const unsigned char*>(out) + rel, len);
  }
  if (!ctx.debug && rel + len == bytes) head.pop();  // the read that reaches the end pops
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

AccessResult buffer_access(HeadPort& port, tlm_generic_payload& trans, std::uint64_t off,
                           AccessContext& ctx) {
  AttentionHead& head = *port.head;
  const std::uint64_t buffer = regs::buffer_of(off);
  const std::uint64_t rel = off - buffer;
  const std::uint64_t len = trans.get_data_length();
  const std::uint64_t bytes = buffer_bytes(head, buffer, ctx);
  if (rel >= bytes) {
    respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);  // beyond the head's features
    return AccessResult::done;
  }
  const bool whole_values =
      ctx.format == regs::BufferFormat::codes || (rel % 8 == 0 && len % 8 == 0);
  if (len == 0 || !whole_values || rel + len > bytes) {
    respond(trans, ::tlm::TLM_BURST_ERROR_RESPONSE);
    return AccessResult::done;
  }
  const bool read_only = buffer == regs::kOutBuf;
  if (trans.is_write() && (read_only || ctx.debug)) {
    respond(trans, ::tlm::TLM_COMMAND_ERROR_RESPONSE);
    return AccessResult::done;
  }
  if (trans.get_command() == ::tlm::TLM_IGNORE_COMMAND) {
    respond(trans, ::tlm::TLM_OK_RESPONSE);
    return AccessResult::done;
  }
  if (read_only) return output_access(port, trans, rel, bytes, ctx);
  unsigned char* data = ctx.format == regs::BufferFormat::codes
                            ? codes_of(port, buffer).data() + rel
                            : reinterpret_cast<unsigned char*>(values_of(head, buffer)) + rel;
  if (trans.is_write()) {
    std::memcpy(data, trans.get_data_ptr(), len);
  } else {
    std::memcpy(trans.get_data_ptr(), data, len);
  }
  respond(trans, ::tlm::TLM_OK_RESPONSE);
  return AccessResult::done;
}

}  // namespace

bool check_payload(tlm_generic_payload& trans, bool debug) {
  if (const unsigned char* be = trans.get_byte_enable_ptr()) {
    const unsigned n = trans.get_byte_enable_length();
    if (n == 0 || std::any_of(be, be + n, [](unsigned char b) { return b != 0xFF; })) {
      respond(trans, ::tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
      return false;
    }
  }
  unsigned width = trans.get_streaming_width();
  if (debug && width == 0) width = trans.get_data_length();
  if (width < trans.get_data_length()) {
    respond(trans, ::tlm::TLM_BURST_ERROR_RESPONSE);
    return false;
  }
  return true;
}

int check_register_access(tlm_generic_payload& trans, std::uint64_t off) {
  const unsigned len = trans.get_data_length();
  if (!((len == 4 && off % 4 == 0) || (len == 8 && off % 8 == 0))) {
    respond(trans, ::tlm::TLM_BURST_ERROR_RESPONSE);
    return 0;
  }
  return static_cast<int>(len / 4);
}

AccessResult access_head(HeadPort& port, tlm_generic_payload& trans, std::uint64_t off,
                         AccessContext& ctx) {
  if (!check_payload(trans, ctx.debug)) return AccessResult::done;
  if (off < regs::kRegisterEnd) return register_access(port, trans, off, ctx);
  if (regs::buffer_of(off) != regs::kHeadEnd) return buffer_access(port, trans, off, ctx);
  respond(trans, ::tlm::TLM_ADDRESS_ERROR_RESPONSE);
  return AccessResult::done;
}

bool access_depends_on_time(const HeadPort& port, const tlm_generic_payload& trans,
                            std::uint64_t off) {
  const AttentionHead& head = *port.head;
  if (trans.get_command() == ::tlm::TLM_IGNORE_COMMAND) return false;
  if (off < regs::kRegisterEnd) {
    if (trans.is_write()) return off == regs::kCtrl;
    switch (off) {
      case regs::kId:  // 8 bytes: ID and D_HEAD
      case regs::kDHead:
      case regs::kWindow:  // 8 bytes: WINDOW and CMD_DEPTH
      case regs::kCmdDepth:
        return false;
      default:
        return head.busy();  // a token in flight may change the answer
    }
  }
  const std::uint64_t buffer = regs::buffer_of(off);
  if (buffer != regs::kOutBuf) return false;  // K, V, Q: only START reads them
  // A result already there stays there; popping it early frees no FIFO room the digital stage
  // waits for unless the FIFO is full.
  return !head.has_result() || head.pending() >= AttentionHead::kOutputFifoDepth;
}

}  // namespace gca::sc
