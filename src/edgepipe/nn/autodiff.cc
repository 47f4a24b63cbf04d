#include "edgepipe/nn/autodiff.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

namespace edgepipe::nn {
namespace {
thread_local bool grad_mode_enabled = true;
}  // namespace

Tensor& Node::MutableGrad() {
  if (!grad.defined()) {
    grad = Tensor::Zeros(value.shape());
  } else if (!grad_valid) {
    grad.Fill(0.0f);
  }
  grad_valid = true;
  return grad;
}

GradOut Node::InputGradOut(size_t i) {
  Node& in = *inputs[i];
  if (!in.requires_grad) return {};
  if (!in.grad.defined()) in.grad = Tensor::Empty(in.value.shape());
  const bool accumulate = in.grad_valid;
  in.grad_valid = true;
  return {in.grad.data(), accumulate};
}

void Node::PassGradTo(size_t i) {
  Node& in = *inputs[i];
  if (!in.requires_grad) return;
  if (!in.grad.defined() && !in.inputs.empty() && grad.size() == in.value.size()) {
    in.grad = grad.Reshaped(in.value.shape());
    in.grad_valid = true;
    return;
  }
  GradOut out = InputGradOut(i);
  const float* g = grad.data();
  const int64_t n = grad.size();
  if (out.accumulate) {
    for (int64_t k = 0; k < n; ++k) out.data[k] += g[k];
  } else if (out.data != g) {
    std::copy_n(g, n, out.data);
  }
}

Var Var::Constant(Tensor value) {
  Var v;
  v.node_ = std::make_shared<Node>();
  v.node_->value = std::move(value);
  return v;
}

Var Var::Parameter(Tensor value) {
  Var v = Constant(std::move(value));
  v.node_->requires_grad = true;
  return v;
}

const Tensor& Var::grad() const {
  Node& n = *node_;
  if (n.grad.defined() && !n.grad_valid) {
    n.grad.Fill(0.0f);
    n.grad_valid = true;
  }
  return n.grad;
}

void Var::ZeroGrad() { node_->grad_valid = false; }

Var MakeOpResult(Tensor value, std::vector<Var> inputs, BackwardFn backward) {
  Var out = Var::Constant(std::move(value));
  if (!grad_mode_enabled) return out;
  bool any = false;
  for (const Var& v : inputs) any = any || v.requires_grad();
  if (!any) return out;
  Node& n = *out.node_;
  n.requires_grad = true;
  n.inputs.reserve(inputs.size());
  for (Var& v : inputs) n.inputs.push_back(v.node_);
  n.backward = std::move(backward);
  return out;
}

Status Backward(const Var& loss) {
  if (!loss.defined() || loss.value().size() != 1) {
    return Status::InvalidArgument("Backward: loss must be a single element, got shape " +
                                   (loss.defined() ? ShapeToString(loss.shape()) : "undefined"));
  }
  if (!loss.requires_grad()) {
    return Status::FailedPrecondition(
        "Backward: loss does not depend on any parameter (or was computed under NoGradGuard)");
  }
  // Iterative post-order DFS gives a topological order (inputs first).
  std::vector<Node*> order;
  std::unordered_set<Node*> seen;
  std::vector<std::pair<Node*, size_t>> stack;
  stack.emplace_back(loss.node(), 0);
  seen.insert(loss.node());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      Node* in = node->inputs[next++].get();
      if (in->requires_grad && !in->inputs.empty() && seen.insert(in).second) {
        stack.emplace_back(in, 0);
      }
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  Node* root = loss.node();
  root->MutableGrad().Fill(1.0f);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* n = *it;
    if (n->backward && n->grad.defined() && n->grad_valid) n->backward(*n);
  }
  // Release the graph: intermediate values and grads die with their nodes.
  for (Node* n : order) {
    n->backward = nullptr;
    n->inputs.clear();
  }
  return Status::Ok();
}

NoGradGuard::NoGradGuard() : previous_(grad_mode_enabled) { grad_mode_enabled = false; }
NoGradGuard::~NoGradGuard() { grad_mode_enabled = previous_; }
bool GradModeEnabled() { return grad_mode_enabled; }

}  // namespace edgepipe::nn
