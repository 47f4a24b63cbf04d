#include "edgepipe/lite/memory_planner.h"

#include <gtest/gtest.h>

#include <random>

namespace edgepipe::lite {
namespace {

// True when no two buffers that are live at a common step overlap in memory,
// and every buffer lies inside the arena at an aligned offset.
::testing::AssertionResult ValidPlan(const std::vector<BufferRequest>& r, const MemoryPlan& p,
                                     size_t alignment) {
  const auto align = [&](size_t n) { return (n + alignment - 1) / alignment * alignment; };
  for (size_t i = 0; i < r.size(); ++i) {
    if (p.offsets[i] % alignment != 0) {
      return ::testing::AssertionFailure() << "buffer " << i << " misaligned";
    }
    if (p.offsets[i] + r[i].bytes > p.arena_bytes) {
      return ::testing::AssertionFailure() << "buffer " << i << " outside the arena";
    }
    for (size_t j = i + 1; j < r.size(); ++j) {
      const bool live_together = r[i].first_use <= r[j].last_use && r[j].first_use <= r[i].last_use;
      const bool apart = p.offsets[i] + align(r[i].bytes) <= p.offsets[j] ||
                         p.offsets[j] + align(r[j].bytes) <= p.offsets[i];
      if (live_together && r[i].bytes && r[j].bytes && !apart) {
        return ::testing::AssertionFailure() << "buffers " << i << " and " << j << " overlap";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

TEST(ArenaLowerBoundTest, ChainOfOps) {
  // x(0..1) -> a(1..2) -> b(2..3): at step 1 x and a, at step 2 a and b.
  std::vector<BufferRequest> r = {{100, 0, 1}, {300, 1, 2}, {50, 2, 3}};
  EXPECT_EQ(ArenaLowerBound(r, 1), 400u);
  // Aligned to 64: 128 + 320 at step 1.
  EXPECT_EQ(ArenaLowerBound(r, 64), 448u);
}

TEST(ArenaLowerBoundTest, TouchingLifetimesCountTogether) {
  // Both are live at step 2 (inclusive ends).
  EXPECT_EQ(ArenaLowerBound({{10, 0, 2}, {20, 2, 4}}, 1), 30u);
  // Disjoint: only the larger.
  EXPECT_EQ(ArenaLowerBound({{10, 0, 1}, {20, 2, 4}}, 1), 20u);
  // Graph inputs start at -1; last_use < first_use is treated as first_use.
  EXPECT_EQ(ArenaLowerBound({{10, -1, -1}, {20, -1, 0}, {5, 3, 1}}, 1), 30u);
  EXPECT_EQ(ArenaLowerBound({}, 64), 0u);
  EXPECT_EQ(ArenaLowerBound({{0, 0, 5}}, 64), 0u);
}

TEST(PlanMemoryTest, RandomRequestsGiveValidPlansAtOrAboveTheBound) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<BufferRequest> r(static_cast<size_t>(1 + rng() % 30));
    for (BufferRequest& b : r) {
      b.bytes = rng() % 5000;
      b.first_use = static_cast<int>(rng() % 20) - 1;
      b.last_use = b.first_use + static_cast<int>(rng() % 6);
    }
    for (size_t alignment : {size_t{1}, size_t{64}}) {
      const MemoryPlan p = PlanMemory(r, alignment);
      ASSERT_TRUE(ValidPlan(r, p, alignment)) << "trial " << trial;
      EXPECT_GE(p.arena_bytes, ArenaLowerBound(r, alignment)) << "trial " << trial;
    }
  }
}

}  // namespace
}  // namespace edgepipe::lite
