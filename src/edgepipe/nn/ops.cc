#include "edgepipe/nn/ops.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "edgepipe/nn/eigen_util.h"
#include "edgepipe/nn/gemm.h"
#include "edgepipe/nn/train_kernels.h"

namespace edgepipe::nn::ops {
namespace {

using internal::AsArr;
using internal::AsMat;

Status ShapeError(const char* op, const std::string& rule, const Shape& a,
                  const Shape* b = nullptr) {
  std::string msg = std::string(op) + ": " + rule + " (got " + ShapeToString(a);
  if (b != nullptr) msg += " and " + ShapeToString(*b);
  return Status::InvalidArgument(msg + ")");
}

// Elementwise unary op: y = f(x), dx += g * df(x, y).
template <typename F, typename DF>
Var Unary(const Var& x, F f, DF df) {
  const Tensor& xv = x.value();
  Tensor y = Tensor::Empty(xv.shape());
  const float* xp = xv.data();
  float* yp = y.data();
  const int64_t n = xv.size();
  for (int64_t i = 0; i < n; ++i) yp[i] = f(xp[i]);
  return MakeOpResult(std::move(y), {x}, [df](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    const float* xq = self.inputs[0]->value.data();
    const float* yq = self.value.data();
    const float* g = self.grad.data();
    float* d = gx->data();
    const int64_t m = self.value.size();
    for (int64_t i = 0; i < m; ++i) d[i] += g[i] * df(xq[i], yq[i]);
  });
}

int NormalizeAxis(int axis, int rank) { return axis < 0 ? axis + rank : axis; }

}  // namespace

Result<Var> MatMul(const Var& a, const Var& b) {
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  if (as.size() < 2 || bs.size() != 2 || as.back() != bs[0]) {
    return ShapeError("MatMul", "needs a [..., K] and b [K, N]", as, &bs);
  }
  const int64_t k = bs[0], n = bs[1];
  const int64_t m = a.value().size() / std::max<int64_t>(k, 1);
  Shape ys = as;
  ys.back() = n;
  Tensor y = Tensor::Empty(ys);
  // y [m, n] = a [m, k] b [k, n].
  Sgemm(m, n, k, {a.value().data(), k}, {b.value().data(), n}, y.data(), n, false);
  return MakeOpResult(std::move(y), {a, b}, [m, k, n](Node& self) {
    const float* g = self.grad.data();
    if (GradOut ga = self.InputGradOut(0); ga.data != nullptr) {
      // ga [m, k] (+)= g [m, n] b^T.
      Sgemm(m, k, n, {g, n}, {self.inputs[1]->value.data(), n, true}, ga.data, k, ga.accumulate);
    }
    if (GradOut gb = self.InputGradOut(1); gb.data != nullptr) {
      // gb [k, n] (+)= a^T g.
      Sgemm(k, n, m, {self.inputs[0]->value.data(), k, true}, {g, n}, gb.data, n, gb.accumulate);
    }
  });
}

Result<Var> Dense(const Var& x, const Var& kernel, const Var& bias, bool relu) {
  const Shape& xs = x.shape();
  const Shape& ks = kernel.shape();
  if (xs.size() < 2 || ks.size() != 2 || xs.back() != ks[0]) {
    return ShapeError("Dense", "needs x [..., K] and kernel [K, N]", xs, &ks);
  }
  const int64_t k = ks[0], n = ks[1];
  if (bias.defined() && (bias.shape().size() != 1 || bias.shape()[0] != n)) {
    return ShapeError("Dense", "needs bias [N] for kernel [K, N]", bias.shape(), &ks);
  }
  const int64_t m = x.value().size() / std::max<int64_t>(k, 1);
  Shape ys = xs;
  ys.back() = n;
  Tensor y = Tensor::Empty(ys);
  // y [m, n] = x [m, k] kernel [k, n], then bias and ReLU in one pass.
  Sgemm(m, n, k, {x.value().data(), k}, {kernel.value().data(), n}, y.data(), n, false);
  const bool has_bias = bias.defined();
  kernels::BiasRelu(y.data(), has_bias ? bias.value().data() : nullptr, m, n, relu);
  std::vector<Var> inputs = {x, kernel};
  if (has_bias) inputs.push_back(bias);
  return MakeOpResult(std::move(y), std::move(inputs), [m, k, n, relu, has_bias](Node& self) {
    // The output gradient is masked in place (this node's grad is dead
    // after its backward); it then feeds the bias sum and both products.
    float* g = self.grad.data();
    GradOut gbias = has_bias ? self.InputGradOut(2) : GradOut{};
    kernels::BiasReluBackward(g, self.value.data(), m, n, relu, gbias.data, gbias.accumulate);
    if (GradOut gk = self.InputGradOut(1); gk.data != nullptr) {
      Sgemm(k, n, m, {self.inputs[0]->value.data(), k, true}, {g, n}, gk.data, n, gk.accumulate);
    }
    if (GradOut gx = self.InputGradOut(0); gx.data != nullptr) {
      Sgemm(m, k, n, {g, n}, {self.inputs[1]->value.data(), n, true}, gx.data, k, gx.accumulate);
    }
  });
}

Result<Var> BiasAdd(const Var& x, const Var& bias) {
  const Shape& xs = x.shape();
  const Shape& bs = bias.shape();
  if (xs.empty() || bs.size() != 1 || xs.back() != bs[0]) {
    return ShapeError("BiasAdd", "needs x [..., C] and bias [C]", xs, &bs);
  }
  const int64_t c = bs[0];
  const int64_t rows = c == 0 ? 0 : x.value().size() / c;
  Tensor y = Tensor::Empty(xs);
  AsMat(y, rows).noalias() = AsMat(x.value(), rows).rowwise() + AsMat(bias.value(), 1).row(0);
  return MakeOpResult(std::move(y), {x, bias}, [rows](Node& self) {
    if (Tensor* gb = self.InputGrad(1)) {
      AsMat(*gb, 1).row(0) += AsMat(self.grad, rows).colwise().sum();
    }
    self.PassGradTo(0);  // last: x may adopt this node's buffer
  });
}

Result<Var> Add(const Var& a, const Var& b) {
  if (a.shape() != b.shape()) return ShapeError("Add", "needs equal shapes", a.shape(), &b.shape());
  Tensor y = Tensor::Empty(a.shape());
  AsArr(y) = AsArr(a.value()) + AsArr(b.value());
  return MakeOpResult(std::move(y), {a, b}, [](Node& self) {
    if (Tensor* ga = self.InputGrad(0)) ga->AddFrom(self.grad);
    if (Tensor* gb = self.InputGrad(1)) gb->AddFrom(self.grad);
  });
}

Result<Var> Mul(const Var& a, const Var& b) {
  if (a.shape() != b.shape()) return ShapeError("Mul", "needs equal shapes", a.shape(), &b.shape());
  Tensor y = Tensor::Empty(a.shape());
  AsArr(y) = AsArr(a.value()) * AsArr(b.value());
  return MakeOpResult(std::move(y), {a, b}, [](Node& self) {
    if (Tensor* ga = self.InputGrad(0))
      AsArr(*ga) += AsArr(self.grad) * AsArr(self.inputs[1]->value);
    if (Tensor* gb = self.InputGrad(1))
      AsArr(*gb) += AsArr(self.grad) * AsArr(self.inputs[0]->value);
  });
}

Var ScaleShift(const Var& x, float scale, float offset) {
  return Unary(
      x, [scale, offset](float v) { return v * scale + offset; },
      [scale](float, float) { return scale; });
}

Result<Var> ChannelAffine(const Var& x, const Tensor& scale, const Tensor& shift) {
  const Shape& xs = x.shape();
  if (xs.empty() || scale.rank() != 1 || scale.shape() != shift.shape() ||
      scale.dim(0) != xs.back()) {
    return ShapeError("ChannelAffine", "needs x [..., C] and scale, shift [C]", xs, &scale.shape());
  }
  const int64_t c = xs.back();
  const int64_t rows = c == 0 ? 0 : x.value().size() / c;
  Tensor y = Tensor::Empty(xs);
  auto s = AsMat(scale, 1).row(0).array();
  auto t = AsMat(shift, 1).row(0).array();
  AsMat(y, rows).array() = (AsMat(x.value(), rows).array().rowwise() * s).rowwise() + t;
  return MakeOpResult(std::move(y), {x}, [rows, scale](Node& self) {
    if (Tensor* gx = self.InputGrad(0)) {
      AsMat(*gx, rows).array() +=
          AsMat(self.grad, rows).array().rowwise() * AsMat(scale, 1).row(0).array();
    }
  });
}

Var Relu(const Var& x) {
  // Branch-free selects (the signs are random: branches mispredict), which
  // the compiler vectorises. NaN propagates, as in TF.
  const int64_t n = x.value().size();
  Tensor y = Tensor::Empty(x.shape());
  const float* __restrict xp = x.value().data();
  float* __restrict yp = y.data();
  for (int64_t i = 0; i < n; ++i) yp[i] = xp[i] < 0.0f ? 0.0f : xp[i];
  return MakeOpResult(std::move(y), {x}, [n](Node& self) {
    GradOut gx = self.InputGradOut(0);
    if (gx.data == nullptr) return;
    const float* __restrict xq = self.inputs[0]->value.data();
    const float* __restrict g = self.grad.data();
    float* __restrict d = gx.data;
    if (gx.accumulate) {
      for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i];  // loaded unconditionally so the select vectorises
        d[i] += xq[i] > 0.0f ? gi : 0.0f;
      }
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i];
        d[i] = xq[i] > 0.0f ? gi : 0.0f;
      }
    }
  });
}

Var Relu6(const Var& x) {
  return Unary(
      x, [](float v) { return std::min(std::max(v, 0.0f), 6.0f); },
      [](float v, float) { return v > 0.0f && v < 6.0f ? 1.0f : 0.0f; });
}

Var Sigmoid(const Var& x) {
  return Unary(
      x,
      [](float v) {
        // Stable on both tails.
        if (v >= 0) return 1.0f / (1.0f + std::exp(-v));
        const float e = std::exp(v);
        return e / (1.0f + e);
      },
      [](float, float y) { return y * (1.0f - y); });
}

Var Tanh(const Var& x) {
  return Unary(
      x, [](float v) { return std::tanh(v); }, [](float, float y) { return 1.0f - y * y; });
}

namespace {
// Row-wise softmax / log-softmax of a [rows, c] buffer.
void SoftmaxRows(const float* x, float* y, int64_t rows, int64_t c, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * c;
    float* yr = y + r * c;
    float mx = xr[0];
    for (int64_t j = 1; j < c; ++j) mx = std::max(mx, xr[j]);
    float sum = 0.0f;
    for (int64_t j = 0; j < c; ++j) sum += std::exp(xr[j] - mx);
    if (log) {
      const float lse = mx + std::log(sum);
      for (int64_t j = 0; j < c; ++j) yr[j] = xr[j] - lse;
    } else {
      const float inv = 1.0f / sum;
      for (int64_t j = 0; j < c; ++j) yr[j] = std::exp(xr[j] - mx) * inv;
    }
  }
}
}  // namespace

Var Softmax(const Var& x) {
  const int64_t c = x.shape().empty() ? 1 : x.shape().back();
  const int64_t rows = c == 0 ? 0 : x.value().size() / c;
  Tensor y = Tensor::Empty(x.shape());
  if (c > 0) SoftmaxRows(x.value().data(), y.data(), rows, c, false);
  return MakeOpResult(std::move(y), {x}, [rows, c](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    // dx = y * (g - sum(g * y)) per row.
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = self.value.data() + r * c;
      const float* gr = self.grad.data() + r * c;
      float* dr = gx->data() + r * c;
      float dot = 0.0f;
      for (int64_t j = 0; j < c; ++j) dot += gr[j] * yr[j];
      for (int64_t j = 0; j < c; ++j) dr[j] += yr[j] * (gr[j] - dot);
    }
  });
}

Var LogSoftmax(const Var& x) {
  const int64_t c = x.shape().empty() ? 1 : x.shape().back();
  const int64_t rows = c == 0 ? 0 : x.value().size() / c;
  Tensor y = Tensor::Empty(x.shape());
  if (c > 0) SoftmaxRows(x.value().data(), y.data(), rows, c, true);
  return MakeOpResult(std::move(y), {x}, [rows, c](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    // dx = g - softmax * sum(g) per row.
    for (int64_t r = 0; r < rows; ++r) {
      const float* yr = self.value.data() + r * c;
      const float* gr = self.grad.data() + r * c;
      float* dr = gx->data() + r * c;
      float sum = 0.0f;
      for (int64_t j = 0; j < c; ++j) sum += gr[j];
      for (int64_t j = 0; j < c; ++j) dr[j] += gr[j] - std::exp(yr[j]) * sum;
    }
  });
}

Result<Var> Dropout(const Var& x, float rate, Rng& rng) {
  if (!(rate >= 0.0f && rate < 1.0f)) {
    return Status::InvalidArgument("Dropout: rate " + std::to_string(rate) + " must be in [0, 1)");
  }
  // One 64-bit draw per call keys a counter-based mask (train_kernels.h):
  // no per-element generator state, and no mask tensor to keep.
  uint64_t key = rng.Next();
  key = (key << 32) | rng.Next();
  const kernels::DropoutMask mask = kernels::MakeDropoutMask(key, rate);
  Tensor y = Tensor::Empty(x.shape());
  kernels::ApplyDropout(x.value().data(), y.data(), y.size(), mask, false);
  return MakeOpResult(std::move(y), {x}, [mask](Node& self) {
    GradOut gx = self.InputGradOut(0);
    if (gx.data != nullptr) {
      kernels::ApplyDropout(self.grad.data(), gx.data, self.grad.size(), mask, gx.accumulate);
    }
  });
}

Result<Var> Reshape(const Var& x, Shape shape) {
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1 && infer < 0) {
      infer = static_cast<int>(i);
    } else if (shape[i] < 0) {
      return ShapeError("Reshape", "target may have one -1 and no other negative dim", shape);
    } else {
      known *= shape[i];
    }
  }
  const int64_t n = x.value().size();
  if (infer >= 0) {
    if (known == 0 || n % known != 0) {
      return ShapeError("Reshape", "cannot infer -1 from the element count", x.shape(), &shape);
    }
    shape[static_cast<size_t>(infer)] = n / known;
  } else if (known != n) {
    return ShapeError("Reshape", "element counts differ", x.shape(), &shape);
  }
  Tensor y = x.value().Reshaped(shape);
  return MakeOpResult(std::move(y), {x}, [](Node& self) { self.PassGradTo(0); });
}

Result<Var> Concat(std::span<const Var> xs, int axis) {
  if (xs.empty()) return Status::InvalidArgument("Concat: needs at least one input");
  const Shape& s0 = xs[0].shape();
  const int rank = static_cast<int>(s0.size());
  const int ax = NormalizeAxis(axis, rank);
  if (ax < 0 || ax >= rank) {
    return Status::InvalidArgument("Concat: axis " + std::to_string(axis) +
                                   " out of range for rank " + std::to_string(rank));
  }
  Shape out = s0;
  out[static_cast<size_t>(ax)] = 0;
  for (const Var& v : xs) {
    const Shape& s = v.shape();
    bool ok = static_cast<int>(s.size()) == rank;
    for (int i = 0; ok && i < rank; ++i) {
      if (i != ax && s[static_cast<size_t>(i)] != s0[static_cast<size_t>(i)]) ok = false;
    }
    if (!ok) return ShapeError("Concat", "dims other than the axis must agree", s0, &s);
    out[static_cast<size_t>(ax)] += s[static_cast<size_t>(ax)];
  }
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ax; ++i) outer *= s0[static_cast<size_t>(i)];
  for (int i = ax + 1; i < rank; ++i) inner *= s0[static_cast<size_t>(i)];
  const int64_t out_row = out[static_cast<size_t>(ax)] * inner;
  std::vector<int64_t> widths;
  Tensor y = Tensor::Empty(out);
  int64_t offset = 0;
  for (const Var& v : xs) {
    const int64_t w = v.shape()[static_cast<size_t>(ax)] * inner;
    widths.push_back(w);
    for (int64_t o = 0; o < outer; ++o) {
      std::copy_n(v.value().data() + o * w, w, y.data() + o * out_row + offset);
    }
    offset += w;
  }
  std::vector<Var> inputs(xs.begin(), xs.end());
  return MakeOpResult(std::move(y), std::move(inputs), [widths, outer, out_row](Node& self) {
    int64_t off = 0;
    for (size_t i = 0; i < widths.size(); ++i) {
      const int64_t w = widths[i];
      if (Tensor* gx = self.InputGrad(i)) {
        for (int64_t o = 0; o < outer; ++o) {
          const float* src = self.grad.data() + o * out_row + off;
          float* dst = gx->data() + o * w;
          for (int64_t j = 0; j < w; ++j) dst[j] += src[j];
        }
      }
      off += w;
    }
  });
}

namespace {
Result<Var> Reduce(const char* op, const Var& x, std::optional<int> axis, bool keepdims,
                   bool mean) {
  const Shape& xs = x.shape();
  const int rank = static_cast<int>(xs.size());
  int64_t outer = 1, n = x.value().size(), inner = 1;
  Shape out;
  if (axis.has_value()) {
    const int ax = NormalizeAxis(*axis, rank);
    if (ax < 0 || ax >= rank) {
      return Status::InvalidArgument(std::string(op) + ": axis " + std::to_string(*axis) +
                                     " out of range for shape " + ShapeToString(xs));
    }
    n = xs[static_cast<size_t>(ax)];
    for (int i = 0; i < ax; ++i) outer *= xs[static_cast<size_t>(i)];
    for (int i = ax + 1; i < rank; ++i) inner *= xs[static_cast<size_t>(i)];
    for (int i = 0; i < rank; ++i) {
      if (i != ax)
        out.push_back(xs[static_cast<size_t>(i)]);
      else if (keepdims)
        out.push_back(1);
    }
  } else if (keepdims) {
    out.assign(xs.size(), 1);
  }
  const float scale = mean ? 1.0f / static_cast<float>(std::max<int64_t>(n, 1)) : 1.0f;
  Tensor y = Tensor::Zeros(out);
  const float* xp = x.value().data();
  float* yp = y.data();
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < n; ++j) {
      const float* row = xp + (o * n + j) * inner;
      float* dst = yp + o * inner;
      for (int64_t i = 0; i < inner; ++i) dst[i] += row[i];
    }
  }
  if (mean) AsArr(y) *= scale;
  return MakeOpResult(std::move(y), {x}, [outer, n, inner, scale](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    const float* g = self.grad.data();
    float* d = gx->data();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < n; ++j) {
        float* row = d + (o * n + j) * inner;
        const float* src = g + o * inner;
        for (int64_t i = 0; i < inner; ++i) row[i] += src[i] * scale;
      }
    }
  });
}
}  // namespace

Result<Var> ReduceSum(const Var& x, std::optional<int> axis, bool keepdims) {
  return Reduce("ReduceSum", x, axis, keepdims, false);
}

Result<Var> ReduceMean(const Var& x, std::optional<int> axis, bool keepdims) {
  return Reduce("ReduceMean", x, axis, keepdims, true);
}

Result<Var> SparseSoftmaxCrossEntropy(const Var& logits, std::span<const int64_t> labels) {
  const Shape& ls = logits.shape();
  if (ls.size() != 2 || static_cast<size_t>(ls[0]) != labels.size()) {
    const Shape label_shape{static_cast<int64_t>(labels.size())};
    return ShapeError("SparseSoftmaxCrossEntropy", "needs logits [N, C] and N labels", ls,
                      &label_shape);
  }
  const int64_t rows = ls[0], c = ls[1];
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t label = labels[static_cast<size_t>(r)];
    if (label < 0 || label >= c) {
      return Status::InvalidArgument("SparseSoftmaxCrossEntropy: label " + std::to_string(label) +
                                     " at batch row " + std::to_string(r) +
                                     " is out of range [0, " + std::to_string(c) + ")");
    }
  }
  // Keep log-probabilities for the backward pass.
  Tensor logp = Tensor::Empty(ls);
  SoftmaxRows(logits.value().data(), logp.data(), rows, c, true);
  Tensor y = Tensor::Empty({rows});
  std::vector<int64_t> lab(labels.begin(), labels.end());
  for (int64_t r = 0; r < rows; ++r)
    y.data()[r] = -logp.data()[r * c + lab[static_cast<size_t>(r)]];
  return MakeOpResult(std::move(y), {logits}, [logp, lab = std::move(lab), c](Node& self) {
    GradOut gx = self.InputGradOut(0);
    if (gx.data == nullptr) return;
    // d/dlogits = g_r * (softmax - onehot).
    const int64_t n = static_cast<int64_t>(lab.size());
    for (int64_t r = 0; r < n; ++r) {
      const float g = self.grad.data()[r];
      const float* lp = logp.data() + r * c;
      float* d = gx.data + r * c;
      if (gx.accumulate) {
        for (int64_t j = 0; j < c; ++j) d[j] += g * std::exp(lp[j]);
      } else {
        for (int64_t j = 0; j < c; ++j) d[j] = g * std::exp(lp[j]);
      }
      d[lab[static_cast<size_t>(r)]] -= g;
    }
  });
}

}  // namespace edgepipe::nn::ops
