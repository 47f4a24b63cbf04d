#include "edgepipe/data/feature_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/data/example.pb.h"

namespace edgepipe::data {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

// A serialized tf.Example with the given lists.
struct ExampleBuilder {
  tf::Example ex;
  ExampleBuilder& Floats(const std::string& name, std::vector<float> v) {
    auto* l = (*ex.mutable_features()->mutable_feature())[name].mutable_float_list();
    for (float x : v) l->add_value(x);
    return *this;
  }
  ExampleBuilder& Ints(const std::string& name, std::vector<int64_t> v) {
    auto* l = (*ex.mutable_features()->mutable_feature())[name].mutable_int64_list();
    for (int64_t x : v) l->add_value(x);
    return *this;
  }
  ExampleBuilder& Bytes(const std::string& name, std::vector<std::string> v) {
    auto* l = (*ex.mutable_features()->mutable_feature())[name].mutable_bytes_list();
    for (auto& x : v) l->add_value(x);
    return *this;
  }
  ExampleBuilder& Empty(const std::string& name) {
    (*ex.mutable_features()->mutable_feature())[name];
    return *this;
  }
  std::string Serialize() const { return ex.SerializeAsString(); }
};

template <typename T>
std::vector<T> Values(const Array& a) {
  auto d = a.data<T>();
  return {d.begin(), d.end()};
}

TEST(ParseExamplesTest, ParsesFloatIntAndStringFeatures) {
  std::vector<std::string> recs;
  for (int i = 0; i < 3; ++i) {
    recs.push_back(ExampleBuilder()
                       .Floats("x", {1.f * i, 2.f * i, 3.f * i, 4.f * i, 5.f * i, 6.f * i})
                       .Ints("label", {i + 10})
                       .Bytes("tags", {"a" + std::to_string(i), "b" + std::to_string(i)})
                       .Floats("ignored", {9.f})
                       .Serialize());
  }
  std::vector<FeatureSpec> specs = {FeatureSpec::Float32("x", {2, 3}), FeatureSpec::Int64("label"),
                                    FeatureSpec::String("tags", {2})};
  auto b = ParseExamples(recs, specs);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->size, 3);
  EXPECT_EQ(b->arrays.size(), 2u);  // "ignored" is not in the specs
  auto x = b->GetArray("x");
  ASSERT_TRUE(x.ok());
  EXPECT_EQ((*x)->dtype(), DType::kFloat32);
  EXPECT_EQ((*x)->shape(), (std::vector<int64_t>{3, 2, 3}));
  EXPECT_THAT(Values<float>(**x),
              ElementsAreArray<float>({0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 2, 4, 6, 8, 10, 12}));
  auto label = b->GetArray("label");
  ASSERT_TRUE(label.ok());
  EXPECT_EQ((*label)->dtype(), DType::kInt64);
  EXPECT_EQ((*label)->shape(), (std::vector<int64_t>{3}));
  EXPECT_THAT(Values<int64_t>(**label), ElementsAre(10, 11, 12));
  auto tags = b->GetStrings("tags");
  ASSERT_TRUE(tags.ok());
  EXPECT_THAT(**tags, ElementsAre("a0", "b0", "a1", "b1", "a2", "b2"));
  EXPECT_EQ(b->GetArray("tags").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(b->GetStrings("x").status().message(), "batch has no string feature x");
}

TEST(ParseExamplesTest, ValueCountTypeAndPresenceErrorsNameRecordAndFeature) {
  ExampleParser parser = *ExampleParser::Create(
      {FeatureSpec::Float32("image_floats", {784}), FeatureSpec::Int64("image_class")});
  std::vector<float> good(784, 0.25f), bad(783, 0.25f);
  std::vector<std::string> recs = {
      ExampleBuilder().Floats("image_floats", good).Ints("image_class", {1}).Serialize(),
      ExampleBuilder().Floats("image_floats", good).Ints("image_class", {2}).Serialize(),
      ExampleBuilder().Floats("image_floats", bad).Ints("image_class", {3}).Serialize()};
  auto r = parser.Parse(recs, /*first_index=*/10);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "record 12: feature image_floats has 783 values, spec needs 784");

  recs[2] = ExampleBuilder().Floats("image_floats", good).Floats("image_class", {3}).Serialize();
  EXPECT_EQ(parser.Parse(recs).status().message(),
            "record 2: feature image_class is float_list, spec needs int64 (int64_list)");
  recs[2] = ExampleBuilder().Floats("image_floats", good).Serialize();
  EXPECT_EQ(parser.Parse(recs).status().message(),
            "record 2: feature image_class is missing and its spec has no default");
  recs[2] = ExampleBuilder().Floats("image_floats", good).Empty("image_class").Serialize();
  EXPECT_THAT(parser.Parse(recs).status().message(),
              HasSubstr("record 2: feature image_class is an empty Feature"));
  recs[2] = "\xff\xff\xff";  // not a protobuf message
  EXPECT_EQ(parser.Parse(recs).status().message(), "record 2: not a valid serialized tf.Example");

  // The parser is reusable after an error.
  recs.pop_back();
  auto ok = parser.Parse(recs);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->size, 2);
  EXPECT_THAT(Values<int64_t>(ok->arrays.at("image_class")), ElementsAre(1, 2));
}

TEST(ParseExamplesTest, DefaultsFillMissingFeatures) {
  std::vector<FeatureSpec> specs = {
      FeatureSpec::Float32("v", {3}).WithDefault(std::vector<float>{-1.f}),
      FeatureSpec::Int64("k", {2}).WithDefault(std::vector<int64_t>{7, 8}),
      FeatureSpec::String("s").WithDefault(std::vector<std::string>{"none"})};
  std::vector<std::string> recs = {
      ExampleBuilder().Serialize(),
      ExampleBuilder().Floats("v", {1, 2, 3}).Ints("k", {4, 5}).Bytes("s", {"yes"}).Serialize()};
  auto b = ParseExamples(recs, specs);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_THAT(Values<float>(b->arrays.at("v")), ElementsAre(-1, -1, -1, 1, 2, 3));
  EXPECT_THAT(Values<int64_t>(b->arrays.at("k")), ElementsAre(7, 8, 4, 5));
  EXPECT_THAT(b->strings.at("s"), ElementsAre("none", "yes"));
}

TEST(ParseExamplesTest, EmptyInputGivesEmptyBatch) {
  std::vector<FeatureSpec> specs = {FeatureSpec::Float32("v", {3})};
  auto b = ParseExamples({}, specs);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->size, 0);
  EXPECT_EQ(b->arrays.at("v").shape(), (std::vector<int64_t>{0, 3}));
}

TEST(FeatureSpecTest, ValidationNamesFeatureAndRule) {
  auto check = [](std::vector<FeatureSpec> specs) { return ValidateFeatureSpecs(specs).message(); };
  EXPECT_EQ(check({FeatureSpec::Float32("")}), "feature spec has an empty name");
  EXPECT_EQ(check({FeatureSpec::Float32("a"), FeatureSpec::Int64("a")}),
            "feature a is specified twice");
  EXPECT_THAT(check({FeatureSpec::Float32("a", {2, -1})}), HasSubstr("feature a: shape [2, -1]"));
  EXPECT_EQ(check({FeatureSpec::Float32("a").WithDefault(std::vector<int64_t>{1})}),
            "feature a is float32 but has a default of another type");
  EXPECT_EQ(check({FeatureSpec::Float32("a", {4}).WithDefault(std::vector<float>{1, 2})}),
            "feature a: default has 2 values, shape [4] needs 1 or 4");
  FeatureSpec no_flag = FeatureSpec::Int64("a");
  no_flag.default_int64 = {1};
  EXPECT_EQ(check({no_flag}), "feature a has default values but has_default is false");
  EXPECT_TRUE(ValidateFeatureSpecs(
                  std::vector<FeatureSpec>{
                      FeatureSpec::Float32("a", {4}).WithDefault(std::vector<float>{1, 2, 3, 4}),
                      FeatureSpec::String("b", {})})
                  .ok());
  EXPECT_EQ(ExampleParser::Create({FeatureSpec::Float32("")}).status().code(),
            StatusCode::kInvalidArgument);
}

// Reads the payloads of an uncompressed TFRecord file (framing only: the
// CRCs are not checked here; the TFRecord reader proper does that).
std::vector<std::string> ReadTfRecordPayloads(const std::string& path) {
  auto data = ReadFileToString(path);
  EXPECT_TRUE(data.ok()) << data.status();
  std::vector<std::string> out;
  if (!data.ok()) return out;
  size_t pos = 0;
  while (pos + 12 <= data->size()) {
    uint64_t len;
    std::memcpy(&len, data->data() + pos, 8);  // little-endian on our hosts
    pos += 12;
    if (pos + len + 4 > data->size()) {
      ADD_FAILURE() << "truncated record";
      break;
    }
    out.emplace_back(data->substr(pos, len));
    pos += len + 4;
  }
  EXPECT_EQ(pos, data->size());
  return out;
}

TEST(ParseExamplesTest, ParsesTensorFlowWrittenMnistExamples) {
  const std::string path = EDGEPIPE_SHARED_DIR "/fixtures/tfx/mnist.tfrecord";
  std::vector<std::string> recs = ReadTfRecordPayloads(path);
  ASSERT_EQ(recs.size(), 1000u);
  std::vector<FeatureSpec> specs = {FeatureSpec::Float32("image_floats", {784}),
                                    FeatureSpec::Int64("image_class")};
  auto b = ParseExamples(recs, specs);
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->arrays.at("image_floats").shape(), (std::vector<int64_t>{1000, 784}));
  auto cls = b->arrays.at("image_class").data<int64_t>();
  EXPECT_EQ(cls[0], 9);  // documented in the fixtures README
  int per_class[10] = {};
  for (int64_t c : cls) {
    ASSERT_GE(c, 0);
    ASSERT_LE(c, 9);
    ++per_class[c];
  }
  for (int c = 0; c < 10; ++c) EXPECT_GT(per_class[c], 0) << c;
  float lo = 1, hi = -1;
  for (float v : b->arrays.at("image_floats").data<float>()) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  EXPECT_EQ(lo, -0.5f);
  EXPECT_EQ(hi, 0.5f);
  // The values equal what protobuf itself decodes for a record.
  tf::Example ex;
  ASSERT_TRUE(ex.ParseFromString(recs[417]));
  const auto& fl = ex.features().feature().at("image_floats").float_list().value();
  auto img = b->arrays.at("image_floats").data<float>().subspan(417 * 784, 784);
  EXPECT_TRUE(std::equal(fl.begin(), fl.end(), img.begin()));
}

}  // namespace
}  // namespace edgepipe::data
