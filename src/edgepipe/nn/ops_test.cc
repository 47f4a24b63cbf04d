// Forward values and finite-difference gradients of the ops in ops.h.
// Tolerances: CheckGradients defaults (eps 1e-2, atol 2e-3, rtol 2e-2) on
// small shapes with inputs kept away from kinks (relu at 0, relu6 at 0/6).
#include "edgepipe/nn/ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <utility>

#include "edgepipe/nn/gemm.h"
#include "edgepipe/nn/gradient_check.h"
#include "edgepipe/nn/parallel.h"
#include "edgepipe/nn/train_kernels.h"

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

// Values in +-[0.1, 1.0]: away from relu's kink.
Tensor AwayFromZero(Shape shape, uint64_t seed) {
  Tensor t = RandomTensor(std::move(shape), seed, 0.1f, 1.0f);
  Rng rng(seed + 1);
  for (float& v : t.span()) v = rng.Uniform() < 0.5f ? -v : v;
  return t;
}

Var C(const Tensor& t) { return Var::Constant(t); }

TEST(OpsTest, MatMulValues) {
  Tensor a = *Tensor::FromVector({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  Tensor b = *Tensor::FromVector({3, 2}, std::vector<float>{7, 8, 9, 10, 11, 12});
  Var y = *MatMul(C(a), C(b));
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_THAT(y.value().ToVector(), ::testing::ElementsAre(58, 64, 139, 154));
}

TEST(OpsTest, MatMulShapeErrorNamesShapes) {
  Result<Var> r = MatMul(C(Tensor::Zeros({2, 3})), C(Tensor::Zeros({4, 2})));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("[2, 3]"));
  EXPECT_THAT(r.status().message(), HasSubstr("[4, 2]"));
}

TEST(OpsTest, MatMulGradient) {
  EXPECT_EQ(CheckGradients([](auto v) { return MatMul(v[0], v[1]); },
                           {RandomTensor({3, 4}, 1), RandomTensor({4, 5}, 2)}),
            Status::Ok());
  // Rank-3 a: leading dims flattened.
  EXPECT_EQ(CheckGradients([](auto v) { return MatMul(v[0], v[1]); },
                           {RandomTensor({2, 3, 4}, 3), RandomTensor({4, 2}, 4)}),
            Status::Ok());
}

TEST(OpsTest, ParallelMatMulMatchesSerial) {
  // Big enough to be split over threads, forward and both gradients; shapes
  // that split by rows and by columns.
  for (auto [m, k, n] :
       {std::tuple<int64_t, int64_t, int64_t>{64, 300, 32}, {40, 784, 64}, {8, 200, 400}}) {
    Tensor a = RandomTensor({m, k}, 1), b = RandomTensor({k, n}, 2);
    std::vector<std::vector<float>> results[2];
    for (int threads : {1, 2}) {
      SetNumThreads(threads);
      Var va = Var::Parameter(a.Clone()), vb = Var::Parameter(b.Clone());
      Var y = *MatMul(va, vb);
      ASSERT_EQ(Backward(*ReduceSum(*Mul(y, y))), Status::Ok());
      results[threads - 1] = {y.value().ToVector(), va.grad().ToVector(), vb.grad().ToVector()};
    }
    SetNumThreads(1);
    for (size_t r = 0; r < 3; ++r) {
      ASSERT_EQ(results[0][r].size(), results[1][r].size());
      for (size_t i = 0; i < results[0][r].size(); ++i) {
        ASSERT_NEAR(results[0][r][i], results[1][r][i], 1e-3f * (1 + std::abs(results[0][r][i])))
            << "result " << r << " element " << i;
      }
    }
  }
}

TEST(OpsTest, BiasAddAddMulGradients) {
  EXPECT_EQ(CheckGradients([](auto v) { return BiasAdd(v[0], v[1]); },
                           {RandomTensor({3, 4}, 1), RandomTensor({4}, 2)}),
            Status::Ok());
  EXPECT_EQ(CheckGradients([](auto v) { return Add(v[0], v[1]); },
                           {RandomTensor({3, 4}, 1), RandomTensor({3, 4}, 2)}),
            Status::Ok());
  EXPECT_EQ(CheckGradients([](auto v) { return Mul(v[0], v[1]); },
                           {RandomTensor({3, 4}, 1), RandomTensor({3, 4}, 2)}),
            Status::Ok());
  EXPECT_FALSE(Add(C(Tensor::Zeros({2})), C(Tensor::Zeros({3}))).ok());
}

TEST(OpsTest, ScaleShiftAndChannelAffine) {
  Var y = ScaleShift(C(*Tensor::FromVector({2}, std::vector<float>{1, 2})), 0.5f, 1.0f);
  EXPECT_THAT(y.value().ToVector(), ::testing::ElementsAre(1.5f, 2.0f));
  EXPECT_EQ(CheckGradients([](auto v) -> Result<Var> { return ScaleShift(v[0], 2.0f, -1.0f); },
                           {RandomTensor({2, 3}, 1)}),
            Status::Ok());
  Tensor scale = RandomTensor({3}, 5), shift = RandomTensor({3}, 6);
  EXPECT_EQ(CheckGradients([&](auto v) { return ChannelAffine(v[0], scale, shift); },
                           {RandomTensor({2, 3}, 1)}),
            Status::Ok());
}

TEST(OpsTest, ActivationValues) {
  Tensor x = *Tensor::FromVector({4}, std::vector<float>{-2, 0.5f, 3, 7});
  EXPECT_THAT(Relu(C(x)).value().ToVector(), ::testing::ElementsAre(0, 0.5f, 3, 7));
  EXPECT_THAT(Relu6(C(x)).value().ToVector(), ::testing::ElementsAre(0, 0.5f, 3, 6));
  EXPECT_NEAR(Sigmoid(C(x)).value().data()[0], 1.0 / (1.0 + std::exp(2.0)), 1e-6);
  EXPECT_NEAR(Tanh(C(x)).value().data()[1], std::tanh(0.5), 1e-6);
  // NaN propagates through relu (so Fit can report a NaN loss).
  EXPECT_TRUE(
      std::isnan(Relu(C(*Tensor::FromVector({1}, std::vector<float>{NAN}))).value().data()[0]));
  // Sigmoid is finite far out on both tails.
  Tensor far = *Tensor::FromVector({2}, std::vector<float>{-200, 200});
  EXPECT_THAT(Sigmoid(C(far)).value().ToVector(), ::testing::ElementsAre(0.0f, 1.0f));
}

TEST(OpsTest, ActivationGradients) {
  auto unary = [](Var (*op)(const Var&)) {
    return [op](std::span<const Var> v) -> Result<Var> { return op(v[0]); };
  };
  EXPECT_EQ(CheckGradients(unary(Relu), {AwayFromZero({3, 4}, 1)}), Status::Ok());
  Tensor r6 = AwayFromZero({3, 4}, 2);
  for (float& v : r6.span()) v *= 4.0f;  // spans 0..6 and beyond, kinks avoided
  for (float& v : r6.span())
    if (std::abs(v - 6.0f) < 0.1f) v = 5.0f;
  EXPECT_EQ(CheckGradients(unary(Relu6), {r6}), Status::Ok());
  EXPECT_EQ(CheckGradients(unary(Sigmoid), {RandomTensor({3, 4}, 3, -3, 3)}), Status::Ok());
  EXPECT_EQ(CheckGradients(unary(Tanh), {RandomTensor({3, 4}, 4, -2, 2)}), Status::Ok());
  EXPECT_EQ(CheckGradients(unary(Softmax), {RandomTensor({3, 5}, 5, -2, 2)}), Status::Ok());
  EXPECT_EQ(CheckGradients(unary(LogSoftmax), {RandomTensor({3, 5}, 6, -2, 2)}), Status::Ok());
}

TEST(OpsTest, SoftmaxRowsSumToOneAndLogSoftmaxMatches) {
  Tensor x = RandomTensor({4, 6}, 9, -30, 30);
  Var s = Softmax(C(x));
  Var ls = LogSoftmax(C(x));
  for (int r = 0; r < 4; ++r) {
    double sum = 0;
    for (int j = 0; j < 6; ++j) {
      sum += s.value().data()[r * 6 + j];
      EXPECT_NEAR(std::exp(ls.value().data()[r * 6 + j]), s.value().data()[r * 6 + j], 1e-6);
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
  }
}

TEST(OpsTest, DropoutMasksAndScales) {
  Rng rng(3);
  Var y = *Dropout(C(Tensor::Filled({1000}, 1.0f)), 0.25f, rng);
  int zeros = 0;
  for (float v : y.value().span()) {
    if (v == 0.0f)
      ++zeros;
    else
      EXPECT_FLOAT_EQ(v, 1.0f / 0.75f);
  }
  EXPECT_GT(zeros, 200);
  EXPECT_LT(zeros, 300);
  EXPECT_EQ(CheckGradients(
                [](auto v) {
                  Rng r(11);  // same mask on every evaluation
                  return Dropout(v[0], 0.5f, r);
                },
                {RandomTensor({4, 5}, 1)}),
            Status::Ok());
  EXPECT_FALSE(Dropout(C(Tensor::Zeros({2})), 1.0f, rng).ok());
}

TEST(OpsTest, ReshapeAndConcat) {
  Var y = *Reshape(C(Tensor::Zeros({2, 3, 4})), {2, -1});
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  EXPECT_FALSE(Reshape(C(Tensor::Zeros({2, 3})), {4, 2}).ok());
  EXPECT_EQ(CheckGradients(
                [](auto v) {
                  return Reshape(v[0], {6, 2});
                },
                {RandomTensor({3, 4}, 1)}),
            Status::Ok());
  Tensor a = *Tensor::FromVector({2, 1}, std::vector<float>{1, 2});
  Tensor b = *Tensor::FromVector({2, 2}, std::vector<float>{3, 4, 5, 6});
  std::vector<Var> ab{C(a), C(b)};
  EXPECT_THAT((*Concat(ab, -1)).value().ToVector(), ::testing::ElementsAre(1, 3, 4, 2, 5, 6));
  EXPECT_EQ(CheckGradients([](auto v) { return Concat(v, 1); },
                           {RandomTensor({2, 3, 2}, 1), RandomTensor({2, 1, 2}, 2)}),
            Status::Ok());
  EXPECT_EQ(CheckGradients([](auto v) { return Concat(v, 0); },
                           {RandomTensor({1, 3}, 1), RandomTensor({2, 3}, 2)}),
            Status::Ok());
  std::vector<Var> bad{C(Tensor::Zeros({2, 3})), C(Tensor::Zeros({3, 3}))};
  EXPECT_FALSE(Concat(bad, 1).ok());
}

TEST(OpsTest, Reductions) {
  Tensor x = *Tensor::FromVector({2, 3}, std::vector<float>{1, 2, 3, 4, 5, 6});
  EXPECT_FLOAT_EQ((*ReduceSum(C(x))).value().data()[0], 21);
  EXPECT_FLOAT_EQ((*ReduceMean(C(x))).value().data()[0], 3.5f);
  EXPECT_THAT((*ReduceSum(C(x), 0)).value().ToVector(), ::testing::ElementsAre(5, 7, 9));
  EXPECT_THAT((*ReduceMean(C(x), -1, true)).value().ToVector(), ::testing::ElementsAre(2, 5));
  EXPECT_EQ((*ReduceMean(C(x), -1, true)).shape(), (Shape{2, 1}));
  for (std::optional<int> axis : {std::optional<int>(), std::optional<int>(0),
                                  std::optional<int>(1), std::optional<int>(2)}) {
    EXPECT_EQ(CheckGradients([axis](auto v) { return ReduceSum(v[0], axis); },
                             {RandomTensor({2, 3, 4}, 1)}),
              Status::Ok());
    EXPECT_EQ(CheckGradients([axis](auto v) { return ReduceMean(v[0], axis); },
                             {RandomTensor({2, 3, 4}, 2)}),
              Status::Ok());
  }
  EXPECT_FALSE(ReduceSum(C(x), 2).ok());
}

TEST(OpsTest, SparseSoftmaxCrossEntropy) {
  Tensor logits = RandomTensor({3, 4}, 1, -2, 2);
  std::vector<int64_t> labels{0, 3, 2};
  Var y = *SparseSoftmaxCrossEntropy(C(logits), labels);
  Var ls = LogSoftmax(C(logits));
  for (int r = 0; r < 3; ++r) {
    EXPECT_NEAR(y.value().data()[r], -ls.value().data()[r * 4 + labels[r]], 1e-6);
  }
  EXPECT_EQ(
      CheckGradients([&](auto v) { return SparseSoftmaxCrossEntropy(v[0], labels); }, {logits}),
      Status::Ok());
  std::vector<int64_t> bad{0, 4, 1};
  Result<Var> r = SparseSoftmaxCrossEntropy(C(logits), bad);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("label 4 at batch row 1"));
}

TEST(OpsTest, CheckGradientsDetectsAWrongGradient) {
  // An op whose backward is deliberately off by a factor 2 must fail.
  auto wrong = [](std::span<const Var> v) -> Result<Var> {
    Tensor y = v[0].value().Clone();
    return MakeOpResult(std::move(y), {v[0]}, [](Node& self) {
      if (Tensor* g = self.InputGrad(0)) {
        for (int64_t i = 0; i < g->size(); ++i) g->data()[i] += 2.0f * self.grad.data()[i];
      }
    });
  };
  EXPECT_FALSE(CheckGradients(wrong, {RandomTensor({2, 2}, 1)}).ok());
}

TEST(OpsTest, BackwardAccumulatesIntoParametersAndFreesGraph) {
  Var w = Var::Parameter(Tensor::Filled({2}, 3.0f));
  for (int i = 0; i < 2; ++i) {
    Var y = *ReduceSum(*Mul(w, w));
    ASSERT_EQ(Backward(y), Status::Ok());
  }
  EXPECT_THAT(w.grad().ToVector(), ::testing::ElementsAre(12, 12));  // 2 * (2 * 3)
  Var c = *ReduceSum(Var::Constant(Tensor::Zeros({2})));
  EXPECT_FALSE(Backward(c).ok());
  {
    NoGradGuard no_grad;
    EXPECT_FALSE((*Mul(w, w)).requires_grad());
  }
}

// ---- Fused training kernels (train_kernels.h) and the fused Dense op.

// The ISA paths this CPU can run (portable always; avx2 when supported).
std::vector<GemmIsa> AvailablePaths() {
  std::vector<GemmIsa> out = {GemmIsa::kPortable};
  if (CpuHasAvx2Fma()) out.push_back(GemmIsa::kAvx2);
  if (CpuHasAvx512()) out.push_back(GemmIsa::kAvx512);  // avx2 kernels, avx-512 GEMM
  return out;
}

// Runs fn once per path with that path selected; restores the default.
template <typename F>
void ForEachPath(F fn) {
  const GemmIsa saved = ActiveGemmIsa();
  for (GemmIsa isa : AvailablePaths()) {
    ASSERT_EQ(SetGemmIsa(isa), isa);
    SCOPED_TRACE(kernels::ActiveTrainKernelPath());
    std::printf("[ path     ] kernels %s, gemm %s\n", kernels::ActiveTrainKernelPath(),
                std::string(GemmIsaName(isa)).c_str());
    fn();
  }
  SetGemmIsa(saved);
}

TEST(TrainKernelsTest, DropoutMatchesScalarDefinitionOnEveryPath) {
  const int64_t n = 1003;  // not a multiple of any vector width
  Tensor x = RandomTensor({n}, 5);
  Tensor base = RandomTensor({n}, 6);
  const kernels::DropoutMask mask = kernels::MakeDropoutMask(0x0123456789ABCDEFull, 0.2f);
  EXPECT_EQ(mask.threshold, 3355444u);  // ceil(0.2 * 2^24)
  ForEachPath([&] {
    for (bool accumulate : {false, true}) {
      Tensor out = base.Clone();
      kernels::ApplyDropout(x.data(), out.data(), n, mask, accumulate);
      for (int64_t i = 0; i < n; ++i) {
        const bool keep =
            (kernels::DropoutBits(static_cast<uint64_t>(i), mask.key) >> 8) >= mask.threshold;
        const float term = x.data()[i] * (keep ? mask.scale : 0.0f);
        const float want = accumulate ? base.data()[i] + term : term;
        ASSERT_EQ(out.data()[i], want) << "element " << i << " accumulate " << accumulate;
      }
    }
  });
}

TEST(TrainKernelsTest, DropoutMaskRateAndIndependence) {
  const int64_t n = 1 << 17;
  const float rate = 0.2f;
  const uint64_t k1 = 42, k2 = 43;  // adjacent keys must give unrelated masks
  int64_t drop1 = 0, drop2 = 0, both = 0, runs = 0;
  const uint32_t thr = kernels::MakeDropoutMask(0, rate).threshold;
  bool prev = false;
  for (int64_t i = 0; i < n; ++i) {
    const bool d1 = (kernels::DropoutBits(static_cast<uint64_t>(i), k1) >> 8) < thr;
    const bool d2 = (kernels::DropoutBits(static_cast<uint64_t>(i), k2) >> 8) < thr;
    drop1 += d1;
    drop2 += d2;
    both += d1 && d2;
    runs += i > 0 && d1 == prev;
    prev = d1;
  }
  const double f = static_cast<double>(n);
  EXPECT_NEAR(drop1 / f, rate, 0.005);
  EXPECT_NEAR(drop2 / f, rate, 0.005);
  EXPECT_NEAR(both / f, rate * rate, 0.003);
  // Neighbouring elements agree with probability rate^2 + (1-rate)^2.
  EXPECT_NEAR(runs / f, rate * rate + (1 - rate) * (1 - rate), 0.005);
  // The index's high bits reach the hash too (tensors beyond 2^31 elements).
  EXPECT_NE(kernels::DropoutBits(5, k1), kernels::DropoutBits(5 + (uint64_t{1} << 31), k1));
}

TEST(TrainKernelsTest, BiasReluAndBackwardOnEveryPath) {
  const int64_t rows = 7, c = 13;
  Tensor y0 = RandomTensor({rows, c}, 7), bias = RandomTensor({c}, 8),
         g0 = RandomTensor({rows, c}, 9);
  Tensor gb0 = RandomTensor({c}, 10);
  ForEachPath([&] {
    for (bool relu : {false, true}) {
      Tensor y = y0.Clone();
      kernels::BiasRelu(y.data(), bias.data(), rows, c, relu);
      for (bool accumulate : {false, true}) {
        Tensor g = g0.Clone(), gb = gb0.Clone();
        kernels::BiasReluBackward(g.data(), y.data(), rows, c, relu, gb.data(), accumulate);
        for (int64_t j = 0; j < c; ++j) {
          float sum = accumulate ? gb0.data()[j] : 0.0f;
          for (int64_t r = 0; r < rows; ++r) {
            const float pre = y0.data()[r * c + j] + bias.data()[j];
            const float want_y = relu && pre < 0 ? 0.0f : pre;
            ASSERT_EQ(y.data()[r * c + j], want_y);
            const float want_g = relu && !(want_y > 0) ? 0.0f : g0.data()[r * c + j];
            ASSERT_EQ(g.data()[r * c + j], want_g);
            sum += want_g;
          }
          EXPECT_FLOAT_EQ(gb.data()[j], sum) << "column " << j;
        }
      }
    }
  });
}

TEST(TrainKernelsTest, RmspropMatchesKerasFormulaBitwiseOnEveryPath) {
  const int64_t n = 1003;
  Tensor w0 = RandomTensor({n}, 11), g = RandomTensor({n}, 12), ms0 = RandomTensor({n}, 13, 0, 1);
  ForEachPath([&] {
    Tensor w = w0.Clone(), ms = ms0.Clone();
    kernels::RmspropUpdate(w.data(), g.data(), ms.data(), n, 0.0015f, 0.9f, 1e-7f);
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g.data()[i];
      const float m = 0.9f * ms0.data()[i] + (1.0f - 0.9f) * (gi * gi);
      ASSERT_EQ(ms.data()[i], m) << i;
      ASSERT_EQ(w.data()[i], w0.data()[i] - 0.0015f * gi / (std::sqrt(m) + 1e-7f)) << i;
    }
  });
}

TEST(OpsTest, DenseMatchesMatMulBiasAddReluWithGradients) {
  Tensor x = AwayFromZero({2, 3, 6}, 21), k = RandomTensor({6, 5}, 22), b = RandomTensor({5}, 23);
  ForEachPath([&] {
    for (bool relu : {false, true}) {
      Var xa = Var::Parameter(x.Clone()), ka = Var::Parameter(k.Clone()),
          ba = Var::Parameter(b.Clone());
      Var fused = *Dense(xa, ka, ba, relu);
      Var xb = Var::Parameter(x.Clone()), kb = Var::Parameter(k.Clone()),
          bb = Var::Parameter(b.Clone());
      Var ref = *BiasAdd(*MatMul(xb, kb), bb);
      if (relu) ref = Relu(ref);
      ASSERT_EQ(fused.shape(), (Shape{2, 3, 5}));
      EXPECT_THAT(fused.value().ToVector(),
                  ::testing::Pointwise(::testing::FloatNear(1e-6f), ref.value().ToVector()));
      ASSERT_EQ(Backward(*ReduceSum(*Mul(fused, fused))), Status::Ok());
      ASSERT_EQ(Backward(*ReduceSum(*Mul(ref, ref))), Status::Ok());
      for (auto [got, want] : {std::pair{xa, xb}, {ka, kb}, {ba, bb}}) {
        EXPECT_THAT(got.grad().ToVector(),
                    ::testing::Pointwise(::testing::FloatNear(1e-5f), want.grad().ToVector()));
      }
    }
  });
  for (bool relu : {false, true}) {
    EXPECT_EQ(
        CheckGradients([relu](auto v) { return Dense(v[0], v[1], v[2], relu); },
                       {AwayFromZero({4, 6}, 24), RandomTensor({6, 3}, 25), RandomTensor({3}, 26)}),
        Status::Ok());
  }
  // No bias.
  EXPECT_EQ(CheckGradients([](auto v) { return Dense(v[0], v[1], Var(), true); },
                           {AwayFromZero({4, 6}, 27), RandomTensor({6, 3}, 28)}),
            Status::Ok());
  EXPECT_FALSE(Dense(C(Tensor::Zeros({2, 3})), C(Tensor::Zeros({4, 2})), Var(), false).ok());
  EXPECT_FALSE(
      Dense(C(Tensor::Zeros({2, 3})), C(Tensor::Zeros({3, 2})), C(Tensor::Zeros({3})), false).ok());
}

TEST(OpsTest, GradientsOverwriteFirstThenAccumulateAndZeroLazily) {
  // x feeds three consumers (the first overwrites the fresh buffer, the next
  // add), and reshape/bias-add hand their buffer on to an intermediate.
  const OpUnderTest f = [](std::span<const Var> v) -> Result<Var> {
    ASSIGN_OR_RETURN(Var h, Dense(v[0], v[1], v[2], true));
    ASSIGN_OR_RETURN(Var r, Reshape(h, {-1}));
    ASSIGN_OR_RETURN(Var r2, Reshape(r, h.shape()));
    ASSIGN_OR_RETURN(Var a, BiasAdd(r2, v[2]));
    ASSIGN_OR_RETURN(Var d, MatMul(v[0], v[1]));
    ASSIGN_OR_RETURN(Var s, Add(a, d));
    return Add(s, Relu(d));
  };
  EXPECT_EQ(CheckGradients(
                f, {AwayFromZero({3, 4}, 31), RandomTensor({4, 4}, 32), RandomTensor({4}, 33)}),
            Status::Ok());
  // Parameters accumulate across Backward calls; ZeroGrad reads as zeros and
  // the next Backward overwrites.
  Var w = Var::Parameter(RandomTensor({4, 2}, 34));
  Var x = C(RandomTensor({3, 4}, 35));
  ASSERT_EQ(Backward(*ReduceSum(*MatMul(x, w))), Status::Ok());
  const std::vector<float> once = w.grad().ToVector();
  ASSERT_EQ(Backward(*ReduceSum(*MatMul(x, w))), Status::Ok());
  for (size_t i = 0; i < once.size(); ++i) EXPECT_FLOAT_EQ(w.grad().ToVector()[i], 2 * once[i]);
  w.ZeroGrad();
  for (float v : w.grad().span()) EXPECT_EQ(v, 0.0f);
  w.ZeroGrad();
  ASSERT_EQ(Backward(*ReduceSum(*MatMul(x, w))), Status::Ok());
  EXPECT_EQ(w.grad().ToVector(), once);
}

}  // namespace
}  // namespace edgepipe::nn
