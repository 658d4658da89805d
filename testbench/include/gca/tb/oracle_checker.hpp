// The independent check of a run: one oracle head (rtl_spec OracleHead: plain double-precision
// code that shares no kernel with the model) per simulated head, fed the same token data. Every
// token is written into the oracle's window; every n-th token of each head (or every token) is
// also read and compared output by output with the SystemC model, within the oracle's allowance
// for float-versus-double rounding at a counter boundary. It runs on a thread of its own,
// concurrently with the simulation; results do not depend on the timing of the two threads.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "gca/spec/oracle_head.hpp"

namespace gca::tb {

class OracleChecker {
 public:
  // every: compare every n-th token of each head (n >= 1), staggered over the heads.
  OracleChecker(const spec::HardwareSpec& spec, int layers, int heads, long every,
                int queue_tokens = kQueueTokens);
  ~OracleChecker();
  static constexpr int kQueueTokens = 4;
  // Bytes the checker holds for `spec` (what the constructor allocates: an oracle head per head
  // and the queue of submitted tokens), for memory estimates before a run.
  static std::size_t state_bytes(const spec::HardwareSpec& spec, int layers, int heads,
                                 int queue_tokens = kQueueTokens);
  OracleChecker(const OracleChecker&) = delete;
  OracleChecker& operator=(const OracleChecker&) = delete;

  // Token `token` of head h of layer l: the q, k, v (d values each) the model received, its
  // output, and the simulated time the head wrote and read it. Tokens of each head in order.
  void submit(int layer, int head, long token, const double* q, const double* k, const double* v,
              const double* out, double now_ns);
  // The head's window is emptied (the model's head was reset): the oracle head starts afresh
  // before the head's next submitted token.
  void reset(int layer, int head);
  // Waits until every submitted output is checked; the figures below are final after it.
  void finish();

  long every() const { return every_; }
  long compared() const { return compared_; }      // outputs compared
  long mismatches() const { return mismatches_; }  // beyond the allowance
  long boundary_flips() const { return flips_; }   // differing, within the allowance
  double max_abs_error() const { return worst_abs_; }

 private:
  struct Item {
    int layer = 0, head = 0;
    bool compare = false;
    bool reset = false;  // start the oracle head afresh instead of checking
    double now_ns = 0.0;
    std::vector<double> in, out;  // q|k|v, and the model's output
  };
  void run();
  void check(const Item& it);

  void enqueue(const std::function<void(Item&)>& fill);

  spec::HardwareSpec spec_;
  int heads_, d_;
  long every_;
  bool quantized_;  // counters quantize: a difference is a level flip (else float noise)
  std::vector<spec::OracleHead> oracle_;
  std::vector<Item> ring_;
  std::size_t head_ = 0, size_ = 0;  // ring position of the oldest item, items queued
  bool closing_ = false;
  std::mutex mutex_;
  std::condition_variable has_item_, has_room_, idle_;
  bool busy_ = false;
  // Who sleeps on which condition: a notification is a system call when someone sleeps, so
  // each side wakes the other only when it must. The checker is woken once a batch of items
  // (wake_at_) waits, not for every item, or when the run flushes (finish, closing).
  bool checker_sleeps_ = false, submitter_sleeps_ = false, flushing_ = false;
  std::size_t wake_at_ = 1;
  long compared_ = 0, mismatches_ = 0, flips_ = 0;
  double worst_abs_ = 0.0;
  std::thread thread_;
};

}  // namespace gca::tb
