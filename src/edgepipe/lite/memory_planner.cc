#include "edgepipe/lite/memory_planner.h"

#include <algorithm>
#include <numeric>

namespace edgepipe::lite {

MemoryPlan PlanMemory(const std::vector<BufferRequest>& requests, size_t alignment) {
  const auto align = [&](size_t n) { return (n + alignment - 1) / alignment * alignment; };
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return requests[a].bytes > requests[b].bytes; });
  MemoryPlan plan;
  plan.offsets.assign(requests.size(), 0);
  std::vector<size_t> placed;
  struct Interval {
    size_t begin, end;
  };
  std::vector<Interval> busy;
  for (size_t i : order) {
    const BufferRequest& r = requests[i];
    const size_t size = align(r.bytes);
    if (size == 0) continue;
    busy.clear();
    for (size_t j : placed) {
      const BufferRequest& o = requests[j];
      if (o.first_use <= r.last_use && r.first_use <= o.last_use) {
        busy.push_back({plan.offsets[j], plan.offsets[j] + align(o.bytes)});
      }
    }
    std::sort(busy.begin(), busy.end(),
              [](const Interval& a, const Interval& b) { return a.begin < b.begin; });
    size_t offset = 0;
    for (const Interval& b : busy) {
      if (offset + size <= b.begin) break;
      offset = std::max(offset, b.end);
    }
    plan.offsets[i] = offset;
    plan.arena_bytes = std::max(plan.arena_bytes, offset + size);
    placed.push_back(i);
  }
  return plan;
}

size_t ArenaLowerBound(const std::vector<BufferRequest>& requests, size_t alignment) {
  const auto align = [&](size_t n) { return (n + alignment - 1) / alignment * alignment; };
  // Sweep over steps: +size at first_use, -size after last_use. At equal
  // steps starts come before ends (an end event sits at last_use + 1).
  struct Event {
    long long step;
    int kind;  // 0 = end, 1 = start; ends first at equal steps
    size_t bytes;
  };
  std::vector<Event> events;
  events.reserve(2 * requests.size());
  for (const BufferRequest& r : requests) {
    const size_t size = align(r.bytes);
    if (size == 0) continue;
    events.push_back({r.first_use, 1, size});
    events.push_back({static_cast<long long>(std::max(r.first_use, r.last_use)) + 1, 0, size});
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.step != b.step ? a.step < b.step : a.kind < b.kind;
  });
  size_t live = 0;
  size_t peak = 0;
  for (const Event& e : events) {
    if (e.kind == 1) {
      live += e.bytes;
      peak = std::max(peak, live);
    } else {
      live -= e.bytes;
    }
  }
  return peak;
}

}  // namespace edgepipe::lite
