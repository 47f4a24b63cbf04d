// Per-op timing for Interpreter::Invoke.
//
// An OpProfiler given to Interpreter::set_profiler is called once per op per
// Invoke, right after the op ran, with the op's wall-clock time. It runs
// inside Invoke, so it must not allocate, block or throw. OpTimeProfiler is
// the usual one: it sums times per op in storage reserved up front.
#ifndef EDGEPIPE_LITE_OP_PROFILER_H_
#define EDGEPIPE_LITE_OP_PROFILER_H_

#include <algorithm>
#include <cstdint>
#include <vector>

namespace edgepipe::lite {

class OpProfiler {
 public:
  virtual ~OpProfiler() = default;
  // Op `op_index` (0-based, in execution order) took `nanoseconds`.
  virtual void OnOp(int op_index, int64_t nanoseconds) = 0;
};

// Sums per-op times over any number of Invoke calls. Not thread-safe: one
// interpreter at a time.
class OpTimeProfiler final : public OpProfiler {
 public:
  // Room for ops [0, num_ops); counters start at zero.
  explicit OpTimeProfiler(int num_ops)
      : total_ns_(static_cast<size_t>(num_ops), 0), calls_(static_cast<size_t>(num_ops), 0) {}

  // Ignores op indices outside [0, num_ops) (never allocates).
  void OnOp(int op_index, int64_t nanoseconds) override {
    if (op_index < 0 || static_cast<size_t>(op_index) >= total_ns_.size()) return;
    total_ns_[static_cast<size_t>(op_index)] += nanoseconds;
    ++calls_[static_cast<size_t>(op_index)];
  }
  void Reset() {
    std::fill(total_ns_.begin(), total_ns_.end(), 0);
    std::fill(calls_.begin(), calls_.end(), 0);
  }

  int num_ops() const { return static_cast<int>(total_ns_.size()); }
  // Total nanoseconds and number of runs of op i since construction/Reset.
  int64_t total_ns(int i) const { return total_ns_[static_cast<size_t>(i)]; }
  int64_t calls(int i) const { return calls_[static_cast<size_t>(i)]; }
  // Sum of total_ns over all ops.
  int64_t sum_ns() const {
    int64_t s = 0;
    for (int64_t t : total_ns_) s += t;
    return s;
  }

 private:
  std::vector<int64_t> total_ns_;
  std::vector<int64_t> calls_;
};

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_OP_PROFILER_H_
