// A small pool of worker threads for independent per-head work (the heads of a layer compute
// in parallel in the hardware, and nothing they compute depends on another head). The caller
// takes part in the work; results are deterministic because every index writes only its own
// data, whatever thread runs it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gca::spec {

class WorkerPool {
 public:
  // threads: total threads including the caller; 0 means GCA_THREADS or the machine's cores.
  explicit WorkerPool(int threads = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs fn(0) ... fn(n - 1), spread over the threads; returns when all are done.
  void run(int n, const std::function<void(int)>& fn);
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Threads a pool uses by default: $GCA_THREADS if set (>= 1), else the hardware's count.
  static int default_threads();

 private:
  void work();
  void drain();
  static constexpr int kSpins = 2000;  // polls (thread yields) before sleeping
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int n_ = 0;
  std::atomic<int> next_{0};
  std::atomic<int> busy_{0};
  std::atomic<long> generation_{0};
  bool stop_ = false;
};

}  // namespace gca::spec
