#include "gca/tlm/host_link.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "gca/spec/register_map.hpp"

namespace gca::tlm {

namespace regs = gca::spec::regs;
using sc_core::SC_NS;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

WireBytes wire_bytes(const spec::HardwareSpec& s, const spec::BufferCodes& codes,
                     ::tlm::tlm_command command, std::uint64_t offset, unsigned length,
                     bool payload_is_codes) {
  std::uint64_t bytes = length;  // registers: their bytes as mapped
  const std::uint64_t off = offset % regs::kHeadStride;
  const std::uint64_t buffer = regs::buffer_of(off);
  if (offset < regs::kGlobalBase && buffer != regs::kHeadEnd && !payload_is_codes &&
      length % 8 == 0) {
    const std::uint64_t values = length / 8;  // binary64 payload: timed in the wire format
    int bits = 64;
    switch (s.host_link.format()) {
      case spec::LinkFormat::codes: {
        const spec::BufferKind kind = buffer == regs::kKBuf   ? spec::BufferKind::k
                                      : buffer == regs::kVBuf ? spec::BufferKind::v
                                      : buffer == regs::kQBuf ? spec::BufferKind::q
                                                              : spec::BufferKind::out;
        bits = codes.bits(kind);
        break;
      }
      case spec::LinkFormat::f16:
        bits = 16;
        break;
      case spec::LinkFormat::f32:
        bits = 32;
        break;
    }
    bytes = (values * static_cast<std::uint64_t>(bits) + 7) / 8;
  }
  WireBytes w;
  if (command == ::tlm::TLM_WRITE_COMMAND) {
    w.request = bytes;
  } else if (command == ::tlm::TLM_READ_COMMAND) {
    w.response = bytes;
  }
  return w;
}

WireBytes HostLink::bytes_of(const ::tlm::tlm_generic_payload& trans) {
  const std::uint64_t address = trans.get_address();
  if (address < base_ || address - base_ >= regs::kSpan) return WireBytes{};
  const std::uint64_t offset = address - base_;
  // The link learns the buffers' format from the BUF_FORMAT writes it carries: with codes, the
  // payload already is what the wire moves.
  if (trans.is_write() && offset == regs::kGlobalBase + regs::kBufFormat &&
      trans.get_data_length() >= 4) {
    std::uint32_t v = 0;
    std::memcpy(&v, trans.get_data_ptr(), 4);
    payload_is_codes_ = v == GCA_FORMAT_CODES;
  }
  return wire_bytes(spec_, codes_, trans.get_command(), offset, trans.get_data_length(),
                    payload_is_codes_);
}

HostLink::HostLink(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                   std::uint64_t accelerator_base)
    : sc_module(name),
      from_host("from_host"),
      to_accelerator("to_accelerator"),
      spec_(spec),
      codes_(spec),
      base_(accelerator_base),
      bytes_per_ns_(spec.host_link.bytes_per_ns),
      latency_(spec.host_link.latency_ns, SC_NS) {
  from_host.register_b_transport(this, &HostLink::b_transport);
  from_host.register_nb_transport_fw(this, &HostLink::nb_transport_fw);
  from_host.register_transport_dbg(this, &HostLink::transport_dbg);
  to_accelerator.register_nb_transport_bw(this, &HostLink::nb_transport_bw);
  SC_THREAD(forward_requests);
}

sc_time HostLink::move(const sc_time& earliest, std::uint64_t bytes) {
  bytes_ += bytes;
  // An ideal link takes no time and is never occupied: transactions do not queue behind one
  // another (they may reach it out of time order under temporal decoupling).
  if (bytes_per_ns_ <= 0.0) return earliest + latency_;
  const sc_time start = std::max(earliest, free_at_);
  const sc_time occupied = sc_time(double(bytes) / bytes_per_ns_, SC_NS);
  free_at_ = start + occupied;
  busy_ += occupied;
  return start + occupied + latency_;
}

void HostLink::b_transport(::tlm::tlm_generic_payload& trans, sc_time& delay) {
  // With a finite bandwidth the link is a shared resource that serves transactions in time
  // order: it synchronises to each one's annotated time. An ideal link (latency only) keeps
  // the initiator's temporal decoupling.
  if (!ideal() && delay > SC_ZERO_TIME) {
    wait(delay);
    delay = SC_ZERO_TIME;
  }
  const WireBytes w = bytes_of(trans);
  sc_time now = sc_core::sc_time_stamp();
  delay = move(now + delay, w.request) - now;
  to_accelerator->b_transport(trans, delay);
  if (w.response == 0 || !trans.is_response_ok()) return;
  now = sc_core::sc_time_stamp();
  delay = move(now + delay, w.response) - now;
}

sc_time HostLink::accept(::tlm::tlm_generic_payload& trans, const sc_time& earliest) {
  const WireBytes w = bytes_of(trans);
  const sc_time arrives = move(earliest, w.request);
  if (trans.has_mm()) trans.acquire();
  buffer_.push_back(Buffered{&trans, arrives});
  buffered_.notify(SC_ZERO_TIME);
  return arrives - latency_;  // the last byte leaves
}

::tlm::tlm_sync_enum HostLink::nb_transport_fw(::tlm::tlm_generic_payload& trans,
                                               ::tlm::tlm_phase& phase, sc_time& delay) {
  if (phase == ::tlm::BEGIN_REQ) {
    const sc_time now = sc_core::sc_time_stamp();
    if (buffer_.size() >=
        static_cast<std::size_t>(
            spec_.host_link.request_buffer)) {  // END_REQ when there is room again
      held_ = &trans;
      held_since_ = now + delay;
      return ::tlm::TLM_ACCEPTED;
    }
    delay = accept(trans, now + delay) - now;
    phase = ::tlm::END_REQ;
    return ::tlm::TLM_UPDATED;
  }
  return to_accelerator->nb_transport_fw(trans, phase, delay);  // END_RESP
}

void HostLink::forward_requests() {
  for (;;) {
    while (buffer_.empty()) wait(buffered_);
    const Buffered b = buffer_.front();
    if (b.arrives > sc_core::sc_time_stamp()) wait(b.arrives - sc_core::sc_time_stamp());
    ::tlm::tlm_phase phase = ::tlm::BEGIN_REQ;
    sc_time delay = SC_ZERO_TIME;
    downstream_ended_ = false;
    const ::tlm::tlm_sync_enum s = to_accelerator->nb_transport_fw(*b.trans, phase, delay);
    if (s == ::tlm::TLM_ACCEPTED) {
      while (!downstream_ended_) wait(downstream_end_);
    } else if (delay > SC_ZERO_TIME) {
      wait(delay);
    }
    buffer_.pop_front();
    if (b.trans->has_mm()) b.trans->release();
    if (held_) {  // room again: the held request goes on the wire
      ::tlm::tlm_generic_payload* trans = held_;
      held_ = nullptr;
      const sc_time now = sc_core::sc_time_stamp();
      sc_time end = accept(*trans, std::max(now, held_since_)) - now;
      ::tlm::tlm_phase end_req = ::tlm::END_REQ;
      from_host->nb_transport_bw(*trans, end_req, end);
    }
  }
}

::tlm::tlm_sync_enum HostLink::nb_transport_bw(::tlm::tlm_generic_payload& trans,
                                               ::tlm::tlm_phase& phase, sc_time& delay) {
  if (phase == ::tlm::END_REQ) {  // the host had its END_REQ from the link already
    downstream_ended_ = true;
    downstream_end_.notify(delay);
    return ::tlm::TLM_ACCEPTED;
  }
  if (phase == ::tlm::BEGIN_RESP && trans.is_response_ok()) {
    const WireBytes w = bytes_of(trans);
    if (w.response > 0) {
      const sc_time now = sc_core::sc_time_stamp();
      delay = move(now + delay, w.response) - now;
    }
  }
  return from_host->nb_transport_bw(trans, phase, delay);
}

unsigned int HostLink::transport_dbg(::tlm::tlm_generic_payload& trans) {
  return to_accelerator->transport_dbg(trans);
}

}  // namespace gca::tlm
