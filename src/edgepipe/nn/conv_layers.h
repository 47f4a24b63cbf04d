// Image layers (channels_last, Keras semantics and defaults): Conv2D,
// DepthwiseConv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
// BatchNormalization. See layer.h for the lifecycle and threading rules.
#ifndef EDGEPIPE_NN_CONV_LAYERS_H_
#define EDGEPIPE_NN_CONV_LAYERS_H_

#include <optional>
#include <string>

#include "edgepipe/nn/conv_ops.h"
#include "edgepipe/nn/layer.h"

namespace edgepipe::nn::layers {

// A 2-D size; an int means a square (Keras' `kernel_size=3`).
struct Size2 {
  Size2(int64_t s) : h(s), w(s) {}  // NOLINT: implicit like Keras' int arg
  Size2(int64_t height, int64_t width) : h(height), w(width) {}
  int64_t h, w;
};

struct Conv2DOptions {
  Size2 strides = 1;
  std::string padding = "valid";
  std::string activation = "linear";
  bool use_bias = true;
  std::string name = "";
};

// kernel [KH, KW, C, filters] (glorot_uniform), bias [filters] (zeros).
class Conv2D : public Layer {
 public:
  Conv2D(int64_t filters, Size2 kernel_size, Conv2DOptions options = {})
      : Layer(options.name), filters_(filters), kernel_size_(kernel_size), options_(options) {}
  std::string_view type() const override { return "Conv2D"; }
  std::string_view default_name() const override { return "conv2d"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  int64_t filters_;
  Size2 kernel_size_;
  Conv2DOptions options_;
  Padding padding_ = Padding::kValid;
  Var kernel_, bias_;
};

struct DepthwiseConv2DOptions {
  Size2 strides = 1;
  std::string padding = "valid";
  int64_t depth_multiplier = 1;
  std::string activation = "linear";
  bool use_bias = true;
  std::string name = "";
};

// depthwise_kernel [KH, KW, C, depth_multiplier], bias [C * multiplier].
class DepthwiseConv2D : public Layer {
 public:
  explicit DepthwiseConv2D(Size2 kernel_size, DepthwiseConv2DOptions options = {})
      : Layer(options.name), kernel_size_(kernel_size), options_(options) {}
  std::string_view type() const override { return "DepthwiseConv2D"; }
  std::string_view default_name() const override { return "depthwise_conv2d"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  Size2 kernel_size_;
  DepthwiseConv2DOptions options_;
  Padding padding_ = Padding::kValid;
  Var kernel_, bias_;
};

// Max or average pooling; strides default to the pool size.
class Pooling2D : public Layer {
 public:
  Pooling2D(bool max, Size2 pool_size, std::optional<Size2> strides, std::string padding,
            std::string name)
      : Layer(std::move(name)),
        max_(max),
        pool_(pool_size),
        strides_(strides.value_or(pool_size)),
        padding_name_(std::move(padding)) {}
  std::string_view type() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }
  std::string_view default_name() const override {
    return max_ ? "max_pooling2d" : "average_pooling2d";
  }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  bool max_;
  Size2 pool_, strides_;
  std::string padding_name_;
  Window2D window_;
};

class MaxPooling2D : public Pooling2D {
 public:
  explicit MaxPooling2D(Size2 pool_size = 2, std::optional<Size2> strides = std::nullopt,
                        std::string padding = "valid", std::string name = "")
      : Pooling2D(true, pool_size, strides, std::move(padding), std::move(name)) {}
};

class AveragePooling2D : public Pooling2D {
 public:
  explicit AveragePooling2D(Size2 pool_size = 2, std::optional<Size2> strides = std::nullopt,
                            std::string padding = "valid", std::string name = "")
      : Pooling2D(false, pool_size, strides, std::move(padding), std::move(name)) {}
};

// [N, H, W, C] -> [N, C].
class GlobalAveragePooling2D : public Layer {
 public:
  explicit GlobalAveragePooling2D(std::string name = "") : Layer(std::move(name)) {}
  std::string_view type() const override { return "GlobalAveragePooling2D"; }
  std::string_view default_name() const override { return "global_average_pooling2d"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;
};

struct BatchNormalizationOptions {
  float momentum = 0.99f;
  float epsilon = 1e-3f;
  bool center = true;  // beta
  bool scale = true;   // gamma
  std::string name = "";
};

// Over the last axis. Training: batch statistics (biased variance), and
// moving = momentum * moving + (1 - momentum) * batch. Inference: moving
// statistics. Weights: gamma (ones), beta (zeros), moving_mean (zeros),
// moving_variance (ones); the moving ones are non-trainable.
class BatchNormalization : public Layer {
 public:
  explicit BatchNormalization(BatchNormalizationOptions options = {})
      : Layer(options.name), options_(options) {}
  std::string_view type() const override { return "BatchNormalization"; }
  std::string_view default_name() const override { return "batch_normalization"; }
  Result<Var> Call(std::span<const Var> inputs, const CallContext& ctx) override;
  nlohmann::json Config() const override;

 protected:
  Result<Shape> DoBuild(const std::vector<Shape>& input_shapes) override;

 private:
  BatchNormalizationOptions options_;
  Var gamma_, beta_, moving_mean_, moving_variance_;
};

}  // namespace edgepipe::nn::layers

#endif  // EDGEPIPE_NN_CONV_LAYERS_H_
