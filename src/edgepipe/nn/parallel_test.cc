// ParallelFor: every index runs exactly once for 1..4 threads, nested calls
// run inline, and many back-to-back jobs (as in training) complete.
#include "edgepipe/nn/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace edgepipe::nn {
namespace {

TEST(ParallelTest, EveryIndexOnce) {
  for (int threads : {1, 2, 3, 4}) {
    SetNumThreads(threads);
    EXPECT_EQ(NumThreads(), threads);
    std::vector<std::atomic<int>> hits(1000);
    ParallelFor(1000, [&](int64_t i) { hits[static_cast<size_t>(i)].fetch_add(1); });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  SetNumThreads(1);
}

TEST(ParallelTest, NestedRunsInlineAndManyJobsComplete) {
  SetNumThreads(2);
  std::atomic<int64_t> sum{0};
  ParallelFor(4, [&](int64_t i) { ParallelFor(3, [&](int64_t j) { sum.fetch_add(i * 10 + j); }); });
  EXPECT_EQ(sum.load(), (0 + 10 + 20 + 30) * 3 + 4 * 3);
  std::atomic<int64_t> count{0};
  for (int job = 0; job < 20000; ++job) ParallelFor(2, [&](int64_t) { count.fetch_add(1); });
  EXPECT_EQ(count.load(), 40000);
  SetNumThreads(0);  // clamps to 1
  EXPECT_EQ(NumThreads(), 1);
}

}  // namespace
}  // namespace edgepipe::nn
