#include "edgepipe/nn/losses.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "edgepipe/nn/ops.h"

namespace edgepipe::nn {
namespace {

using namespace ops;  // NOLINT: losses are written in ops

constexpr float kEpsilon = 1e-7f;

Result<std::vector<int64_t>> ClassIds(std::string_view loss, const Array& y_true) {
  std::vector<int64_t> ids(static_cast<size_t>(y_true.num_elements()));
  switch (y_true.dtype()) {
    case DType::kInt64:
      std::copy_n(y_true.data<int64_t>().data(), ids.size(), ids.data());
      break;
    case DType::kInt32:
      std::copy_n(y_true.data<int32_t>().data(), ids.size(), ids.data());
      break;
    case DType::kUInt8:
      std::copy_n(y_true.data<uint8_t>().data(), ids.size(), ids.data());
      break;
    default:
      return Status::InvalidArgument(std::string(loss) +
                                     ": labels must be integer class ids, got " +
                                     std::string(DTypeName(y_true.dtype())));
  }
  return ids;
}

// Targets as a float tensor shaped like y_pred (a [N] target matches [N, 1]).
Result<Tensor> Targets(std::string_view loss, const Var& y_pred, const Array& y_true) {
  ASSIGN_OR_RETURN(Tensor t, Tensor::FromArray(y_true));
  if (t.shape() != y_pred.shape()) {
    if (t.size() == y_pred.value().size() && y_pred.shape().back() == 1) {
      return t.Reshaped(y_pred.shape());
    }
    return Status::InvalidArgument(
        std::string(loss) + ": targets of shape " + ShapeToString(t.shape()) +
        " do not match predictions of shape " + ShapeToString(y_pred.shape()));
  }
  return t;
}

// Elementwise op with a custom per-element forward and derivative wrt x.
template <typename F, typename DF>
Var Elementwise(const Var& x, const Tensor& z, F f, DF df) {
  Tensor y = Tensor::Empty(x.shape());
  for (int64_t i = 0; i < y.size(); ++i) y.data()[i] = f(x.value().data()[i], z.data()[i]);
  return MakeOpResult(std::move(y), {x}, [z, df](Node& self) {
    if (Tensor* g = self.InputGrad(0)) {
      const float* xv = self.inputs[0]->value.data();
      for (int64_t i = 0; i < g->size(); ++i) {
        g->data()[i] += self.grad.data()[i] * df(xv[i], z.data()[i]);
      }
    }
  });
}

// Per row: -sum_j z_j log(clip(q_j)) with q = p / sum(p), Keras' formula for
// probabilities; then the batch mean. Gradient (unclipped q_j):
// a_j = -z_j / q_j, dL/dp_k = (a_k - sum_j a_j q_j) / sum(p).
Result<Var> CrossentropyFromProbabilities(const Var& y_pred, const Tensor& z) {
  const int64_t c = y_pred.shape().back();
  const int64_t rows = c == 0 ? 0 : y_pred.value().size() / c;
  Tensor per = Tensor::Empty({rows});
  const float* p = y_pred.value().data();
  for (int64_t r = 0; r < rows; ++r) {
    float sum = 0;
    for (int64_t j = 0; j < c; ++j) sum += p[r * c + j];
    double loss = 0;
    for (int64_t j = 0; j < c; ++j) {
      const float q = std::clamp(p[r * c + j] / sum, kEpsilon, 1 - kEpsilon);
      loss -= z.data()[r * c + j] * std::log(q);
    }
    per.data()[r] = static_cast<float>(loss);
  }
  Var per_example = MakeOpResult(std::move(per), {y_pred}, [z, rows, c](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    const float* pv = self.inputs[0]->value.data();
    std::vector<float> a(static_cast<size_t>(c)), q(static_cast<size_t>(c));
    for (int64_t r = 0; r < rows; ++r) {
      float sum = 0;
      for (int64_t j = 0; j < c; ++j) sum += pv[r * c + j];
      float dot = 0;
      for (int64_t j = 0; j < c; ++j) {
        const size_t sj = static_cast<size_t>(j);
        q[sj] = pv[r * c + j] / sum;
        const bool clipped = !(q[sj] > kEpsilon && q[sj] < 1 - kEpsilon);
        a[sj] = clipped ? 0.0f : -z.data()[r * c + j] / q[sj];
        dot += a[sj] * q[sj];
      }
      const float g = self.grad.data()[r];
      for (int64_t j = 0; j < c; ++j) {
        gx->data()[r * c + j] += g * (a[static_cast<size_t>(j)] - dot) / sum;
      }
    }
  });
  return ReduceMean(per_example);
}

Result<Var> MeanOverLastThenBatch(const Var& per_element) {
  if (per_element.shape().size() >= 2) {
    ASSIGN_OR_RETURN(Var m, ReduceMean(per_element, -1));
    return ReduceMean(m);
  }
  return ReduceMean(per_element);
}

}  // namespace

Result<Var> SparseCategoricalCrossentropy::Compute(const Var& y_pred, const Array& y_true) const {
  ASSIGN_OR_RETURN(std::vector<int64_t> ids, ClassIds(type(), y_true));
  if (y_pred.shape().size() != 2 || static_cast<size_t>(y_pred.shape()[0]) != ids.size()) {
    return Status::InvalidArgument(
        std::string(type()) + ": predictions of shape " + ShapeToString(y_pred.shape()) +
        " do not match labels of shape " + ShapeToString(y_true.shape()));
  }
  if (!from_logits_) {
    const int64_t c = y_pred.shape()[1];
    Tensor onehot = Tensor::Zeros(y_pred.shape());
    for (size_t r = 0; r < ids.size(); ++r) {
      if (ids[r] < 0 || ids[r] >= c) {
        return Status::InvalidArgument(std::string(type()) + ": label " + std::to_string(ids[r]) +
                                       " at batch row " + std::to_string(r) +
                                       " is out of range [0, " + std::to_string(c) + ")");
      }
      onehot.data()[static_cast<int64_t>(r) * c + ids[r]] = 1.0f;
    }
    return CrossentropyFromProbabilities(y_pred, onehot);
  }
  ASSIGN_OR_RETURN(Var per_example, SparseSoftmaxCrossEntropy(y_pred, ids));
  return ReduceMean(per_example);
}

Result<Var> CategoricalCrossentropy::Compute(const Var& y_pred, const Array& y_true) const {
  ASSIGN_OR_RETURN(Tensor z, Targets(type(), y_pred, y_true));
  if (!from_logits_) return CrossentropyFromProbabilities(y_pred, z);
  ASSIGN_OR_RETURN(Var prod, Mul(LogSoftmax(y_pred), Var::Constant(z)));
  ASSIGN_OR_RETURN(Var per_example, ReduceSum(prod, -1));
  return ReduceMean(ScaleShift(per_example, -1.0f, 0.0f));
}

Result<Var> BinaryCrossentropy::Compute(const Var& y_pred, const Array& y_true) const {
  ASSIGN_OR_RETURN(Tensor z, Targets(type(), y_pred, y_true));
  Var per;
  if (from_logits_) {
    // max(x, 0) - x z + log(1 + exp(-|x|)).
    per = Elementwise(
        y_pred, z,
        [](float x, float t) {
          return std::max(x, 0.0f) - x * t + std::log1p(std::exp(-std::abs(x)));
        },
        [](float x, float t) {
          const float s =
              x >= 0 ? 1.0f / (1.0f + std::exp(-x)) : std::exp(x) / (1.0f + std::exp(x));
          return s - t;
        });
  } else {
    per = Elementwise(
        y_pred, z,
        [](float x, float t) {
          const float p = std::clamp(x, kEpsilon, 1 - kEpsilon);
          return -(t * std::log(p + kEpsilon) + (1 - t) * std::log(1 - p + kEpsilon));
        },
        [](float x, float t) {
          if (!(x > kEpsilon && x < 1 - kEpsilon)) return 0.0f;
          return -(t / (x + kEpsilon) - (1 - t) / (1 - x + kEpsilon));
        });
  }
  return MeanOverLastThenBatch(per);
}

Result<Var> MeanSquaredError::Compute(const Var& y_pred, const Array& y_true) const {
  ASSIGN_OR_RETURN(Tensor z, Targets(type(), y_pred, y_true));
  Var per = Elementwise(
      y_pred, z, [](float x, float t) { return (x - t) * (x - t); },
      [](float x, float t) { return 2 * (x - t); });
  return MeanOverLastThenBatch(per);
}

}  // namespace edgepipe::nn
