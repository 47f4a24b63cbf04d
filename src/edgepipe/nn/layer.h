// Layer: the base of Keras-like layers (core_layers.h, conv_layers.h).
//
// Lifecycle: constructed with its config -> Build(input shapes) validates the
// shapes, creates the weights (zero-filled) and returns the output shape ->
// InitializeWeights(rng) fills them with their initializers (glorot_uniform
// kernels, zero biases, ...) -> Call(inputs) any number of times. Models
// drive this lifecycle; Build on a built layer only checks that the shapes
// equal the first ones (a shared layer).
//
// Shapes given to Build carry the batch dim first, -1 when unknown (Keras'
// None). Errors name the layer type, the layer name and both shapes:
//   Dense "dense_1": input shape (None, 100) does not match the kernel (784, 64)
//
// Thread safety: a Layer is used by one thread at a time.
#ifndef EDGEPIPE_NN_LAYER_H_
#define EDGEPIPE_NN_LAYER_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/nn/autodiff.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::nn {

enum class Initializer { kZeros, kOnes, kGlorotUniform };

// A named weight ("kernel", "bias", "moving_mean", ...). Non-trainable
// weights (moving statistics, Normalization's mean) are updated by the layer
// itself, never by the optimizer.
struct Weight {
  std::string name;
  Var var;
  bool trainable = true;
  Initializer initializer = Initializer::kZeros;
  int64_t fan_in = 0, fan_out = 0;  // for glorot_uniform
};

// What a call needs besides its inputs.
struct CallContext {
  bool training = false;
  Rng* rng = nullptr;  // for Dropout; required when training
};

class Layer {
 public:
  // `name` may be empty: the model then assigns a unique default
  // ("dense", "dense_1", ...).
  explicit Layer(std::string name) : name_(std::move(name)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;
  Layer(Layer&&) = default;

  // Keras' class name: "Dense", "Conv2D", ...
  virtual std::string_view type() const = 0;
  // snake_case prefix for default names ("dense", "conv2d").
  virtual std::string_view default_name() const = 0;
  const std::string& name() const { return name_; }
  void set_name(std::string name) {
    name_ = std::move(name);
    auto_named_ = false;
  }
  // Gives an unnamed layer default_name(); models later make it unique.
  void EnsureName() {
    if (name_.empty()) {
      name_ = std::string(default_name());
      auto_named_ = true;
    }
  }
  bool auto_named() const { return auto_named_; }

  // See the lifecycle above.
  Result<Shape> Build(const std::vector<Shape>& input_shapes);
  void InitializeWeights(Rng& rng);
  // Precondition: built. Inputs have the built shapes (any batch size).
  virtual Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) = 0;

  bool built() const { return built_; }
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }
  const Shape& output_shape() const { return output_shape_; }

  // Keras-style config: {"name": ..., "units": ..., ...} (no weights).
  virtual nlohmann::json Config() const { return {{"name", name_}}; }

  std::vector<Weight>& weights() { return weights_; }
  const std::vector<Weight>& weights() const { return weights_; }
  // The weight called `name`, or nullptr.
  Weight* FindWeight(std::string_view name);
  int64_t CountParams() const;

 protected:
  // Validates shapes, creates weights with AddWeight, returns the output shape.
  virtual Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) = 0;
  Var AddWeight(std::string name, Shape shape, Initializer init, bool trainable = true,
                int64_t fan_in = 0, int64_t fan_out = 0);
  // "Dense \"dense_1\": <message>" as InvalidArgument.
  Status Error(const std::string& message) const;
  // Fails unless there are exactly n inputs.
  Status ExpectInputs(const std::vector<Shape>& shapes, size_t n) const;

 private:
  std::string name_;
  bool auto_named_ = false;
  bool built_ = false;
  std::vector<Shape> input_shapes_;
  Shape output_shape_;
  std::vector<Weight> weights_;
};

// Activations by Keras name: "linear" (or ""), "relu", "relu6", "sigmoid",
// "tanh", "softmax".
bool IsKnownActivation(std::string_view name);
Result<Var> ApplyActivation(std::string_view name, const Var& x);

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_LAYER_H_
