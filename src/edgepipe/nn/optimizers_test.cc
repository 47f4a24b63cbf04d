// Optimizers and metrics: two update steps (g = 0.5 then g = -1 on w = 1)
// against values computed by hand from Keras 2's formulas (python math).
#include "edgepipe/nn/optimizers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/nn/metrics.h"

namespace edgepipe::nn {
namespace {

// w after applying `opt` with gradients 0.5 then -1.0, starting at w = 1.
std::vector<float> TwoSteps(Optimizer& opt) {
  Var w = Var::Parameter(Tensor::Filled({1}, 1.0f));
  std::vector<float> out;
  for (float g : {0.5f, -1.0f}) {
    w.mutable_grad().Fill(g);
    std::vector<Var> params{w};
    opt.Apply(params);
    out.push_back(w.value().data()[0]);
    EXPECT_EQ(w.grad().data()[0], 0.0f);  // zeroed after the update
  }
  return out;
}

TEST(OptimizersTest, SgdDefaults) {
  SGD sgd;  // lr 0.01
  EXPECT_EQ(sgd.learning_rate(), 0.01f);
  // 1 - 0.01*0.5 = 0.995; 0.995 + 0.01 = 1.005
  EXPECT_THAT(TwoSteps(sgd), ::testing::Pointwise(::testing::FloatNear(1e-7), {0.995f, 1.005f}));
  EXPECT_EQ(sgd.iterations(), 2);
}

TEST(OptimizersTest, SgdMomentumAndNesterov) {
  SGD m(0.1f, 0.9f);
  // v = -0.05, w = 0.95; v = 0.9*-0.05 + 0.1 = 0.055, w = 1.005
  EXPECT_THAT(TwoSteps(m), ::testing::Pointwise(::testing::FloatNear(1e-6), {0.95f, 1.005f}));
  SGD n(0.1f, 0.9f, true);
  // v = -0.05, w = 1 + 0.9*-0.05 - 0.05 = 0.905; v = 0.055, w = 0.905 + 0.9*0.055 + 0.1 = 1.0545
  EXPECT_THAT(TwoSteps(n), ::testing::Pointwise(::testing::FloatNear(1e-6), {0.905f, 1.0545f}));
}

TEST(OptimizersTest, RmsProp) {
  RMSprop r;  // lr 0.001, rho 0.9, epsilon 1e-7
  // ms = 0.025, w = 1 - 0.001*0.5/(sqrt(0.025)+1e-7) = 0.99683772434;
  // ms = 0.1225, w += 0.001/(sqrt(0.1225)+1e-7) -> 0.99969486638
  EXPECT_THAT(TwoSteps(r),
              ::testing::Pointwise(::testing::FloatNear(1e-7), {0.99683772434f, 0.99969486638f}));
  RMSprop rm(0.001f, 0.9f, 0.5f);
  // mom = 0.001*0.5/sqrt(0.025+1e-7); then mom = 0.5 mom - 0.001/sqrt(0.1225+1e-7)
  EXPECT_THAT(TwoSteps(rm),
              ::testing::Pointwise(::testing::FloatNear(1e-7), {0.99683772866f, 0.99811373469f}));
}

TEST(OptimizersTest, Adam) {
  Adam a;  // lr 0.001, beta1 0.9, beta2 0.999, epsilon 1e-7
  EXPECT_THAT(TwoSteps(a),
              ::testing::Pointwise(::testing::FloatNear(1e-7), {0.99900000632f, 0.99936610882f}));
}

TEST(OptimizersTest, SkipsParametersWithoutGradient) {
  Adam a;
  Var w = Var::Parameter(Tensor::Filled({2}, 3.0f));
  std::vector<Var> params{w};
  a.Apply(params);
  EXPECT_THAT(w.value().ToVector(), ::testing::ElementsAre(3.0f, 3.0f));
}

TEST(MetricsTest, SparseCategoricalAccuracy) {
  SparseCategoricalAccuracy m;
  Tensor pred =
      *Tensor::FromVector({3, 3}, std::vector<float>{.1f, .8f, .1f, .7f, .2f, .1f, .2f, .3f, .5f});
  Array labels = *Array::FromVector<int64_t>({3}, std::vector<int64_t>{1, 0, 0});
  ASSERT_EQ(m.Update(pred, labels), Status::Ok());
  EXPECT_NEAR(m.Result(), 2.0 / 3.0, 1e-9);
  Tensor pred2 = *Tensor::FromVector({1, 3}, std::vector<float>{0, 0, 1});
  ASSERT_EQ(m.Update(pred2, *Array::FromVector<int64_t>({1}, std::vector<int64_t>{2})),
            Status::Ok());
  EXPECT_NEAR(m.Result(), 3.0 / 4.0, 1e-9);  // sample-weighted
  m.Reset();
  EXPECT_EQ(m.Result(), 0.0);
  EXPECT_FALSE(m.Update(pred, *Array::FromVector<int64_t>({2}, std::vector<int64_t>{1, 0})).ok());
}

TEST(MetricsTest, AccuracyBinaryAccuracyMean) {
  Accuracy acc;
  ASSERT_EQ(acc.Update(*Tensor::FromVector({4}, std::vector<float>{1, 2, 3, 4}),
                       *Array::FromVector<int64_t>({4}, std::vector<int64_t>{1, 2, 0, 4})),
            Status::Ok());
  EXPECT_NEAR(acc.Result(), 0.75, 1e-9);
  BinaryAccuracy bin;
  ASSERT_EQ(bin.Update(*Tensor::FromVector({4, 1}, std::vector<float>{.9f, .4f, .6f, .1f}),
                       *Array::FromVector<float>({4}, std::vector<float>{1, 1, 0, 0})),
            Status::Ok());
  EXPECT_NEAR(bin.Result(), 0.5, 1e-9);
  Mean mean("loss");
  mean.Accumulate(1.0, 3);
  mean.Accumulate(3.0, 1);
  EXPECT_NEAR(mean.Result(), 1.5, 1e-9);
  EXPECT_FALSE(mean.Update(Tensor::Zeros({1}), *Array::Zeros(DType::kInt64, {1})).ok());
}

TEST(MetricsTest, AucMatchesRankStatistic) {
  // With predictions on distinct thresholds (multiples of 0.1, between
  // Keras' 200 thresholds), AUC equals the probability that a random positive
  // outranks a random negative: positives {0.9, 0.6, 0.35}, negatives
  // {0.7, 0.3, 0.1} -> pairs won: 3 + 2 + 2 = 7 of 9.
  AUC auc;
  ASSERT_EQ(
      auc.Update(*Tensor::FromVector({6, 1}, std::vector<float>{.9f, .6f, .35f, .7f, .3f, .1f}),
                 *Array::FromVector<int64_t>({6}, std::vector<int64_t>{1, 1, 1, 0, 0, 0})),
      Status::Ok());
  EXPECT_NEAR(auc.Result(), 7.0 / 9.0, 1e-9);
  // Perfect separation, across two batches.
  auc.Reset();
  ASSERT_EQ(auc.Update(*Tensor::FromVector({2}, std::vector<float>{.8f, .2f}),
                       *Array::FromVector<float>({2}, std::vector<float>{1, 0})),
            Status::Ok());
  ASSERT_EQ(auc.Update(*Tensor::FromVector({2}, std::vector<float>{.95f, .05f}),
                       *Array::FromVector<float>({2}, std::vector<float>{1, 0})),
            Status::Ok());
  EXPECT_NEAR(auc.Result(), 1.0, 1e-9);
  // Constant predictions: no discrimination.
  AUC flat(10);
  ASSERT_EQ(flat.Update(*Tensor::FromVector({4}, std::vector<float>{.5f, .5f, .5f, .5f}),
                        *Array::FromVector<float>({4}, std::vector<float>{1, 0, 1, 0})),
            Status::Ok());
  EXPECT_NEAR(flat.Result(), 0.5, 1e-9);
}

}  // namespace
}  // namespace edgepipe::nn
