#include "edgepipe/eval/bootstrap.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "edgepipe/eval/metrics.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;

TEST(PoissonWeightTest, IsDeterministicWithPoissonOneMoments) {
  const int n = 200000;
  double sum = 0, sum_sq = 0;
  int zeros = 0, twos = 0;
  for (int i = 0; i < n; ++i) {
    const int k = PoissonWeight(42, i % 7, i);
    ASSERT_EQ(k, PoissonWeight(42, i % 7, i));
    sum += k;
    sum_sq += static_cast<double>(k) * k;
    zeros += k == 0;
    twos += k == 2;
  }
  const double mean = sum / n;
  EXPECT_NEAR(mean, 1.0, 0.01);
  EXPECT_NEAR(sum_sq / n - mean * mean, 1.0, 0.02);
  EXPECT_NEAR(static_cast<double>(zeros) / n, std::exp(-1.0), 0.005);
  EXPECT_NEAR(static_cast<double>(twos) / n, std::exp(-1.0) / 2, 0.005);
  // Replicas and seeds draw differently.
  int same_replica = 0, same_seed = 0;
  for (int i = 0; i < 1000; ++i) {
    same_replica += PoissonWeight(1, 0, i) == PoissonWeight(1, 1, i);
    same_seed += PoissonWeight(1, 0, i) == PoissonWeight(2, 0, i);
  }
  EXPECT_LT(same_replica, 500);  // independent draws agree ~31% of the time
  EXPECT_LT(same_seed, 500);
}

// Binary labels ~ Bernoulli(0.3) and noisy predictions, example ids 0..n-1.
struct Data {
  std::vector<float> predictions, labels;
  std::vector<int64_t> ids;
};

Data MakeData(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0, 1);
  Data d;
  for (int i = 0; i < n; ++i) {
    const float label = u(rng) < 0.3f ? 1.0f : 0.0f;
    d.labels.push_back(label);
    d.predictions.push_back(std::min(1.0f, std::max(0.0f, 0.3f * label + 0.7f * u(rng))));
    d.ids.push_back(i);
  }
  return d;
}

BatchView View(const Data& d, int64_t begin, int64_t end) {
  BatchView b;
  b.size = end - begin;
  b.num_outputs = 1;
  b.predictions = d.predictions.data() + begin;
  b.labels = d.labels.data() + begin;
  b.example_ids = d.ids.data() + begin;
  return b;
}

std::unique_ptr<Metric> Boot(std::string_view name, int replicas = 50, uint64_t seed = 5) {
  auto base = MakeMetric(name, nlohmann::json::object());
  EXPECT_TRUE(base.ok());
  auto m =
      MakeBootstrapMetric(std::shared_ptr<const Metric>(std::move(base).value()), {replicas, seed});
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(m).value();
}

MetricValue Get(const MetricAccumulator& acc, const std::string& name) {
  MetricMap m;
  Plots p;
  acc.Finish("", &m, &p);
  auto it = m.find(MetricKey{name, "", "", false});
  EXPECT_NE(it, m.end()) << name;
  return it == m.end() ? MetricValue{} : it->second;
}

TEST(BootstrapTest, IntervalContainsThePointValueWithAPlausibleStdError) {
  const Data d = MakeData(2000, 1);
  auto metric = Boot("MeanLabel", 100);
  EXPECT_EQ(metric->class_name(), "MeanLabel");
  EXPECT_EQ(metric->metric_names(), std::vector<std::string>{"mean_label"});
  auto acc = metric->NewAccumulator();
  ASSERT_TRUE(acc->Add(View(d, 0, 2000)).ok());
  const MetricValue v = Get(*acc, "mean_label");
  ASSERT_TRUE(v.ci.has_value());
  EXPECT_LE(v.ci->lower, v.value);
  EXPECT_GE(v.ci->upper, v.value);
  EXPECT_LT(v.ci->lower, v.ci->upper);
  // Standard error of a Bernoulli mean: sqrt(p (1 - p) / n).
  const double se = std::sqrt(v.value * (1 - v.value) / 2000);
  EXPECT_GT(v.ci->std_error, 0.6 * se);
  EXPECT_LT(v.ci->std_error, 1.5 * se);

  auto auc = Boot("AUC")->NewAccumulator();
  ASSERT_TRUE(auc->Add(View(d, 0, 2000)).ok());
  const MetricValue a = Get(*auc, "auc");
  ASSERT_TRUE(a.ci.has_value());
  EXPECT_LE(a.ci->lower, a.value);
  EXPECT_GE(a.ci->upper, a.value);
}

TEST(BootstrapTest, NarrowsWithMoreData) {
  const Data d = MakeData(8000, 2);
  auto metric = Boot("AUC");
  auto small = metric->NewAccumulator();
  auto large = metric->NewAccumulator();
  ASSERT_TRUE(small->Add(View(d, 0, 500)).ok());
  ASSERT_TRUE(large->Add(View(d, 0, 8000)).ok());
  const MetricValue s = Get(*small, "auc");
  const MetricValue l = Get(*large, "auc");
  ASSERT_TRUE(s.ci && l.ci);
  // 16x the data: about 4x narrower.
  EXPECT_LT(l.ci->upper - l.ci->lower, 0.5 * (s.ci->upper - s.ci->lower));
  EXPECT_LT(l.ci->std_error, 0.5 * s.ci->std_error);
}

TEST(BootstrapTest, SameResultWhateverTheBatchingOrSharding) {
  const Data d = MakeData(1000, 3);
  auto metric = Boot("Precision", 30);
  auto one = metric->NewAccumulator();
  ASSERT_TRUE(one->Add(View(d, 0, 1000)).ok());
  // Uneven batches in two shards, merged.
  auto shard_a = metric->NewAccumulator();
  auto shard_b = metric->NewAccumulator();
  const int64_t cuts[] = {0, 7, 300, 301, 640, 1000};
  for (int i = 0; i + 1 < 6; ++i) {
    ASSERT_TRUE((i % 2 ? shard_b : shard_a)->Add(View(d, cuts[i], cuts[i + 1])).ok());
  }
  ASSERT_TRUE(shard_b->Merge(*shard_a).ok());
  const MetricValue x = Get(*one, "precision");
  const MetricValue y = Get(*shard_b, "precision");
  ASSERT_TRUE(x.ci && y.ci);
  EXPECT_NEAR(x.value, y.value, 1e-12);
  EXPECT_NEAR(x.ci->lower, y.ci->lower, 1e-12);
  EXPECT_NEAR(x.ci->upper, y.ci->upper, 1e-12);
  EXPECT_NEAR(x.ci->std_error, y.ci->std_error, 1e-12);
  // Another seed gives another interval.
  auto other = Boot("Precision", 30, 6)->NewAccumulator();
  ASSERT_TRUE(other->Add(View(d, 0, 1000)).ok());
  EXPECT_NE(Get(*other, "precision").ci->std_error, x.ci->std_error);
  // Different seeds do not merge.
  EXPECT_FALSE(other->Merge(*one).ok());
}

TEST(BootstrapTest, SlicesAndWeightsAndPlotsPassThrough) {
  const Data d = MakeData(400, 4);
  std::vector<float> weights(400, 2.0f);
  std::vector<int32_t> rows;
  for (int32_t r = 0; r < 400; r += 2) rows.push_back(r);
  BatchView b = View(d, 0, 400);
  b.weights = weights.data();
  b.rows = rows;
  auto boot = Boot("WeightedExampleCount")->NewAccumulator();
  ASSERT_TRUE(boot->Add(b).ok());
  const MetricValue v = Get(*boot, "weighted_example_count");
  EXPECT_EQ(v.value, 400);  // 200 rows of weight 2
  ASSERT_TRUE(v.ci.has_value());
  EXPECT_GT(v.ci->std_error, 0);

  auto plot = Boot("CalibrationPlot")->NewAccumulator();
  ASSERT_TRUE(plot->Add(b).ok());
  MetricMap m;
  Plots p;
  plot->Finish("", &m, &p);
  ASSERT_EQ(p.calibration.size(), 10u);
  double total = 0;
  for (const auto& bucket : p.calibration) total += bucket.weight;
  EXPECT_EQ(total, 400);  // the point accumulator's plot, not a replica's
}

TEST(BootstrapTest, ErrorsLeaveItUnchanged) {
  const Data d = MakeData(100, 5);
  auto acc = Boot("MeanLabel", 10)->NewAccumulator();
  ASSERT_TRUE(acc->Add(View(d, 0, 100)).ok());
  const MetricValue before = Get(*acc, "mean_label");
  Data bad = d;
  bad.labels[50] = NAN;
  Status s = acc->Add(View(bad, 0, 100));
  EXPECT_THAT(s.message(), HasSubstr("MeanLabel: row 50 (example 50): label nan"));
  const MetricValue after = Get(*acc, "mean_label");
  EXPECT_EQ(before.value, after.value);
  EXPECT_EQ(before.ci->std_error, after.ci->std_error);

  auto base = MakeMetric("MeanLabel", nullptr);
  ASSERT_TRUE(base.ok());
  auto one = MakeBootstrapMetric(std::shared_ptr<const Metric>(std::move(base).value()), {1, 0});
  EXPECT_THAT(one.status().message(), HasSubstr("num_replicas 1"));
  EXPECT_FALSE(MakeBootstrapMetric(nullptr, {}).ok());
}

}  // namespace
}  // namespace edgepipe::eval
