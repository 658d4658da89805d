#include "gca/tb/oracle_checker.hpp"

#include <algorithm>
#include <cmath>

namespace gca::tb {

OracleChecker::OracleChecker(const spec::HardwareSpec& spec, int layers, int heads, long every,
                             int queue_tokens)
    : spec_(spec),
      heads_(heads),
      d_(spec.model.d_head),
      every_(std::max(1L, every)),
      quantized_(spec.quant.out_levels >= 2) {
  oracle_.reserve(std::size_t(layers) * heads);
  for (int i = 0; i < layers * heads; ++i) oracle_.emplace_back(spec, i);
  ring_.resize(std::size_t(std::max(1, queue_tokens)) * layers * heads);
  for (Item& it : ring_) {
    it.in.resize(3 * std::size_t(d_));
    it.out.resize(d_);
  }
  // A token's worth of items (every head's) per wake-up of the checker.
  wake_at_ = std::max<std::size_t>(1, std::size_t(layers) * heads);
  thread_ = std::thread([this] { run(); });
}

std::size_t OracleChecker::state_bytes(const spec::HardwareSpec& spec, int layers, int heads,
                                       int queue_tokens) {
  const std::size_t n = std::size_t(layers) * heads;
  const std::size_t item = sizeof(Item) + 4 * std::size_t(spec.model.d_head) * sizeof(double);
  return sizeof(OracleChecker) + n * spec::OracleHead::state_bytes(spec) +
         n * std::size_t(std::max(1, queue_tokens)) * item;
}

OracleChecker::~OracleChecker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
    flushing_ = true;
  }
  has_item_.notify_all();
  thread_.join();
}

void OracleChecker::enqueue(const std::function<void(Item&)>& fill) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (size_ == ring_.size()) {
    // Full: the checker must run now, whatever the batch.
    flushing_ = true;
    if (checker_sleeps_) has_item_.notify_one();
    submitter_sleeps_ = true;
    has_room_.wait(lock, [this] { return size_ < ring_.size(); });
    submitter_sleeps_ = false;
    flushing_ = false;
  }
  fill(ring_[(head_ + size_) % ring_.size()]);
  ++size_;
  const bool wake = checker_sleeps_ && size_ >= wake_at_;
  lock.unlock();
  if (wake) has_item_.notify_one();
}

void OracleChecker::submit(int layer, int head, long token, const double* q, const double* k,
                           const double* v, const double* out, double now_ns) {
  enqueue([&](Item& it) {
    it.layer = layer;
    it.head = head;
    it.reset = false;
    // Staggered over the heads, so that the oracle's work spreads evenly over the tokens.
    it.compare = (token + layer * heads_ + head) % every_ == 0;
    it.now_ns = now_ns;
    std::copy_n(q, d_, it.in.data());
    std::copy_n(k, d_, it.in.data() + d_);
    std::copy_n(v, d_, it.in.data() + 2 * d_);
    std::copy_n(out, d_, it.out.data());
  });
}

void OracleChecker::reset(int layer, int head) {
  enqueue([&](Item& it) {
    it.layer = layer;
    it.head = head;
    it.reset = true;
    it.compare = false;
  });
}

void OracleChecker::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  flushing_ = true;
  if (checker_sleeps_) has_item_.notify_one();
  idle_.wait(lock, [this] { return size_ == 0 && !busy_; });
  flushing_ = false;
}

void OracleChecker::check(const Item& it) {
  const std::size_t index = std::size_t(it.layer) * heads_ + it.head;
  if (it.reset) {
    oracle_[index] = spec::OracleHead(spec_, static_cast<int>(index));
    return;
  }
  spec::OracleHead& oracle = oracle_[index];
  const double* in = it.in.data();
  oracle.write(in + d_, in + 2 * d_, it.now_ns);
  if (!it.compare) return;
  const spec::OracleToken want = oracle.read(in, it.now_ns);
  for (int i = 0; i < d_; ++i) {
    const double diff = std::fabs(it.out[i] - want.out[i]);
    worst_abs_ = std::max(worst_abs_, diff);
    if (diff > want.allowance[i]) {
      ++mismatches_;
    } else if (quantized_ && diff > 1e-9 * (1.0 + std::fabs(want.out[i]))) {
      ++flips_;
    }
    ++compared_;
  }
}

void OracleChecker::run() {
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (size_ == 0 || (size_ < wake_at_ && !flushing_)) {
      if (size_ == 0) idle_.notify_all();  // finish() may wait for this
      checker_sleeps_ = true;
      has_item_.wait(lock,
                     [this] { return size_ >= wake_at_ || closing_ || (flushing_ && size_ > 0); });
      checker_sleeps_ = false;
    }
    if (size_ == 0) return;  // closing
    // The items queued now, checked as one batch: the lock is taken twice per batch, not per
    // item, so the submitter rarely finds it held. The items stay in their slots (size_
    // unchanged) while they are checked, so submit() cannot overwrite them; only this thread
    // moves head_.
    // At most a token's worth: a full queue's submitter waits for one batch, not for all.
    const std::size_t batch = std::min(size_, wake_at_), first = head_;
    busy_ = true;
    lock.unlock();
    for (std::size_t i = 0; i < batch; ++i) check(ring_[(first + i) % ring_.size()]);
    lock.lock();
    head_ = (first + batch) % ring_.size();
    size_ -= batch;
    busy_ = false;
    const bool room = submitter_sleeps_;
    lock.unlock();
    if (room) has_room_.notify_one();
  }
}

}  // namespace gca::tb
