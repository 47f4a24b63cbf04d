#include "edgepipe/nn/core_layers.h"

#include <algorithm>
#include <cmath>

#include "edgepipe/nn/ops.h"

namespace edgepipe::nn::layers {
namespace {

Shape WithBatch(const Shape& s) {
  Shape out{-1};
  out.insert(out.end(), s.begin(), s.end());
  return out;
}

}  // namespace

// ---- InputLayer

Result<Shape> InputLayer::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 0));
  for (int64_t d : shape_) {
    if (d <= 0) return Error("shape " + KerasShapeString(shape_) + " needs positive dims");
  }
  return WithBatch(shape_);
}

Result<Var> InputLayer::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects the fed value");
  return inputs[0];
}

nlohmann::json InputLayer::Config() const {
  return {{"name", name()}, {"batch_input_shape", WithBatch(shape_)}, {"dtype", "float32"}};
}

// ---- Dense

Result<Shape> Dense::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (units_ <= 0) return Error("units " + std::to_string(units_) + " must be positive");
  if (!IsKnownActivation(activation_)) return Error("unknown activation \"" + activation_ + "\"");
  if (in.size() < 2) return Error("needs an input of rank >= 2, got " + KerasShapeString(in));
  const int64_t fan_in = in.back();
  kernel_ =
      AddWeight("kernel", {fan_in, units_}, Initializer::kGlorotUniform, true, fan_in, units_);
  if (use_bias_) bias_ = AddWeight("bias", {units_}, Initializer::kZeros);
  Shape out = in;
  out.back() = units_;
  return out;
}

Result<Var> Dense::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  const Shape& xs = inputs[0].shape();
  if (xs.empty() || xs.back() != kernel_.shape()[0]) {
    return Error("input shape " + ShapeToString(xs) + " does not match the kernel " +
                 ShapeToString(kernel_.shape()));
  }
  // One fused op for the product, the bias and a ReLU (or no activation).
  const bool relu = activation_ == "relu";
  ASSIGN_OR_RETURN(Var y, ops::Dense(inputs[0], kernel_, use_bias_ ? bias_ : Var(), relu));
  return relu ? y : ApplyActivation(activation_, y);
}

nlohmann::json Dense::Config() const {
  return {{"name", name()},
          {"units", units_},
          {"activation", activation_.empty() ? "linear" : activation_},
          {"use_bias", use_bias_},
          {"kernel_initializer", "glorot_uniform"},
          {"bias_initializer", "zeros"}};
}

// ---- Dropout

Result<Shape> Dropout::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  if (!(rate_ >= 0.0f && rate_ < 1.0f)) {
    return Error("rate " + std::to_string(rate_) + " must be in [0, 1)");
  }
  return input_shapes[0];
}

Result<Var> Dropout::Call(std::span<const Var> inputs, const CallContext& ctx) {
  if (inputs.size() != 1) return Error("expects 1 input");
  if (!ctx.training || rate_ == 0.0f) return inputs[0];
  if (ctx.rng == nullptr) return Error("training call without a random generator");
  return ops::Dropout(inputs[0], rate_, *ctx.rng);
}

nlohmann::json Dropout::Config() const { return {{"name", name()}, {"rate", rate_}}; }

// ---- Activation family

Result<Shape> Activation::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  if (!IsKnownActivation(activation_)) return Error("unknown activation \"" + activation_ + "\"");
  return input_shapes[0];
}

Result<Var> Activation::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  return ApplyActivation(activation_, inputs[0]);
}

nlohmann::json Activation::Config() const {
  return {{"name", name()}, {"activation", activation_}};
}

Result<Shape> ReLU::DoBuild(const std::vector<Shape>& input_shapes) {
  if (max_value_.has_value() && *max_value_ != 6.0f) {
    return Error("max_value " + std::to_string(*max_value_) + " is not supported (only 6)");
  }
  return Activation::DoBuild(input_shapes);
}

nlohmann::json ReLU::Config() const {
  nlohmann::json c = {{"name", name()}, {"max_value", nullptr}};
  if (max_value_) c["max_value"] = *max_value_;
  return c;
}

// ---- Flatten, Reshape

Result<Shape> Flatten::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.empty()) return Error("needs a batch dim");
  int64_t n = 1;
  for (size_t i = 1; i < in.size(); ++i) n *= in[i];
  return Shape{in[0], n};
}

Result<Var> Flatten::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  return ops::Reshape(inputs[0], {inputs[0].shape()[0], -1});
}

Result<Shape> Reshape::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  int64_t n = 1;
  for (size_t i = 1; i < in.size(); ++i) n *= in[i];
  resolved_ = target_;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < resolved_.size(); ++i) {
    if (resolved_[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (resolved_[i] <= 0) {
      return Error("target shape " + KerasShapeString(target_) + " is invalid");
    } else {
      known *= resolved_[i];
    }
  }
  if (infer >= 0 && n % known == 0) resolved_[static_cast<size_t>(infer)] = n / known;
  if (ShapeSize(resolved_) != n) {
    return Error("cannot reshape input " + KerasShapeString(in) + " to target " +
                 KerasShapeString(target_));
  }
  return WithBatch(resolved_);
}

Result<Var> Reshape::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  Shape s{inputs[0].shape()[0]};
  s.insert(s.end(), resolved_.begin(), resolved_.end());
  return ops::Reshape(inputs[0], s);
}

nlohmann::json Reshape::Config() const { return {{"name", name()}, {"target_shape", target_}}; }

// ---- Add, Concatenate

Result<Shape> AddLayer::DoBuild(const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() < 2) return Error("needs at least 2 inputs");
  for (const Shape& s : input_shapes) {
    if (s != input_shapes[0]) {
      return Error("input shapes differ: " + KerasShapeString(input_shapes[0]) + " and " +
                   KerasShapeString(s));
    }
  }
  return input_shapes[0];
}

Result<Var> AddLayer::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() < 2) return Error("needs at least 2 inputs");
  Var y = inputs[0];
  for (size_t i = 1; i < inputs.size(); ++i) {
    ASSIGN_OR_RETURN(y, ops::Add(y, inputs[i]));
  }
  return y;
}

Result<Shape> Concatenate::DoBuild(const std::vector<Shape>& input_shapes) {
  if (input_shapes.size() < 2) return Error("needs at least 2 inputs");
  const Shape& s0 = input_shapes[0];
  const int rank = static_cast<int>(s0.size());
  const int ax = axis_ < 0 ? axis_ + rank : axis_;
  if (ax <= 0 || ax >= rank) {
    return Error("axis " + std::to_string(axis_) + " is invalid for input " + KerasShapeString(s0));
  }
  Shape out = s0;
  out[static_cast<size_t>(ax)] = 0;
  for (const Shape& s : input_shapes) {
    bool ok = s.size() == s0.size();
    for (int i = 1; ok && i < rank; ++i) {
      if (i != ax && s[static_cast<size_t>(i)] != s0[static_cast<size_t>(i)]) ok = false;
    }
    if (!ok) {
      return Error("input shapes " + KerasShapeString(s0) + " and " + KerasShapeString(s) +
                   " differ outside axis " + std::to_string(axis_));
    }
    out[static_cast<size_t>(ax)] += s[static_cast<size_t>(ax)];
  }
  return out;
}

Result<Var> Concatenate::Call(std::span<const Var> inputs, const CallContext&) {
  return ops::Concat(inputs, axis_);
}

nlohmann::json Concatenate::Config() const { return {{"name", name()}, {"axis", axis_}}; }

// ---- Rescaling

Result<Shape> Rescaling::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  return input_shapes[0];
}

Result<Var> Rescaling::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  return ops::ScaleShift(inputs[0], scale_, offset_);
}

nlohmann::json Rescaling::Config() const {
  return {{"name", name()}, {"scale", scale_}, {"offset", offset_}};
}

// ---- Normalization

Result<Shape> Normalization::DoBuild(const std::vector<Shape>& input_shapes) {
  RETURN_IF_ERROR(ExpectInputs(input_shapes, 1));
  const Shape& in = input_shapes[0];
  if (in.size() < 2) return Error("needs an input of rank >= 2, got " + KerasShapeString(in));
  const int64_t c = in.back();
  if (!mean_.empty() && static_cast<int64_t>(mean_.size()) != c) {
    return Error("adapted to " + std::to_string(mean_.size()) + " features, input " +
                 KerasShapeString(in) + " has " + std::to_string(c));
  }
  AddWeight("mean", {c}, Initializer::kZeros, false);
  AddWeight("variance", {c}, Initializer::kOnes, false);
  AddWeight("count", {}, Initializer::kZeros, false);
  return in;
}

Status Normalization::Adapt(const Array& data) {
  if (data.rank() < 2) {
    return Error("adapt data needs shape [N, ..., C], got " + ShapeToString(data.shape()));
  }
  const int64_t c = data.shape().back();
  if (built() && c != input_shapes()[0].back()) {
    return Error("adapt data " + ShapeToString(data.shape()) + " does not match input " +
                 KerasShapeString(input_shapes()[0]));
  }
  ASSIGN_OR_RETURN(Tensor t, Tensor::FromArray(data));
  const int64_t rows = c == 0 ? 0 : t.size() / c;
  if (rows == 0) return Error("adapt data is empty");
  mean_.assign(static_cast<size_t>(c), 0.0);
  variance_.assign(static_cast<size_t>(c), 0.0);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) mean_[static_cast<size_t>(j)] += t.data()[r * c + j];
  }
  for (double& m : mean_) m /= static_cast<double>(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      const double d = t.data()[r * c + j] - mean_[static_cast<size_t>(j)];
      variance_[static_cast<size_t>(j)] += d * d;
    }
  }
  for (double& v : variance_) v /= static_cast<double>(rows);
  count_ = rows;
  if (built()) CopyStatsToWeights();
  return Status::Ok();
}

void Normalization::CopyStatsToWeights() {
  if (mean_.empty()) return;
  Tensor& m = FindWeight("mean")->var.mutable_value();
  Tensor& v = FindWeight("variance")->var.mutable_value();
  for (size_t j = 0; j < mean_.size(); ++j) {
    m.data()[j] = static_cast<float>(mean_[j]);
    v.data()[j] = static_cast<float>(variance_[j]);
  }
  FindWeight("count")->var.mutable_value().data()[0] = static_cast<float>(count_);
}

Result<Var> Normalization::Call(std::span<const Var> inputs, const CallContext&) {
  if (inputs.size() != 1) return Error("expects 1 input");
  // Weights may have been initialised after Adapt: re-apply adapted stats.
  if (!mean_.empty() && FindWeight("count")->var.value().data()[0] != static_cast<float>(count_)) {
    CopyStatsToWeights();
  }
  const Tensor& m = FindWeight("mean")->var.value();
  const Tensor& v = FindWeight("variance")->var.value();
  Tensor scale = Tensor::Empty(m.shape());
  Tensor shift = Tensor::Empty(m.shape());
  for (int64_t j = 0; j < m.size(); ++j) {
    const float s = 1.0f / std::max(std::sqrt(v.data()[j]), 1e-7f);
    scale.data()[j] = s;
    shift.data()[j] = -m.data()[j] * s;
  }
  return ops::ChannelAffine(inputs[0], scale, shift);
}

}  // namespace edgepipe::nn::layers
