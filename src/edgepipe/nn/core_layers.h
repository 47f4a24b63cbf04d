// Core Keras layers: Input, Dense, Dropout, activations, Flatten, Reshape,
// Add, Concatenate, Rescaling, Normalization. Keras semantics and defaults
// (glorot_uniform kernels, zero biases, channels_last). See layer.h for the
// lifecycle and threading rules.
#ifndef EDGEPIPE_NN_CORE_LAYERS_H_
#define EDGEPIPE_NN_CORE_LAYERS_H_

#include <optional>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/layer.h"

namespace edgepipe::nn::layers {

// The model's named entry point. `shape` excludes the batch dim.
class InputLayer : public Layer {
 public:
  InputLayer(Shape shape, std::string name = "")
      : Layer(std::move(name)), shape_(std::move(shape)) {}
  std::string_view type() const override { return "InputLayer"; }
  std::string_view default_name() const override { return "input"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;
  const Shape& shape() const { return shape_; }

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  Shape shape_;
};

struct DenseOptions {
  std::string activation = "linear";
  bool use_bias = true;
  std::string name = "";
};

// y = activation(x . kernel + bias); kernel [in, units], bias [units]. Acts
// on the last axis of inputs of any rank >= 2.
class Dense : public Layer {
 public:
  explicit Dense(int64_t units, DenseOptions options = {})
      : Layer(options.name),
        units_(units),
        activation_(options.activation),
        use_bias_(options.use_bias) {}
  std::string_view type() const override { return "Dense"; }
  std::string_view default_name() const override { return "dense"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  int64_t units_;
  std::string activation_;
  bool use_bias_;
  Var kernel_, bias_;
};

// Inverted dropout while training; identity at inference.
class Dropout : public Layer {
 public:
  explicit Dropout(float rate, std::string name = "") : Layer(std::move(name)), rate_(rate) {}
  std::string_view type() const override { return "Dropout"; }
  std::string_view default_name() const override { return "dropout"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  float rate_;
};

// Applies a named activation (see ApplyActivation). ReLU / ReLU6 / Softmax /
// Sigmoid / Tanh below are the same layer under Keras' names.
class Activation : public Layer {
 public:
  explicit Activation(std::string activation, std::string name = "")
      : Layer(std::move(name)), activation_(std::move(activation)) {}
  std::string_view type() const override { return "Activation"; }
  std::string_view default_name() const override { return "activation"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;
  std::string activation_;
};

// Keras ReLU with max_value none (relu) or 6 (relu6).
class ReLU : public Activation {
 public:
  explicit ReLU(std::optional<float> max_value = std::nullopt, std::string name = "")
      : Activation(max_value ? "relu6" : "relu", std::move(name)), max_value_(max_value) {}
  std::string_view type() const override { return "ReLU"; }
  std::string_view default_name() const override { return "re_lu"; }
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  std::optional<float> max_value_;
};
inline ReLU ReLU6(std::string name = "") { return ReLU(6.0f, std::move(name)); }

class Softmax : public Activation {
 public:
  explicit Softmax(std::string name = "") : Activation("softmax", std::move(name)) {}
  std::string_view type() const override { return "Softmax"; }
  std::string_view default_name() const override { return "softmax"; }
};
inline Activation Sigmoid(std::string name = "") { return Activation("sigmoid", std::move(name)); }
inline Activation Tanh(std::string name = "") { return Activation("tanh", std::move(name)); }

// [N, d1, d2, ...] -> [N, d1*d2*...].
class Flatten : public Layer {
 public:
  explicit Flatten(std::string name = "") : Layer(std::move(name)) {}
  std::string_view type() const override { return "Flatten"; }
  std::string_view default_name() const override { return "flatten"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;
};

// [N, ...] -> [N, target_shape...]; target_shape excludes the batch dim and
// may hold one -1.
class Reshape : public Layer {
 public:
  explicit Reshape(Shape target_shape, std::string name = "")
      : Layer(std::move(name)), target_(std::move(target_shape)) {}
  std::string_view type() const override { return "Reshape"; }
  std::string_view default_name() const override { return "reshape"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  Shape target_;
  Shape resolved_;  // without the batch dim, -1 resolved
};

// Elementwise sum of >= 2 inputs of equal shape.
class AddLayer : public Layer {
 public:
  explicit AddLayer(std::string name = "") : Layer(std::move(name)) {}
  std::string_view type() const override { return "Add"; }
  std::string_view default_name() const override { return "add"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;
};

class Concatenate : public Layer {
 public:
  explicit Concatenate(int axis = -1, std::string name = "")
      : Layer(std::move(name)), axis_(axis) {}
  std::string_view type() const override { return "Concatenate"; }
  std::string_view default_name() const override { return "concatenate"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  int axis_;
};

// y = x * scale + offset.
class Rescaling : public Layer {
 public:
  explicit Rescaling(float scale, float offset = 0.0f, std::string name = "")
      : Layer(std::move(name)), scale_(scale), offset_(offset) {}
  std::string_view type() const override { return "Rescaling"; }
  std::string_view default_name() const override { return "rescaling"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  float scale_, offset_;
};

// Feature-wise standardisation over the last axis:
// y = (x - mean) / max(sqrt(variance), 1e-7), as Keras. Adapt() learns
// mean and (biased) variance from data; before Adapt the layer is identity.
// Weights "mean", "variance" [C] and "count" [] are non-trainable.
class Normalization : public Layer {
 public:
  explicit Normalization(std::string name = "") : Layer(std::move(name)) {}
  std::string_view type() const override { return "Normalization"; }
  std::string_view default_name() const override { return "normalization"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  // data [N, ..., C] of any numeric dtype. May precede or follow Build; fails
  // when C differs from the built shape.
  Status Adapt(const Array& data);

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  void CopyStatsToWeights();
  std::vector<double> mean_, variance_;
  int64_t count_ = 0;
  Tensor scale_, shift_;  // derived from the weights at Call time
};

}  // namespace edgepipe::nn::layers

#endif  // EDGEPIPE_NN_CORE_LAYERS_H_
