// Static memory plan: places buffers with known lifetimes in one arena so
// that buffers whose lifetimes overlap never overlap in memory. Greedy by
// size: the largest buffer is placed first, each at the lowest offset that
// clears every already placed buffer live at the same time. Pure function.
#ifndef EDGEPIPE_LITE_MEMORY_PLANNER_H_
#define EDGEPIPE_LITE_MEMORY_PLANNER_H_

#include <cstddef>
#include <vector>

namespace edgepipe::lite {

struct BufferRequest {
  size_t bytes = 0;
  int first_use = 0;  // first step (op index) the buffer is live
  int last_use = 0;   // last step it is live, inclusive
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // per request, aligned to `alignment`
  size_t arena_bytes = 0;
};

MemoryPlan PlanMemory(const std::vector<BufferRequest>& requests, size_t alignment);

// Lower bound of the arena size of any plan for `requests` in which every
// buffer starts at a multiple of `alignment` and takes its size rounded up to
// it: the largest total (aligned) size of the buffers live at one step,
// maximized over steps. (Any plan must hold those buffers side by side at that
// step.) With alignment 1 it bounds unaligned plans too. Pure function;
// O(n log n) in the number of requests.
size_t ArenaLowerBound(const std::vector<BufferRequest>& requests, size_t alignment);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_MEMORY_PLANNER_H_
