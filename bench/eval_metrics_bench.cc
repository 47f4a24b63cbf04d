// Evaluator metric throughput (rows/s, the table's items_per_second) on
// batches of 256 rows of a 10-class model, one accumulator per metric fed
// by one thread:
//   BM_AccuracyLossConfusion    SparseCategoricalAccuracy +
//                               SparseCategoricalCrossentropy +
//                               MultiClassConfusionMatrixPlot (probabilities)
//   ..._FromLogits              the same on logits (softmax in the loss)
//   BM_TypicalSet               ExampleCount, WeightedExampleCount, the three
//                               above (logits), Precision, Recall, CalibrationPlot,
//                               FlipRate, MeanAbsPredictionDiff
//   BM_OneMetric/<i>            each metric alone (name in the label)
//   BM_Bootstrap20              the first set with 20 bootstrap replicas
// The Evaluator's goal is >= 200,000 examples/s per model in all: metrics
// must be a small part of that.
//
//   build/rel/bench/eval_metrics_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "edgepipe/eval/bootstrap.h"
#include "edgepipe/eval/metrics.h"

namespace {

using edgepipe::eval::BatchView;
using edgepipe::eval::Metric;
using edgepipe::eval::MetricAccumulator;
using Json = nlohmann::json;

constexpr int kRows = 256;
constexpr int kClasses = 10;

struct Data {
  std::vector<float> logits, probabilities, reference, labels, weights;
  std::vector<int64_t> ids;
};

const Data& TestData() {
  static const Data d = [] {
    Data x;
    std::mt19937 rng(3);
    std::normal_distribution<float> n(0, 2);
    for (int r = 0; r < kRows; ++r) {
      const int label = static_cast<int>(rng() % kClasses);
      float sum = 0;
      std::vector<float> e(kClasses);
      for (int c = 0; c < kClasses; ++c) {
        const float v = n(rng) + (c == label ? 3.0f : 0.0f);
        x.logits.push_back(v);
        x.reference.push_back(v + 0.3f * n(rng));
        e[c] = std::exp(v);
        sum += e[c];
      }
      for (int c = 0; c < kClasses; ++c) x.probabilities.push_back(e[c] / sum);
      x.labels.push_back(static_cast<float>(label));
      x.weights.push_back(1.0f);
      x.ids.push_back(r);
    }
    return x;
  }();
  return d;
}

BatchView View(bool logits) {
  const Data& d = TestData();
  BatchView b;
  b.size = kRows;
  b.num_outputs = kClasses;
  b.predictions = logits ? d.logits.data() : d.probabilities.data();
  b.labels = d.labels.data();
  b.weights = d.weights.data();
  b.reference_predictions = d.reference.data();
  b.example_ids = d.ids.data();
  return b;
}

struct Spec {
  const char* name;
  Json config;
};

std::vector<std::unique_ptr<Metric>> MakeAll(const std::vector<Spec>& specs) {
  std::vector<std::unique_ptr<Metric>> out;
  for (const Spec& s : specs) {
    auto m = edgepipe::eval::MakeMetric(s.name, s.config);
    if (!m.ok()) {
      std::fprintf(stderr, "%s\n", m.status().ToString().c_str());
      std::abort();
    }
    out.push_back(std::move(m).value());
  }
  return out;
}

void Feed(benchmark::State& state, const std::vector<std::unique_ptr<Metric>>& metrics,
          bool logits) {
  std::vector<std::unique_ptr<MetricAccumulator>> accs;
  for (const auto& m : metrics) accs.push_back(m->NewAccumulator());
  const BatchView b = View(logits);
  for (auto _ : state) {
    for (auto& a : accs) {
      if (!a->Add(b).ok()) state.SkipWithError("Add failed");
    }
  }
  benchmark::ClobberMemory();
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * kRows);
}

std::vector<Spec> FirstSet(bool logits) {
  const Json c = logits ? Json{{"from_logits", true}} : Json::object();
  return {{"SparseCategoricalAccuracy", c},
          {"SparseCategoricalCrossentropy", c},
          {"MultiClassConfusionMatrixPlot", c}};
}

void BM_AccuracyLossConfusion(benchmark::State& state) {
  Feed(state, MakeAll(FirstSet(false)), false);
}
void BM_AccuracyLossConfusion_FromLogits(benchmark::State& state) {
  Feed(state, MakeAll(FirstSet(true)), true);
}

std::vector<Spec> Typical() {
  const Json c = Json{{"from_logits", true}};
  return {{"ExampleCount", Json::object()},
          {"WeightedExampleCount", Json::object()},
          {"SparseCategoricalAccuracy", c},
          {"SparseCategoricalCrossentropy", c},
          {"MultiClassConfusionMatrixPlot", c},
          {"Precision", c},
          {"Recall", c},
          {"CalibrationPlot", c},
          {"FlipRate", c},
          {"MeanAbsPredictionDiff", c}};
}

void BM_TypicalSet(benchmark::State& state) { Feed(state, MakeAll(Typical()), true); }

void BM_OneMetric(benchmark::State& state) {
  const std::vector<Spec> all = {
      {"ExampleCount", Json::object()},
      {"SparseCategoricalAccuracy", Json::object()},
      {"SparseCategoricalCrossentropy", Json::object()},
      {"SparseCategoricalCrossentropy", Json{{"from_logits", true}}},
      {"CategoricalCrossentropy", Json{{"from_logits", true}}},
      {"MultiClassConfusionMatrixPlot", Json::object()},
      {"Precision", Json{{"top_k", 3}}},
      {"Recall", Json{{"average", "macro"}, {"from_logits", true}, {"thresholds", 0.3}}},
      {"AUC", Json{{"class_id", 1}, {"from_logits", true}}},
      {"CalibrationPlot", Json{{"from_logits", true}}},
      {"FlipRate", Json::object()},
      {"MaxAbsPredictionDiff", Json{{"from_logits", true}}}};
  const Spec& s = all[static_cast<size_t>(state.range(0))];
  state.SetLabel(std::string(s.name) + " " + s.config.dump());
  const bool logits = s.config.contains("from_logits");
  std::vector<Spec> one = {s};
  Feed(state, MakeAll(one), logits);
}

void BM_Bootstrap20(benchmark::State& state) {
  std::vector<std::unique_ptr<Metric>> boot;
  for (auto& m : MakeAll(FirstSet(false))) {
    auto b =
        edgepipe::eval::MakeBootstrapMetric(std::shared_ptr<const Metric>(std::move(m)), {20, 1});
    if (!b.ok()) std::abort();
    boot.push_back(std::move(b).value());
  }
  Feed(state, boot, false);
}

BENCHMARK(BM_AccuracyLossConfusion);
BENCHMARK(BM_AccuracyLossConfusion_FromLogits);
BENCHMARK(BM_TypicalSet);
BENCHMARK(BM_OneMetric)->DenseRange(0, 11);
BENCHMARK(BM_Bootstrap20);

}  // namespace

BENCHMARK_MAIN();
