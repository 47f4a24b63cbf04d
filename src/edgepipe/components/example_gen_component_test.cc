#include "edgepipe/components/example_gen_component.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/component_util.h"
#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/pipeline/cache.h"
#include "edgepipe/pipeline/runner.h"

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

// The runner's view of ExampleGen: one run of a one-component pipeline.
pipeline::NodeStatus RunOnce(const std::string& root, const std::string& input_base) {
  pipeline::RunOptions quiet;
  quiet.log = nullptr;
  quiet.max_parallelism = 1;
  auto summary = pipeline::RunPipeline(
      pipeline::Pipeline{"eg", root, {ExampleGen(input_base, "csv")}, true, ""}, quiet);
  EXPECT_TRUE(summary.ok()) << summary.status();
  if (!summary.ok()) return pipeline::NodeStatus::kFailed;
  EXPECT_TRUE(summary->status().ok()) << summary->status();
  return summary->nodes.at(0).status;
}

std::string Csv(int first) {
  std::string text = "x,name\n";
  for (int i = first; i < first + 30; ++i)
    text += std::to_string(i) + ",n" + std::to_string(i % 3) + "\n";
  return text;
}

TEST_F(ExampleGenComponentTest, EditingTheInputDataRerunsNotJustItsPath) {
  using pipeline::NodeStatus;
  const std::string data = tmp_.Join("data");
  const std::string root = tmp_.Join("root");
  ASSERT_TRUE(Env::Default()->CreateDirs(data).ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(data, "a.csv"), Csv(10)).ok());
  EXPECT_EQ(RunOnce(root, data), NodeStatus::kRan);
  EXPECT_EQ(RunOnce(root, data), NodeStatus::kCached);
  // Same path, same size, other values (10..39 -> 20..49: equal lengths).
  ASSERT_TRUE(WriteFileAtomic(JoinPath(data, "a.csv"), Csv(20)).ok());
  EXPECT_EQ(RunOnce(root, data), NodeStatus::kRan);
  EXPECT_EQ(RunOnce(root, data), NodeStatus::kCached);
  // A new file in the folder.
  ASSERT_TRUE(WriteFileAtomic(JoinPath(data, "b.csv"), Csv(50)).ok());
  EXPECT_EQ(RunOnce(root, data), NodeStatus::kRan);
  // Restoring earlier content finds the earlier execution again.
  ASSERT_TRUE(Env::Default()->RemoveFile(JoinPath(data, "b.csv")).ok());
  EXPECT_EQ(RunOnce(root, data), NodeStatus::kCached);
}

TEST_F(ExampleGenComponentTest, CacheKeyFollowsContentAndMissingInputIsAnError) {
  const std::string file = tmp_.Join("in.csv");
  ASSERT_TRUE(WriteFileAtomic(file, Csv(10)).ok());
  auto params = pipeline::ResolveParams(
      ExampleGenSpec(), {{"input_base", file}, {"input_format", std::string("csv")}}, "ExampleGen");
  ASSERT_TRUE(params.ok()) << params.status();
  auto k1 = pipeline::ComputeCacheKey(ExampleGenSpec(), "ExampleGen", *params, {});
  ASSERT_TRUE(k1.ok()) << k1.status();
  ASSERT_TRUE(WriteFileAtomic(file, Csv(20)).ok());
  auto k2 = pipeline::ComputeCacheKey(ExampleGenSpec(), "ExampleGen", *params, {});
  ASSERT_TRUE(k2.ok()) << k2.status();
  EXPECT_NE(*k1, *k2);
  ASSERT_TRUE(WriteFileAtomic(file, Csv(10)).ok());
  auto k3 = pipeline::ComputeCacheKey(ExampleGenSpec(), "ExampleGen", *params, {});
  ASSERT_TRUE(k3.ok()) << k3.status();
  EXPECT_EQ(*k1, *k3);
  ASSERT_TRUE(Env::Default()->RemoveFile(file).ok());
  auto missing = pipeline::ComputeCacheKey(ExampleGenSpec(), "ExampleGen", *params, {});
  EXPECT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("input_base"));
  EXPECT_THAT(missing.status().message(), HasSubstr("in.csv"));
}

}  // namespace
}  // namespace edgepipe::components
