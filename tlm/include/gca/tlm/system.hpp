// The whole simulated system: host -> host link -> accelerator (one target socket), and the
// accelerator's interrupt wired to the host.
#pragma once

#include <systemc>

#include "gca/sc/accelerator.hpp"
#include "gca/tlm/host.hpp"
#include "gca/tlm/host_link.hpp"

namespace gca::tlm {

class System : public sc_core::sc_module {
 public:
  // The host's n_layers, n_heads and d_head are taken from the spec.
  System(sc_core::sc_module_name name, const spec::HardwareSpec& spec, HostConfig host_config,
         TokenSource source, OutputSink sink, power::PowerTracker* tracker = nullptr,
         int threads = 0);

  sc::Accelerator accelerator;
  HostLink link;
  Host host;
  sc_core::sc_signal<bool> irq{"irq"};

 private:
  static HostConfig with_shape(HostConfig c, const spec::HardwareSpec& spec);
};

}  // namespace gca::tlm
