#include "edgepipe/nn/optimizers.h"

#include <cmath>

#include "edgepipe/nn/eigen_util.h"
#include "edgepipe/nn/train_kernels.h"

namespace edgepipe::nn {
namespace {
using Arr = Eigen::Map<Eigen::ArrayXf>;
using CArr = Eigen::Map<const Eigen::ArrayXf>;
}  // namespace

void Optimizer::Apply(std::span<Var> params) {
  ++iterations_;
  for (Var& p : params) {
    if (!p.requires_grad() || !p.node()->grad.defined()) continue;
    std::vector<Tensor>& slots = slots_[p.node()];
    if (slots.empty()) {
      for (int i = 0; i < num_slots(); ++i) slots.push_back(Tensor::Zeros(p.shape()));
    }
    Tensor& w = p.mutable_value();
    // p.grad() reads zeros when nothing contributed since the last ZeroGrad
    // (which is lazy: it only marks the buffer stale).
    Update(w.data(), p.grad().data(), w.size(), slots, iterations_);
    p.ZeroGrad();
  }
}

nlohmann::json SGD::Config() const {
  return {{"learning_rate", learning_rate_}, {"momentum", momentum_}, {"nesterov", nesterov_}};
}

void SGD::Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, int64_t) {
  const float lr = learning_rate_;
  Arr wa(w, n);
  CArr ga(g, n);
  if (slots.empty()) {
    wa -= lr * ga;
    return;
  }
  Arr v(slots[0].data(), n);
  const float m = momentum_;
  v = m * v - lr * ga;
  if (nesterov_) {
    wa += m * v - lr * ga;
  } else {
    wa += v;
  }
}

nlohmann::json RMSprop::Config() const {
  return {{"learning_rate", learning_rate_},
          {"rho", rho_},
          {"momentum", momentum_},
          {"epsilon", epsilon_},
          {"centered", false}};
}

void RMSprop::Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, int64_t) {
  const float lr = learning_rate_, rho = rho_, eps = epsilon_;
  Arr wa(w, n), ms(slots[0].data(), n);
  CArr ga(g, n);
  if (slots.size() == 1) {
    kernels::RmspropUpdate(w, g, slots[0].data(), n, lr, rho, eps);
    return;
  }
  ms = rho * ms + (1 - rho) * ga.square();
  Arr mom(slots[1].data(), n);
  mom = momentum_ * mom + lr * ga / (ms + eps).sqrt();
  wa -= mom;
}

nlohmann::json Adam::Config() const {
  return {{"learning_rate", learning_rate_},
          {"beta_1", beta_1_},
          {"beta_2", beta_2_},
          {"epsilon", epsilon_},
          {"amsgrad", false}};
}

void Adam::Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, int64_t step) {
  const double t = static_cast<double>(step);
  const float alpha = static_cast<float>(learning_rate_ * std::sqrt(1.0 - std::pow(beta_2_, t)) /
                                         (1.0 - std::pow(beta_1_, t)));
  const float b1 = beta_1_, b2 = beta_2_, eps = epsilon_;
  Arr wa(w, n), m(slots[0].data(), n), v(slots[1].data(), n);
  CArr ga(g, n);
  m = b1 * m + (1 - b1) * ga;
  v = b2 * v + (1 - b2) * ga.square();
  wa -= alpha * m / (v.sqrt() + eps);
}

}  // namespace edgepipe::nn
