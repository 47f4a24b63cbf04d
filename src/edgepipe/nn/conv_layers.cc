#include "edgepipe/nn/conv_layers.h"

#include "edgepipe/nn/ops.h"

namespace edgepipe::nn::layers {
namespace {

nlohmann::json SizeJson(Size2 s) { return nlohmann::json::array({s.h, s.w}); }

struct SpatialPlan {
  Padding padding;
  int64_t out_h;
  int64_t out_w;
};

// The checks Conv2D and DepthwiseConv2D share (kernel and strides positive,
// known activation and padding, kernel fits the input) and their output size.
// Errors are messages for Layer::Error.
Result<SpatialPlan> PlanSpatial(const Shape& in, Size2 kernel, Size2 strides,
                                const std::string& padding, const std::string& activation) {
  if (kernel.h <= 0 || kernel.w <= 0 || strides.h <= 0 || strides.w <= 0) {
    return Status::InvalidArgument("kernel_size and strides must be positive");
  }
  if (!IsKnownActivation(activation)) {
    return Status::InvalidArgument("unknown activation \"" + activation + "\"");
  }
  ASSIGN_OR_RETURN(Padding p, ParsePadding(padding));
  Result<int64_t> oh = ConvOutputSize(in[1], kernel.h, strides.h, p);
  Result<int64_t> ow = ConvOutputSize(in[2], kernel.w, strides.w, p);
  if (!oh.ok() || !ow.ok()) {
    return Status::InvalidArgument("kernel " + std::to_string(kernel.h) + "x" +
                                   std::to_string(kernel.w) + " does not fit input " +
                                   KerasShapeString(in) + " with padding " + padding);
  }
  return SpatialPlan{p, *oh, *ow};
}

}  // namespace

// ---- Conv2D

Result<Shape> Conv2D::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.size() != 4)
    return Error("needs an NHWC input (None, H, W, C), got " + KerasShapeString(in));
  if (filters_ <= 0) return Error("filters " + std::to_string(filters_) + " must be positive");
  Result<SpatialPlan> plan =
      PlanSpatial(in, kernel_size_, options_.strides, options_.padding, options_.activation);
  if (!plan.ok()) return Error(plan.status().message());
  padding_ = plan->padding;
  const int64_t rf = kernel_size_.h * kernel_size_.w;
  kernel_ = AddWeight("kernel", {kernel_size_.h, kernel_size_.w, in[3], filters_},
                      Initializer::kGlorotUniform, true, rf * in[3], rf * filters_);
  if (options_.use_bias) bias_ = AddWeight("bias", {filters_}, Initializer::kZeros);
  return Shape{in[0], plan->out_h, plan->out_w, filters_};
}

Result<Var> Conv2D::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  Result<Var> y = ops::Conv2D(inputs[0], kernel_, options_.strides.h, options_.strides.w, padding_);
  if (!y.ok()) return Error(y.status().message());
  Var out = *y;
  if (options_.use_bias) {
    ASSIGN_OR_RETURN(out, ops::BiasAdd(out, bias_));
  }
  return ApplyActivation(options_.activation, out);
}

nlohmann::json Conv2D::Config() const {
  return {{"name", name()},
          {"filters", filters_},
          {"kernel_size", SizeJson(kernel_size_)},
          {"strides", SizeJson(options_.strides)},
          {"padding", options_.padding},
          {"data_format", "channels_last"},
          {"activation", options_.activation},
          {"use_bias", options_.use_bias},
          {"kernel_initializer", "glorot_uniform"},
          {"bias_initializer", "zeros"}};
}

// ---- DepthwiseConv2D

Result<Shape> DepthwiseConv2D::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.size() != 4)
    return Error("needs an NHWC input (None, H, W, C), got " + KerasShapeString(in));
  const int64_t m = options_.depth_multiplier;
  if (m <= 0) return Error("depth_multiplier " + std::to_string(m) + " must be positive");
  Result<SpatialPlan> plan =
      PlanSpatial(in, kernel_size_, options_.strides, options_.padding, options_.activation);
  if (!plan.ok()) return Error(plan.status().message());
  padding_ = plan->padding;
  const int64_t rf = kernel_size_.h * kernel_size_.w;
  kernel_ = AddWeight("depthwise_kernel", {kernel_size_.h, kernel_size_.w, in[3], m},
                      Initializer::kGlorotUniform, true, rf * in[3], rf * m);
  if (options_.use_bias) bias_ = AddWeight("bias", {in[3] * m}, Initializer::kZeros);
  return Shape{in[0], plan->out_h, plan->out_w, in[3] * m};
}

Result<Var> DepthwiseConv2D::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  Result<Var> y =
      ops::DepthwiseConv2D(inputs[0], kernel_, options_.strides.h, options_.strides.w, padding_);
  if (!y.ok()) return Error(y.status().message());
  Var out = *y;
  if (options_.use_bias) {
    ASSIGN_OR_RETURN(out, ops::BiasAdd(out, bias_));
  }
  return ApplyActivation(options_.activation, out);
}

nlohmann::json DepthwiseConv2D::Config() const {
  return {{"name", name()},
          {"kernel_size", SizeJson(kernel_size_)},
          {"strides", SizeJson(options_.strides)},
          {"padding", options_.padding},
          {"depth_multiplier", options_.depth_multiplier},
          {"data_format", "channels_last"},
          {"activation", options_.activation},
          {"use_bias", options_.use_bias},
          {"depthwise_initializer", "glorot_uniform"},
          {"bias_initializer", "zeros"}};
}

// ---- Pooling

Result<Shape> Pooling2D::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.size() != 4)
    return Error("needs an NHWC input (None, H, W, C), got " + KerasShapeString(in));
  if (pool_.h <= 0 || pool_.w <= 0 || strides_.h <= 0 || strides_.w <= 0) {
    return Error("pool_size and strides must be positive");
  }
  Result<Padding> p = ParsePadding(padding_name_);
  if (!p.ok()) return Error(p.status().message());
  window_ = {.kh = pool_.h, .kw = pool_.w, .sh = strides_.h, .sw = strides_.w, .padding = *p};
  Result<int64_t> oh = ConvOutputSize(in[1], pool_.h, strides_.h, *p);
  Result<int64_t> ow = ConvOutputSize(in[2], pool_.w, strides_.w, *p);
  if (!oh.ok() || !ow.ok()) {
    return Error("pool " + std::to_string(pool_.h) + "x" + std::to_string(pool_.w) +
                 " does not fit input " + KerasShapeString(in));
  }
  return Shape{in[0], *oh, *ow, in[3]};
}

Result<Var> Pooling2D::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  return max_ ? ops::MaxPool2D(inputs[0], window_) : ops::AvgPool2D(inputs[0], window_);
}

nlohmann::json Pooling2D::Config() const {
  return {{"name", name()},
          {"pool_size", SizeJson(pool_)},
          {"strides", SizeJson(strides_)},
          {"padding", padding_name_},
          {"data_format", "channels_last"}};
}

Result<Shape> GlobalAveragePooling2D::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.size() != 4)
    return Error("needs an NHWC input (None, H, W, C), got " + KerasShapeString(in));
  return Shape{in[0], in[3]};
}

Result<Var> GlobalAveragePooling2D::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  return ops::GlobalAvgPool2D(inputs[0]);
}

// ---- BatchNormalization

Result<Shape> BatchNormalization::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.size() < 2) return Error("needs an input of rank >= 2, got " + KerasShapeString(in));
  if (!(options_.momentum >= 0 && options_.momentum <= 1) || !(options_.epsilon > 0)) {
    return Error("momentum must be in [0, 1] and epsilon positive");
  }
  const int64_t c = in.back();
  gamma_ = options_.scale ? AddWeight("gamma", {c}, Initializer::kOnes)
                          : Var::Constant(Tensor::Filled({c}, 1.0f));
  beta_ = options_.center ? AddWeight("beta", {c}, Initializer::kZeros)
                          : Var::Constant(Tensor::Zeros({c}));
  moving_mean_ = AddWeight("moving_mean", {c}, Initializer::kZeros, false);
  moving_variance_ = AddWeight("moving_variance", {c}, Initializer::kOnes, false);
  return in;
}

Result<Var> BatchNormalization::Call(std::span<const Var> inputs, const CallContext& ctx) {
  if (inputs.size() != 1) return Error("expects 1 input");
  if (!ctx.training) {
    return ops::BatchNormInference(inputs[0], gamma_, beta_, moving_mean_.value(),
                                   moving_variance_.value(), options_.epsilon);
  }
  Tensor mean, var;
  ASSIGN_OR_RETURN(Var y,
                   ops::BatchNormTraining(inputs[0], gamma_, beta_, options_.epsilon, &mean, &var));
  const float mom = options_.momentum;
  Tensor& mm = moving_mean_.mutable_value();
  Tensor& mv = moving_variance_.mutable_value();
  for (int64_t j = 0; j < mm.size(); ++j) {
    mm.data()[j] = mm.data()[j] * mom + mean.data()[j] * (1 - mom);
    mv.data()[j] = mv.data()[j] * mom + var.data()[j] * (1 - mom);
  }
  return y;
}

nlohmann::json BatchNormalization::Config() const {
  return {{"name", name()},
          {"axis", -1},
          {"momentum", options_.momentum},
          {"epsilon", options_.epsilon},
          {"center", options_.center},
          {"scale", options_.scale}};
}

}  // namespace edgepipe::nn::layers
