// Integration: the small CNN on Fashion-MNIST (Debian's
// dataset-fashion-mnist): Conv2D 32 3x3 relu, MaxPool 2x2, Conv2D 64 3x3 relu,
// MaxPool 2x2, Flatten, Dropout 0.5, Dense 10 logits; Adam (Keras defaults),
// sparse categorical cross-entropy from logits, batch 64, 2 epochs over the
// 60,000 training images with a fixed seed; accuracy on the 10,000 test
// images >= 0.85 (LibTorch, same recipe: about 0.87). Labelled "slow".
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/gemm.h"
#include "edgepipe/nn/model.h"
#include "edgepipe/nn/parallel.h"
#include "tests/fashion_mnist_data.h"

namespace edgepipe {
namespace {

TEST(FashionMnistCnnTest, SmallCnnReachesAccuracy) {
  using namespace nn;
  using namespace nn::layers;
  Result<testing::FashionMnist> data = testing::LoadFashionMnist();
  ASSERT_TRUE(data.ok()) << data.status();
  ASSERT_EQ(data->train_x.shape(), (std::vector<int64_t>{60000, 784}));
  ASSERT_EQ(data->test_x.shape(), (std::vector<int64_t>{10000, 784}));
  ASSERT_EQ(data->train_x.Reshape({60000, 28, 28, 1}), Status::Ok());
  ASSERT_EQ(data->test_x.Reshape({10000, 28, 28, 1}), Status::Ok());

  Sequential model("fashion_cnn", /*seed=*/42);
  ASSERT_EQ(model.Add(InputLayer({28, 28, 1}, "image")), Status::Ok());
  ASSERT_EQ(model.Add(layers::Conv2D(32, 3, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(model.Add(MaxPooling2D()), Status::Ok());
  ASSERT_EQ(model.Add(layers::Conv2D(64, 3, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(model.Add(MaxPooling2D()), Status::Ok());
  ASSERT_EQ(model.Add(Flatten()), Status::Ok());
  ASSERT_EQ(model.Add(layers::Dropout(0.5f)), Status::Ok());
  ASSERT_EQ(model.Add(Dense(10)), Status::Ok());
  std::fputs(model.Summary().c_str(), stderr);
  // Keras: 320 + 18,496 + 16,010 = 34,826 parameters.
  ASSERT_EQ(model.CountParams(), (3 * 3 * 1 * 32 + 32) + (3 * 3 * 32 * 64 + 64) + (1600 * 10 + 10));
  ASSERT_EQ(model.Compile(Adam(), SparseCategoricalCrossentropy(/*from_logits=*/true),
                          SparseCategoricalAccuracy()),
            Status::Ok());

  Result<History> h = model.Fit(data->train_x, data->train_y,
                                {.batch_size = 64, .epochs = 2, .seed = 1, .verbose = true});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->steps, 2 * ((60000 + 63) / 64));
  Result<std::map<std::string, double>> eval = model.Evaluate(data->test_x, data->test_y, 500);
  ASSERT_TRUE(eval.ok()) << eval.status();
  const double acc = eval->at("sparse_categorical_accuracy");
  std::fprintf(stderr,
               "fashion-mnist CNN (gemm %s, %d threads): %lld steps in %.2f s (%.1f steps/s), "
               "test accuracy %.4f\n",
               std::string(GemmIsaName(ActiveGemmIsa())).c_str(), NumThreads(),
               static_cast<long long>(h->steps), h->seconds,
               static_cast<double>(h->steps) / h->seconds, acc);
  EXPECT_GE(acc, 0.85);
  RecordProperty("train_seconds", std::to_string(h->seconds));
  RecordProperty("test_accuracy", std::to_string(acc));
}

}  // namespace
}  // namespace edgepipe
