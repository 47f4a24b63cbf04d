// Runs subgraph 0 of a verified TFLite model with reference kernels.
//
// Lifecycle (misuse returns FailedPrecondition):
//   Create           -> kCreated   ops resolved, tensors described
//   AllocateTensors  -> kAllocated shapes propagated (kernel Prepare), one
//                                  arena planned and allocated
//   set every input  -> kInvokable (SetInput or mutable_input_data)
//   Invoke           runs the ops; no allocation
//   ResizeInput      -> kCreated   (call AllocateTensors again: re-plans;
//                                  the arena block is reused when the new
//                                  plan fits it, e.g. a smaller last batch)
// Variable tensors (recurrent state, `is_variable` in the file) get their
// own memory outside the arena. AllocateTensors and ResetVariableTensors set
// them to zero (int8: their zero point, as TFLite); between those calls
// every Invoke continues from the state the previous Invoke left.
// Not thread-safe: one Invoke at a time per Interpreter. The Model must
// outlive the Interpreter (it is shared).
#ifndef EDGEPIPE_LITE_INTERPRETER_H_
#define EDGEPIPE_LITE_INTERPRETER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/lite/kernel.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/op_profiler.h"
#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {

struct InterpreterOptions {
  // kReference (default): TFLite's reference integer arithmetic. kLiteRt:
  // bit-exact with Google's LiteRT CPU runtime (see Arithmetic in kernel.h).
  Arithmetic arithmetic = Arithmetic::kReference;
  // Folds each PAD into the CONV_2D / DEPTHWISE_CONV_2D that is its output's
  // only consumer when the paddings are constant, non-negative and spatial
  // only (NHWC axes 1 and 2), the tensors are int8/uint8 with the PAD's input
  // and output quantized alike, the conv is not hybrid and its kernel has
  // KernelRegistration::folds_input_pad. The conv then reads the PAD's input
  // and treats the padding as out-of-image taps (the zero point, as its SAME
  // padding does): outputs are bit-identical, the PAD is not run and its
  // output is not allocated. The file is not changed.
  bool fold_pad = true;
};

class Interpreter {
 public:
  enum class State { kCreated, kAllocated, kInvokable };

  // Resolves every op of subgraph 0 with `resolver` (Unimplemented naming the
  // op and its index when one is missing) and checks the graph: outputs are
  // not constants, no tensor is written twice, every op input is a constant,
  // a graph input or written by an earlier op.
  static Result<std::unique_ptr<Interpreter>> Create(std::shared_ptr<const Model> model,
                                                     const OpResolver& resolver,
                                                     InterpreterOptions options = {});

  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  State state() const { return state_; }
  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  // Graph input/output i (0 <= i < num_inputs()/num_outputs()). Data is valid
  // after AllocateTensors, until the next ResizeInput/AllocateTensors.
  const Tensor& input(int i) const {
    return tensors_[static_cast<size_t>(inputs_[static_cast<size_t>(i)])];
  }
  const Tensor& output(int i) const {
    return tensors_[static_cast<size_t>(outputs_[static_cast<size_t>(i)])];
  }
  const std::vector<Tensor>& tensors() const { return tensors_; }
  // Index of the graph input/output named `name`, or -1.
  int FindInput(std::string_view name) const;
  int FindOutput(std::string_view name) const;

  // Changes input i's shape (same rank, dims >= 1); back to kCreated.
  Status ResizeInput(int i, std::vector<int32_t> shape);
  // Prepares every op in order and plans + allocates the arena.
  Status AllocateTensors();
  // Sets every variable tensor back to its initial value (zero; int8: its
  // zero point). Requires AllocateTensors.
  Status ResetVariableTensors();
  // Copies `value` into input i: dtype and shape must match exactly.
  Status SetInput(int i, const Array& value);
  // Writable input data (marks the input as set). Requires kAllocated or
  // kInvokable.
  Result<std::span<uint8_t>> mutable_input_data(int i);
  // Runs every op. Requires kInvokable.
  Status Invoke();
  // Copies output i into an Array (float32, int8, uint8, int32 outputs).
  Result<Array> GetOutput(int i) const;

  // Bytes of the activation arena (0 before AllocateTensors).
  size_t arena_bytes() const { return arena_bytes_; }
  // Bytes of the allocated arena block: the largest arena_bytes() planned so
  // far (rounded up to 64); it never shrinks, so alternating between a large
  // and a small batch allocates once.
  size_t arena_capacity() const { return arena_capacity_; }
  // Sum of the sizes of all non-constant tensors (the arena without sharing).
  size_t unshared_bytes() const;
  // Lower bound of any arena plan for the current shapes (ArenaLowerBound of
  // the planned buffers at the arena's alignment); 0 before AllocateTensors.
  size_t arena_lower_bound() const { return arena_lower_bound_; }

  // Operators of subgraph 0, in execution order: count and name ("CONV_2D").
  int num_ops() const { return static_cast<int>(ops_.size()); }
  const std::string& op_name(int i) const { return ops_[static_cast<size_t>(i)].op_name(); }
  // Per-op timing: Invoke calls `profiler->OnOp` after each op. Borrowed (must
  // outlive its use here); null (the default) turns timing off. Timing adds two
  // clock reads per op and no allocation.
  void set_profiler(OpProfiler* profiler) { profiler_ = profiler; }
  // Whether op i was folded into its consumer (InterpreterOptions::fold_pad):
  // it is then prepared (checked) but neither planned nor run, and the
  // profiler sees no call for it.
  bool op_folded(int i) const { return folded_[static_cast<size_t>(i)]; }
  int num_folded_ops() const;

 private:
  Interpreter() = default;
  void ResetVariables();
  // The fold pass of InterpreterOptions::fold_pad (at Create).
  void FoldPads();

  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::shared_ptr<const Model> model_;
  std::vector<Tensor> tensors_;
  std::vector<int> inputs_;
  std::vector<int> outputs_;
  std::vector<KernelContext> ops_;
  std::vector<KernelRegistration> kernels_;  // copied: the resolver may be a temporary
  std::vector<bool> folded_;                 // per op: folded into a consumer
  std::vector<bool> input_set_;
  std::unique_ptr<uint8_t, Free> arena_;
  // Memory of the variable tensors, one block each, kept across Invoke.
  std::vector<std::unique_ptr<uint8_t, Free>> variables_;
  size_t arena_bytes_ = 0;
  size_t arena_capacity_ = 0;
  size_t arena_lower_bound_ = 0;
  OpProfiler* profiler_ = nullptr;
  State state_ = State::kCreated;
};

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_INTERPRETER_H_
