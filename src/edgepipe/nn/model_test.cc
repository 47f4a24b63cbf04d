// Model / Sequential: construction errors, Keras-like summary, Fit /
// Evaluate / Predict on small synthetic problems (learning, determinism,
// steps, validation), bad input (NaN loss, labels out of range, shapes),
// and a functional graph with two named inputs and a skip connection.
#include "edgepipe/nn/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/parallel.h"

namespace edgepipe::nn {
namespace {

using ::testing::HasSubstr;
using namespace layers;  // NOLINT

// Two Gaussian blobs in 4-D, labels 0/1, n examples.
void Blobs(int64_t n, uint64_t seed, Array* x, Array* y) {
  *x = *Array::Zeros(DType::kFloat32, {n, 4});
  *y = *Array::Zeros(DType::kInt64, {n});
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = static_cast<int64_t>(rng.Below(2));
    y->data<int64_t>()[static_cast<size_t>(i)] = label;
    for (int64_t j = 0; j < 4; ++j) {
      const float center = label == 1 ? 1.0f : -1.0f;
      // Sum of uniforms: roughly normal, sd ~0.7.
      const float noise = rng.Uniform(-1, 1) + rng.Uniform(-1, 1) + rng.Uniform(-1, 1);
      x->data<float>()[static_cast<size_t>(i * 4 + j)] =
          center * (j % 2 ? 1.0f : -0.5f) + 0.7f * noise;
    }
  }
}

Sequential Classifier(uint64_t seed) {
  Sequential m("clf", seed);
  EXPECT_EQ(m.Add(InputLayer({4}, "features")), Status::Ok());
  EXPECT_EQ(m.Add(Dense(8, {.activation = "relu"})), Status::Ok());
  EXPECT_EQ(m.Add(Dense(2)), Status::Ok());
  EXPECT_EQ(
      m.Compile(Adam(0.02f), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy()),
      Status::Ok());
  return m;
}

TEST(ModelTest, SequentialSummaryLikeKeras) {
  Sequential m("mnist");
  ASSERT_EQ(m.Add(InputLayer({784})), Status::Ok());
  ASSERT_EQ(m.Add(Dense(64, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(m.Add(Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(m.Add(Dense(64, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(m.Add(Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(m.Add(Dense(10)), Status::Ok());
  EXPECT_EQ(m.CountParams(), 55050);
  const std::string s = m.Summary();
  EXPECT_THAT(s, HasSubstr("Model: \"mnist\""));
  EXPECT_THAT(s, HasSubstr(" Layer (type)                 Output Shape              Param #"));
  EXPECT_THAT(s, HasSubstr(" dense (Dense)                (None, 64)                50240"));
  EXPECT_THAT(s, HasSubstr(" dropout_1 (Dropout)          (None, 64)                0"));
  EXPECT_THAT(s, HasSubstr(" dense_2 (Dense)              (None, 10)                650"));
  EXPECT_THAT(s, HasSubstr("Total params: 55050 (215.04 KB)"));
  EXPECT_THAT(s, HasSubstr("Non-trainable params: 0 (0.00 Byte)"));
  EXPECT_THAT(s, ::testing::Not(HasSubstr("InputLayer")));
  EXPECT_NE(m.GetLayer("dense_1"), nullptr);
}

TEST(ModelTest, SequentialAddErrorsNameLayerAndShapes) {
  Sequential m;
  Status first = m.Add(Dense(3));
  EXPECT_THAT(first.message(), HasSubstr("first layer must be an InputLayer"));
  ASSERT_EQ(m.Add(InputLayer({10}, "x")), Status::Ok());
  Status conv = m.Add(Conv2D(4, 3));
  ASSERT_FALSE(conv.ok());
  EXPECT_THAT(conv.message(), HasSubstr("Conv2D \"conv2d\""));
  EXPECT_THAT(conv.message(), HasSubstr("(None, 10)"));
  ASSERT_EQ(m.Add(Dense(3, {.name = "d"})), Status::Ok());
  EXPECT_THAT(m.Add(Dense(3, {.name = "d"})).message(), HasSubstr("duplicate layer name \"d\""));
}

TEST(ModelTest, ConvLayerConfigErrorsNameLayerValueAndRule) {
  Sequential m;
  ASSERT_EQ(m.Add(InputLayer({5, 5, 2})), Status::Ok());
  Status big = m.Add(Conv2D(4, 7, {.name = "big"}));
  EXPECT_THAT(big.message(), HasSubstr("Conv2D \"big\""));
  EXPECT_THAT(big.message(), HasSubstr("kernel 7x7 does not fit input (None, 5, 5, 2)"));
  EXPECT_THAT(m.Add(Conv2D(4, 3, {.padding = "full", .name = "c"})).message(), HasSubstr("full"));
  EXPECT_THAT(m.Add(Conv2D(4, 3, {.activation = "swoosh", .name = "a"})).message(),
              HasSubstr("unknown activation \"swoosh\""));
  EXPECT_THAT(m.Add(Conv2D(0, 3, {.name = "z"})).message(),
              HasSubstr("filters 0 must be positive"));
  EXPECT_THAT(m.Add(DepthwiseConv2D(3, {.depth_multiplier = 0, .name = "dw"})).message(),
              HasSubstr("depth_multiplier 0 must be positive"));
  EXPECT_THAT(m.Add(DepthwiseConv2D(3, {.strides = 0, .name = "s"})).message(),
              HasSubstr("kernel_size and strides must be positive"));
  EXPECT_EQ(m.Add(DepthwiseConv2D(3, {.padding = "same", .name = "ok"})), Status::Ok());
}

TEST(ModelTest, FitLearnsBlobsAndValidates) {
  Array x, y, vx, vy;
  Blobs(512, 1, &x, &y);
  Blobs(256, 2, &vx, &vy);
  Sequential m = Classifier(3);
  Result<History> h = m.Fit(
      x, y, {.batch_size = 32, .epochs = 5, .seed = 4, .validation_x = &vx, .validation_y = &vy});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->steps, 5 * 16);
  ASSERT_EQ(h->history["loss"].size(), 5u);
  EXPECT_LT(h->history["loss"].back(), h->history["loss"].front());
  EXPECT_GT(h->history["val_sparse_categorical_accuracy"].back(), 0.95);
  Result<std::map<std::string, double>> e = m.Evaluate(vx, vy, 100);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_NEAR(e->at("loss"), h->history["val_loss"].back(), 1e-6);
  // Predict agrees with a direct inference call.
  Result<Tensor> p = m.Predict(vx, 64);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->shape(), (Shape{256, 2}));
  Tensor xt = *Tensor::FromArray(vx);
  std::vector<Var> out = *m.Call({Var::Constant(xt)}, CallContext{});
  for (int64_t i = 0; i < p->size(); ++i) EXPECT_NEAR(p->data()[i], out[0].value().data()[i], 1e-5);
}

TEST(ModelTest, FitIsDeterministicForASeed) {
  Array x, y;
  Blobs(100, 5, &x, &y);
  auto run = [&](uint64_t seed) {
    Sequential m("m", 1);
    EXPECT_EQ(m.Add(InputLayer({4})), Status::Ok());
    EXPECT_EQ(m.Add(Dense(8, {.activation = "relu"})), Status::Ok());
    EXPECT_EQ(m.Add(Dropout(0.3f)), Status::Ok());
    EXPECT_EQ(m.Add(Dense(2)), Status::Ok());
    EXPECT_EQ(m.Compile(SGD(0.1f, 0.9f), SparseCategoricalCrossentropy(true)), Status::Ok());
    Result<History> h = m.Fit(x, y, {.batch_size = 8, .steps_per_epoch = 30, .seed = seed});
    EXPECT_TRUE(h.ok());
    return std::make_pair(h->history["loss"],
                          m.GetLayer("dense")->FindWeight("kernel")->var.value().ToVector());
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7).first, run(8).first);
}

TEST(ModelTest, EarlyStoppingStopsAndRestoresBestWeights) {
  Array x, y, vx, vy;
  Blobs(64, 12, &x, &y);
  Blobs(64, 13, &vx, &vy);
  // A learning rate so large that validation loss cannot keep improving.
  Sequential m("m", 2);
  ASSERT_EQ(m.Add(InputLayer({4})), Status::Ok());
  ASSERT_EQ(m.Add(Dense(2)), Status::Ok());
  ASSERT_EQ(m.Compile(SGD(5.0f), SparseCategoricalCrossentropy(true)), Status::Ok());
  Result<History> h =
      m.Fit(x, y,
            {.batch_size = 8,
             .epochs = 50,
             .seed = 1,
             .validation_x = &vx,
             .validation_y = &vy,
             .early_stopping = EarlyStopping{.patience = 2, .restore_best_weights = true}});
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_GE(h->stopped_epoch, 1);
  RecordProperty("val_loss", ::testing::PrintToString(h->history["val_loss"]));
  const std::vector<double>& val = h->history["val_loss"];
  ASSERT_EQ(val.size(), static_cast<size_t>(h->stopped_epoch + 1));
  // The last `patience` epochs did not beat the best before them.
  const double best = *std::min_element(val.begin(), val.end());
  EXPECT_GE(val.back(), best);
  EXPECT_GE(val[val.size() - 2], best);
  // Restored weights give the best validation loss again.
  Result<std::map<std::string, double>> e = m.Evaluate(vx, vy);
  ASSERT_TRUE(e.ok());
  EXPECT_NEAR(e->at("loss"), best, 1e-5);
  // Monitoring a value that is not in the history is an error.
  Result<History> bad = m.Fit(x, y, {.early_stopping = EarlyStopping{}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("val_loss"));
}

TEST(ModelTest, StepsPerEpochDrawsFullBatchesAcrossPasses) {
  Array x, y;
  Blobs(10, 6, &x, &y);
  Sequential m = Classifier(1);
  Result<History> h = m.Fit(x, y, {.batch_size = 4, .epochs = 2, .steps_per_epoch = 7});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->steps, 14);
  EXPECT_EQ(m.optimizer()->iterations(), 14);
  EXPECT_EQ(h->history["loss"].size(), 2u);
}

TEST(ModelTest, FitStopsOnNonFiniteLoss) {
  Array x, y;
  Blobs(64, 7, &x, &y);
  x.data<float>()[40 * 4] = NAN;
  Sequential m = Classifier(1);
  Result<History> h = m.Fit(x, y, {.batch_size = 8, .shuffle = false});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("loss is NaN at step 6"));
}

TEST(ModelTest, FitStopsOnInfiniteLoss) {
  // Targets of 1e30 in the second batch: the squared error overflows float.
  Array x = *Array::Zeros(DType::kFloat32, {16, 2});
  Array y = *Array::Zeros(DType::kFloat32, {16});
  for (float& v : x.data<float>()) v = 1.0f;
  for (int64_t i = 8; i < 16; ++i) y.data<float>()[static_cast<size_t>(i)] = 1e30f;
  Sequential m("reg", 1);
  ASSERT_EQ(m.Add(InputLayer({2}, "x")), Status::Ok());
  ASSERT_EQ(m.Add(Dense(1)), Status::Ok());
  ASSERT_EQ(m.Compile(SGD(0.01f), MeanSquaredError()), Status::Ok());
  Result<History> h = m.Fit(x, y, {.batch_size = 8, .shuffle = false});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(h.status().message(), HasSubstr("loss is Inf at step 2 (epoch 1)"));
  EXPECT_EQ(m.optimizer()->iterations(), 1);  // the bad step was not applied
}

TEST(ModelTest, ShapeMismatchBetweenLayersNamesLayerAndBothShapes) {
  Sequential m("seq");
  ASSERT_EQ(m.Add(InputLayer({4}, "x")), Status::Ok());
  Status reshape = m.Add(Reshape({5}));
  ASSERT_FALSE(reshape.ok());
  EXPECT_THAT(reshape.message(), HasSubstr("\"reshape\""));
  EXPECT_THAT(reshape.message(), HasSubstr("(None, 4)"));
  EXPECT_THAT(reshape.message(), HasSubstr("target (5,)"));
  Result<SymbolicTensor> a = Input({4}, "a");
  Result<SymbolicTensor> b = Input({3}, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  Result<SymbolicTensor> sum = Apply(AddLayer("skip"), {*a, *b});
  ASSERT_FALSE(sum.ok());
  EXPECT_THAT(sum.status().message(), HasSubstr("\"skip\""));
  EXPECT_THAT(sum.status().message(), HasSubstr("(None, 4) and (None, 3)"));
  Result<SymbolicTensor> cat = Apply(Concatenate(1, "cat"), {*a, *Input({3, 2}, "c")});
  ASSERT_FALSE(cat.ok());
  EXPECT_THAT(cat.status().message(), HasSubstr("\"cat\""));
  EXPECT_THAT(cat.status().message(), HasSubstr("(None, 4) and (None, 3, 2)"));
}

TEST(ModelTest, FitRejectsBadLabelsAndShapes) {
  Array x, y;
  Blobs(20, 8, &x, &y);
  y.data<int64_t>()[13] = 2;
  Sequential m = Classifier(1);
  Result<History> h = m.Fit(x, y);
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("label 2"));
  EXPECT_THAT(h.status().message(), HasSubstr("example 13"));
  EXPECT_THAT(h.status().message(), HasSubstr("(None, 2)"));
  Array wide = *Array::Zeros(DType::kFloat32, {20, 5});
  y.data<int64_t>()[13] = 1;
  Result<History> w = m.Fit(wide, y);
  ASSERT_FALSE(w.ok());
  EXPECT_THAT(w.status().message(), HasSubstr("input \"features\" expects shape (None, 4)"));
  EXPECT_THAT(w.status().message(), HasSubstr("[20, 5]"));
  Array short_y = *Array::Zeros(DType::kInt64, {19});
  EXPECT_FALSE(m.Fit(x, short_y).ok());
  Sequential uncompiled;
  ASSERT_EQ(uncompiled.Add(InputLayer({4})), Status::Ok());
  EXPECT_EQ(uncompiled.Fit(x, y).status().code(), StatusCode::kFailedPrecondition);
}

TEST(ModelTest, FunctionalTwoInputsWithSkipConnection) {
  Result<SymbolicTensor> a = Input({4}, "a");
  Result<SymbolicTensor> b = Input({3}, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  Result<SymbolicTensor> h = Apply(Dense(4, {.activation = "tanh"}), {*b});
  ASSERT_TRUE(h.ok()) << h.status();
  Result<SymbolicTensor> s = Apply(AddLayer(), {*a, *h});
  ASSERT_TRUE(s.ok()) << s.status();
  Result<SymbolicTensor> c = Apply(Concatenate(), {*s, *a});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->shape(), (Shape{-1, 8}));
  Result<SymbolicTensor> out = Apply(Dense(1), {*c});
  ASSERT_TRUE(out.ok());
  Result<SymbolicTensor> bad = Apply(AddLayer(), {*a, *b});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("(None, 4) and (None, 3)"));

  Result<Model> m = Model::Create({*a, *b}, {*out}, "two_inputs", 3);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(m->CountParams(), 3 * 4 + 4 + 8 + 1);
  const std::string summary = m->Summary();
  EXPECT_THAT(summary, HasSubstr("Connected to"));
  EXPECT_THAT(summary, HasSubstr("a (InputLayer)"));
  EXPECT_THAT(summary, HasSubstr("['a'], ['dense']"));

  // Learn y = sum(a) - b0 with MSE.
  const int64_t n = 256;
  std::map<std::string, Array> x{{"a", *Array::Zeros(DType::kFloat32, {n, 4})},
                                 {"b", *Array::Zeros(DType::kFloat32, {n, 3})}};
  Array y = *Array::Zeros(DType::kFloat32, {n, 1});
  Rng rng(9);
  for (int64_t i = 0; i < n; ++i) {
    float t = 0;
    for (int64_t j = 0; j < 4; ++j)
      t += x["a"].data<float>()[static_cast<size_t>(i * 4 + j)] = rng.Uniform(-1, 1);
    for (int64_t j = 0; j < 3; ++j)
      x["b"].data<float>()[static_cast<size_t>(i * 3 + j)] = rng.Uniform(-1, 1);
    y.data<float>()[static_cast<size_t>(i)] = t - x["b"].data<float>()[static_cast<size_t>(i * 3)];
  }
  ASSERT_EQ(m->Compile(Adam(0.01f), MeanSquaredError()), Status::Ok());
  Result<History> hist = m->Fit(x, y, {.batch_size = 16, .epochs = 30, .seed = 2});
  ASSERT_TRUE(hist.ok()) << hist.status();
  EXPECT_LT(hist->history["loss"].back(), 0.1 * hist->history["loss"].front());
  x.erase("b");
  EXPECT_THAT(m->Fit(x, y).status().message(), HasSubstr("no features for input \"b\""));
}

TEST(ModelTest, FunctionalRejectsInputsNotListed) {
  Result<SymbolicTensor> a = Input({2}, "a");
  Result<SymbolicTensor> b = Input({2}, "b");
  Result<SymbolicTensor> s = Apply(AddLayer(), {*a, *b});
  ASSERT_TRUE(s.ok());
  Result<Model> m = Model::Create({*a}, {*s});
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("\"b\""));
}

TEST(ModelTest, SmallCnnTrainsAndUpdatesBatchNorm) {
  // 8x8 images: class 1 has a bright top half.
  const int64_t n = 128;
  Array x = *Array::Zeros(DType::kFloat32, {n, 8, 8, 1});
  Array y = *Array::Zeros(DType::kInt64, {n});
  Rng rng(11);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = i % 2;
    y.data<int64_t>()[static_cast<size_t>(i)] = label;
    for (int64_t p = 0; p < 64; ++p) {
      x.data<float>()[static_cast<size_t>(i * 64 + p)] =
          rng.Uniform() + (label && p < 32 ? 1.0f : 0.0f);
    }
  }
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    Sequential m("cnn", 5);
    ASSERT_EQ(m.Add(InputLayer({8, 8, 1})), Status::Ok());
    ASSERT_EQ(m.Add(Conv2D(4, 3, {.padding = "same", .activation = "relu"})), Status::Ok());
    ASSERT_EQ(m.Add(BatchNormalization()), Status::Ok());
    ASSERT_EQ(m.Add(MaxPooling2D()), Status::Ok());
    ASSERT_EQ(m.Add(DepthwiseConv2D(3, {.activation = "relu6"})), Status::Ok());
    ASSERT_EQ(m.Add(GlobalAveragePooling2D()), Status::Ok());
    ASSERT_EQ(m.Add(Dense(2)), Status::Ok());
    ASSERT_EQ(
        m.Compile(Adam(0.01f), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy()),
        Status::Ok());
    Result<History> h = m.Fit(x, y, {.batch_size = 16, .epochs = 15, .seed = 1});
    ASSERT_TRUE(h.ok()) << h.status();
    EXPECT_GT(h->history["sparse_categorical_accuracy"].back(), 0.9) << threads << " threads";
    const Tensor& mm = m.GetLayer("batch_normalization")->FindWeight("moving_mean")->var.value();
    EXPECT_NE(mm.data()[0], 0.0f);
  }
  SetNumThreads(1);
}

}  // namespace
}  // namespace edgepipe::nn
