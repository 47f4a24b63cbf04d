// Integration: the guide's MNIST MLP trained on Fashion-MNIST (Debian's
// dataset-fashion-mnist, gzip IDX files) for 5000 steps of batch 40 with
// RMSprop(0.0015), evaluated on the 10,000 test images: accuracy >= 0.83.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"
#include "tests/fashion_mnist_data.h"

namespace edgepipe {
namespace {

TEST(FashionMnistMlpTest, GuideMlpReachesAccuracy) {
  using namespace nn;
  using namespace nn::layers;
  Result<testing::FashionMnist> data = testing::LoadFashionMnist();
  ASSERT_TRUE(data.ok()) << data.status();
  const Array* train_x = &data->train_x;
  const Array* train_y = &data->train_y;
  const Array* test_x = &data->test_x;
  const Array* test_y = &data->test_y;
  ASSERT_EQ(train_x->shape(), (std::vector<int64_t>{60000, 784}));
  ASSERT_EQ(test_y->shape(), (std::vector<int64_t>{10000}));

  Sequential model("mnist_mlp", /*seed=*/42);
  ASSERT_EQ(model.Add(InputLayer({784}, "image_floats")), Status::Ok());
  ASSERT_EQ(model.Add(Dense(64, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(model.Add(layers::Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(model.Add(Dense(64, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(model.Add(layers::Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(model.Add(Dense(10)), Status::Ok());
  std::fputs(model.Summary().c_str(), stderr);
  ASSERT_EQ(model.CountParams(), 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);
  ASSERT_EQ(model.Compile(RMSprop(0.0015f), SparseCategoricalCrossentropy(/*from_logits=*/true),
                          SparseCategoricalAccuracy()),
            Status::Ok());

  Result<History> h = model.Fit(
      *train_x, *train_y, {.batch_size = 40, .steps_per_epoch = 5000, .seed = 1, .verbose = true});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->steps, 5000);
  Result<std::map<std::string, double>> eval = model.Evaluate(*test_x, *test_y, 1000);
  ASSERT_TRUE(eval.ok()) << eval.status();
  const double acc = eval->at("sparse_categorical_accuracy");
  std::fprintf(stderr,
               "fashion-mnist MLP: 5000 steps in %.2f s (%.0f steps/s), test accuracy %.4f\n",
               h->seconds, 5000 / h->seconds, acc);
  EXPECT_GE(acc, 0.83);
  RecordProperty("train_seconds", std::to_string(h->seconds));
  RecordProperty("test_accuracy", std::to_string(acc));
}

}  // namespace
}  // namespace edgepipe
