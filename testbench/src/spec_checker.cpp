#include "gca/tb/spec_checker.hpp"

#include <algorithm>
#include <cmath>

namespace gca::tb {

SpecChecker::SpecChecker(const spec::HardwareSpec& spec, int layers, int heads, int queue_tokens)
    : heads_(heads), d_(spec.model.d_head), want_(spec.model.d_head) {
  for (int i = 0; i < layers * heads; ++i) reference_.emplace_back(spec, i);
  ring_.resize(std::size_t(std::max(1, queue_tokens)) * layers * heads);
  for (Item& it : ring_) {
    it.in.resize(3 * std::size_t(d_));
    it.out.resize(d_);
  }
  thread_ = std::thread([this] { run(); });
}

SpecChecker::~SpecChecker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closing_ = true;
  }
  has_item_.notify_all();
  thread_.join();
}

void SpecChecker::submit(int layer, int head, const double* q, const double* k, const double* v,
                         const double* out, double now_ns) {
  std::unique_lock<std::mutex> lock(mutex_);
  has_room_.wait(lock, [this] { return size_ < ring_.size(); });
  Item& it = ring_[(head_ + size_) % ring_.size()];
  it.layer = layer;
  it.head = head;
  it.now_ns = now_ns;
  std::copy_n(q, d_, it.in.data());
  std::copy_n(k, d_, it.in.data() + d_);
  std::copy_n(v, d_, it.in.data() + 2 * d_);
  std::copy_n(out, d_, it.out.data());
  ++size_;
  lock.unlock();
  has_item_.notify_one();
}

void SpecChecker::finish() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [this] { return size_ == 0 && !busy_; });
}

void SpecChecker::run() {
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    has_item_.wait(lock, [this] { return size_ > 0 || closing_; });
    if (size_ == 0) return;  // closing
    Item& it = ring_[head_];
    busy_ = true;
    lock.unlock();

    // The item stays in its slot (size_ unchanged) while it is checked, so submit() cannot
    // overwrite it.
    const double* in = it.in.data();
    reference_[std::size_t(it.layer) * heads_ + it.head].step(in, in + d_, in + 2 * d_,
                                                              want_.data(), it.now_ns);
    for (int i = 0; i < d_; ++i) {
      const double rel = std::fabs(it.out[i] - want_[i]) / std::max(1e-3, std::fabs(want_[i]));
      worst_rel_ = std::max(worst_rel_, rel);
      if (rel > kTolerance) ++mismatches_;
      ++checked_;
    }

    lock.lock();
    head_ = (head_ + 1) % ring_.size();
    --size_;
    busy_ = false;
    lock.unlock();
    has_room_.notify_one();
    idle_.notify_all();
  }
}

}  // namespace gca::tb
