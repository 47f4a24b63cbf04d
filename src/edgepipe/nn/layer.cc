#include "edgepipe/nn/layer.h"

#include <cmath>

#include "edgepipe/nn/ops.h"

namespace edgepipe::nn {

Result<Shape> Layer::Build(const std::vector<Shape>& input_shapes) {
  if (built_) {
    bool same = input_shapes.size() == input_shapes_.size();
    for (size_t i = 0; same && i < input_shapes.size(); ++i) {
      const Shape& a = input_shapes[i];
      const Shape& b = input_shapes_[i];
      same = a.size() == b.size();
      for (size_t d = 1; same && d < a.size(); ++d) same = a[d] == b[d];
    }
    if (!same) {
      return Error(
          "already built for input shape " + KerasShapeString(input_shapes_[0]) + ", called on " +
          (input_shapes.empty() ? std::string("nothing") : KerasShapeString(input_shapes[0])));
    }
    return output_shape_;
  }
  for (const Shape& s : input_shapes) {
    for (size_t d = 1; d < s.size(); ++d) {
      if (s[d] < 0) return Error("input shape " + KerasShapeString(s) + " has an unknown dim");
    }
  }
  ASSIGN_OR_RETURN(output_shape_, DoBuild(input_shapes));
  input_shapes_ = input_shapes;
  built_ = true;
  return output_shape_;
}

void Layer::InitializeWeights(Rng& rng) {
  for (Weight& w : weights_) {
    Tensor& t = w.var.mutable_value();
    switch (w.initializer) {
      case Initializer::kZeros:
        t.Fill(0.0f);
        break;
      case Initializer::kOnes:
        t.Fill(1.0f);
        break;
      case Initializer::kGlorotUniform: {
        const float limit =
            std::sqrt(6.0f / static_cast<float>(std::max<int64_t>(w.fan_in + w.fan_out, 1)));
        for (float& v : t.span()) v = rng.Uniform(-limit, limit);
        break;
      }
    }
    w.var.ZeroGrad();
  }
}

Weight* Layer::FindWeight(std::string_view name) {
  for (Weight& w : weights_) {
    if (w.name == name) return &w;
  }
  return nullptr;
}

int64_t Layer::CountParams() const {
  int64_t n = 0;
  for (const Weight& w : weights_) n += w.var.value().size();
  return n;
}

Var Layer::AddWeight(std::string name, Shape shape, Initializer init, bool trainable,
                     int64_t fan_in, int64_t fan_out) {
  Tensor t = Tensor::Zeros(std::move(shape));
  Var v = trainable ? Var::Parameter(t) : Var::Constant(t);
  weights_.push_back({std::move(name), v, trainable, init, fan_in, fan_out});
  return v;
}

Status Layer::Error(const std::string& message) const {
  return Status::InvalidArgument(std::string(type()) + " \"" + name_ + "\": " + message);
}

Status Layer::ExpectInputs(const std::vector<Shape>& shapes, size_t n) const {
  if (shapes.size() != n) {
    return Error("expects " + std::to_string(n) + " input(s), got " +
                 std::to_string(shapes.size()));
  }
  return Status::Ok();
}

bool IsKnownActivation(std::string_view name) {
  for (std::string_view k : {"", "linear", "relu", "relu6", "sigmoid", "tanh", "softmax"}) {
    if (k == name) return true;
  }
  return false;
}

Result<Var> ApplyActivation(std::string_view name, const Var& x) {
  if (name.empty() || name == "linear") return x;
  if (name == "relu") return ops::Relu(x);
  if (name == "relu6") return ops::Relu6(x);
  if (name == "sigmoid") return ops::Sigmoid(x);
  if (name == "tanh") return ops::Tanh(x);
  if (name == "softmax") return ops::Softmax(x);
  return Status::InvalidArgument("unknown activation \"" + std::string(name) +
                                 "\" (expected linear, relu, relu6, sigmoid, tanh or softmax)");
}

}  // namespace edgepipe::nn
