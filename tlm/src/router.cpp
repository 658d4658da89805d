#include "gca/tlm/router.hpp"

#include <string>

#include "gca/spec/register_map.hpp"

namespace gca::tlm {

namespace regs = gca::spec::regs;

Router::Router(sc_core::sc_module_name name, int n_layers, int n_heads)
    : sc_module(name), target("target"), n_layers_(n_layers), n_heads_(n_heads) {
  target.register_b_transport(this, &Router::b_transport);
  target.register_transport_dbg(this, &Router::transport_dbg);
  for (int l = 0; l < n_layers; ++l) {
    for (int h = 0; h < n_heads; ++h) {
      const std::string n = "to_layer" + std::to_string(l) + "_head" + std::to_string(h);
      to_heads_.push_back(std::make_unique<tlm_utils::simple_initiator_socket<Router>>(n.c_str()));
    }
  }
}

int Router::decode(::tlm::tlm_generic_payload& trans) const {
  const std::uint64_t a = trans.get_address();
  const std::uint64_t layer = a / regs::kLayerStride;
  const std::uint64_t head = (a % regs::kLayerStride) / regs::kHeadStride;
  if (layer >= std::uint64_t(n_layers_) || head >= std::uint64_t(n_heads_)) return -1;
  trans.set_address(a % regs::kHeadStride);
  return static_cast<int>(layer * n_heads_ + head);
}

void Router::b_transport(::tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const std::uint64_t original = trans.get_address();
  const int port = decode(trans);
  if (port < 0) {
    trans.set_response_status(::tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  (*to_heads_[port])->b_transport(trans, delay);
  trans.set_address(original);  // the initiator sees its own address again
}

unsigned int Router::transport_dbg(::tlm::tlm_generic_payload& trans) {
  const std::uint64_t original = trans.get_address();
  const int port = decode(trans);
  if (port < 0) return 0;
  const unsigned int n = (*to_heads_[port])->transport_dbg(trans);
  trans.set_address(original);
  return n;
}

}  // namespace gca::tlm
