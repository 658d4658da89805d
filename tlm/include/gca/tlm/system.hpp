// The whole simulated system: host -> host link -> accelerator (one target socket), and the
// accelerator's interrupt wired to the host. Each of the two hops can take an interconnect (a
// bus model, a protocol checker, a monitor) through the Interconnect hook.
#pragma once

#include <functional>
#include <systemc>
#include <tlm>

#include "gca/sc/accelerator.hpp"
#include "gca/tlm/host.hpp"
#include "gca/tlm/host_link.hpp"

namespace gca::tlm {

// Binds `from` (an initiator socket) to `to` (a target socket) on the hop named `hop`
// ("host_to_link" or "link_to_accelerator"), directly or through modules of its own. Modules it
// creates must outlive the simulation (the caller keeps them).
using Interconnect = std::function<void(const char* hop, ::tlm::tlm_initiator_socket<>& from,
                                        ::tlm::tlm_target_socket<>& to)>;

class System : public sc_core::sc_module {
 public:
  // The host's n_layers, n_heads, d_head and command queue depth are taken from the spec.
  // threads: for the heads' numerics (0: GCA_THREADS or the machine's cores).
  System(sc_core::sc_module_name name, const spec::HardwareSpec& spec, HostConfig host_config,
         TokenSource source, OutputSink sink, power::PowerTracker* tracker = nullptr,
         int threads = 0, Interconnect interconnect = nullptr);

  sc::Accelerator accelerator;
  HostLink link;
  Host host;
  sc_core::sc_signal<bool> irq{"irq"};

 private:
  static HostConfig with_shape(HostConfig c, const spec::HardwareSpec& spec);
  static sc::AcceleratorOptions options(const HostConfig& c, int threads);
};

}  // namespace gca::tlm
