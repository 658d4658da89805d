#include "gca/sc/accelerator.hpp"

#include <string>

namespace gca::sc {

AttentionLayer::AttentionLayer(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                               std::shared_ptr<const spec::CircuitModel> circuits,
                               PowerFactory& power, spec::WorkerPool* pool, int layer)
    : sc_module(name), pool_(pool) {
  for (int h = 0; h < spec.model.n_heads; ++h) {
    const std::string n = "head" + std::to_string(h);
    heads_.push_back(std::make_unique<AttentionHead>(n.c_str(), spec, circuits, power,
                                                     layer * spec.model.n_heads + h));
    if (pool_ && pool_->threads() > 1) heads_.back()->set_batch([this] { flush(); });
  }
}

void AttentionLayer::flush() {
  todo_.clear();
  bool traced = false;
  for (int h = 0; h < n_heads(); ++h) {
    if (!heads_[h]->computing_pending()) continue;
    todo_.push_back(h);
    traced |= heads_[h]->control.tracing();
  }
  if (traced || todo_.size() < 2) {
    for (int h : todo_) heads_[h]->complete();
    return;
  }
  pool_->run(static_cast<int>(todo_.size()), [this](int i) {
    t_record_buffer = &heads_[todo_[i]]->record_buffer();
    heads_[todo_[i]]->complete();
    t_record_buffer = nullptr;
  });
  // Energy records in head order: the same sequence as on one thread.
  for (int h : todo_) heads_[h]->record_buffer().replay();
}

Accelerator::Accelerator(sc_core::sc_module_name name, const spec::HardwareSpec& spec,
                         power::PowerTracker* tracker, int threads)
    : sc_module(name),
      spec_(spec),
      circuits_(std::make_shared<spec::CircuitModel>(spec_)),
      power_(tracker),
      pool_(std::make_unique<spec::WorkerPool>(threads)) {
  for (int l = 0; l < spec_.model.n_layers; ++l) {
    const std::string n = "layer" + std::to_string(l);
    layers_.push_back(
        std::make_unique<AttentionLayer>(n.c_str(), spec_, circuits_, power_, pool_.get(), l));
  }
}

}  // namespace gca::sc
