// The link between the host and the accelerator. Every transaction occupies it for the bytes
// it moves in the link's wire format (host_link.format: codes, f16 or f32 per value; registers
// are their 4 or 8 bytes) at host_link.bytes_per_ns, and arrives host_link.latency_ns later
// (pipelined: latency does not occupy the link). Transactions serialize in the order they reach the
// link; a write moves its bytes with the request, a read with the response. The payloads carry
// float64 values (the register map's format) whatever the wire format: the numerics of the
// converters are those of the DACs either way, only the time and the byte counts follow the format.
// Approximately timed, the link is a store-and-forward bridge: it ends a request (END_REQ) once
// its bytes are on the wire and holds up to host_link.request_buffer requests it forwards in order,
// each when it arrives and the accelerator has ended the previous one; a full buffer holds the
// host's next request (back-pressure passes through).
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <cstdint>
#include <deque>
#include <systemc>
#include <tlm>

#include "gca/spec/buffer_codes.hpp"
#include "gca/spec/params.hpp"

namespace gca::tlm {

// Bytes a transaction moves on the wire: {request, response}.
struct WireBytes {
  std::uint64_t request = 0, response = 0;
};
// offset: from the accelerator's base address; payload_is_codes: the data buffers are in the
// codes format (BUF_FORMAT), so their payload is moved as it is.
WireBytes wire_bytes(const spec::HardwareSpec& spec, const spec::BufferCodes& codes,
                     ::tlm::tlm_command command, std::uint64_t offset, unsigned length,
                     bool payload_is_codes = false);

class HostLink : public sc_core::sc_module {
 public:
  SC_HAS_PROCESS(HostLink);
  HostLink(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
           std::uint64_t accelerator_base = 0);
  tlm_utils::simple_target_socket<HostLink> from_host;
  tlm_utils::simple_initiator_socket<HostLink> to_accelerator;

  std::uint64_t bytes_moved() const { return bytes_; }
  sc_core::sc_time busy_time() const { return busy_; }  // time the link was occupied
  bool ideal() const { return bytes_per_ns_ <= 0.0; }

 private:
  WireBytes bytes_of(const ::tlm::tlm_generic_payload& trans);
  // Occupies the link for `bytes` from `earliest` on (or when it frees); returns arrival time.
  sc_core::sc_time move(const sc_core::sc_time& earliest, std::uint64_t bytes);
  void b_transport(::tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  ::tlm::tlm_sync_enum nb_transport_fw(::tlm::tlm_generic_payload& trans, ::tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);
  ::tlm::tlm_sync_enum nb_transport_bw(::tlm::tlm_generic_payload& trans, ::tlm::tlm_phase& phase,
                                       sc_core::sc_time& delay);
  unsigned int transport_dbg(::tlm::tlm_generic_payload& trans);
  // AT: takes a request into the buffer once its bytes are sent; returns when they are.
  sc_core::sc_time accept(::tlm::tlm_generic_payload& trans, const sc_core::sc_time& earliest);
  void forward_requests();

  struct Buffered {
    ::tlm::tlm_generic_payload* trans;
    sc_core::sc_time arrives;
  };
  std::deque<Buffered> buffer_;
  ::tlm::tlm_generic_payload* held_ = nullptr;  // a host request waiting for buffer room
  sc_core::sc_time held_since_;
  bool downstream_ended_ = false;
  sc_core::sc_event buffered_, downstream_end_;

  const spec::HardwareSpec& spec_;
  spec::BufferCodes codes_;
  std::uint64_t base_;
  bool payload_is_codes_ = false;
  double bytes_per_ns_;
  sc_core::sc_time latency_;
  sc_core::sc_time free_at_ = sc_core::SC_ZERO_TIME;
  sc_core::sc_time busy_ = sc_core::SC_ZERO_TIME;
  std::uint64_t bytes_ = 0;
};

}  // namespace gca::tlm
