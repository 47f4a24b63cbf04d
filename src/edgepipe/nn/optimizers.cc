#include "edgepipe/nn/optimizers.h"

#include <cmath>

namespace edgepipe::nn {

void Optimizer::Apply(std::span<Var> params) {
  ++iterations_;
  for (Var& p : params) {
    if (!p.requires_grad() || !p.grad().defined()) continue;
    std::vector<Tensor>& slots = slots_[p.node()];
    if (slots.empty()) {
      for (int i = 0; i < num_slots(); ++i) slots.push_back(Tensor::Zeros(p.shape()));
    }
    Tensor& w = p.mutable_value();
    Update(w.data(), p.grad().data(), w.size(), slots, iterations_);
    p.ZeroGrad();
  }
}

nlohmann::json SGD::Config() const {
  return {{"learning_rate", learning_rate_}, {"momentum", momentum_}, {"nesterov", nesterov_}};
}

void SGD::Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots, int64_t) {
  const float lr = learning_rate_;
  if (slots.empty()) {
    for (int64_t i = 0; i < n; ++i) w[i] -= lr * g[i];
    return;
  }
  float* v = slots[0].data();
  const float m = momentum_;
  for (int64_t i = 0; i < n; ++i) {
    v[i] = m * v[i] - lr * g[i];
    w[i] += nesterov_ ? m * v[i] - lr * g[i] : v[i];
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
  float* ms = slots[0].data();
  if (slots.size() == 1) {
    for (int64_t i = 0; i < n; ++i) {
      ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
      w[i] -= lr * g[i] / (std::sqrt(ms[i]) + eps);
    }
    return;
  }
  float* mom = slots[1].data();
  for (int64_t i = 0; i < n; ++i) {
    ms[i] = rho * ms[i] + (1 - rho) * g[i] * g[i];
    mom[i] = momentum_ * mom[i] + lr * g[i] / std::sqrt(ms[i] + eps);
    w[i] -= mom[i];
  }
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
  float* m = slots[0].data();
  float* v = slots[1].data();
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1 * m[i] + (1 - b1) * g[i];
    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
    w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace edgepipe::nn
