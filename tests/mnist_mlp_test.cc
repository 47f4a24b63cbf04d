// Integration (issue 3's quality bar): the guide's MNIST MLP trained from
// ExampleGen's TFRecords through the dataset API, as the Trainer's run_fn
// does. ExampleGen splits the setup script's 10,000 MNIST digits 2:1 into
// gzip TFRecord shards (image_floats: 784 floats in [-0.5, 0.5], image_class:
// int64); the model trains 5000 steps of batch 40 with RMSprop(0.0015) on
// the train split (shuffled, repeated) and is evaluated on the eval split:
// accuracy >= 0.93 (LibTorch, same setup: ~0.95).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "edgepipe/components/example_gen.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/dataset_input.h"
#include "edgepipe/nn/model.h"

namespace edgepipe {
namespace {

using data::FeatureSpec;

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

TEST(MnistMlpTest, GuideMlpFromExampleGenTFRecordsReachesAccuracy) {
  using namespace nn;
  using namespace nn::layers;
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string examples = tmp.Join("examples");
  auto t0 = std::chrono::steady_clock::now();
  Result<components::ExampleGenSummary> gen =
      components::RunExampleGen({.input = std::string(EDGEPIPE_DATA_DIR) + "/mnist",
                                 .format = components::InputFormat::kIdx,
                                 .output = examples,
                                 .show_progress = false});
  ASSERT_TRUE(gen.ok()) << gen.status();
  const double gen_seconds = SecondsSince(t0);
  ASSERT_EQ(gen->total(), 10000);
  ASSERT_EQ(gen->splits.size(), 2u);
  ASSERT_EQ(gen->splits[0].name, "train");
  ASSERT_EQ(gen->splits[1].name, "eval");
  const int64_t eval_count = gen->splits[1].count;
  EXPECT_NEAR(static_cast<double>(eval_count), 10000.0 / 3, 150);  // the 2:1 split

  // The run_fn's side: feature specs as ExampleGen writes them.
  const std::vector<FeatureSpec> specs = {FeatureSpec::Float32("image_floats", {784}),
                                          FeatureSpec::Int64("image_class")};
  Result<std::unique_ptr<data::Dataset>> train = MakeInputDataset(
      {JoinPath(examples, "Split-train/*")}, specs, "image_class", {.batch_size = 40, .seed = 1});
  ASSERT_TRUE(train.ok()) << train.status();
  Result<std::unique_ptr<data::Dataset>> eval =
      MakeInputDataset({JoinPath(examples, "Split-eval/*")}, specs, "image_class",
                       {.batch_size = 500, .shuffle_buffer = 0, .num_epochs = 1});
  ASSERT_TRUE(eval.ok()) << eval.status();

  Sequential model("mnist_mlp", /*seed=*/42);
  ASSERT_EQ(model.Add(InputLayer({784}, "image_floats")), Status::Ok());
  ASSERT_EQ(model.Add(Dense(64, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(model.Add(layers::Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(model.Add(Dense(64, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(model.Add(layers::Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(model.Add(Dense(10)), Status::Ok());
  ASSERT_EQ(model.CountParams(), 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);
  ASSERT_EQ(model.Compile(RMSprop(0.0015f), SparseCategoricalCrossentropy(/*from_logits=*/true),
                          SparseCategoricalAccuracy()),
            Status::Ok());

  Result<History> h = model.Fit(
      **train, {.label_key = "image_class", .steps_per_epoch = 5000, .seed = 1, .verbose = true});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->steps, 5000);
  auto t1 = std::chrono::steady_clock::now();
  Result<std::map<std::string, double>> metrics = model.Evaluate(**eval, "image_class");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  const double eval_seconds = SecondsSince(t1);
  Result<Tensor> logits = model.Predict(**eval);
  ASSERT_TRUE(logits.ok()) << logits.status();
  EXPECT_EQ(logits->shape(), (Shape{eval_count, 10}));  // every eval example, once
  const double acc = metrics->at("sparse_categorical_accuracy");
  std::fprintf(stderr,
               "mnist MLP from TFRecords: ExampleGen %.2f s; 5000 steps of 40 in %.2f s "
               "(%.0f steps/s); eval of %lld examples in %.2f s: accuracy %.4f, loss %.4f\n",
               gen_seconds, h->seconds, 5000 / h->seconds, static_cast<long long>(eval_count),
               eval_seconds, acc, metrics->at("loss"));
  EXPECT_GE(acc, 0.93);
  RecordProperty("train_seconds", std::to_string(h->seconds));
  RecordProperty("eval_accuracy", std::to_string(acc));
}

}  // namespace
}  // namespace edgepipe
