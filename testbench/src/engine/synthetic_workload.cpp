// The synthetic workload: the scenario's stimulus (seeded uniform values or .npy files) for
// every head, independent of the outputs (open loop).
#include "gca/tb/engine/workload.hpp"
#include "gca/tb/stimulus.hpp"

namespace gca::tb {
namespace {

class SyntheticWorkload : public Workload {
 public:
  explicit SyntheticWorkload(tlm::TokenSource source) : source_(std::move(source)) {}
  void inputs(long token, int layer, int head, double* q, double* k, double* v) override {
    source_(token, layer, head, q, k, v);
  }
  // Every stimulus (seeded uniform values, .npy rows) is a pure function of its arguments.
  tlm::TokenSource open_loop_inputs() const override { return source_; }
  nlohmann::ordered_json report() const override { return {{"stimulus", stimulus_}}; }
  std::string stimulus_;

 private:
  tlm::TokenSource source_;
};

}  // namespace

WorkloadKind synthetic_workload_kind() {
  WorkloadKind k;
  k.name = "synthetic";
  k.description = "the stimulus section's data (uniform random or .npy) for every head, open loop";
  k.make = [](const Scenario& sc, const spec::HardwareSpec& s) -> std::unique_ptr<Workload> {
    auto w =
        std::make_unique<SyntheticWorkload>(make_stimulus(sc.stimulus, s.model, sc.host.tokens));
    w->stimulus_ = sc.stimulus.kind == StimulusConfig::Kind::uniform ? "uniform"
                   : sc.stimulus.kind == StimulusConfig::Kind::npy   ? "npy"
                                                                     : "heads";
    return w;
  };
  return k;
}

}  // namespace gca::tb
