// The task pool that runs the heads' numerics: every forked task runs exactly once, whoever runs
// it (a worker or the joining thread), and a worker that went to sleep between bursts of tasks
// wakes for the next one.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "gca/spec/parallel.hpp"

using gca::spec::TaskPool;

TEST(TaskPool, EveryTaskRunsOnceInBurstsWithPausesBetween) {
  TaskPool pool(2);
  constexpr int kBursts = 50, kTasks = 12;  // like the heads of a layer, token after token
  std::vector<int> runs(kBursts * kTasks, 0);
  for (int burst = 0; burst < kBursts; ++burst) {
    std::vector<TaskPool::Ticket> tickets;
    for (int h = 0; h < kTasks; ++h)
      tickets.push_back(pool.fork([&runs, i = burst * kTasks + h] { ++runs[std::size_t(i)]; }));
    for (const auto& t : tickets) pool.join(t);
    // Now and then a pause long enough for the worker to stop polling and sleep.
    if (burst % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  for (int r : runs) EXPECT_EQ(r, 1);
}

TEST(TaskPool, ASleepingWorkerWakesForANewTask) {
  TaskPool pool(2);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // far past the worker's polling
  std::atomic<bool> ran{false};
  std::thread::id runner;
  const TaskPool::Ticket t = pool.fork([&] {
    runner = std::this_thread::get_id();
    ran = true;
  });
  // Not joined yet: only the worker can run it (a generous bound for a loaded machine).
  for (int i = 0; i < 20000 && !ran; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(ran.load());
  pool.join(t);
  EXPECT_NE(runner, std::this_thread::get_id());
}
