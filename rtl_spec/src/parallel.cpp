#include "gca/spec/parallel.hpp"

#include <cstdlib>

namespace gca::spec {

namespace {
// One poll of a busy wait: a pause instruction (cheap, no system call), which also tells a
// hyper-threaded core to favour its sibling.
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
}  // namespace

int TaskPool::default_threads() {
  if (const char* env = std::getenv("GCA_THREADS")) {
    const int n = std::atoi(env);
    if (n >= 1) return n;
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

TaskPool::TaskPool(int threads) {
  if (threads <= 0) threads = default_threads();
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { work(); });
}

TaskPool::~TaskPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool TaskPool::run_if_queued(Task& task) {
  int expected = Task::kQueued;
  if (!task.state_.compare_exchange_strong(expected, Task::kRunning)) return false;
  task.fn_();
  task.state_.store(Task::kDone, std::memory_order_release);
  return true;
}

TaskPool::Ticket TaskPool::fork(std::function<void()> fn) {
  auto task = std::make_shared<Task>(std::move(fn));
  if (workers_.empty()) {
    run_if_queued(*task);
    return task;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(task);
    queued_.fetch_add(1);
  }
  wake_.notify_one();
  return task;
}

bool TaskPool::run_one_queued() {
  Ticket task;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.empty()) return false;
    task = std::move(queue_.front());
    queue_.pop_front();
    queued_.fetch_sub(1);
  }
  run_if_queued(*task);
  return true;
}

void TaskPool::join(const Ticket& ticket) {
  if (!ticket) return;
  if (run_if_queued(*ticket)) return;  // no worker took it yet: run it here
  // A worker runs it: meanwhile help with the tasks still queued (other heads' numerics).
  // Spin on the task's state first (a head's numerics take microseconds); yield only after.
  int polls = 0;
  while (ticket->state_.load(std::memory_order_acquire) != Task::kDone) {
    if (queued_.load(std::memory_order_relaxed) > 0 && run_one_queued()) continue;
    if (++polls < kPauseSpins) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void TaskPool::work() {
  for (;;) {
    // Tasks come in bursts (the heads of a layer within a few simulated ns): poll for a
    // moment before sleeping, a sleep/wake round trip costs more than a small task.
    for (int spin = 0; spin < kPauseSpins && queued_.load(std::memory_order_relaxed) == 0 && !stop_;
         ++spin)
      cpu_relax();
    for (int spin = 0; spin < kSpins && queued_.load() == 0 && !stop_; ++spin)
      std::this_thread::yield();
    Ticket task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_ && queue_.empty()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      queued_.fetch_sub(1);
    }
    run_if_queued(*task);
  }
}

}  // namespace gca::spec
