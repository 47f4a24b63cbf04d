#include "edgepipe/core/status.h"

#include <gtest/gtest.h>

namespace edgepipe {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::InvalidArgument("value " + std::to_string(v) + " must be positive");
  return v;
}

Status UsesMacros(int v, int* out) {
  ASSIGN_OR_RETURN(int parsed, ParsePositive(v));
  RETURN_IF_ERROR(parsed > 100 ? Status::OutOfRange("too big") : Status::Ok());
  *out = parsed;
  return Status::Ok();
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::DataLoss("f.tfrecord: record 3: data crc mismatch");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.ToString(), "DataLoss: f.tfrecord: record 3: data crc mismatch");
  EXPECT_EQ(s.WithContext("ExampleGen").message(),
            "ExampleGen: f.tfrecord: record 3: data crc mismatch");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(StatusTest, MacrosPropagate) {
  int out = 0;
  EXPECT_TRUE(UsesMacros(5, &out).ok());
  EXPECT_EQ(out, 5);
  Status neg = UsesMacros(-1, &out);
  EXPECT_EQ(neg.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(neg.message(), "value -1 must be positive");
  EXPECT_EQ(UsesMacros(101, &out).code(), StatusCode::kOutOfRange);
}

TEST(ResultTest, ValueAndError) {
  Result<std::string> r = std::string("abc");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(r->size(), 3u);
  Result<std::string> e = Status::NotFound("nope");
  EXPECT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(e.value_or("x"), "x");
}

}  // namespace
}  // namespace edgepipe
