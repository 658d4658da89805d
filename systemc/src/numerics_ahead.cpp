#include "gca/sc/numerics_ahead.hpp"

#include <algorithm>
#include <string>
#include <thread>

#include "gca/sc/attention_head.hpp"
#include "gca/spec/error.hpp"

namespace gca::sc {

namespace {
// One poll of a wait for another thread's item: a pause instruction for the first polls (an
// item takes microseconds), then a yield, so that a thread holding the item but preempted (more
// threads than cores: the checker's, a neighbour's) gets the core instead of a spinning one.
inline void backoff(int& polls) {
  if (++polls < 256) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  } else {
    std::this_thread::yield();
  }
}
}  // namespace

NumericsAhead::NumericsAhead(std::vector<AttentionHead*> heads, int n_heads, Inputs inputs,
                             long tokens, spec::TaskPool& pool)
    : heads_(std::move(heads)),
      n_heads_(n_heads),
      inputs_(std::move(inputs)),
      tokens_(tokens),
      pool_(&pool),
      released_(heads_.size(), -1),
      ready_(new std::atomic<long>[heads_.size()]) {
  for (std::size_t i = 0; i < heads_.size(); ++i) ready_[i].store(-1);
}

NumericsAhead::~NumericsAhead() {
  for (const auto& t : helpers_) pool_->join(t);
}

void NumericsAhead::taken(int index, long t) {
  if (index != 0) return;
  if (scheduled_ < t) schedule(t);
  if (scheduled_ < t + 1 && t + 1 < tokens_) schedule(t + 1);
}

void NumericsAhead::schedule(long t) {
  if (t >= tokens_) {
    throw Error(heads_[0]->name(), "numerics ahead",
                "token " + std::to_string(t) + " is past the " + std::to_string(tokens_) +
                    " tokens the platform announced");
  }
  // A head's record of token t replaces that of t - 2: every head must be done with it.
  for (std::size_t i = 0; i < heads_.size(); ++i) {
    if (released_[i] < t - 2) {
      throw Error(heads_[i]->name(), "numerics ahead",
                  "token " + std::to_string(t) + " would overwrite token " + std::to_string(t - 2) +
                      " before the head delivered it (ahead works one token at a time, decode)");
    }
  }
  scheduled_ = t;
  limit_.store((t + 1) * long(heads_.size()), std::memory_order_release);
  helpers_.erase(std::remove_if(helpers_.begin(), helpers_.end(),
                                [](const spec::TaskPool::Ticket& h) { return h->done(); }),
                 helpers_.end());
  // One drain task per worker that has none queued or running: a drain takes every item
  // scheduled while it runs, this batch's included.
  const std::size_t workers = std::size_t(pool_->threads() - 1);
  while (helpers_.size() < workers) helpers_.push_back(pool_->fork([this] { drain(); }));
}

long NumericsAhead::claim() {
  long item = next_.load(std::memory_order_relaxed);
  while (item < limit_.load(std::memory_order_acquire)) {
    if (next_.compare_exchange_weak(item, item + 1, std::memory_order_acq_rel)) return item;
  }
  return -1;
}

void NumericsAhead::compute(long item) {
  const long n = long(heads_.size());
  const long t = item / n;
  const int index = int(item % n);
  AttentionHead& head = *heads_[std::size_t(index)];
  // A head's tokens step in order: its previous token may still run on another thread (it was
  // claimed earlier, and an item waits only for items claimed before it: no cycle).
  std::atomic<long>& ready = ready_[std::size_t(index)];
  for (int polls = 0; ready.load(std::memory_order_acquire) < t - 1;) backoff(polls);
  double *q, *k, *v;
  head.ahead_inputs(t, &q, &k, &v);
  inputs_(t, index / n_heads_, index % n_heads_, q, k, v);
  head.compute_ahead(t, q, k, v);
  ready.store(t, std::memory_order_release);
}

void NumericsAhead::drain() {
  for (long item = claim(); item >= 0; item = claim()) compute(item);
}

void NumericsAhead::wait(int index, long t) {
  while (scheduled_ < t) schedule(scheduled_ + 1);
  std::atomic<long>& ready = ready_[std::size_t(index)];
  for (int polls = 0; ready.load(std::memory_order_acquire) < t;) {
    const long item = claim();
    if (item >= 0) {
      compute(item);
      polls = 0;
    } else {
      backoff(polls);
    }
  }
}

}  // namespace gca::sc
