#include "edgepipe/components/schema_gen.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using testing::ExampleBuilder;
using ::testing::HasSubstr;

tfmd::DatasetFeatureStatistics Stats(const std::vector<tf::Example>& examples,
                                     std::string_view name = "train") {
  StatisticsAccumulator acc;
  for (const auto& e : examples) EXPECT_TRUE(acc.Add(e).ok());
  return acc.Finish(name);
}

const tfmd::Feature* Find(const tfmd::Schema& s, std::string_view name) {
  for (const auto& f : s.feature()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

SchemaInferenceOptions NoShapes() {
  SchemaInferenceOptions o;
  o.infer_feature_shape = false;
  return o;
}

SchemaInferenceOptions MaxDomain(int n) {
  SchemaInferenceOptions o;
  o.max_string_domain_size = n;
  return o;
}

// image: 4 floats always; label: 1 int always; tag: 0-2 strings, sometimes
// missing; color: one of three strings.
std::vector<tf::Example> Examples() {
  std::vector<tf::Example> out;
  const char* colors[] = {"red", "green", "blue"};
  for (int i = 0; i < 12; ++i) {
    ExampleBuilder b;
    b.Floats("image", {0.1f * i, 0, 1, 2}).Ints("label", {i % 3}).Bytes("color", {colors[i % 3]});
    if (i % 4 != 0) {
      std::string tag = "t";
      tag += std::to_string(i);
      std::vector<std::string> tags(static_cast<size_t>(i % 3), tag);
      b.Bytes("tag", tags);
    }
    out.push_back(b.Build());
  }
  return out;
}

TEST(InferSchemaTest, TypesPresenceShapesAndDomains) {
  tfmd::Schema s = InferSchema(Stats(Examples()));
  ASSERT_EQ(s.feature_size(), 4);

  const tfmd::Feature* image = Find(s, "image");
  EXPECT_EQ(image->type(), tfmd::FLOAT);
  EXPECT_EQ(image->presence().min_fraction(), 1.0);
  EXPECT_EQ(image->presence().min_count(), 1);
  ASSERT_TRUE(image->has_shape());
  ASSERT_EQ(image->shape().dim_size(), 1);
  EXPECT_EQ(image->shape().dim(0).size(), 4);

  const tfmd::Feature* label = Find(s, "label");
  EXPECT_EQ(label->type(), tfmd::INT);
  EXPECT_EQ(label->shape().dim(0).size(), 1);
  EXPECT_FALSE(label->has_domain());

  const tfmd::Feature* tag = Find(s, "tag");
  EXPECT_EQ(tag->type(), tfmd::BYTES);
  EXPECT_FALSE(tag->presence().has_min_fraction());  // missing in some
  EXPECT_EQ(tag->presence().min_count(), 1);
  ASSERT_TRUE(tag->has_value_count());
  EXPECT_FALSE(tag->value_count().has_min());  // some lists are empty
  EXPECT_FALSE(tag->value_count().has_max());

  const tfmd::Feature* color = Find(s, "color");
  EXPECT_EQ(color->domain(), "color");
  ASSERT_EQ(s.string_domain_size(), 2);  // color and tag (few distinct values)
  const tfmd::StringDomain* d = nullptr;
  for (const auto& sd : s.string_domain()) {
    if (sd.name() == "color") d = &sd;
  }
  ASSERT_NE(d, nullptr);
  EXPECT_THAT(d->value(), ElementsAre("blue", "green", "red"));
}

TEST(InferSchemaTest, WithoutShapeInferenceFixedCountsAreValueCounts) {
  tfmd::Schema s = InferSchema(Stats(Examples()), NoShapes());
  const tfmd::Feature* image = Find(s, "image");
  ASSERT_TRUE(image->has_value_count());
  EXPECT_EQ(image->value_count().min(), 4);
  EXPECT_EQ(image->value_count().max(), 4);
}

TEST(InferSchemaTest, ManyDistinctStringsHaveNoDomain) {
  std::vector<tf::Example> ex;
  for (int i = 0; i < 30; ++i)
    ex.push_back(ExampleBuilder().Bytes("id", {std::to_string(i)}).Build());
  tfmd::Schema s = InferSchema(Stats(ex), MaxDomain(10));
  EXPECT_FALSE(Find(s, "id")->has_domain());
  EXPECT_EQ(s.string_domain_size(), 0);
}

TEST(UpdateSchemaTest, RelaxesPresenceCountsAndDomains) {
  tfmd::Schema s = InferSchema(Stats(Examples()));
  std::vector<tf::Example> eval = {
      ExampleBuilder().Floats("image", {1, 2}).Ints("label", {1}).Bytes("color", {"pink"}).Build(),
      ExampleBuilder().Floats("image", {1, 2, 3, 4, 5}).Bytes("color", {"red"}).Build()};
  ASSERT_TRUE(UpdateSchema(Stats(eval, "eval"), {}, &s).ok());
  const tfmd::Feature* image = Find(s, "image");
  ASSERT_TRUE(image->has_value_count());
  EXPECT_EQ(image->value_count().min(), 2);
  EXPECT_EQ(image->value_count().max(), 5);
  EXPECT_FALSE(Find(s, "label")->presence().has_min_fraction());
  EXPECT_FALSE(Find(s, "tag")->presence().has_min_fraction());
  for (const auto& d : s.string_domain()) {
    if (d.name() == "color") {
      EXPECT_THAT(d.value(), ElementsAre("blue", "green", "pink", "red"));
    }
  }
}

TEST(UpdateSchemaTest, TypeClashIsAnError) {
  tfmd::Schema s = InferSchema(Stats({ExampleBuilder().Ints("x", {1}).Build()}));
  Status st = UpdateSchema(Stats({ExampleBuilder().Floats("x", {1}).Build()}, "eval"), {}, &s);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(st.message(), HasSubstr("feature \"x\": type FLOAT in split \"eval\", INT"));
}

class SchemaGenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteExamplesSplit(tmp_.Join("examples"), "train", Examples(), 2);
    testing::WriteExamplesSplit(tmp_.Join("examples"), "eval", Examples(), 1);
    auto r = RunStatisticsGen(testing::StatsGenOptions(tmp_.Join("examples"), stats_));
    ASSERT_TRUE(r.ok()) << r.status();
  }
  pipeline::ExecutionContext Context(pipeline::Params params = {}) {
    return testing::MakeContext(
        SchemaGenSpec(),
        {{"statistics",
          {testing::MakeArtifact(pipeline::artifact_type::kExampleStatistics, stats_)}}},
        {{"schema", {testing::MakeArtifact(pipeline::artifact_type::kSchema, schema_)}}},
        std::move(params));
  }
  TempDir tmp_;
  std::string stats_ = tmp_.Join("stats");
  std::string schema_ = tmp_.Join("schema");
};

TEST_F(SchemaGenTest, ExecutorWritesSchemaPbtxtThatReadsBack) {
  auto ctx = Context();
  Status s = MakeSchemaGenExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  auto text = ReadFileToString(JoinPath(schema_, "schema.pbtxt"));
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("name: \"image\""));
  EXPECT_THAT(*text, HasSubstr("shape {\n    dim {\n      size: 4"));
  auto back = ReadSchema(schema_);
  ASSERT_TRUE(back.ok()) << back.status();
  auto direct = ReadStatistics(stats_, "train");
  ASSERT_TRUE(direct.ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(*back, InferSchema(direct->datasets(0))));
}

TEST_F(SchemaGenTest, WrongParamTypeNamesParam) {
  auto ctx = Context({{"infer_feature_shape", std::string("yes")}});
  Status s = MakeSchemaGenExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("parameter \"infer_feature_shape\""));
}

TEST_F(SchemaGenTest, MissingStatisticsFolderNamesFolder) {
  ASSERT_TRUE(Env::Default()->RemoveAll(stats_).ok());
  auto ctx = Context();
  Status s = MakeSchemaGenExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(stats_));
}

TEST_F(SchemaGenTest, MissingStatisticsFileNamesFile) {
  ASSERT_TRUE(Env::Default()->RemoveFile(JoinPath(stats_, "Split-eval/FeatureStats.pb")).ok());
  SchemaGenOptions options;
  options.statistics = stats_;
  options.output = schema_;
  auto r = RunSchemaGen(options);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("Split-eval/FeatureStats.pb"));
}

TEST(ReadSchemaTest, ParseErrorNamesFileAndLine) {
  TempDir tmp;
  std::string path = tmp.Join("schema.pbtxt");
  ASSERT_TRUE(WriteFileAtomic(path, "feature {\n  name: \"x\"\n  bogus: 3\n}\n").ok());
  auto r = ReadSchema(path);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(path));
  EXPECT_THAT(r.status().message(), HasSubstr("line 3"));
}

}  // namespace
}  // namespace edgepipe::components
