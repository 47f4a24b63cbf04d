// Losses: values hand-computed (python math, shown in comments) and
// gradients w.r.t. predictions by finite differences (CheckGradients
// defaults).
#include "edgepipe/nn/losses.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/nn/gradient_check.h"

namespace edgepipe::nn {
namespace {

using ::testing::HasSubstr;

Array Labels(std::vector<int64_t> v) {
  return *Array::FromVector<int64_t>({static_cast<int64_t>(v.size())}, v);
}
Array Floats(std::vector<int64_t> shape, std::vector<float> v) {
  return *Array::FromVector<float>(std::move(shape), v);
}
Var Pred(Shape shape, std::vector<float> v) {
  return Var::Constant(*Tensor::FromVector(std::move(shape), v));
}
float Value(const Result<Var>& r) { return r.ok() ? r->value().data()[0] : NAN; }

TEST(LossesTest, SparseCategoricalCrossentropy) {
  // -log(e^3 / (e^1 + e^2 + e^3)) = 0.4076059644
  EXPECT_NEAR(
      Value(SparseCategoricalCrossentropy(true).Compute(Pred({1, 3}, {1, 2, 3}), Labels({2}))),
      0.4076059644, 1e-6);
  // Mean over the batch: rows give -log(0.7) = 0.3566749 and -log(0.2) = 1.6094379.
  EXPECT_NEAR(Value(SparseCategoricalCrossentropy(false).Compute(
                  Pred({2, 3}, {0.1f, 0.2f, 0.7f, 0.1f, 0.2f, 0.7f}), Labels({2, 1}))),
              (0.3566749 + 1.6094379) / 2, 1e-6);
  // int32 labels work too.
  Array l32 = *Array::FromVector<int32_t>({1}, std::vector<int32_t>{0});
  EXPECT_NEAR(Value(SparseCategoricalCrossentropy(true).Compute(Pred({1, 2}, {0, 0}), l32)),
              std::log(2.0), 1e-6);
  Result<Var> bad =
      SparseCategoricalCrossentropy(true).Compute(Pred({1, 3}, {1, 2, 3}), Labels({3}));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("label 3"));
  EXPECT_FALSE(SparseCategoricalCrossentropy(false)
                   .Compute(Pred({1, 3}, {.2f, .3f, .5f}), Labels({-1}))
                   .ok());
  EXPECT_FALSE(SparseCategoricalCrossentropy(true)
                   .Compute(Pred({2, 3}, {1, 2, 3, 4, 5, 6}), Labels({1}))
                   .ok());
  EXPECT_FALSE(
      SparseCategoricalCrossentropy(true).Compute(Pred({1, 2}, {1, 2}), Floats({1}, {1.0f})).ok());
}

TEST(LossesTest, CategoricalCrossentropy) {
  EXPECT_NEAR(Value(CategoricalCrossentropy(true).Compute(Pred({1, 3}, {1, 2, 3}),
                                                          Floats({1, 3}, {0, 0, 1}))),
              0.4076059644, 1e-6);
  EXPECT_NEAR(Value(CategoricalCrossentropy(false).Compute(Pred({1, 3}, {0.1f, 0.2f, 0.7f}),
                                                           Floats({1, 3}, {0, 0, 1}))),
              0.3566749, 1e-6);
  EXPECT_FALSE(
      CategoricalCrossentropy(true).Compute(Pred({1, 3}, {1, 2, 3}), Floats({1, 2}, {0, 1})).ok());
}

TEST(LossesTest, BinaryCrossentropy) {
  // log(1 + e^-0.5) = 0.4740770 (x=0.5, z=1); log(1 + e^-2) = 0.1269280 (x=-2, z=0).
  EXPECT_NEAR(
      Value(BinaryCrossentropy(true).Compute(Pred({2, 1}, {0.5f, -2.0f}), Floats({2}, {1, 0}))),
      (0.4740770 + 0.1269280) / 2, 1e-6);
  // -log(0.8 + 1e-7) = 0.2231434, -log(1 - 0.3 + 1e-7) = 0.3566748.
  EXPECT_NEAR(
      Value(BinaryCrossentropy(false).Compute(Pred({2, 1}, {0.8f, 0.3f}), Floats({2, 1}, {1, 0}))),
      (0.2231434 + 0.3566748) / 2, 1e-6);
}

TEST(LossesTest, MeanSquaredError) {
  // Rows: ((1-0)^2 + (2-4)^2)/2 = 2.5 and ((3-3)^2 + (0-1)^2)/2 = 0.5.
  EXPECT_NEAR(
      Value(MeanSquaredError().Compute(Pred({2, 2}, {1, 2, 3, 0}), Floats({2, 2}, {0, 4, 3, 1}))),
      1.5, 1e-6);
}

TEST(LossesTest, Gradients) {
  Array labels = Labels({2, 0, 1});
  Array onehot = Floats({3, 3}, {0, 0, 1, 1, 0, 0, 0, 1, 0});
  Tensor logits =
      *Tensor::FromVector({3, 3}, std::vector<float>{1, -2, 0.5f, 0.3f, 0.1f, -1, 2, 1, 0});
  Tensor probs = *Tensor::FromVector(
      {3, 3}, std::vector<float>{.2f, .3f, .5f, .6f, .3f, .1f, .25f, .25f, .5f});
  auto check = [](const Loss& loss, const Array& y, const Tensor& p) {
    return CheckGradients([&](auto v) { return loss.Compute(v[0], y); }, {p});
  };
  EXPECT_EQ(check(SparseCategoricalCrossentropy(true), labels, logits), Status::Ok());
  EXPECT_EQ(check(SparseCategoricalCrossentropy(false), labels, probs), Status::Ok());
  EXPECT_EQ(check(CategoricalCrossentropy(true), onehot, logits), Status::Ok());
  EXPECT_EQ(check(CategoricalCrossentropy(false), onehot, probs), Status::Ok());
  Array binary = Floats({3, 3}, {1, 0, 1, 0, 0, 1, 1, 1, 0});
  EXPECT_EQ(check(BinaryCrossentropy(true), binary, logits), Status::Ok());
  EXPECT_EQ(check(BinaryCrossentropy(false), binary, probs), Status::Ok());
  EXPECT_EQ(check(MeanSquaredError(), binary, logits), Status::Ok());
}

}  // namespace
}  // namespace edgepipe::nn
