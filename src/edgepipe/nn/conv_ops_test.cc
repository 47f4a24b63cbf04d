// Conv / pooling / batch-norm ops: values against naive reference loops
// written here, gradients against central finite differences
// (CheckGradients defaults: eps 1e-2, atol 2e-3, rtol 2e-2; pooling inputs
// are spaced 0.1 apart so that eps never changes a window's maximum).
#include "edgepipe/nn/conv_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgepipe/nn/gemm.h"
#include "edgepipe/nn/gradient_check.h"
#include "edgepipe/nn/ops.h"
#include "edgepipe/nn/parallel.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::nn {
namespace {

using namespace ops;  // NOLINT

using ::testing::HasSubstr;

Tensor RandomTensor(Shape shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed);
  Tensor t = Tensor::Empty(std::move(shape));
  for (float& v : t.span()) v = rng.Uniform(lo, hi);
  return t;
}

// Distinct values 0.1 apart, shuffled.
Tensor SpacedTensor(Shape shape, uint64_t seed) {
  Tensor t = Tensor::Empty(std::move(shape));
  for (int64_t i = 0; i < t.size(); ++i) t.data()[i] = 0.1f * static_cast<float>(i) - 1.0f;
  Rng rng(seed);
  for (int64_t i = t.size() - 1; i > 0; --i) {
    std::swap(t.data()[i], t.data()[rng.Below(static_cast<uint64_t>(i + 1))]);
  }
  return t;
}

// Naive NHWC convolution (depthwise when `depthwise`), TF padding.
Tensor NaiveConv(const Tensor& x, const Tensor& k, int64_t s, Padding p, bool depthwise) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  const int64_t kh = k.dim(0), kw = k.dim(1), m = k.dim(3);
  const int64_t oh = *ConvOutputSize(h, kh, s, p), ow = *ConvOutputSize(w, kw, s, p);
  const int64_t pt = p == Padding::kSame ? std::max<int64_t>((oh - 1) * s + kh - h, 0) / 2 : 0;
  const int64_t pl = p == Padding::kSame ? std::max<int64_t>((ow - 1) * s + kw - w, 0) / 2 : 0;
  const int64_t oc = depthwise ? c * m : m;
  Tensor y = Tensor::Zeros({n, oh, ow, oc});
  for (int64_t b = 0; b < n; ++b)
    for (int64_t oy = 0; oy < oh; ++oy)
      for (int64_t ox = 0; ox < ow; ++ox)
        for (int64_t o = 0; o < oc; ++o) {
          double acc = 0;
          for (int64_t ky = 0; ky < kh; ++ky)
            for (int64_t kx = 0; kx < kw; ++kx) {
              const int64_t iy = oy * s - pt + ky, ix = ox * s - pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              if (depthwise) {
                const int64_t ci = o / m, j = o % m;
                acc += double(x.data()[((b * h + iy) * w + ix) * c + ci]) *
                       k.data()[((ky * kw + kx) * c + ci) * m + j];
              } else {
                for (int64_t ci = 0; ci < c; ++ci) {
                  acc += double(x.data()[((b * h + iy) * w + ix) * c + ci]) *
                         k.data()[((ky * kw + kx) * c + ci) * m + o];
                }
              }
            }
          y.data()[((b * oh + oy) * ow + ox) * oc + o] = static_cast<float>(acc);
        }
  return y;
}

void ExpectNear(const Tensor& a, const Tensor& b, float tol = 1e-4f) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a.data()[i], b.data()[i], tol) << "at " << i;
}

TEST(ConvOpsTest, OutputSizes) {
  EXPECT_EQ(*ConvOutputSize(28, 3, 1, Padding::kValid), 26);
  EXPECT_EQ(*ConvOutputSize(28, 3, 2, Padding::kValid), 13);
  EXPECT_EQ(*ConvOutputSize(28, 3, 2, Padding::kSame), 14);
  EXPECT_EQ(*ConvOutputSize(5, 2, 2, Padding::kSame), 3);
  EXPECT_FALSE(ConvOutputSize(2, 3, 1, Padding::kValid).ok());
}

TEST(ConvOpsTest, Conv2DMatchesNaive) {
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    for (Padding p : {Padding::kValid, Padding::kSame}) {
      for (int64_t s : {1, 2}) {
        Tensor x = RandomTensor({2, 7, 6, 3}, 1), k = RandomTensor({3, 3, 3, 4}, 2);
        Var y = *Conv2D(Var::Constant(x), Var::Constant(k), s, s, p);
        ExpectNear(y.value(), NaiveConv(x, k, s, p, false));
      }
    }
    // 1x1 (direct matrix product path) and a big one that goes parallel.
    Tensor x = RandomTensor({4, 12, 12, 8}, 3), k1 = RandomTensor({1, 1, 8, 16}, 4);
    ExpectNear((*Conv2D(Var::Constant(x), Var::Constant(k1), 1, 1, Padding::kValid)).value(),
               NaiveConv(x, k1, 1, Padding::kValid, false));
    Tensor k3 = RandomTensor({3, 3, 8, 32}, 5);
    ExpectNear((*Conv2D(Var::Constant(x), Var::Constant(k3), 1, 1, Padding::kSame)).value(),
               NaiveConv(x, k3, 1, Padding::kSame, false), 1e-3f);
  }
  SetNumThreads(1);
}

TEST(ConvOpsTest, Conv2DGradients) {
  auto conv = [](int64_t s, Padding p) {
    return [s, p](std::span<const Var> v) { return Conv2D(v[0], v[1], s, s, p); };
  };
  EXPECT_EQ(CheckGradients(conv(1, Padding::kValid),
                           {RandomTensor({2, 5, 5, 2}, 1), RandomTensor({3, 3, 2, 3}, 2)}),
            Status::Ok());
  EXPECT_EQ(CheckGradients(conv(2, Padding::kSame),
                           {RandomTensor({1, 6, 5, 2}, 3), RandomTensor({3, 2, 2, 2}, 4)}),
            Status::Ok());
  EXPECT_EQ(CheckGradients(conv(1, Padding::kValid),
                           {RandomTensor({2, 3, 3, 2}, 5), RandomTensor({1, 1, 2, 3}, 6)}),
            Status::Ok());
}

// Value and both gradients of conv(x, k) under loss sum(y * w), with the
// current GEMM implementation.
struct ConvResult {
  Tensor y, gx, gk;
};
ConvResult RunConv(const Tensor& x, const Tensor& k, int64_t s, Padding p) {
  Var xv = Var::Parameter(x.Clone()), kv = Var::Parameter(k.Clone());
  Var y = *Conv2D(xv, kv, s, s, p);
  Var w = Var::Constant(RandomTensor(y.shape(), 99));
  Var loss = *ReduceSum(*Mul(y, w));
  EXPECT_EQ(Backward(loss), Status::Ok());
  return {y.value(), xv.grad(), kv.grad()};
}

TEST(ConvOpsTest, Conv2DAgreesOnBothGemmPaths) {
  // Odd sizes: 7 output channels and 5 input channels leave partial register
  // tiles; the big case crosses the packing blocks and goes parallel.
  struct Case {
    Shape x, k;
    int64_t s;
    Padding p;
  };
  const Case cases[] = {{{3, 9, 11, 5}, {3, 2, 5, 7}, 2, Padding::kSame},
                        {{2, 8, 7, 5}, {3, 3, 5, 7}, 1, Padding::kValid},
                        {{2, 6, 6, 9}, {1, 1, 9, 13}, 1, Padding::kValid},
                        {{8, 13, 13, 32}, {3, 3, 32, 64}, 1, Padding::kValid}};
  const GemmIsa saved_isa = ActiveGemmIsa();
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    for (const Case& c : cases) {
      SCOPED_TRACE(ShapeToString(c.x) + " " + ShapeToString(c.k) + " threads " +
                   std::to_string(threads));
      const Tensor x = RandomTensor(c.x, 1), k = RandomTensor(c.k, 2);
      SetGemmIsa(GemmIsa::kPortable);
      const ConvResult portable = RunConv(x, k, c.s, c.p);
      SetGemmIsa(GemmIsa::kAvx2);
      const ConvResult fast = RunConv(x, k, c.s, c.p);
      ExpectNear(fast.y, portable.y, 1e-4f);
      ExpectNear(fast.y, NaiveConv(x, k, c.s, c.p, false), 1e-4f);
      ExpectNear(fast.gx, portable.gx, 1e-4f);
      ExpectNear(fast.gk, portable.gk, 1e-3f);  // sums over every output position
    }
  }
  SetNumThreads(1);
  SetGemmIsa(saved_isa);
}

TEST(ConvOpsTest, MaxPoolRoutesGradientToFirstMaximumAndPropagatesNan) {
  // One image, 2 channels, 2x2 windows stride 2 on 2x4 (h 2, w 4). Window
  // 0: channel 0 has a tie of 5s (the first wins), channel 1 a tie of 2s.
  // Window 1: channel 0 has a NaN before the larger 7 (NaN wins and sticks).
  const float nan = std::nanf("");
  Tensor x = *Tensor::FromVector({1, 2, 4, 2}, std::vector<float>{5, 1, 2, 2, 0, 3, nan, 4,  //
                                                                  5, 0, 1, 2, 7, 9, 1, 8});
  Var xv = Var::Parameter(x);
  Var y = *MaxPool2D(xv, {.kh = 2, .kw = 2, .sh = 2, .sw = 2});
  ASSERT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.value().data()[0], 5.0f);
  EXPECT_EQ(y.value().data()[1], 2.0f);
  EXPECT_TRUE(std::isnan(y.value().data()[2]));
  EXPECT_EQ(y.value().data()[3], 9.0f);
  Var g = Var::Constant(*Tensor::FromVector({1, 1, 2, 2}, std::vector<float>{10, 20, 30, 40}));
  ASSERT_EQ(Backward(*ReduceSum(*Mul(y, g))), Status::Ok());
  // Flat NHWC offsets 0, 3, 6 (the NaN) and 13 receive the gradients.
  EXPECT_THAT(xv.grad().ToVector(), ::testing::ElementsAre(10, 0, 0, 20, 0, 0, 30, 0,  //
                                                           0, 0, 0, 0, 0, 40, 0, 0));
}

TEST(ConvOpsTest, Conv2DShapeErrors) {
  Result<Var> r = Conv2D(Var::Constant(Tensor::Zeros({1, 5, 5, 3})),
                         Var::Constant(Tensor::Zeros({3, 3, 2, 4})), 1, 1, Padding::kValid);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("[1, 5, 5, 3]"));
  EXPECT_THAT(r.status().message(), HasSubstr("[3, 3, 2, 4]"));
  EXPECT_FALSE(Conv2D(Var::Constant(Tensor::Zeros({1, 2, 2, 3})),
                      Var::Constant(Tensor::Zeros({3, 3, 3, 4})), 1, 1, Padding::kValid)
                   .ok());
}

TEST(ConvOpsTest, DepthwiseMatchesNaiveAndGradients) {
  for (Padding p : {Padding::kValid, Padding::kSame}) {
    for (int64_t s : {1, 2}) {
      Tensor x = RandomTensor({2, 6, 5, 3}, 1), k = RandomTensor({3, 3, 3, 2}, 2);
      Var y = *DepthwiseConv2D(Var::Constant(x), Var::Constant(k), s, s, p);
      ExpectNear(y.value(), NaiveConv(x, k, s, p, true));
    }
  }
  EXPECT_EQ(CheckGradients([](auto v) { return DepthwiseConv2D(v[0], v[1], 1, 1, Padding::kSame); },
                           {RandomTensor({2, 4, 4, 2}, 3), RandomTensor({3, 3, 2, 2}, 4)}),
            Status::Ok());
  EXPECT_EQ(
      CheckGradients([](auto v) { return DepthwiseConv2D(v[0], v[1], 2, 2, Padding::kValid); },
                     {RandomTensor({1, 5, 5, 3}, 5), RandomTensor({2, 2, 3, 1}, 6)}),
      Status::Ok());
}

TEST(ConvOpsTest, MaxPoolValuesAndGradients) {
  // One 4x4 channel: 2x2 windows, stride 2.
  Tensor x = *Tensor::FromVector(
      {1, 4, 4, 1}, std::vector<float>{1, 2, 5, 3, 4, 0, 1, 1, 9, 8, 2, 2, 7, 6, 3, 4});
  Var y = *MaxPool2D(Var::Constant(x), {.kh = 2, .kw = 2, .sh = 2, .sw = 2});
  EXPECT_THAT(y.value().ToVector(), ::testing::ElementsAre(4, 5, 9, 4));
  // SAME on 5x5 with 2x2 stride 2: 3x3 outputs, edge windows partly outside.
  Var ys = *MaxPool2D(Var::Constant(SpacedTensor({1, 5, 5, 1}, 1)),
                      {.kh = 2, .kw = 2, .sh = 2, .sw = 2, .padding = Padding::kSame});
  EXPECT_EQ(ys.shape(), (Shape{1, 3, 3, 1}));
  for (Padding p : {Padding::kValid, Padding::kSame}) {
    EXPECT_EQ(CheckGradients(
                  [p](auto v) {
                    return MaxPool2D(v[0], {.kh = 3, .kw = 2, .sh = 2, .sw = 1, .padding = p});
                  },
                  {SpacedTensor({2, 5, 4, 2}, 2)}),
              Status::Ok());
  }
}

TEST(ConvOpsTest, AvgPoolValuesAndGradients) {
  Tensor x = *Tensor::FromVector({1, 2, 3, 1}, std::vector<float>{1, 2, 3, 4, 5, 6});
  // SAME 2x2 stride 2 on 2x3: windows {1,2,4,5} and {3,6} (padding excluded).
  Var y =
      *AvgPool2D(Var::Constant(x), {.kh = 2, .kw = 2, .sh = 2, .sw = 2, .padding = Padding::kSame});
  EXPECT_THAT(y.value().ToVector(), ::testing::ElementsAre(3.0f, 4.5f));
  for (Padding p : {Padding::kValid, Padding::kSame}) {
    EXPECT_EQ(CheckGradients(
                  [p](auto v) {
                    return AvgPool2D(v[0], {.kh = 2, .kw = 3, .sh = 2, .sw = 2, .padding = p});
                  },
                  {RandomTensor({2, 5, 6, 2}, 3)}),
              Status::Ok());
  }
}

TEST(ConvOpsTest, GlobalAvgPool) {
  Tensor x = *Tensor::FromVector({1, 2, 2, 2}, std::vector<float>{1, 10, 2, 20, 3, 30, 4, 40});
  Var y = *GlobalAvgPool2D(Var::Constant(x));
  EXPECT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_THAT(y.value().ToVector(), ::testing::ElementsAre(2.5f, 25.0f));
  EXPECT_EQ(
      CheckGradients([](auto v) { return GlobalAvgPool2D(v[0]); }, {RandomTensor({2, 3, 2, 3}, 1)}),
      Status::Ok());
  EXPECT_FALSE(GlobalAvgPool2D(Var::Constant(Tensor::Zeros({2, 3}))).ok());
}

TEST(ConvOpsTest, BatchNormTrainingNormalisesAndReportsStats) {
  Tensor x = RandomTensor({8, 3, 3, 4}, 1, -2, 5);
  Tensor mean, var;
  Var y = *BatchNormTraining(Var::Constant(x), Var::Constant(Tensor::Filled({4}, 1.0f)),
                             Var::Constant(Tensor::Zeros({4})), 1e-3f, &mean, &var);
  const int64_t rows = 8 * 9;
  for (int64_t c = 0; c < 4; ++c) {
    double m = 0, m2 = 0, ym = 0, yv = 0;
    for (int64_t r = 0; r < rows; ++r) m += x.data()[r * 4 + c];
    m /= rows;
    for (int64_t r = 0; r < rows; ++r) m2 += std::pow(x.data()[r * 4 + c] - m, 2);
    m2 /= rows;  // biased
    EXPECT_NEAR(mean.data()[c], m, 1e-5);
    EXPECT_NEAR(var.data()[c], m2, 1e-4);
    for (int64_t r = 0; r < rows; ++r) ym += y.value().data()[r * 4 + c];
    for (int64_t r = 0; r < rows; ++r) yv += std::pow(y.value().data()[r * 4 + c], 2);
    EXPECT_NEAR(ym / rows, 0.0, 1e-5);
    EXPECT_NEAR(yv / rows, m2 / (m2 + 1e-3), 1e-4);
  }
}

TEST(ConvOpsTest, BatchNormGradients) {
  EXPECT_EQ(CheckGradients(
                [](auto v) { return BatchNormTraining(v[0], v[1], v[2], 1e-3f, nullptr, nullptr); },
                {RandomTensor({4, 2, 2, 3}, 1, -1, 2), RandomTensor({3}, 2, 0.5f, 1.5f),
                 RandomTensor({3}, 3)}),
            Status::Ok());
  EXPECT_EQ(
      CheckGradients(
          [](auto v) { return BatchNormTraining(v[0], v[1], v[2], 1e-3f, nullptr, nullptr); },
          {RandomTensor({6, 5}, 4, -1, 2), RandomTensor({5}, 5, 0.5f, 1.5f), RandomTensor({5}, 6)}),
      Status::Ok());
  Tensor mean = RandomTensor({3}, 7), var = RandomTensor({3}, 8, 0.5f, 2.0f);
  EXPECT_EQ(
      CheckGradients([&](auto v) { return BatchNormInference(v[0], v[1], v[2], mean, var, 1e-3f); },
                     {RandomTensor({4, 3}, 9), RandomTensor({3}, 10), RandomTensor({3}, 11)}),
      Status::Ok());
  EXPECT_FALSE(BatchNormTraining(Var::Constant(Tensor::Zeros({4, 3})),
                                 Var::Constant(Tensor::Zeros({2})),
                                 Var::Constant(Tensor::Zeros({3})), 1e-3f, nullptr, nullptr)
                   .ok());
}

}  // namespace
}  // namespace edgepipe::nn
