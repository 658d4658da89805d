#include "gca/sc/accelerator.hpp"

#include <string>

namespace gca::sc {

AttentionLayer::AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                               std::shared_ptr<const spec::CircuitModel> circuits,
                               PowerFactory& power)
    : sc_module(name) {
  for (int h = 0; h < spec.model.n_heads; ++h) {
    const std::string n = "head" + std::to_string(h);
    heads_.push_back(std::make_unique<AttentionHead>(n.c_str(), spec, circuits, power));
  }
}

Accelerator::Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                         power::PowerTracker* tracker)
    : sc_module(name),
      spec_(spec),
      circuits_(std::make_shared<spec::CircuitModel>(spec_)),
      power_(tracker) {
  for (int l = 0; l < spec_.model.n_layers; ++l) {
    const std::string n = "layer" + std::to_string(l);
    layers_.push_back(std::make_unique<AttentionLayer>(n.c_str(), spec_, circuits_, power_));
  }
}

}  // namespace gca::sc
