#include "edgepipe/components/statistics_gen.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/component_util.h"
#include "edgepipe/components/example_gen.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using testing::ExampleBuilder;
using ::testing::HasSubstr;

const tfmd::FeatureNameStatistics* FindFeature(const tfmd::DatasetFeatureStatistics& s,
                                               std::string_view name) {
  for (const auto& f : s.features()) {
    if (f.name() == name) return &f;
  }
  return nullptr;
}

std::vector<double> BucketCounts(const tfmd::Histogram& h) {
  std::vector<double> out;
  for (const auto& b : h.buckets()) out.push_back(b.sample_count());
  return out;
}

TEST(StatisticsAccumulatorTest, NumericStatisticsOfKnownValues) {
  StatisticsAccumulator acc;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("x", {static_cast<float>(i)}).Build()).ok());
  }
  tfmd::DatasetFeatureStatistics s = acc.Finish("train");
  EXPECT_EQ(s.name(), "train");
  EXPECT_EQ(s.num_examples(), 10u);
  const auto* f = FindFeature(s, "x");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->type(), tfmd::FeatureNameStatistics::FLOAT);
  const auto& n = f->num_stats();
  EXPECT_DOUBLE_EQ(n.mean(), 4.5);
  EXPECT_NEAR(n.std_dev(), std::sqrt(8.25), 1e-12);  // population std of 0..9
  EXPECT_EQ(n.num_zeros(), 1u);
  EXPECT_EQ(n.min(), 0);
  EXPECT_EQ(n.max(), 9);
  EXPECT_EQ(n.median(), 4);  // the lower median
  ASSERT_EQ(n.histograms_size(), 1);
  const auto& h = n.histograms(0);
  ASSERT_EQ(h.buckets_size(), 10);
  EXPECT_EQ(h.buckets(0).low_value(), 0);
  EXPECT_NEAR(h.buckets(0).high_value(), 0.9, 1e-12);
  EXPECT_EQ(h.buckets(9).high_value(), 9);
  EXPECT_THAT(BucketCounts(h), ElementsAre(1, 1, 1, 1, 1, 1, 1, 1, 1, 1));
  EXPECT_EQ(n.common_stats().num_non_missing(), 10u);
  EXPECT_EQ(n.common_stats().num_missing(), 0u);
}

TEST(StatisticsAccumulatorTest, HistogramPutsEachValueInItsBucket) {
  // Values 0, 0, 0, 1, 10 in [0, 10]: buckets of width 1; 10 is in the last.
  StatisticsAccumulator acc;  // 10 buckets by default
  for (int64_t v : {0, 0, 0, 1, 10})
    ASSERT_TRUE(acc.Add(ExampleBuilder().Ints("k", {v}).Build()).ok());
  auto s = acc.Finish("d");
  const auto& n = FindFeature(s, "k")->num_stats();
  EXPECT_EQ(FindFeature(s, "k")->type(), tfmd::FeatureNameStatistics::INT);
  EXPECT_THAT(BucketCounts(n.histograms(0)), ElementsAre(3, 1, 0, 0, 0, 0, 0, 0, 0, 1));
  EXPECT_EQ(n.num_zeros(), 3u);
  EXPECT_EQ(n.median(), 0);
}

TEST(StatisticsAccumulatorTest, ConstantFeatureHasOneBucket) {
  StatisticsAccumulator acc;
  for (int i = 0; i < 4; ++i)
    ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("c", {2.5f}).Build()).ok());
  auto stats = acc.Finish("d");
  const auto& n = FindFeature(stats, "c")->num_stats();
  ASSERT_EQ(n.histograms(0).buckets_size(), 1);
  EXPECT_EQ(n.histograms(0).buckets(0).sample_count(), 4);
  EXPECT_EQ(n.std_dev(), 0);
  EXPECT_EQ(n.mean(), 2.5);
}

TEST(StatisticsAccumulatorTest, PresenceAndValueCounts) {
  StatisticsAccumulator acc;
  ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("v", {1, 2, 3}).Ints("a", {1}).Build()).ok());
  ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("v", {4}).Build()).ok());
  ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("v", {}).Ints("a", {2}).Build()).ok());
  ASSERT_TRUE(acc.Add(ExampleBuilder().Ints("a", {3}).Build()).ok());
  auto s = acc.Finish("d");
  const auto& v = FindFeature(s, "v")->num_stats().common_stats();
  EXPECT_EQ(v.num_non_missing(), 3u);  // the empty list counts as present
  EXPECT_EQ(v.num_missing(), 1u);
  EXPECT_EQ(v.min_num_values(), 0u);
  EXPECT_EQ(v.max_num_values(), 3u);
  EXPECT_EQ(v.tot_num_values(), 4u);
  EXPECT_FLOAT_EQ(v.avg_num_values(), 4.0f / 3);
  const auto& a = FindFeature(s, "a")->num_stats().common_stats();
  EXPECT_EQ(a.num_non_missing(), 3u);
  EXPECT_EQ(a.num_missing(), 1u);
  EXPECT_EQ(a.min_num_values(), 1u);
}

TEST(StatisticsAccumulatorTest, StringTopValuesAndRankHistogram) {
  StatisticsOptions options;
  options.num_top_values = 2;
  StatisticsAccumulator acc(options);
  for (const char* v : {"b", "a", "c", "a", "b", "a", "dd"}) {
    ASSERT_TRUE(acc.Add(ExampleBuilder().Bytes("s", {v}).Build()).ok());
  }
  auto s = acc.Finish("d");
  const auto* f = FindFeature(s, "s");
  EXPECT_EQ(f->type(), tfmd::FeatureNameStatistics::STRING);
  const auto& st = f->string_stats();
  EXPECT_EQ(st.unique(), 4u);
  ASSERT_EQ(st.top_values_size(), 2);
  EXPECT_EQ(st.top_values(0).value(), "a");
  EXPECT_EQ(st.top_values(0).frequency(), 3);
  EXPECT_EQ(st.top_values(1).value(), "b");
  EXPECT_EQ(st.top_values(1).frequency(), 2);
  EXPECT_FLOAT_EQ(st.avg_length(), 8.0f / 7);
  ASSERT_EQ(st.rank_histogram().buckets_size(), 4);
  EXPECT_EQ(st.rank_histogram().buckets(2).label(), "c");  // ties by value
  EXPECT_EQ(st.rank_histogram().buckets(3).label(), "dd");
  EXPECT_EQ(st.common_stats().num_non_missing(), 7u);
}

TEST(StatisticsAccumulatorTest, NonUtf8BytesAreBytes) {
  StatisticsAccumulator acc;
  ASSERT_TRUE(acc.Add(ExampleBuilder().Bytes("b", {std::string("\xff\x00\x01", 3)}).Build()).ok());
  ASSERT_TRUE(acc.Add(ExampleBuilder().Bytes("b", {"xy"}).Build()).ok());
  auto stats = acc.Finish("d");
  const auto* f = FindFeature(stats, "b");
  EXPECT_EQ(f->type(), tfmd::FeatureNameStatistics::BYTES);
  EXPECT_EQ(f->bytes_stats().unique(), 2u);
  EXPECT_EQ(f->bytes_stats().min_num_bytes(), 2);
  EXPECT_EQ(f->bytes_stats().max_num_bytes(), 3);
}

TEST(StatisticsAccumulatorTest, NanAndInfinity) {
  StatisticsAccumulator acc;
  const float inf = std::numeric_limits<float>::infinity();
  ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("x", {1, 3, std::nanf(""), inf}).Build()).ok());
  auto stats = acc.Finish("d");
  const auto& n = FindFeature(stats, "x")->num_stats();
  EXPECT_EQ(n.histograms(0).num_nan(), 1u);
  EXPECT_EQ(n.max(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(n.min(), 1);
  EXPECT_EQ(n.mean(), 2);  // over the finite values
  double total = 0;
  for (const auto& b : n.histograms(0).buckets()) total += b.sample_count();
  EXPECT_EQ(total, 3);
  EXPECT_EQ(n.histograms(0).buckets().rbegin()->high_value(),
            std::numeric_limits<double>::infinity());
}

TEST(StatisticsAccumulatorTest, KindClashIsAnError) {
  StatisticsAccumulator acc;
  ASSERT_TRUE(acc.Add(ExampleBuilder().Ints("x", {1}).Build()).ok());
  Status s = acc.Add(ExampleBuilder().Floats("x", {1}).Build());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("feature \"x\" is float, was int64"));
}

// Shards merged give what one pass over all the values gives, over values of
// very different magnitudes (the histogram grid coarsens on the way).
TEST(StatisticsAccumulatorTest, MergedShardsEqualOnePass) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(3.0f, 1.0f);
  std::uniform_int_distribution<int> pick(0, 2);
  std::vector<tf::Example> examples;
  for (int i = 0; i < 600; ++i) {
    float scale = i < 300 ? 1.0f : 1000.0f;  // the range widens later
    std::vector<float> v = {normal(rng) * scale, normal(rng)};
    std::string s = std::string(1, static_cast<char>('a' + pick(rng)));
    examples.push_back(ExampleBuilder().Floats("f", v).Ints("i", {i % 7}).Bytes("s", {s}).Build());
  }
  StatisticsAccumulator all;
  for (const auto& e : examples) ASSERT_TRUE(all.Add(e).ok());
  std::vector<StatisticsAccumulator> shards(3);
  for (size_t k = 0; k < examples.size(); ++k)
    ASSERT_TRUE(shards[(k * 7) % 3].Add(examples[k]).ok());
  StatisticsAccumulator merged;
  for (auto& s : shards) ASSERT_TRUE(merged.Merge(std::move(s)).ok());
  auto a = all.Finish("d"), b = merged.Finish("d");
  google::protobuf::util::MessageDifferencer diff;
  google::protobuf::util::DefaultFieldComparator cmp;
  cmp.set_float_comparison(google::protobuf::util::DefaultFieldComparator::APPROXIMATE);
  cmp.SetDefaultFractionAndMargin(1e-9, 1e-9);
  diff.set_field_comparator(&cmp);
  std::string report;
  diff.ReportDifferencesToString(&report);
  EXPECT_TRUE(diff.Compare(a, b)) << report;
  const auto& f = FindFeature(a, "f")->num_stats();
  double total = 0;
  for (const auto& bk : f.histograms(0).buckets()) total += bk.sample_count();
  EXPECT_EQ(total, 1200);
}

// Histogram counts against a direct count over the raw values.
TEST(StatisticsAccumulatorTest, HistogramMatchesDirectCount) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pixel(0, 255);
  StatisticsAccumulator acc;
  std::vector<float> all;
  for (int i = 0; i < 200; ++i) {
    std::vector<float> v(16);
    for (float& x : v) x = ScaleMnistPixel(static_cast<uint8_t>(pixel(rng)));
    all.insert(all.end(), v.begin(), v.end());
    ASSERT_TRUE(acc.Add(ExampleBuilder().Floats("p", v).Build()).ok());
  }
  auto stats = acc.Finish("d");
  const auto& n = FindFeature(stats, "p")->num_stats();
  double lo = *std::min_element(all.begin(), all.end());
  double hi = *std::max_element(all.begin(), all.end());
  std::vector<double> expected(10, 0);
  for (float x : all) {
    int b = static_cast<int>(std::floor((x - lo) / ((hi - lo) / 10)));
    expected[static_cast<size_t>(std::clamp(b, 0, 9))] += 1;
  }
  EXPECT_EQ(BucketCounts(n.histograms(0)), expected);
}

class StatisticsGenTest : public ::testing::Test {
 protected:
  void WriteTwoSplits() {
    std::vector<tf::Example> train, eval;
    for (int i = 0; i < 30; ++i) train.push_back(ExampleBuilder().Ints("k", {i}).Build());
    for (int i = 0; i < 5; ++i) eval.push_back(ExampleBuilder().Ints("k", {100 + i}).Build());
    testing::WriteExamplesSplit(examples_, "train", train, 3);
    testing::WriteExamplesSplit(examples_, "eval", eval, 1);
  }
  TempDir tmp_;
  std::string examples_ = tmp_.Join("examples");
  std::string stats_ = tmp_.Join("stats");
};

TEST_F(StatisticsGenTest, WritesFeatureStatsPerSplit) {
  WriteTwoSplits();
  auto summary = RunStatisticsGen(testing::StatsGenOptions(examples_, stats_));
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_THAT(summary->splits, ElementsAre("eval", "train"));
  EXPECT_THAT(summary->num_examples, ElementsAre(5, 30));
  auto train = ReadStatistics(stats_, "train");
  ASSERT_TRUE(train.ok()) << train.status();
  const auto& d = train->datasets(0);
  EXPECT_EQ(d.name(), "train");
  EXPECT_EQ(d.num_examples(), 30u);
  EXPECT_EQ(FindFeature(d, "k")->num_stats().max(), 29);
  auto eval = ReadStatistics(stats_, "eval");
  ASSERT_TRUE(eval.ok());
  EXPECT_EQ(FindFeature(eval->datasets(0), "k")->num_stats().min(), 100);
}

TEST_F(StatisticsGenTest, ExecutorWritesOutputAndSplitNames) {
  WriteTwoSplits();
  auto ctx = testing::MakeContext(
      StatisticsGenSpec(),
      {{"examples", {testing::MakeArtifact(pipeline::artifact_type::kExamples, examples_)}}},
      {{"statistics",
        {testing::MakeArtifact(pipeline::artifact_type::kExampleStatistics, stats_)}}},
      {{"exclude_splits", std::string("[\"eval\"]")}});
  auto exec = MakeStatisticsGenExecutor();
  Status s = exec->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(std::get<std::string>(ctx.outputs["statistics"][0].properties["split_names"]),
            "[\"train\"]");
  EXPECT_TRUE(ReadStatistics(stats_, "train").ok());
  EXPECT_FALSE(Env::Default()->Exists(SplitDir(stats_, "eval")));
}

TEST_F(StatisticsGenTest, MissingInputFolderNamesFolder) {
  auto ctx = testing::MakeContext(
      StatisticsGenSpec(),
      {{"examples", {testing::MakeArtifact(pipeline::artifact_type::kExamples, examples_)}}},
      {{"statistics",
        {testing::MakeArtifact(pipeline::artifact_type::kExampleStatistics, stats_)}}});
  Status s = MakeStatisticsGenExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(examples_));
}

TEST_F(StatisticsGenTest, WrongParamTypeNamesParam) {
  WriteTwoSplits();
  auto ctx = testing::MakeContext(
      StatisticsGenSpec(),
      {{"examples", {testing::MakeArtifact(pipeline::artifact_type::kExamples, examples_)}}},
      {{"statistics",
        {testing::MakeArtifact(pipeline::artifact_type::kExampleStatistics, stats_)}}},
      {{"num_histogram_buckets", std::string("ten")}});
  Status s = MakeStatisticsGenExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("parameter \"num_histogram_buckets\" is "
                                     "string \"ten\", expected int"));
}

TEST_F(StatisticsGenTest, CorruptShardNamesFile) {
  WriteTwoSplits();
  std::string shard = JoinPath(SplitDir(examples_, "eval"), "data_tfrecord-00000-of-00001.gz");
  ASSERT_TRUE(WriteFileAtomic(shard, "not a tfrecord at all, clearly").ok());
  auto r = RunStatisticsGen(testing::StatsGenOptions(examples_, stats_));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(shard));
}

TEST_F(StatisticsGenTest, TypeClashAcrossShardsNamesFeature) {
  testing::WriteExamplesSplit(
      examples_, "train",
      {ExampleBuilder().Ints("x", {1}).Build(), ExampleBuilder().Floats("x", {1}).Build()}, 2);
  auto r = RunStatisticsGen(testing::StatsGenOptions(examples_, stats_));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("feature \"x\""));
}

// The 10,000 MNIST digits through ExampleGen, then StatisticsGen.
TEST_F(StatisticsGenTest, MnistDigits) {
  std::string mnist = std::string(EDGEPIPE_DATA_DIR) + "/mnist";
  ExampleGenOptions eg;
  eg.input = mnist;
  eg.format = InputFormat::kIdx;
  eg.output = examples_;
  eg.show_progress = false;
  auto gen = RunExampleGen(eg);
  ASSERT_TRUE(gen.ok()) << gen.status();
  ASSERT_EQ(gen->total(), 10000);
  auto r = RunStatisticsGen(testing::StatsGenOptions(examples_, stats_));
  ASSERT_TRUE(r.ok()) << r.status();
  uint64_t total = 0;
  for (const std::string& split : r->splits) {
    auto list = ReadStatistics(stats_, split);
    ASSERT_TRUE(list.ok());
    const auto& d = list->datasets(0);
    total += d.num_examples();
    const auto& img = FindFeature(d, "image_floats")->num_stats();
    EXPECT_EQ(img.common_stats().min_num_values(), 784u);
    EXPECT_EQ(img.common_stats().max_num_values(), 784u);
    EXPECT_FLOAT_EQ(static_cast<float>(img.min()), -0.5f);
    EXPECT_FLOAT_EQ(static_cast<float>(img.max()), 0.5f);
    EXPECT_EQ(img.median(), -0.5);   // most pixels are background
    EXPECT_EQ(img.num_zeros(), 0u);  // p / 255 - 0.5 is never 0 for an integer p
    const auto& cls = FindFeature(d, "image_class")->num_stats();
    EXPECT_EQ(cls.min(), 0);
    EXPECT_EQ(cls.max(), 9);
    double count = 0;
    for (const auto& b : cls.histograms(0).buckets()) count += b.sample_count();
    EXPECT_EQ(count, static_cast<double>(d.num_examples()));
  }
  EXPECT_EQ(total, 10000u);
}

}  // namespace
}  // namespace edgepipe::components
