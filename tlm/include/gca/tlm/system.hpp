// The whole simulated system: host -> router -> one HeadTarget per head of the accelerator.
#pragma once

#include <memory>
#include <systemc>
#include <vector>

#include "gca/sc/accelerator.hpp"
#include "gca/tlm/head_target.hpp"
#include "gca/tlm/host.hpp"
#include "gca/tlm/router.hpp"

namespace gca::tlm {

class System : public sc_core::sc_module {
 public:
  // The host's n_layers, n_heads and d_head are taken from the spec.
  System(sc_core::sc_module_name name, const spec::HardwareSpec& spec, HostConfig host_config,
         TokenSource source, OutputSink sink, power::PowerTracker* tracker = nullptr);

  sc::Accelerator accelerator;
  Router router;
  Host host;

 private:
  static HostConfig with_shape(HostConfig c, const spec::HardwareSpec& spec);
  std::vector<std::unique_ptr<HeadTarget>> targets_;
};

}  // namespace gca::tlm
