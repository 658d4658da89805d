// Layers of heads: all heads of a layer work in parallel on the same token; the accelerator
// holds one layer of heads per model layer.
#pragma once

#include <memory>
#include <systemc>
#include <vector>

#include "gca/sc/attention_head.hpp"
#include "gca/spec/parallel.hpp"

namespace gca::sc {

// The heads of a layer work in parallel on the same token. In the model, a START only
// schedules a head's token; the array reads of all started heads run together, on all cores,
// when the first result is looked at (flush). Untraced heads only: trace hooks stay on the
// simulation thread.
class AttentionLayer : public sc_core::sc_module {
 public:
  AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                 std::shared_ptr<const spec::CircuitModel> circuits, PowerFactory& power,
                 spec::WorkerPool* pool, int layer = 0);
  AttentionHead& head(int h) { return *heads_[h]; }
  int n_heads() const { return static_cast<int>(heads_.size()); }
  void flush();

 private:
  std::vector<std::unique_ptr<AttentionHead>> heads_;
  std::vector<int> todo_;
  spec::WorkerPool* pool_;
};

class Accelerator : public sc_core::sc_module {
 public:
  // n_layers and n_heads come from spec.model.
  // threads: for the heads of a layer (0: GCA_THREADS or the machine's cores; 1: none).
  Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
              power::PowerTracker* tracker = nullptr, int threads = 0);
  AttentionLayer& layer(int l) { return *layers_[l]; }
  AttentionHead& head(int l, int h) { return layers_[l]->head(h); }
  int n_layers() const { return static_cast<int>(layers_.size()); }
  int n_heads() const { return spec_.model.n_heads; }
  const spec::HardwareSpec& spec() const { return spec_; }

 private:
  spec::HardwareSpec spec_;
  std::shared_ptr<const spec::CircuitModel> circuits_;
  PowerFactory power_;
  std::unique_ptr<spec::WorkerPool> pool_;
  std::vector<std::unique_ptr<AttentionLayer>> layers_;
};

}  // namespace gca::sc
