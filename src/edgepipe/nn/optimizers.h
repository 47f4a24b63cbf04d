// Optimizers with Keras 2's update rules and defaults. Each keeps per-
// parameter slots (momentum, moving averages) keyed by the parameter's node,
// created zero-filled on the parameter's first update.
//
// Thread safety: one thread at a time.
#ifndef EDGEPIPE_NN_OPTIMIZERS_H_
#define EDGEPIPE_NN_OPTIMIZERS_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "edgepipe/nn/autodiff.h"

namespace edgepipe::nn {

class Optimizer {
 public:
  explicit Optimizer(float learning_rate) : learning_rate_(learning_rate) {}
  virtual ~Optimizer() = default;
  virtual std::string_view type() const = 0;
  virtual nlohmann::json Config() const = 0;

  // One update of every parameter that has a gradient, then zeroes those
  // gradients; `iterations` grows by one.
  void Apply(std::span<Var> params);
  int64_t iterations() const { return iterations_; }
  float learning_rate() const { return learning_rate_; }
  void set_learning_rate(float lr) { learning_rate_ = lr; }

 protected:
  virtual int num_slots() const = 0;
  // w -= f(g, slots); `step` is the 1-based iteration being applied.
  virtual void Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots,
                      int64_t step) = 0;
  float learning_rate_;

 private:
  int64_t iterations_ = 0;
  std::unordered_map<const Node*, std::vector<Tensor>> slots_;
};

// v = momentum v - lr g; w += v (nesterov: w += momentum v - lr g).
// Without momentum: w -= lr g.
class SGD : public Optimizer {
 public:
  explicit SGD(float learning_rate = 0.01f, float momentum = 0.0f, bool nesterov = false)
      : Optimizer(learning_rate), momentum_(momentum), nesterov_(nesterov) {}
  std::string_view type() const override { return "SGD"; }
  nlohmann::json Config() const override;

 protected:
  int num_slots() const override { return momentum_ != 0.0f ? 1 : 0; }
  void Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots,
              int64_t step) override;

 private:
  float momentum_;
  bool nesterov_;
};

// Keras 2: ms = rho ms + (1 - rho) g^2; without momentum
// w -= lr g / (sqrt(ms) + epsilon); with momentum (TF's ApplyRMSProp)
// mom = momentum mom + lr g / sqrt(ms + epsilon); w -= mom.
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(float learning_rate = 0.001f, float rho = 0.9f, float momentum = 0.0f,
                   float epsilon = 1e-7f)
      : Optimizer(learning_rate), rho_(rho), momentum_(momentum), epsilon_(epsilon) {}
  std::string_view type() const override { return "RMSprop"; }
  nlohmann::json Config() const override;

 protected:
  int num_slots() const override { return momentum_ != 0.0f ? 2 : 1; }
  void Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots,
              int64_t step) override;

 private:
  float rho_, momentum_, epsilon_;
};

// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + epsilon).
class Adam : public Optimizer {
 public:
  explicit Adam(float learning_rate = 0.001f, float beta_1 = 0.9f, float beta_2 = 0.999f,
                float epsilon = 1e-7f)
      : Optimizer(learning_rate), beta_1_(beta_1), beta_2_(beta_2), epsilon_(epsilon) {}
  std::string_view type() const override { return "Adam"; }
  nlohmann::json Config() const override;

 protected:
  int num_slots() const override { return 2; }
  void Update(float* w, const float* g, int64_t n, std::vector<Tensor>& slots,
              int64_t step) override;

 private:
  float beta_1_, beta_2_, epsilon_;
};

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_OPTIMIZERS_H_
