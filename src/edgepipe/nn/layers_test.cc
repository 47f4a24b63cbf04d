// Layers: output shapes and parameter counts as Keras reports them, Keras
// defaults (glorot_uniform limits, zero biases, batch-norm momentum),
// forward values against direct computation, layer-level gradients by
// finite differences, and errors that name the layer and the shapes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/gradient_check.h"
#include "edgepipe/nn/ops.h"

namespace edgepipe::nn::layers {
namespace {

using ::testing::HasSubstr;

Tensor RandomTensor(Shape shape, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
  Rng rng(seed);
  Tensor t = Tensor::Empty(std::move(shape));
  for (float& v : t.span()) v = rng.Uniform(lo, hi);
  return t;
}

// Builds and initialises `layer` for `shapes`.
Shape BuildInit(Layer& layer, std::vector<Shape> shapes, uint64_t seed = 1) {
  layer.EnsureName();
  Result<Shape> out = layer.Build(shapes);
  EXPECT_TRUE(out.ok()) << out.status();
  Rng rng(seed);
  layer.InitializeWeights(rng);
  return out.value_or(Shape{});
}

Var CallLayer(Layer& layer, std::vector<Tensor> xs, bool training = false) {
  std::vector<Var> vs;
  for (Tensor& t : xs) vs.push_back(Var::Constant(t));
  Rng rng(5);
  Result<Var> y = layer.Call(vs, {.training = training, .rng = &rng});
  EXPECT_TRUE(y.ok()) << y.status();
  return y.ok() ? *y : Var();
}

TEST(LayersTest, DenseShapesInitAndValues) {
  Dense d(4, {.activation = "relu"});
  EXPECT_EQ(BuildInit(d, {{-1, 3}}), (Shape{-1, 4}));
  EXPECT_EQ(d.CountParams(), 16);
  const Tensor& k = d.FindWeight("kernel")->var.value();
  const float limit = std::sqrt(6.0f / (3 + 4));
  for (float v : k.span()) EXPECT_LE(std::abs(v), limit);
  EXPECT_THAT(d.FindWeight("bias")->var.value().ToVector(), ::testing::Each(0.0f));
  Tensor x = RandomTensor({2, 3}, 2);
  d.FindWeight("bias")->var.mutable_value().Fill(0.25f);
  Var y = CallLayer(d, {x});
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t j = 0; j < 4; ++j) {
      float acc = 0.25f;
      for (int64_t i = 0; i < 3; ++i) acc += x.data()[r * 3 + i] * k.data()[i * 4 + j];
      EXPECT_NEAR(y.value().data()[r * 4 + j], std::max(acc, 0.0f), 1e-6);
    }
  }
  EXPECT_EQ(d.Config()["units"], 4);
  EXPECT_EQ(d.Config()["activation"], "relu");
}

TEST(LayersTest, GlorotInitIsSeededAndSpansItsRange) {
  Dense a(64), b(64), c(64);
  BuildInit(a, {{-1, 784}}, 7);
  BuildInit(b, {{-1, 784}}, 7);
  BuildInit(c, {{-1, 784}}, 8);
  const auto& ka = a.FindWeight("kernel")->var.value();
  EXPECT_EQ(ka.ToVector(), b.FindWeight("kernel")->var.value().ToVector());
  EXPECT_NE(ka.ToVector(), c.FindWeight("kernel")->var.value().ToVector());
  double sum = 0, sq = 0;
  for (float v : ka.span()) sum += v, sq += double(v) * v;
  const double n = static_cast<double>(ka.size()), limit = std::sqrt(6.0 / (784 + 64));
  EXPECT_NEAR(sum / n, 0.0, 0.01 * limit);
  EXPECT_NEAR(sq / n, limit * limit / 3, 0.03 * limit * limit);  // variance of U(-l, l)
}

TEST(LayersTest, DenseErrorsNameTheLayer) {
  Dense d(4, {.name = "head"});
  Result<Shape> r = d.Build({{-1}});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Dense \"head\""));
  Dense bad(0);
  bad.EnsureName();
  EXPECT_FALSE(bad.Build({{-1, 3}}).ok());
  Dense act(3, {.activation = "swishy"});
  act.EnsureName();
  EXPECT_FALSE(act.Build({{-1, 3}}).ok());
  // A built layer called on another feature size.
  Dense shared(2, {.name = "shared"});
  BuildInit(shared, {{-1, 3}});
  Result<Shape> again = shared.Build({{-1, 5}});
  ASSERT_FALSE(again.ok());
  EXPECT_THAT(again.status().message(), HasSubstr("(None, 3)"));
  EXPECT_THAT(again.status().message(), HasSubstr("(None, 5)"));
}

TEST(LayersTest, DenseGradientsThroughTheLayer) {
  Dense d(3, {.activation = "tanh"});
  BuildInit(d, {{-1, 4}});
  Var kernel = d.FindWeight("kernel")->var;
  EXPECT_EQ(CheckGradients(
                [&](std::span<const Var> v) -> Result<Var> {
                  kernel.mutable_value().CopyFrom(v[1].value());
                  ASSIGN_OR_RETURN(Var y, ops::MatMul(v[0], v[1]));
                  ASSIGN_OR_RETURN(y, ops::BiasAdd(y, d.FindWeight("bias")->var));
                  return ops::Tanh(y);
                },
                {RandomTensor({2, 4}, 1), kernel.value().Clone()}),
            Status::Ok());
  // The layer's own Call gives the same forward values as the op chain.
  Tensor x = RandomTensor({2, 4}, 3);
  Var y = CallLayer(d, {x});
  Var ref = ops::Tanh(*ops::MatMul(Var::Constant(x), kernel));
  EXPECT_EQ(y.value().ToVector(), ref.value().ToVector());
}

TEST(LayersTest, DropoutOnlyWhileTraining) {
  Dropout d(0.5f);
  BuildInit(d, {{-1, 100}});
  Tensor x = Tensor::Filled({4, 100}, 1.0f);
  EXPECT_EQ(CallLayer(d, {x}).value().ToVector(), x.ToVector());
  Var t = CallLayer(d, {x}, true);
  int zeros = 0;
  for (float v : t.value().span()) {
    if (v == 0)
      ++zeros;
    else
      EXPECT_EQ(v, 2.0f);
  }
  EXPECT_GT(zeros, 150);
  EXPECT_LT(zeros, 250);
  Dropout bad(1.0f);
  bad.EnsureName();
  EXPECT_FALSE(bad.Build({{-1, 3}}).ok());
}

TEST(LayersTest, ActivationsFlattenReshape) {
  Tensor x = *Tensor::FromVector({1, 4}, std::vector<float>{-1, 0.5f, 7, 2});
  ReLU relu;
  BuildInit(relu, {{-1, 4}});
  EXPECT_THAT(CallLayer(relu, {x}).value().ToVector(), ::testing::ElementsAre(0, 0.5f, 7, 2));
  ReLU r6 = ReLU6();
  BuildInit(r6, {{-1, 4}});
  EXPECT_THAT(CallLayer(r6, {x}).value().ToVector(), ::testing::ElementsAre(0, 0.5f, 6, 2));
  Softmax sm;
  BuildInit(sm, {{-1, 4}});
  float sum = 0;
  for (float v : CallLayer(sm, {x}).value().span()) sum += v;
  EXPECT_NEAR(sum, 1.0f, 1e-6);
  Activation sig = Sigmoid();
  BuildInit(sig, {{-1, 4}});
  EXPECT_NEAR(CallLayer(sig, {x}).value().data()[0], 1 / (1 + std::exp(1.0)), 1e-6);
  Flatten f;
  EXPECT_EQ(BuildInit(f, {{-1, 28, 28, 1}}), (Shape{-1, 784}));
  EXPECT_EQ(CallLayer(f, {Tensor::Zeros({2, 28, 28, 1})}).shape(), (Shape{2, 784}));
  Reshape r({28, -1, 1});
  EXPECT_EQ(BuildInit(r, {{-1, 784}}), (Shape{-1, 28, 28, 1}));
  EXPECT_EQ(CallLayer(r, {Tensor::Zeros({3, 784})}).shape(), (Shape{3, 28, 28, 1}));
  Reshape bad({5, 5});
  bad.EnsureName();
  Result<Shape> e = bad.Build({{-1, 784}});
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("(None, 784)"));
}

TEST(LayersTest, AddConcatenateRescaling) {
  AddLayer add;
  EXPECT_EQ(BuildInit(add, {{-1, 3}, {-1, 3}}), (Shape{-1, 3}));
  Tensor a = *Tensor::FromVector({1, 3}, std::vector<float>{1, 2, 3});
  EXPECT_THAT(CallLayer(add, {a, a}).value().ToVector(), ::testing::ElementsAre(2, 4, 6));
  AddLayer bad_add(std::string("merge"));
  Result<Shape> e = bad_add.Build({{-1, 3}, {-1, 4}});
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("Add \"merge\""));
  EXPECT_THAT(e.status().message(), HasSubstr("(None, 3)"));
  EXPECT_THAT(e.status().message(), HasSubstr("(None, 4)"));
  Concatenate cat;
  EXPECT_EQ(BuildInit(cat, {{-1, 3}, {-1, 2}}), (Shape{-1, 5}));
  Rescaling rs(1.0f / 255, -1.0f);
  BuildInit(rs, {{-1, 3}});
  EXPECT_THAT(CallLayer(rs, {*Tensor::FromVector({1, 3}, std::vector<float>{0, 255, 510})})
                  .value()
                  .ToVector(),
              ::testing::Pointwise(::testing::FloatNear(1e-6), {-1.0f, 0.0f, 1.0f}));
}

TEST(LayersTest, NormalizationAdapt) {
  Normalization norm;
  Array data = *Array::FromVector<float>({4, 2}, std::vector<float>{1, 10, 2, 20, 3, 30, 4, 40});
  ASSERT_EQ(norm.Adapt(data), Status::Ok());
  BuildInit(norm, {{-1, 2}});
  EXPECT_EQ(norm.CountParams(), 5);  // mean, variance [2] + count
  // mean (2.5, 25), variance (1.25, 125).
  Var y = CallLayer(norm,
                    {*Tensor::FromVector({1, 2}, std::vector<float>{2.5f + std::sqrt(1.25f), 25})});
  EXPECT_THAT(y.value().ToVector(), ::testing::Pointwise(::testing::FloatNear(1e-5), {1.0f, 0.0f}));
  EXPECT_FLOAT_EQ(norm.FindWeight("variance")->var.value().data()[1], 125.0f);
  EXPECT_FALSE(norm.Adapt(*Array::Zeros(DType::kFloat32, {3, 5})).ok());
}

TEST(LayersTest, ConvNetShapesAndParamsAsKeras) {
  // keras.io's MNIST convnet: 320, 18496, 16010 parameters.
  Conv2D c1(32, 3, {.activation = "relu"});
  EXPECT_EQ(BuildInit(c1, {{-1, 28, 28, 1}}), (Shape{-1, 26, 26, 32}));
  EXPECT_EQ(c1.CountParams(), 320);
  MaxPooling2D p1;
  EXPECT_EQ(BuildInit(p1, {{-1, 26, 26, 32}}), (Shape{-1, 13, 13, 32}));
  Conv2D c2(64, 3);
  EXPECT_EQ(BuildInit(c2, {{-1, 13, 13, 32}}), (Shape{-1, 11, 11, 64}));
  EXPECT_EQ(c2.CountParams(), 18496);
  MaxPooling2D p2;
  EXPECT_EQ(BuildInit(p2, {{-1, 11, 11, 64}}), (Shape{-1, 5, 5, 64}));
  Conv2D same(8, {3, 5}, {.strides = 2, .padding = "same"});
  EXPECT_EQ(BuildInit(same, {{-1, 9, 10, 3}}), (Shape{-1, 5, 5, 8}));
  // Glorot limit of a conv kernel uses the receptive field.
  const float limit = std::sqrt(6.0f / (9 * 1 + 9 * 32));
  for (float v : c1.FindWeight("kernel")->var.value().span()) EXPECT_LE(std::abs(v), limit);
  Conv2D too_big(4, 5, {.name = "big"});
  Result<Shape> e = too_big.Build({{-1, 3, 3, 1}});
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("Conv2D \"big\""));
  EXPECT_THAT(e.status().message(), HasSubstr("(None, 3, 3, 1)"));
  Conv2D bad_pad(4, 3, {.padding = "full"});
  bad_pad.EnsureName();
  EXPECT_FALSE(bad_pad.Build({{-1, 8, 8, 1}}).ok());
  // Forward equals the op plus bias.
  Tensor x = RandomTensor({2, 28, 28, 1}, 4);
  Var y = CallLayer(c1, {x});
  EXPECT_EQ(y.shape(), (Shape{2, 26, 26, 32}));
}

TEST(LayersTest, DepthwisePoolingGap) {
  DepthwiseConv2D dw(3, {.padding = "same", .depth_multiplier = 2});
  EXPECT_EQ(BuildInit(dw, {{-1, 8, 8, 4}}), (Shape{-1, 8, 8, 8}));
  EXPECT_EQ(dw.CountParams(), 3 * 3 * 4 * 2 + 8);
  EXPECT_NE(dw.FindWeight("depthwise_kernel"), nullptr);
  AveragePooling2D ap(3, 1, "same");
  EXPECT_EQ(BuildInit(ap, {{-1, 8, 8, 4}}), (Shape{-1, 8, 8, 4}));
  GlobalAveragePooling2D gap;
  EXPECT_EQ(BuildInit(gap, {{-1, 8, 8, 4}}), (Shape{-1, 4}));
  EXPECT_EQ(CallLayer(gap, {Tensor::Filled({2, 8, 8, 4}, 3.0f)}).value().ToVector(),
            std::vector<float>(8, 3.0f));
  MaxPooling2D mp(2, std::nullopt, "valid", "pool");
  Result<Shape> e = mp.Build({{-1, 8}});
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("MaxPooling2D \"pool\""));
}

TEST(LayersTest, BatchNormalizationMovingStatistics) {
  BatchNormalization bn;
  EXPECT_EQ(BuildInit(bn, {{-1, 3}}), (Shape{-1, 3}));
  EXPECT_EQ(bn.CountParams(), 12);
  EXPECT_FALSE(bn.FindWeight("moving_mean")->trainable);
  EXPECT_TRUE(bn.FindWeight("gamma")->trainable);
  EXPECT_EQ(bn.Config()["momentum"], 0.99f);
  EXPECT_EQ(bn.Config()["epsilon"], 1e-3f);
  Tensor x = *Tensor::FromVector({2, 3}, std::vector<float>{1, 2, 3, 3, 6, 9});
  Var train = CallLayer(bn, {x}, true);
  // batch mean (2, 4, 6), biased variance (1, 4, 9); moving = 0.99 m + 0.01 b.
  EXPECT_THAT(bn.FindWeight("moving_mean")->var.value().ToVector(),
              ::testing::Pointwise(::testing::FloatNear(1e-6), {0.02f, 0.04f, 0.06f}));
  EXPECT_THAT(bn.FindWeight("moving_variance")->var.value().ToVector(),
              ::testing::Pointwise(::testing::FloatNear(1e-6), {1.0f, 1.03f, 1.08f}));
  EXPECT_NEAR(train.value().data()[0], -1 / std::sqrt(1 + 1e-3), 1e-5);
  // Inference uses the moving statistics.
  Var infer = CallLayer(bn, {x});
  EXPECT_NEAR(infer.value().data()[0], (1 - 0.02) / std::sqrt(1.0 + 1e-3), 1e-5);
}

}  // namespace
}  // namespace edgepipe::nn::layers
