#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/components/transform.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components {
namespace {

using ::testing::HasSubstr;

void Write(const std::string& path, const std::vector<tf::Example>& examples) {
  auto w = data::TFRecordWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status();
  for (const auto& ex : examples) ASSERT_TRUE((*w)->Write(data::SerializeDeterministic(ex)).ok());
  ASSERT_TRUE((*w)->Close().ok());
}

const data::FeatureSpec* Find(const std::vector<data::FeatureSpec>& specs, const char* name) {
  for (const auto& s : specs) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(TransformImputeTest, MissingNumbersGetTheAnalyzeSplitsMean) {
  TempDir dir;
  // x: float, missing in the 3rd train record; k: int64, missing in one eval
  // record only; s: string, missing once; full: never missing.
  std::vector<tf::Example> train(3), eval(2);
  data::SetFloats(&train[0], "x", std::vector<float>{1.5f});
  data::SetFloats(&train[1], "x", std::vector<float>{4.0f});
  data::SetInt64s(&train[0], "k", std::vector<int64_t>{10});
  data::SetInt64s(&train[1], "k", std::vector<int64_t>{11});
  data::SetInt64s(&train[2], "k", std::vector<int64_t>{11});
  data::SetBytes(&train[0], "s", std::vector<std::string>{"a"});
  data::SetBytes(&train[1], "s", std::vector<std::string>{"b"});
  for (auto* ex : {&train[0], &train[1], &train[2], &eval[0], &eval[1]}) {
    data::SetFloats(ex, "full", std::vector<float>{2});
  }
  data::SetBytes(&train[2], "s", std::vector<std::string>{"c"});
  data::SetBytes(&eval[0], "s", std::vector<std::string>{"c"});
  data::SetBytes(&eval[1], "s", std::vector<std::string>{"c"});
  data::SetFloats(&eval[0], "x", std::vector<float>{100});
  data::SetFloats(&eval[1], "x", std::vector<float>{100});
  data::SetInt64s(&eval[0], "k", std::vector<int64_t>{50});
  train[2].mutable_features()->mutable_feature()->erase("s");  // s missing once in train
  Write(dir.Join("train.tfrecord"), train);
  Write(dir.Join("eval.tfrecord"), eval);

  auto specs = InferRawFeatureSpecs({dir.Join("train.tfrecord")});
  ASSERT_TRUE(specs.ok()) << specs.status();
  ASSERT_TRUE(
      ImputeMissingWithMeans({dir.Join("train.tfrecord")}, {dir.Join("eval.tfrecord")}, *specs)
          .ok());
  const data::FeatureSpec* x = Find(*specs, "x");
  ASSERT_NE(x, nullptr);
  EXPECT_TRUE(x->has_default);
  EXPECT_EQ(x->default_float, std::vector<float>{2.75f});  // (1.5 + 4) / 2, eval not counted
  const data::FeatureSpec* k = Find(*specs, "k");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->has_default);                            // missing in eval only
  EXPECT_EQ(k->default_int64, std::vector<int64_t>{11});  // 32 / 3 = 10.67, rounded
  const data::FeatureSpec* s = Find(*specs, "s");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->has_default);
  EXPECT_EQ(s->default_string, std::vector<std::string>{""});
  const data::FeatureSpec* full = Find(*specs, "full");
  ASSERT_NE(full, nullptr);
  EXPECT_FALSE(full->has_default);
}

TEST(TransformImputeTest, NumberAbsentFromTheAnalyzeSplitIsAnError) {
  TempDir dir;
  std::vector<tf::Example> train(1), eval(1);
  data::SetFloats(&train[0], "y", std::vector<float>{1});
  data::SetFloats(&eval[0], "z", std::vector<float>{1});
  Write(dir.Join("train.tfrecord"), train);
  Write(dir.Join("eval.tfrecord"), eval);
  std::vector<data::FeatureSpec> specs = {data::FeatureSpec::Float32("y"),
                                          data::FeatureSpec::Float32("z")};
  Status st =
      ImputeMissingWithMeans({dir.Join("train.tfrecord")}, {dir.Join("eval.tfrecord")}, specs);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(st.message(), HasSubstr("\"z\""));
}

}  // namespace
}  // namespace edgepipe::components
