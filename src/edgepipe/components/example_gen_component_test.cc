#include "edgepipe/components/example_gen_component.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/component_util.h"
#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using testing::ExampleBuilder;
using ::testing::HasSubstr;

class ExampleGenComponentTest : public ::testing::Test {
 protected:
  pipeline::ExecutionContext Context(pipeline::Params params) {
    return testing::MakeContext(
        ExampleGenSpec(), {},
        {{"examples", {testing::MakeArtifact(pipeline::artifact_type::kExamples, out_)}}},
        std::move(params));
  }
  TempDir tmp_;
  std::string out_ = tmp_.Join("ExampleGen/examples/1");
};

TEST_F(ExampleGenComponentTest, CsvIntoSplitsWithSplitNames) {
  std::string csv = tmp_.Join("data.csv");
  std::string text = "x,name\n";
  for (int i = 0; i < 60; ++i) text += std::to_string(i) + ",n" + std::to_string(i % 4) + "\n";
  ASSERT_TRUE(WriteFileAtomic(csv, text).ok());
  auto ctx = Context({{"input_base", csv},
                      {"input_format", std::string("csv")},
                      {"splits", std::string("train:3,eval:1")}});
  Status s = MakeExampleGenExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  const auto& props = ctx.outputs["examples"][0].properties;
  EXPECT_EQ(std::get<std::string>(props.at("split_names")), "[\"train\",\"eval\"]");
  auto splits = ListSplits(out_);
  ASSERT_TRUE(splits.ok());
  EXPECT_THAT(*splits, ElementsAre("eval", "train"));
  // Every row is in exactly one split: count them through StatisticsGen.
  auto stats = RunStatisticsGen(testing::StatsGenOptions(out_, tmp_.Join("stats")));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->num_examples[0] + stats->num_examples[1], 60);
  EXPECT_GT(stats->num_examples[1], stats->num_examples[0]);
}

TEST_F(ExampleGenComponentTest, DslNodeCarriesParams) {
  pipeline::Node node = ExampleGen("/data/mnist", "idx", {{"keep_input_splits", int64_t{1}}});
  EXPECT_EQ(node.id(), "ExampleGen");
  EXPECT_EQ(std::get<std::string>(node.data()->params.at("input_format")), "idx");
  EXPECT_EQ(std::get<int64_t>(node.data()->params.at("keep_input_splits")), 1);
  pipeline::Channel examples = node.outputs()["examples"];
  EXPECT_EQ(examples.type, pipeline::artifact_type::kExamples);
  pipeline::Node stats = StatisticsGen(examples);
  EXPECT_EQ(stats.data()->inputs.at("examples").producer.get(), node.data().get());
}

TEST_F(ExampleGenComponentTest, MissingInputNamesPath) {
  std::string missing = tmp_.Join("nope.csv");
  auto ctx = Context({{"input_base", missing}, {"input_format", std::string("csv")}});
  Status s = MakeExampleGenExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("input_base " + missing));
}

TEST_F(ExampleGenComponentTest, WrongParamTypeNamesParam) {
  auto ctx = Context({{"input_base", tmp_.path()}, {"num_shards", std::string("4")}});
  Status s = MakeExampleGenExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("parameter \"num_shards\" is string \"4\", expected int"));
}

TEST_F(ExampleGenComponentTest, BadFormatNamesFormat) {
  auto ctx = Context({{"input_base", tmp_.path()}, {"input_format", std::string("parquet")}});
  Status s = MakeExampleGenExecutor()->Do(ctx);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(""));
  EXPECT_THAT(s.message(), HasSubstr("parquet"));
}

}  // namespace
}  // namespace edgepipe::components
