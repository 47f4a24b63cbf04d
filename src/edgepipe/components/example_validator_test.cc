#include "edgepipe/components/example_validator.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using testing::ExampleBuilder;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Type = tfmd::AnomalyInfo::Type;

tfmd::DatasetFeatureStatistics Stats(const std::vector<tf::Example>& examples) {
  StatisticsAccumulator acc;
  for (const auto& e : examples) EXPECT_TRUE(acc.Add(e).ok());
  return acc.Finish("eval");
}

tfmd::Schema ParseSchema(const std::string& text) {
  tfmd::Schema s;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &s)) << text;
  return s;
}

// The reason types per feature, as "feature:TYPE".
std::vector<std::string> Kinds(const tfmd::Anomalies& a) {
  std::vector<std::string> out;
  for (const auto& [name, info] : a.anomaly_info()) {
    for (const auto& r : info.reason()) {
      out.push_back(name + ":" + tfmd::AnomalyInfo::Type_Name(r.type()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

const char kSchema[] = R"pb(
  feature {
    name: "image"
    type: FLOAT
    presence { min_fraction: 1 min_count: 1 }
    shape { dim { size: 3 } }
  }
  feature {
    name: "label"
    type: INT
    presence { min_fraction: 1 min_count: 1 }
    shape { dim { size: 1 } }
    int_domain { min: 0 max: 9 }
  }
  feature {
    name: "color"
    type: BYTES
    presence { min_count: 1 }
    value_count { min: 1 max: 1 }
    domain: "color"
  }
  feature {
    name: "score"
    type: FLOAT
    float_domain { min: 0 max: 1 }
  }
  string_domain { name: "color" value: "blue" value: "red" }
)pb";

tf::Example Good(int i) {
  return ExampleBuilder()
      .Floats("image", {1, 2, 3})
      .Ints("label", {i % 10})
      .Bytes("color", {i % 2 ? "red" : "blue"})
      .Floats("score", {0.5f})
      .Build();
}

TEST(ValidateStatisticsTest, ConformingDataHasNoAnomalies) {
  std::vector<tf::Example> ex;
  for (int i = 0; i < 10; ++i) ex.push_back(Good(i));
  tfmd::Anomalies a = ValidateStatistics(Stats(ex), ParseSchema(kSchema));
  EXPECT_THAT(Kinds(a), IsEmpty());
  EXPECT_FALSE(a.data_missing());
  EXPECT_EQ(a.baseline().feature_size(), 4);
}

TEST(ValidateStatisticsTest, MissingRequiredFeature) {
  std::vector<tf::Example> ex = {Good(0), Good(1)};
  for (auto& e : ex) e.mutable_features()->mutable_feature()->erase("label");
  EXPECT_THAT(Kinds(ValidateStatistics(Stats(ex), ParseSchema(kSchema))),
              ElementsAre("label:SCHEMA_MISSING_COLUMN"));
}

TEST(ValidateStatisticsTest, PartlyMissingRequiredFeature) {
  std::vector<tf::Example> ex = {Good(0), Good(1), Good(2), Good(3)};
  ex[1].mutable_features()->mutable_feature()->erase("image");
  tfmd::Anomalies a = ValidateStatistics(Stats(ex), ParseSchema(kSchema));
  EXPECT_THAT(Kinds(a), ElementsAre("image:FEATURE_TYPE_LOW_FRACTION_PRESENT"));
  EXPECT_THAT(a.anomaly_info().at("image").description(), HasSubstr("0.75 < min_fraction 1"));
}

TEST(ValidateStatisticsTest, WrongType) {
  std::vector<tf::Example> ex = {Good(0)};
  data::SetInt64s(&ex[0], "image", std::vector<int64_t>{1, 2, 3});
  tfmd::Anomalies a = ValidateStatistics(Stats(ex), ParseSchema(kSchema));
  EXPECT_THAT(Kinds(a), ElementsAre("image:UNEXPECTED_DATA_TYPE"));
  EXPECT_EQ(a.anomaly_info().at("image").description(),
            "Expected data of type: FLOAT but got INT.");
}

TEST(ValidateStatisticsTest, WrongValueCount) {
  std::vector<tf::Example> ex = {Good(0), Good(1)};
  data::SetFloats(&ex[0], "image", std::vector<float>{1, 2});
  data::SetBytes(&ex[1], "color", std::vector<std::string>{"red", "blue"});
  EXPECT_THAT(
      Kinds(ValidateStatistics(Stats(ex), ParseSchema(kSchema))),
      ElementsAre("color:FEATURE_TYPE_HIGH_NUMBER_VALUES", "image:FEATURE_TYPE_LOW_NUMBER_VALUES"));
}

TEST(ValidateStatisticsTest, ValuesOutOfDomain) {
  std::vector<tf::Example> ex = {Good(0), Good(1), Good(2)};
  data::SetBytes(&ex[0], "color", std::vector<std::string>{"green"});
  data::SetInt64s(&ex[1], "label", std::vector<int64_t>{12});
  data::SetFloats(&ex[2], "score", std::vector<float>{-0.5f});
  tfmd::Anomalies a = ValidateStatistics(Stats(ex), ParseSchema(kSchema));
  EXPECT_THAT(Kinds(a), ElementsAre("color:ENUM_TYPE_UNEXPECTED_STRING_VALUES",
                                    "label:INT_TYPE_BIG_INT", "score:FLOAT_TYPE_SMALL_FLOAT"));
  EXPECT_THAT(a.anomaly_info().at("color").description(), HasSubstr("\"green\""));
}

TEST(ValidateStatisticsTest, UnexpectedFeature) {
  std::vector<tf::Example> ex = {Good(0)};
  data::SetFloats(&ex[0], "extra", std::vector<float>{1});
  EXPECT_THAT(Kinds(ValidateStatistics(Stats(ex), ParseSchema(kSchema))),
              ElementsAre("extra:SCHEMA_NEW_COLUMN"));
}

TEST(ValidateStatisticsTest, NoExamplesIsDataMissing) {
  tfmd::Anomalies a = ValidateStatistics(Stats({}), ParseSchema(kSchema));
  EXPECT_TRUE(a.data_missing());
}

// Statistics and schema inferred from the same data agree; changed data
// does not. Through the artifacts and the executor.
class ExampleValidatorTest : public ::testing::Test {
 protected:
  void Prepare(const std::vector<tf::Example>& train, const std::vector<tf::Example>& eval) {
    testing::WriteExamplesSplit(tmp_.Join("examples"), "train", train);
    testing::WriteExamplesSplit(tmp_.Join("examples"), "eval", eval);
    ASSERT_TRUE(RunStatisticsGen(testing::StatsGenOptions(tmp_.Join("examples"), stats_)).ok());
    tfmd::Schema schema = InferSchema(ReadStatistics(stats_, "train")->datasets(0));
    ASSERT_TRUE(Env::Default()->CreateDirs(schema_).ok());
    ASSERT_TRUE(WriteSchema(schema, JoinPath(schema_, "schema.pbtxt")).ok());
  }
  pipeline::ExecutionContext Context(pipeline::Params params = {}) {
    return testing::MakeContext(
        ExampleValidatorSpec(),
        {{"statistics",
          {testing::MakeArtifact(pipeline::artifact_type::kExampleStatistics, stats_)}},
         {"schema", {testing::MakeArtifact(pipeline::artifact_type::kSchema, schema_)}}},
        {{"anomalies", {testing::MakeArtifact(pipeline::artifact_type::kExampleAnomalies, out_)}}},
        std::move(params));
  }
  TempDir tmp_;
  std::string stats_ = tmp_.Join("stats");
  std::string schema_ = tmp_.Join("schema");
  std::string out_ = tmp_.Join("anomalies");
};

TEST_F(ExampleValidatorTest, ReportsAnomaliesWithoutFailing) {
  std::vector<tf::Example> train, eval;
  for (int i = 0; i < 8; ++i) train.push_back(Good(i));
  for (int i = 0; i < 4; ++i) eval.push_back(Good(i));
  data::SetBytes(&eval[2], "color", std::vector<std::string>{"purple"});
  Prepare(train, eval);
  auto ctx = Context();
  Status s = MakeExampleValidatorExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  const auto& props = ctx.outputs["anomalies"][0].properties;
  EXPECT_EQ(std::get<int64_t>(props.at("num_anomalies")), 1);
  EXPECT_EQ(std::get<std::string>(props.at("split_names")), "[\"eval\",\"train\"]");
  auto train_anomalies = ReadAnomalies(out_, "train");
  ASSERT_TRUE(train_anomalies.ok()) << train_anomalies.status();
  EXPECT_THAT(Kinds(*train_anomalies), IsEmpty());
  auto eval_anomalies = ReadAnomalies(out_, "eval");
  ASSERT_TRUE(eval_anomalies.ok());
  EXPECT_THAT(Kinds(*eval_anomalies), ElementsAre("color:ENUM_TYPE_UNEXPECTED_STRING_VALUES"));
}

TEST_F(ExampleValidatorTest, FailOnAnomaliesFailsAfterWriting) {
  std::vector<tf::Example> train = {Good(0), Good(1)}, eval = {Good(2)};
  data::SetFloats(&eval[0], "image", std::vector<float>{1});
  Prepare(train, eval);
  auto ctx = Context({{"fail_on_anomalies", int64_t{1}}});
  Status s = MakeExampleValidatorExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("1 anomalies found"));
  EXPECT_THAT(s.message(), HasSubstr("eval/image: Missing values"));
  EXPECT_TRUE(ReadAnomalies(out_, "eval").ok());
}

TEST_F(ExampleValidatorTest, MissingSchemaFolderNamesFolder) {
  Prepare({Good(0)}, {Good(1)});
  ASSERT_TRUE(Env::Default()->RemoveAll(schema_).ok());
  auto ctx = Context();
  Status s = MakeExampleValidatorExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("input \"schema\""));
  EXPECT_THAT(s.message(), HasSubstr(schema_));
}

TEST_F(ExampleValidatorTest, WrongParamTypeNamesParam) {
  Prepare({Good(0)}, {Good(1)});
  auto ctx = Context({{"fail_on_anomalies", 1.5}});
  Status s = MakeExampleValidatorExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("parameter \"fail_on_anomalies\" is double 1.5"));
}

}  // namespace
}  // namespace edgepipe::components
