#include "gca/tlm/system.hpp"

#include <string>

namespace gca::tlm {

HostConfig System::with_shape(HostConfig c, const spec::HardwareSpec& spec) {
  c.n_layers = spec.model.n_layers;
  c.n_heads = spec.model.n_heads;
  c.d_head = spec.model.d_head;
  return c;
}

System::System(sc_core::sc_module_name name, const spec::HardwareSpec& spec, HostConfig host_config,
               TokenSource source, OutputSink sink, power::PowerTracker* tracker)
    : sc_module(name),
      accelerator("accelerator", spec, tracker),
      router("router", spec.model.n_layers, spec.model.n_heads),
      host("host", with_shape(host_config, spec), std::move(source), std::move(sink)) {
  host.socket.bind(router.target);
  for (int l = 0; l < spec.model.n_layers; ++l) {
    for (int h = 0; h < spec.model.n_heads; ++h) {
      const std::string n = "target_l" + std::to_string(l) + "_h" + std::to_string(h);
      targets_.push_back(std::make_unique<HeadTarget>(n.c_str(), accelerator.head(l, h)));
      router.to_head(l, h).bind(targets_.back()->socket);
    }
  }
}

}  // namespace gca::tlm
