// The independent check of a run: one executable-spec head (rtl_spec HeadModel) per simulated
// head, fed the same token data, compared output by output with the SystemC model. It runs on
// a thread of its own, concurrently with the simulation, which hands it each output as the
// host reads it; results do not depend on the timing of the two threads.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "gca/spec/head_model.hpp"

namespace gca::tb {

class SpecChecker {
 public:
  // queue_tokens: how many tokens of outputs may wait before submit() blocks.
  SpecChecker(const spec::HardwareSpec& spec, int layers, int heads, int queue_tokens = 4);
  ~SpecChecker();
  SpecChecker(const SpecChecker&) = delete;
  SpecChecker& operator=(const SpecChecker&) = delete;

  // One output of head h of layer l, with the q, k, v (d values each) the model received.
  // Outputs of each head must come in token order. now_ns: when the model wrote the token (the
  // clock its stored values decay by).
  void submit(int layer, int head, const double* q, const double* k, const double* v,
              const double* out, double now_ns);
  // Waits until every submitted output is checked; the figures below are final after it.
  void finish();

  long checked() const { return checked_; }
  long mismatches() const { return mismatches_; }
  double max_rel_error() const { return worst_rel_; }
  static constexpr double kTolerance = 1e-5;  // relative, as the model's equality criterion

 private:
  struct Item {
    int layer = 0, head = 0;
    double now_ns = 0.0;
    std::vector<double> in, out;  // q|k|v, and the model's output
  };
  void run();

  int heads_, d_;
  std::vector<spec::HeadModel> reference_;
  std::vector<Item> ring_;
  std::size_t head_ = 0, size_ = 0;  // ring position of the oldest item, items queued
  bool closing_ = false;
  std::mutex mutex_;
  std::condition_variable has_item_, has_room_, idle_;
  bool busy_ = false;
  std::vector<double> want_;
  long checked_ = 0, mismatches_ = 0;
  double worst_rel_ = 0.0;
  std::thread thread_;
};

}  // namespace gca::tb
