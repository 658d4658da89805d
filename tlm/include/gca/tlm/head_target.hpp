// Protocol adapter: maps the register map of rtl_spec/REGISTER_MAP.md onto an AttentionHead.
// All behaviour lives in the head; this class only decodes, checks and annotates time.
#pragma once

#include <tlm_utils/simple_target_socket.h>
#include <systemc>
#include <tlm>

#include "gca/sc/attention_head.hpp"

namespace gca::tlm {

class HeadTarget : public sc_core::sc_module {
 public:
  HeadTarget(sc_core::sc_module_name name, sc::AttentionHead& head);
  tlm_utils::simple_target_socket<HeadTarget> socket;

  // Register access at absolute time `at`; sets the response status and may extend `delay`.
  void access(::tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);

 private:
  void b_transport(::tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(::tlm::tlm_generic_payload& trans);
  bool register_access(::tlm::tlm_generic_payload& trans, std::uint64_t offset,
                       const sc_core::sc_time& at, sc_core::sc_time& delay);
  bool buffer_access(::tlm::tlm_generic_payload& trans, std::uint64_t offset,
                     const sc_core::sc_time& at, sc_core::sc_time& delay);
  sc::AttentionHead& head_;
};

}  // namespace gca::tlm
