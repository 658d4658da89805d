#include "gca/tlm/system.hpp"

namespace gca::tlm {

HostConfig System::with_shape(HostConfig c, const spec::HardwareSpec& spec) {
  c.n_layers = spec.model.n_layers;
  c.n_heads = spec.model.n_heads;
  c.d_head = spec.model.d_head;
  c.command_queue = spec.registers.command_queue;
  return c;
}

sc::AcceleratorOptions System::options(const HostConfig& c, int threads) {
  sc::AcceleratorOptions o;
  o.base_address = c.accelerator_base;
  o.threads = threads;
  return o;
}

System::System(sc_core::sc_module_name name, const spec::HardwareSpec& spec, HostConfig host_config,
               TokenSource source, OutputSink sink, power::PowerTracker* tracker, int threads,
               Interconnect interconnect)
    : sc_module(name),
      accelerator("accelerator", spec, options(host_config, threads), tracker),
      link("link", accelerator.spec(), host_config.accelerator_base),
      host("host", with_shape(host_config, spec), std::move(source), std::move(sink)) {
  if (!interconnect) {
    interconnect = [](const char*, ::tlm::tlm_initiator_socket<>& from,
                      ::tlm::tlm_target_socket<>& to) { from.bind(to); };
  }
  interconnect("host_to_link", host.socket, link.from_host);
  interconnect("link_to_accelerator", link.to_accelerator, accelerator.socket);
  accelerator.irq.bind(irq);
  host.irq.bind(irq);
}

}  // namespace gca::tlm
