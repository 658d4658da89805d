// Fork/join of independent per-head work. In the hardware every head computes on its own
// arrays; in the model a head's numerics for one token are forked when its write phase begins
// and joined before its read phase ends, so that the heads of a layer compute on all cores while
// the simulation goes on. Results are deterministic: a task touches only its own head's data,
// and whoever runs it (a worker, or the joining thread itself) computes the same numbers.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gca::spec {

class TaskPool {
 public:
  class Task;
  using Ticket = std::shared_ptr<Task>;

  // threads: total threads including the one that joins (it runs a task itself when no worker
  // has taken it yet); 0 means GCA_THREADS or the machine's cores; 1 runs every task at fork.
  explicit TaskPool(int threads = 0);
  ~TaskPool();
  TaskPool(const TaskPool&) = delete;
  TaskPool& operator=(const TaskPool&) = delete;

  Ticket fork(std::function<void()> fn);
  // Returns when the task has run. A null ticket is already joined.
  void join(const Ticket& ticket);
  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Threads a pool uses by default: $GCA_THREADS if set (>= 1), else the hardware's count.
  static int default_threads();

 private:
  void work();
  static bool run_if_queued(Task& task);
  bool run_one_queued();                    // runs the oldest queued task, if any
  static constexpr int kPauseSpins = 2000;  // polls (pause instructions, tens of µs) first
  static constexpr int kSpins = 2000;       // then polls (thread yields) before sleeping
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Ticket> queue_;
  std::atomic<int> queued_{0};
  std::atomic<bool> stop_{false};
};

class TaskPool::Task {
 public:
  explicit Task(std::function<void()> fn) : fn_(std::move(fn)) {}
  // The task has run (a join would return at once).
  bool done() const { return state_.load(std::memory_order_acquire) == kDone; }

 private:
  friend class TaskPool;
  enum : int { kQueued = 0, kRunning = 1, kDone = 2 };
  std::function<void()> fn_;
  std::atomic<int> state_{kQueued};
};

}  // namespace gca::spec
