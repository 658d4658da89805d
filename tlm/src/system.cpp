#include "gca/tlm/system.hpp"

namespace gca::tlm {

HostConfig System::with_shape(HostConfig c, const spec::HardwareSpec& spec) {
  c.n_layers = spec.model.n_layers;
  c.n_heads = spec.model.n_heads;
  c.d_head = spec.model.d_head;
  return c;
}

System::System(sc_core::sc_module_name name, const spec::HardwareSpec& spec, HostConfig host_config,
               TokenSource source, OutputSink sink, power::PowerTracker* tracker, int threads)
    : sc_module(name),
      accelerator("accelerator", spec, tracker, threads),
      link("link", accelerator.spec()),
      host("host", with_shape(host_config, spec), std::move(source), std::move(sink)) {
  host.socket.bind(link.from_host);
  link.to_accelerator.bind(accelerator.socket);
  accelerator.irq.bind(irq);
  host.irq.bind(irq);
}

}  // namespace gca::tlm
