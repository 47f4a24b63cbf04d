// Tensor: construction, alignment, sharing semantics, conversions, and the
// buffer pool (a training loop in steady state allocates nothing new).
#include "edgepipe/nn/tensor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::nn {
namespace {

TEST(TensorTest, ShapeAlignmentAndSharing) {
  Tensor t = Tensor::Filled({2, 3}, 1.5f);
  EXPECT_EQ(t.shape(), (Shape{2, 3}));
  EXPECT_EQ(t.size(), 6);
  EXPECT_EQ(t.dim(-1), 3);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % 64, 0u);
  Tensor shared = t;
  shared.data()[0] = 7;
  EXPECT_EQ(t.data()[0], 7);  // copies share storage
  Tensor deep = t.Clone();
  deep.data()[1] = 9;
  EXPECT_EQ(t.data()[1], 1.5f);
  Tensor r = t.Reshaped({3, 2});
  EXPECT_EQ(r.data(), t.data());
  EXPECT_FALSE(Tensor().defined());
  Tensor scalar = Tensor::Zeros({});
  EXPECT_EQ(scalar.size(), 1);
}

TEST(TensorTest, FromVectorAndArrays) {
  EXPECT_FALSE(Tensor::FromVector({2, 2}, std::vector<float>{1, 2, 3}).ok());
  Array u8 = *Array::FromVector<uint8_t>({3}, std::vector<uint8_t>{0, 128, 255});
  Tensor t = *Tensor::FromArray(u8);
  EXPECT_THAT(t.ToVector(), ::testing::ElementsAre(0, 128, 255));
  Array back = t.ToArray();
  EXPECT_EQ(back.dtype(), DType::kFloat32);
  EXPECT_THAT(back.data<float>(), ::testing::ElementsAre(0, 128, 255));
  Array i64 = *Array::FromVector<int64_t>({2}, std::vector<int64_t>{-3, 4});
  EXPECT_THAT(Tensor::FromArray(i64)->ToVector(), ::testing::ElementsAre(-3, 4));
}

TEST(TensorTest, KerasShapeString) {
  EXPECT_EQ(KerasShapeString({-1, 28, 28, 1}), "(None, 28, 28, 1)");
  EXPECT_EQ(KerasShapeString({-1}), "(None,)");
}

TEST(TensorTest, PoolReusesBuffers) {
  const int64_t before = TensorPoolSystemAllocations();
  { Tensor a = Tensor::Empty({1000, 17}); }
  const int64_t after_first = TensorPoolSystemAllocations();
  EXPECT_EQ(after_first, before + 1);
  { Tensor b = Tensor::Empty({17, 1000}); }  // same byte size: reused
  EXPECT_EQ(TensorPoolSystemAllocations(), after_first);
}

TEST(TensorTest, TrainingLoopInSteadyStateAllocatesNoBuffers) {
  Sequential m("m", 1);
  ASSERT_EQ(m.Add(layers::InputLayer({20})), Status::Ok());
  ASSERT_EQ(m.Add(layers::Dense(16, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(m.Add(layers::Dropout(0.2f)), Status::Ok());
  ASSERT_EQ(m.Add(layers::Dense(3)), Status::Ok());
  ASSERT_EQ(m.Compile(RMSprop(), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy()),
            Status::Ok());
  Array x = *Array::Zeros(DType::kFloat32, {64, 20});
  Array y = *Array::Zeros(DType::kInt64, {64});
  ASSERT_TRUE(m.Fit(x, y, {.batch_size = 8, .steps_per_epoch = 5}).ok());
  const int64_t warm = TensorPoolSystemAllocations();
  ASSERT_TRUE(m.Fit(x, y, {.batch_size = 8, .steps_per_epoch = 50}).ok());
  EXPECT_EQ(TensorPoolSystemAllocations(), warm);
}

}  // namespace
}  // namespace edgepipe::nn
