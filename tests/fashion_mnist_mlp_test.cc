// Integration: the guide's MNIST MLP trained on Fashion-MNIST (Debian's
// dataset-fashion-mnist, gzip IDX files) for 5000 steps of batch 40 with
// RMSprop(0.0015), evaluated on the 10,000 test images: accuracy >= 0.83.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "edgepipe/core/array.h"
#include "edgepipe/data/compression.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe {
namespace {

constexpr char kDir[] = "/usr/share/datasets/fashion-mnist/";

Result<std::string> ReadAll(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, data::OpenMaybeGzip(path));
  std::string out;
  char buf[1 << 16];
  while (true) {
    ASSIGN_OR_RETURN(size_t n, file->Read(buf, sizeof buf));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

// IDX: 0x00 0x00 type(0x08 = uint8) rank, then rank big-endian uint32 dims,
// then the data. Images become float32 [N, rows*cols] in [0, 1]; labels
// int64 [N].
Result<Array> ReadIdx(const std::string& path, bool images) {
  ASSIGN_OR_RETURN(std::string bytes, ReadAll(path));
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
    return Status::DataLoss(path + ": not a uint8 IDX file");
  }
  const int rank = static_cast<uint8_t>(bytes[3]);
  size_t offset = 4 + 4 * static_cast<size_t>(rank);
  if (bytes.size() < offset) return Status::DataLoss(path + ": truncated header");
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(BigEndian32(bytes, 4 + 4 * static_cast<size_t>(i)));
    count *= dims.back();
  }
  if (bytes.size() - offset != static_cast<size_t>(count)) {
    return Status::DataLoss(path + ": data size does not match the header");
  }
  const auto* src = reinterpret_cast<const uint8_t*>(bytes.data() + offset);
  if (images) {
    ASSIGN_OR_RETURN(Array a, Array::Zeros(DType::kFloat32, {dims[0], count / dims[0]}));
    float* p = a.data<float>().data();
    for (int64_t i = 0; i < count; ++i) p[i] = static_cast<float>(src[i]) / 255.0f;
    return a;
  }
  ASSIGN_OR_RETURN(Array a, Array::Zeros(DType::kInt64, {dims[0]}));
  int64_t* p = a.data<int64_t>().data();
  for (int64_t i = 0; i < count; ++i) p[i] = src[i];
  return a;
}

TEST(FashionMnistMlpTest, GuideMlpReachesAccuracy) {
  using namespace nn;
  using namespace nn::layers;
  Result<Array> train_x = ReadIdx(std::string(kDir) + "train-images-idx3-ubyte.gz", true);
  ASSERT_TRUE(train_x.ok()) << train_x.status();
  Result<Array> train_y = ReadIdx(std::string(kDir) + "train-labels-idx1-ubyte.gz", false);
  ASSERT_TRUE(train_y.ok()) << train_y.status();
  Result<Array> test_x = ReadIdx(std::string(kDir) + "t10k-images-idx3-ubyte.gz", true);
  ASSERT_TRUE(test_x.ok()) << test_x.status();
  Result<Array> test_y = ReadIdx(std::string(kDir) + "t10k-labels-idx1-ubyte.gz", false);
  ASSERT_TRUE(test_y.ok()) << test_y.status();
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
