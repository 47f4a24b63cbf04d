#include "edgepipe/core/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace edgepipe {
namespace {

TEST(ThreadPoolTest, Sizes) {
  EXPECT_GE(ThreadPool::MachineThreads(), 1);
  ThreadPool machine;
  EXPECT_EQ(machine.num_threads(), ThreadPool::MachineThreads());
  ThreadPool three(3);
  EXPECT_EQ(three.num_threads(), 3);
  ThreadPool negative(-5);
  EXPECT_EQ(negative.num_threads(), ThreadPool::MachineThreads());
  ThreadPool* def = ThreadPool::Default();
  ASSERT_NE(def, nullptr);
  EXPECT_EQ(def, ThreadPool::Default());
  EXPECT_GE(def->num_threads(), 1);
}

TEST(ThreadPoolTest, ScheduleManyThenWait) {
  ThreadPool pool(4);
  std::atomic<int> count{0};
  for (int i = 0; i < 20000; ++i) pool.Schedule([&] { count.fetch_add(1); });
  pool.Wait();
  EXPECT_EQ(count.load(), 20000);
  pool.Wait();  // nothing outstanding: returns at once
  for (int i = 0; i < 100; ++i) pool.Schedule([&] { count.fetch_add(1); });
  pool.Wait();
  EXPECT_EQ(count.load(), 20100);
}

TEST(ThreadPoolTest, WaitCoversTasksScheduledByTasks) {
  ThreadPool pool(3);
  std::atomic<int> count{0};
  for (int i = 0; i < 50; ++i) {
    pool.Schedule([&] {
      for (int j = 0; j < 20; ++j) {
        pool.Schedule([&] {
          std::this_thread::sleep_for(std::chrono::microseconds(10));
          count.fetch_add(1);
        });
      }
    });
  }
  pool.Wait();
  EXPECT_EQ(count.load(), 1000);
}

TEST(ThreadPoolTest, DestructorRunsQueuedTasks) {
  std::atomic<int> count{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 200; ++i) {
      pool.Schedule([&] {
        std::this_thread::sleep_for(std::chrono::microseconds(50));
        count.fetch_add(1);
      });
    }
  }
  EXPECT_EQ(count.load(), 200);
}

// Every index in [0, n) is visited exactly once, over ranges of at most grain.
void CheckCoverage(ThreadPool& pool, int64_t n, int64_t grain) {
  std::vector<std::atomic<int>> hits(static_cast<size_t>(std::max<int64_t>(n, 0)));
  std::atomic<int64_t> max_range{0};
  pool.ParallelFor(n, grain, [&](int64_t begin, int64_t end) {
    ASSERT_LE(0, begin);
    ASSERT_LT(begin, end);
    ASSERT_LE(end, n);
    int64_t len = end - begin;
    int64_t prev = max_range.load();
    while (len > prev && !max_range.compare_exchange_weak(prev, len)) {
    }
    for (int64_t i = begin; i < end; ++i) hits[static_cast<size_t>(i)].fetch_add(1);
  });
  for (int64_t i = 0; i < n; ++i) ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << i;
  if (n > 0 && pool.num_threads() > 1 && n > std::max<int64_t>(grain, 1)) {
    EXPECT_LE(max_range.load(), std::max<int64_t>(grain, 1));
  }
}

TEST(ThreadPoolTest, ParallelForCoversEachIndexOnce) {
  ThreadPool pool(4);
  for (int64_t n : {0, 1, 2, 7, 64, 1000, 12345}) {
    for (int64_t grain : {-1, 0, 1, 3, 64, 1000, 100000}) {
      SCOPED_TRACE(testing::Message() << "n=" << n << " grain=" << grain);
      CheckCoverage(pool, n, grain);
    }
  }
}

TEST(ThreadPoolTest, ParallelForRunsInlineOnOneThreadOrSmallN) {
  const auto caller = std::this_thread::get_id();
  ThreadPool one(1);
  int calls = 0;
  one.ParallelFor(1000, 1, [&](int64_t b, int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 1000);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
  EXPECT_EQ(calls, 1);

  ThreadPool four(4);
  calls = 0;
  four.ParallelFor(10, 10, [&](int64_t b, int64_t e) {
    ++calls;
    EXPECT_EQ(b, 0);
    EXPECT_EQ(e, 10);
    EXPECT_EQ(std::this_thread::get_id(), caller);
  });
  EXPECT_EQ(calls, 1);
  four.ParallelFor(0, 1, [&](int64_t, int64_t) { ++calls; });
  four.ParallelFor(-3, 1, [&](int64_t, int64_t) { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(ThreadPoolTest, ParallelForUsesWorkers) {
  ThreadPool pool(4);
  std::mutex mu;
  std::vector<std::thread::id> ids;
  pool.ParallelFor(64, 1, [&](int64_t, int64_t) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::lock_guard<std::mutex> lock(mu);
    ids.push_back(std::this_thread::get_id());
  });
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  EXPECT_GE(ids.size(), 2u);  // 64 sleeping chunks cannot all land on one thread
}

// ParallelFor inside tasks that occupy every worker must still complete.
TEST(ThreadPoolTest, NestedParallelForDoesNotDeadlock) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    std::atomic<int64_t> sum{0};
    for (int t = 0; t < 16; ++t) {
      pool.Schedule([&] {
        pool.ParallelFor(1000, 10, [&](int64_t b, int64_t e) {
          pool.ParallelFor(e - b, 3, [&](int64_t b2, int64_t e2) { sum.fetch_add(e2 - b2); });
        });
      });
    }
    pool.Wait();
    EXPECT_EQ(sum.load(), 16 * 1000) << threads << " threads";
  }
}

// Wait() inside a task runs queued work inline and returns once the task's
// children are done.
TEST(ThreadPoolTest, NestedWaitDoesNotDeadlock) {
  for (int threads : {1, 2, 4}) {
    ThreadPool pool(threads);
    constexpr int kParents = 8;
    std::vector<std::atomic<int>> children_done(kParents);
    std::atomic<int> parents_ok{0};
    for (int p = 0; p < kParents; ++p) {
      pool.Schedule([&, p] {
        for (int c = 0; c < 10; ++c) {
          pool.Schedule([&, p] {
            std::this_thread::sleep_for(std::chrono::microseconds(100));
            children_done[static_cast<size_t>(p)].fetch_add(1);
          });
        }
        pool.Wait();
        if (children_done[static_cast<size_t>(p)].load() == 10) parents_ok.fetch_add(1);
      });
    }
    pool.Wait();
    EXPECT_EQ(parents_ok.load(), kParents) << threads << " threads";
  }
}

TEST(ThreadPoolTest, ConcurrentCallersStress) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        pool.ParallelFor(500, 7, [&](int64_t b, int64_t e) { total.fetch_add(e - b); });
        pool.Schedule([&] { total.fetch_add(1); });
      }
      pool.Wait();
    });
  }
  for (std::thread& t : callers) t.join();
  pool.Wait();
  EXPECT_EQ(total.load(), 4 * 50 * 501);
}

TEST(ThreadPoolTest, ManyShortLivedPools) {
  std::atomic<int> count{0};
  for (int i = 0; i < 50; ++i) {
    ThreadPool pool(2);
    pool.Schedule([&] { count.fetch_add(1); });
    pool.ParallelFor(10, 1,
                     [&](int64_t b, int64_t e) { count.fetch_add(static_cast<int>(e - b)); });
  }
  EXPECT_EQ(count.load(), 50 * 11);
}

}  // namespace
}  // namespace edgepipe
