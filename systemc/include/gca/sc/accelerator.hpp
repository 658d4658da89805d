// Layers of heads: all heads of a layer work in parallel on the same token; the accelerator
// holds one layer of heads per model layer.
#pragma once

#include <memory>
#include <systemc>
#include <vector>

#include "gca/sc/attention_head.hpp"

namespace gca::sc {

class AttentionLayer : public sc_core::sc_module {
 public:
  AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                 std::shared_ptr<const spec::CircuitModel> circuits, PowerFactory& power);
  AttentionHead& head(int h) { return *heads_[h]; }
  int n_heads() const { return static_cast<int>(heads_.size()); }

 private:
  std::vector<std::unique_ptr<AttentionHead>> heads_;
};

class Accelerator : public sc_core::sc_module {
 public:
  // n_layers and n_heads come from spec.model.
  Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
              power::PowerTracker* tracker = nullptr);
  AttentionLayer& layer(int l) { return *layers_[l]; }
  AttentionHead& head(int l, int h) { return layers_[l]->head(h); }
  int n_layers() const { return static_cast<int>(layers_.size()); }
  int n_heads() const { return spec_.model.n_heads; }
  const spec::HardwareSpec& spec() const { return spec_; }

 private:
  spec::HardwareSpec spec_;
  std::shared_ptr<const spec::CircuitModel> circuits_;
  PowerFactory power_;
  std::vector<std::unique_ptr<AttentionLayer>> layers_;
};

}  // namespace gca::sc
