// Model::Fit / Evaluate / Predict over data::Datasets: the dataset path gives
// bit-identical results to the in-memory path (one training loop), features
// are matched to inputs by name, steps_per_epoch pulls one stream across
// epochs, and bad input (missing input or label, wrong shape, strings, labels
// out of range, NaN, a dataset that ends too soon) gives clear errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/data/dataset.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::nn {
namespace {

using ::testing::HasSubstr;
using namespace layers;  // NOLINT

// Two Gaussian-ish blobs in 4-D, labels 0/1.
void Blobs(int64_t n, uint64_t seed, Array* x, Array* y) {
  *x = *Array::Zeros(DType::kFloat32, {n, 4});
  *y = *Array::Zeros(DType::kInt64, {n});
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t label = static_cast<int64_t>(rng.Below(2));
    y->data<int64_t>()[static_cast<size_t>(i)] = label;
    for (int64_t j = 0; j < 4; ++j) {
      const float noise = rng.Uniform(-1, 1) + rng.Uniform(-1, 1) + rng.Uniform(-1, 1);
      x->data<float>()[static_cast<size_t>(i * 4 + j)] =
          (label == 1 ? 1.0f : -1.0f) * (j % 2 ? 1.0f : -0.5f) + 0.7f * noise;
    }
  }
}

Sequential Classifier(uint64_t seed, float dropout = 0) {
  Sequential m("clf", seed);
  EXPECT_EQ(m.Add(InputLayer({4}, "features")), Status::Ok());
  EXPECT_EQ(m.Add(Dense(8, {.activation = "relu"})), Status::Ok());
  if (dropout > 0) {
    EXPECT_EQ(m.Add(Dropout(dropout)), Status::Ok());
  }
  EXPECT_EQ(m.Add(Dense(2)), Status::Ok());
  EXPECT_EQ(
      m.Compile(Adam(0.02f), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy()),
      Status::Ok());
  return m;
}

std::unique_ptr<data::Dataset> ArrayDataset(std::map<std::string, Array> columns, int64_t batch,
                                            int64_t epochs = 1, bool drop_remainder = false) {
  auto ds = data::NewArrayDataset(
      std::move(columns),
      {.batch = {.batch_size = batch, .drop_remainder = drop_remainder}, .epochs = epochs});
  EXPECT_TRUE(ds.ok()) << ds.status();
  return ds.ok() ? std::move(ds).value() : nullptr;
}

std::vector<float> AllWeights(const Model& m) {
  std::vector<float> out;
  for (const Var& w : m.trainable_weights()) {
    for (float v : w.value().span()) out.push_back(v);
  }
  return out;
}

TEST(ModelDatasetTest, FitOnDatasetIsBitIdenticalToFitOnArrays) {
  Array x, y, vx, vy;
  Blobs(100, 1, &x, &y);
  Blobs(30, 2, &vx, &vy);
  Sequential a = Classifier(3, /*dropout=*/0.25f);
  Sequential b = Classifier(3, /*dropout=*/0.25f);
  Result<History> ha = a.Fit(x, y,
                             {.batch_size = 8,
                              .epochs = 3,
                              .shuffle = false,
                              .seed = 5,
                              .validation_x = &vx,
                              .validation_y = &vy});
  ASSERT_TRUE(ha.ok()) << ha.status();
  auto train = ArrayDataset({{"features", x}, {"label", y}}, 8);
  auto val = ArrayDataset({{"features", vx}, {"label", vy}}, 8);
  Result<History> hb =
      b.Fit(*train, {.label_key = "label", .epochs = 3, .seed = 5, .validation = val.get()});
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->steps, 3 * 13);
  EXPECT_EQ(ha->history, hb->history);
  EXPECT_EQ(AllWeights(a), AllWeights(b));
  EXPECT_EQ(hb->history.at("val_loss").size(), 3u);
  EXPECT_GT(hb->history.at("val_sparse_categorical_accuracy").back(), 0.9);
}

TEST(ModelDatasetTest, EvaluateAndPredictMatchTheArrayPath) {
  Array x, y;
  Blobs(50, 4, &x, &y);
  Sequential m = Classifier(1);
  ASSERT_TRUE(m.Fit(x, y, {.batch_size = 10, .epochs = 2}).ok());
  auto ds = ArrayDataset({{"features", x}, {"label", y}, {"unused", y}}, 10);
  Result<std::map<std::string, double>> from_ds = m.Evaluate(*ds, "label");
  ASSERT_TRUE(from_ds.ok()) << from_ds.status();
  Result<std::map<std::string, double>> from_arrays = m.Evaluate(x, y, 10);
  ASSERT_TRUE(from_arrays.ok());
  EXPECT_EQ(*from_ds, *from_arrays);
  // Evaluate starts over each time.
  EXPECT_EQ(*m.Evaluate(*ds, "label"), *from_arrays);
  // Two steps = the first 20 examples.
  Array x20 = *Array::Zeros(DType::kFloat32, {20, 4});
  Array y20 = *Array::Zeros(DType::kInt64, {20});
  std::copy_n(x.data<float>().data(), 80, x20.data<float>().data());
  std::copy_n(y.data<int64_t>().data(), 20, y20.data<int64_t>().data());
  EXPECT_EQ(*m.Evaluate(*ds, "label", 2), *m.Evaluate(x20, y20, 10));
  Result<std::map<std::string, double>> too_many = m.Evaluate(*ds, "label", 6);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), StatusCode::kOutOfRange);
  EXPECT_THAT(too_many.status().message(), HasSubstr("ended after 5 batches, 6 steps"));

  Result<Tensor> p_ds = m.Predict(*ds);
  ASSERT_TRUE(p_ds.ok()) << p_ds.status();
  Result<Tensor> p_arr = m.Predict(x, 10);  // same batches: same bits
  ASSERT_TRUE(p_arr.ok());
  EXPECT_EQ(p_ds->shape(), (Shape{50, 2}));
  EXPECT_EQ(p_ds->ToVector(), p_arr->ToVector());
  Result<Tensor> p3 = m.Predict(*ds, 3);
  ASSERT_TRUE(p3.ok());
  EXPECT_EQ(p3->shape(), (Shape{30, 2}));
}

TEST(ModelDatasetTest, StepsPerEpochPullsOneStreamAcrossEpochs) {
  Array x, y;
  Blobs(10, 6, &x, &y);
  // Two passes of 3 batches (4, 4, 2): 6 batches in all.
  auto two_passes = ArrayDataset({{"features", x}, {"label", y}}, 4, /*epochs=*/2);
  Sequential m = Classifier(1);
  Result<History> ok =
      m.Fit(*two_passes, {.label_key = "label", .epochs = 2, .steps_per_epoch = 3});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->steps, 6);
  EXPECT_EQ(m.optimizer()->iterations(), 6);
  // Were the dataset restarted at each epoch, 2 x 4 steps would fit in it.
  Result<History> short_data =
      m.Fit(*two_passes, {.label_key = "label", .epochs = 2, .steps_per_epoch = 4});
  ASSERT_FALSE(short_data.ok());
  EXPECT_EQ(short_data.status().code(), StatusCode::kOutOfRange);
  EXPECT_THAT(short_data.status().message(),
              HasSubstr("Fit: training data at step 7 (epoch 2): the data ended after 6 batches"));
  // Endless data: any number of steps.
  auto endless = ArrayDataset({{"features", x}, {"label", y}}, 4, /*epochs=*/-1);
  Result<History> many = m.Fit(*endless, {.label_key = "label", .epochs = 3, .steps_per_epoch = 7});
  ASSERT_TRUE(many.ok()) << many.status();
  EXPECT_EQ(many->steps, 21);
  EXPECT_EQ(many->history.at("loss").size(), 3u);
}

TEST(ModelDatasetTest, TwoInputModelTakesFeaturesByName) {
  Result<SymbolicTensor> a = Input({4}, "a");
  Result<SymbolicTensor> b = Input({3}, "b");
  ASSERT_TRUE(a.ok() && b.ok());
  Result<SymbolicTensor> c = Apply(Concatenate(), {*a, *b});
  ASSERT_TRUE(c.ok());
  Result<SymbolicTensor> out = Apply(Dense(1), {*c});
  ASSERT_TRUE(out.ok());
  Result<Model> made = Model::Create({*a, *b}, {*out}, "two", 3);
  ASSERT_TRUE(made.ok()) << made.status();
  Model m1 = std::move(made).value();
  ASSERT_EQ(m1.Compile(SGD(0.05f), MeanSquaredError()), Status::Ok());
  const int64_t n = 40;
  std::map<std::string, Array> x{{"a", *Array::Zeros(DType::kFloat32, {n, 4})},
                                 {"b", *Array::Zeros(DType::kFloat32, {n, 3})}};
  Array t = *Array::Zeros(DType::kFloat32, {n, 1});
  Rng rng(2);
  for (float& v : x["a"].data<float>()) v = rng.Uniform(-1, 1);
  for (float& v : x["b"].data<float>()) v = rng.Uniform(-1, 1);
  for (int64_t i = 0; i < n; ++i) {
    t.data<float>()[static_cast<size_t>(i)] = x["a"].data<float>()[static_cast<size_t>(4 * i)] -
                                              x["b"].data<float>()[static_cast<size_t>(3 * i)];
  }
  Result<History> h1 = m1.Fit(x, t, {.batch_size = 8, .epochs = 2, .shuffle = false});
  ASSERT_TRUE(h1.ok()) << h1.status();
  // Columns in another order, plus a feature the model does not use.
  auto ds = ArrayDataset({{"target", t}, {"b", x["b"]}, {"a", x["a"]}, {"zz", t}}, 8);
  Result<History> h2 = m1.Fit(*ds, {.label_key = "target", .epochs = 2});
  ASSERT_TRUE(h2.ok()) << h2.status();
  // Training continued from h1's weights: the loss kept falling.
  EXPECT_LT(h2->history.at("loss").back(), h1->history.at("loss").front());
  Result<Tensor> p = m1.Predict(*ds);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->shape(), (Shape{n, 1}));
}

TEST(ModelDatasetTest, MissingInputOrLabelListsWhatTheBatchHas) {
  Array x, y;
  Blobs(16, 7, &x, &y);
  Sequential m = Classifier(1);
  auto wrong_name = ArrayDataset({{"pixels", x}, {"label", y}}, 8);
  Result<History> h = m.Fit(*wrong_name, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(h.status().message(),
              HasSubstr("Fit: training data at step 1: model \"clf\": input \"features\" is not a "
                        "feature of the batch (model inputs: features; batch features: label, "
                        "pixels)"));
  auto no_label = ArrayDataset({{"features", x}, {"y", y}}, 8);
  h = m.Fit(*no_label, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(),
              HasSubstr("label \"label\" is not a feature of the batch (batch features: "
                        "features, y)"));
  Result<std::map<std::string, double>> e = m.Evaluate(*no_label, "label");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("Evaluate at batch 1: label \"label\""));
  // Predict needs no label.
  EXPECT_TRUE(m.Predict(*no_label).ok());
  EXPECT_EQ(m.Fit(*no_label, {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(m.Fit(*no_label, {}).status().message(), HasSubstr("label_key is empty"));
  // A string feature cannot feed a numeric input.
  auto strings =
      data::MapBatches(ArrayDataset({{"features", x}, {"label", y}}, 8), [](data::Batch* b) {
        b->arrays.erase("features");
        b->strings["features"].assign(4 * b->size, "0.5");
        return Status::Ok();
      });
  h = m.Fit(*strings, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(
      h.status().message(),
      HasSubstr("input \"features\" needs numbers, but feature \"features\" holds strings"));
}

TEST(ModelDatasetTest, WrongShapeNamesInputAndBothShapes) {
  Array x = *Array::Zeros(DType::kFloat32, {16, 2, 2});
  Array y = *Array::Zeros(DType::kInt64, {16});
  Sequential m = Classifier(1);
  auto ds = ArrayDataset({{"features", x}, {"label", y}}, 8);
  Result<History> h = m.Fit(*ds, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(),
              HasSubstr("model \"clf\": input \"features\" expects shape (None, 4), feature "
                        "\"features\" is float32 [8, 2, 2]"));
  Result<Tensor> p = m.Predict(*ds);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(p.status().message(), HasSubstr("Predict at batch 1: model \"clf\""));
}

TEST(ModelDatasetTest, LabelsOutOfRangeAndNaNLossNameExampleAndStep) {
  Array x, y;
  Blobs(40, 8, &x, &y);
  y.data<int64_t>()[13] = 2;
  Sequential m = Classifier(1);
  auto ds = ArrayDataset({{"features", x}, {"label", y}}, 8);
  Result<History> h = m.Fit(*ds, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(),
              HasSubstr("Fit: training data at step 2: model \"clf\": label 2"));
  EXPECT_THAT(h.status().message(), HasSubstr("of example 13 is out of range [0, 2)"));
  EXPECT_EQ(m.optimizer()->iterations(), 1);  // the first batch trained
  y.data<int64_t>()[13] = -1;
  auto neg = ArrayDataset({{"features", x}, {"label", y}}, 8);
  Result<std::map<std::string, double>> e = m.Evaluate(*neg, "label");
  ASSERT_FALSE(e.ok());
  EXPECT_THAT(e.status().message(), HasSubstr("example 13 is out of range"));

  y.data<int64_t>()[13] = 1;
  x.data<float>()[35 * 4 + 2] = NAN;
  auto nan = ArrayDataset({{"features", x}, {"label", y}}, 8);
  Sequential m2 = Classifier(1);
  h = m2.Fit(*nan, {.label_key = "label", .epochs = 2});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(h.status().message(), HasSubstr("loss is NaN at step 5 (epoch 1)"));
}

TEST(ModelDatasetTest, DatasetErrorsAndEmptyDataComeBackWithTheStep) {
  Array x, y;
  Blobs(24, 9, &x, &y);
  Sequential m = Classifier(1);
  int calls = 0;
  auto failing =
      data::MapBatches(ArrayDataset({{"features", x}, {"label", y}}, 8), [&](data::Batch*) {
        return ++calls == 2 ? Status::DataLoss(
                                  "x.tfrecord: record 9: "
                                  "data crc mismatch")
                            : Status::Ok();
      });
  Result<History> h = m.Fit(*failing, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(h.status().message(),
            "Fit: training data at step 2: x.tfrecord: record 9: data crc mismatch");
  // batch 32 > 24 examples with drop_remainder: nothing at all.
  auto empty = ArrayDataset({{"features", x}, {"label", y}}, 32, 1, /*drop_remainder=*/true);
  h = m.Fit(*empty, {.label_key = "label"});
  ASSERT_FALSE(h.ok());
  EXPECT_THAT(h.status().message(), HasSubstr("yielded no batches in epoch 1"));
  EXPECT_THAT(m.Evaluate(*empty, "label").status().message(), HasSubstr("Evaluate: no examples"));
}

TEST(ModelDatasetTest, EarlyStoppingOnValidationDataset) {
  Array x, y, vx, vy;
  Blobs(64, 12, &x, &y);
  Blobs(64, 13, &vx, &vy);
  Sequential m("m", 2);
  ASSERT_EQ(m.Add(InputLayer({4}, "features")), Status::Ok());
  ASSERT_EQ(m.Add(Dense(2)), Status::Ok());
  ASSERT_EQ(m.Compile(SGD(5.0f), SparseCategoricalCrossentropy(true)), Status::Ok());
  auto train = ArrayDataset({{"features", x}, {"label", y}}, 8);
  auto val = ArrayDataset({{"features", vx}, {"label", vy}}, 8);
  Result<History> h =
      m.Fit(*train, {.label_key = "label",
                     .epochs = 50,
                     .validation = val.get(),
                     .early_stopping = EarlyStopping{.patience = 2, .restore_best_weights = true}});
  ASSERT_TRUE(h.ok()) << h.status();
  ASSERT_GE(h->stopped_epoch, 1);
  const std::vector<double>& v = h->history.at("val_loss");
  ASSERT_EQ(v.size(), static_cast<size_t>(h->stopped_epoch + 1));
  const double best = *std::min_element(v.begin(), v.end());
  Result<std::map<std::string, double>> e = m.Evaluate(*val, "label");
  ASSERT_TRUE(e.ok());
  EXPECT_NEAR(e->at("loss"), best, 1e-6);
}

}  // namespace
}  // namespace edgepipe::nn
