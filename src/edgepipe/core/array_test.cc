#include "edgepipe/core/array.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

namespace edgepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ArrayTest, ZerosIsZeroFilledAndAligned) {
  Result<Array> a = Array::Zeros(DType::kFloat32, {3, 5});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype(), DType::kFloat32);
  EXPECT_EQ(a->rank(), 2);
  EXPECT_EQ(a->dim(0), 3);
  EXPECT_EQ(a->dim(1), 5);
  EXPECT_EQ(a->num_elements(), 15);
  EXPECT_EQ(a->num_bytes(), 60u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a->raw_data()) % 64, 0u);
  for (float v : a->data<float>()) EXPECT_EQ(v, 0.0f);

  Result<Array> scalar = Array::Zeros(DType::kInt64, {});
  ASSERT_TRUE(scalar.ok());
  EXPECT_EQ(scalar->num_elements(), 1);  // rank 0 holds one element
  Result<Array> empty = Array::Zeros(DType::kInt8, {4, 0});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->num_elements(), 0);
  EXPECT_NE(empty->raw_data(), nullptr);
}

TEST(ArrayTest, ZerosRejectsNegativeAndHugeShapes) {
  Result<Array> neg = Array::Zeros(DType::kFloat32, {2, -1});
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(neg.status().message(), HasSubstr("[2, -1]"));
  EXPECT_THAT(neg.status().message(), HasSubstr("negative"));

  // Fits int64 elements but not memory in bytes.
  Result<Array> huge = Array::Zeros(DType::kInt64, {int64_t{1} << 61});
  ASSERT_FALSE(huge.ok());
  EXPECT_THAT(huge.status().message(), HasSubstr("too large"));
}

TEST(ArrayTest, NumElementsOverflow) {
  const int64_t big = int64_t{1} << 32;
  std::vector<int64_t> shape = {big, big};
  Result<int64_t> n = NumElements(shape);
  ASSERT_FALSE(n.ok());
  EXPECT_THAT(n.status().message(), HasSubstr("overflows int64"));
  shape = {std::numeric_limits<int64_t>::max(), 1};
  n = NumElements(shape);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, std::numeric_limits<int64_t>::max());
  shape = {std::numeric_limits<int64_t>::max(), 2};
  EXPECT_FALSE(NumElements(shape).ok());
  shape = {0, std::numeric_limits<int64_t>::max(), 2};  // zero wins, no overflow
  n = NumElements(shape);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0);
  shape = {};
  EXPECT_EQ(NumElements(shape).value_or(-1), 1);
}

TEST(ArrayTest, FromVectorChecksSize) {
  std::vector<int32_t> v = {1, 2, 3, 4, 5, 6};
  Result<Array> a = Array::FromVector<int32_t>({2, 3}, v);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype(), DType::kInt32);
  EXPECT_THAT(a->data<int32_t>(), ElementsAre(1, 2, 3, 4, 5, 6));

  Result<Array> bad = Array::FromVector<int32_t>({4, 2}, v);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message(), "array of shape [4, 2] needs 8 values, got 6");
}

TEST(ArrayTest, Reshape) {
  std::vector<float> v = {1, 2, 3, 4, 5, 6};
  Result<Array> a = Array::FromVector<float>({6}, v);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a->Reshape({3, 2}).ok());
  EXPECT_THAT(a->shape(), ElementsAre(3, 2));
  EXPECT_THAT(a->data<float>(), ElementsAre(1, 2, 3, 4, 5, 6));
  Status s = a->Reshape({4, 2});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "cannot reshape [3, 2] (6 elements) to [4, 2]");
  EXPECT_THAT(a->shape(), ElementsAre(3, 2));  // unchanged on failure
  EXPECT_FALSE(a->Reshape({-1, -6}).ok());
  ASSERT_TRUE(a->Reshape({1, 6, 1}).ok());
  EXPECT_EQ(a->rank(), 3);
}

TEST(ArrayTest, CopiesAreDeep) {
  std::vector<uint8_t> v = {1, 2, 3};
  Result<Array> a = Array::FromVector<uint8_t>({3}, v);
  ASSERT_TRUE(a.ok());
  Array copy = *a;
  EXPECT_NE(copy.raw_data(), a->raw_data());
  copy.data<uint8_t>()[0] = 99;
  EXPECT_EQ(a->data<uint8_t>()[0], 1);
  EXPECT_THAT(copy.data<uint8_t>(), ElementsAre(99, 2, 3));

  Array assigned;
  assigned = copy;
  assigned.data<uint8_t>()[1] = 42;
  EXPECT_THAT(copy.data<uint8_t>(), ElementsAre(99, 2, 3));
  EXPECT_THAT(assigned.data<uint8_t>(), ElementsAre(99, 42, 3));
  assigned = assigned;  // self-assignment keeps the data
  EXPECT_THAT(assigned.data<uint8_t>(), ElementsAre(99, 42, 3));

  Array moved = std::move(assigned);
  EXPECT_THAT(moved.data<uint8_t>(), ElementsAre(99, 42, 3));

  Array empty;
  Array empty_copy = empty;
  EXPECT_EQ(empty_copy.raw_data(), nullptr);
  EXPECT_EQ(empty_copy.num_elements(), 0);
}

TEST(ArrayTest, DTypeNamesAndSizes) {
  const std::pair<DType, size_t> kSizes[] = {{DType::kFloat32, 4}, {DType::kInt8, 1},
                                             {DType::kUInt8, 1},   {DType::kInt32, 4},
                                             {DType::kInt64, 8},   {DType::kBool, 1}};
  for (const auto& [t, size] : kSizes) {
    EXPECT_EQ(DTypeSize(t), size);
    Result<DType> parsed = ParseDType(DTypeName(t));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, t);
  }
  Result<DType> bad = ParseDType("float64");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("\"float64\""));
  EXPECT_EQ(ShapeToString(std::vector<int64_t>{}), "[]");
  EXPECT_EQ(ShapeToString(std::vector<int64_t>{2, 784}), "[2, 784]");
}

}  // namespace
}  // namespace edgepipe
