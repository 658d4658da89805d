// Interconnect: decodes layer and head from the address (rtl_spec register map), makes the
// address head-relative and forwards to that head's target. No delay of its own.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <memory>
#include <systemc>
#include <tlm>
#include <vector>

namespace gca::tlm {

class Router : public sc_core::sc_module {
 public:
  Router(sc_core::sc_module_name name, int n_layers, int n_heads);
  tlm_utils::simple_target_socket<Router> target;
  // One initiator socket per head, index layer * n_heads + head.
  tlm_utils::simple_initiator_socket<Router>& to_head(int layer, int head) {
    return *to_heads_[std::size_t(layer) * n_heads_ + head];
  }

 private:
  // Returns the socket index, or -1 for an unmapped address; rewrites the address.
  int decode(::tlm::tlm_generic_payload& trans) const;
  void b_transport(::tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned int transport_dbg(::tlm::tlm_generic_payload& trans);
  int n_layers_, n_heads_;
  std::vector<std::unique_ptr<tlm_utils::simple_initiator_socket<Router>>> to_heads_;
};

}  // namespace gca::tlm
