#include "gca/spec/parallel.hpp"

#include <cstdlib>

namespace gca::spec {

int WorkerPool::default_threads() {
  if (const char* env = std::getenv("GCA_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

WorkerPool::WorkerPool(int threads) {
  if (threads <= 0) threads = default_threads();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void WorkerPool::drain() {
  for (int i = next_.fetch_add(1); i < n_; i = next_.fetch_add(1)) (*job_)(i);
}

void WorkerPool::run(int n, const std::function<void(int)>& fn) {
  if (workers_.empty() || n <= 1) {
    for (int i = 0; i < n; ++i) fn(i);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    n_ = n;
    next_.store(0);
    busy_.store(static_cast<int>(workers_.size()));
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  drain();
  // The workers finish within microseconds of the caller: wait for them briefly by polling
  // before sleeping, since a sleep/wake round trip costs more than the work of a small batch.
  for (int spin = 0; spin < kSpins && busy_.load() != 0; ++spin) std::this_thread::yield();
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [this] { return busy_.load() == 0; });
  job_ = nullptr;
}

void WorkerPool::work() {
  long seen = 0;
  for (;;) {
    // Batches come in quick succession (one per layer of every token): poll for the next
    // one for a moment before sleeping.
    for (int spin = 0; spin < kSpins && generation_.load() == seen; ++spin)
      std::this_thread::yield();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_.load() != seen; });
      if (stop_) return;
      seen = generation_.load();
    }
    drain();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (busy_.fetch_sub(1) == 1) done_.notify_one();
    }
  }
}

}  // namespace gca::spec
