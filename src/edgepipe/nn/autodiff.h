// Reverse-mode automatic differentiation: Var, the recorded graph, Backward.
//
// Every op (ops.h, conv_ops.h, norm_ops.h) takes Vars and returns a Var whose
// node remembers its inputs and a backward function, when gradient recording
// is on (the default; see NoGradGuard) and some input requires a gradient.
// Backward(loss) then visits the recorded nodes in reverse topological order
// and accumulates each input's gradient (+=).
//
// Parameters (Var::Parameter) are leaves whose gradient persists across
// Backward calls and accumulates; the optimizer zeroes it after an update.
// Zeroing is lazy (Var::ZeroGrad marks the buffer stale; the next reader
// sees zeros, the next writer overwrites it), so a training step neither
// memsets nor re-reads gradient buffers that hold nothing yet.
// Intermediate nodes die with the last Var that refers to them, so a step's
// graph is freed when the step's Vars go out of scope.
//
// Thread safety: a graph is built and differentiated by one thread. Grad mode
// is per thread.
#ifndef EDGEPIPE_NN_AUTODIFF_H_
#define EDGEPIPE_NN_AUTODIFF_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/nn/tensor.h"

namespace edgepipe::nn {

struct Node;
using BackwardFn = std::function<void(Node& self)>;

// Where a backward kernel puts an input's gradient: `data` is nullptr when
// the input needs none; otherwise the kernel adds its contribution to
// `data` when `accumulate`, else overwrites it (the buffer's contents are
// garbage then). Either way the kernel must write every element.
struct GradOut {
  float* data = nullptr;
  bool accumulate = false;
};

// One value in the graph. `grad` is allocated on first use.
struct Node {
  Tensor value;
  Tensor grad;
  // False while `grad` holds no contribution yet (fresh or lazily zeroed):
  // its contents are then meaningless and stand for zeros.
  bool grad_valid = false;
  bool requires_grad = false;
  std::vector<std::shared_ptr<Node>> inputs;
  BackwardFn backward;  // reads self.grad, accumulates into inputs' grads

  // The gradient buffer of this node, zero-filled when it held no
  // contribution yet (allocated when missing); marks it valid.
  Tensor& MutableGrad();
  // The gradient of input i (as MutableGrad), or nullptr when that input
  // needs none.
  Tensor* InputGrad(size_t i) {
    Node& in = *inputs[i];
    return in.requires_grad ? &in.MutableGrad() : nullptr;
  }
  // The gradient of input i for a kernel that can overwrite (no memset of a
  // fresh buffer); marks it valid. The caller must write all of it.
  GradOut InputGradOut(size_t i);
  // inputs[i].grad += self.grad for ops whose input gradient is the output
  // gradient (same element count: reshape, bias add). When the input is an
  // intermediate node without a gradient yet, it adopts this node's buffer
  // (no copy); this node must then not write its grad afterwards.
  void PassGradTo(size_t i);
};

class Var {
 public:
  Var() = default;
  // A value that needs no gradient (inputs, labels).
  static Var Constant(Tensor value);
  // A trainable leaf: its gradient accumulates across Backward calls.
  static Var Parameter(Tensor value);

  bool defined() const { return node_ != nullptr; }
  const Tensor& value() const { return node_->value; }
  // Writable value (optimizers update parameters in place).
  Tensor& mutable_value() { return node_->value; }
  // The gradient; undefined until Backward reached this Var (zeros after
  // ZeroGrad).
  const Tensor& grad() const;
  Tensor& mutable_grad() { return node_->MutableGrad(); }
  // Lazy: marks the gradient as zeros without touching the buffer.
  void ZeroGrad();
  bool requires_grad() const { return node_->requires_grad; }
  const Shape& shape() const { return node_->value.shape(); }
  Node* node() const { return node_.get(); }
  const std::shared_ptr<Node>& shared_node() const { return node_; }

 private:
  friend Var MakeOpResult(Tensor value, std::vector<Var> inputs, BackwardFn backward);
  std::shared_ptr<Node> node_;
};

// Wraps an op's output. Records `inputs` and `backward` when grad mode is on
// and some input requires a gradient; otherwise returns a constant.
Var MakeOpResult(Tensor value, std::vector<Var> inputs, BackwardFn backward);

// Differentiates the scalar `loss` (one element): its gradient is seeded with
// 1 and every recorded node's backward runs once, in reverse topological
// order. Afterwards the visited graph is released (inputs and backward
// functions cleared), so Backward may run once per graph. Fails when `loss`
// is not a single element or does not require a gradient.
Status Backward(const Var& loss);

// While alive, ops on this thread record no graph (inference, metrics).
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// True unless a NoGradGuard is alive on this thread.
bool GradModeEnabled();

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_AUTODIFF_H_
