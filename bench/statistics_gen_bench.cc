// StatisticsGen over the 10,000 MNIST digits (an Examples artifact written by
// ExampleGen once, outside the timing): the whole RunStatisticsGen (read gzip
// shards, parse, accumulate, merge, write FeatureStats.pb) on the default
// pool, and the accumulator alone over pre-parsed examples (one thread).
// Goal: well under a second for the whole run.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "edgepipe/components/example_gen.h"
#include "edgepipe/components/statistics_gen.h"
#include "edgepipe/core/file.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components {
namespace {

// The Examples folder, made on first use and removed at exit.
struct MnistArtifact {
  MnistArtifact() : dir(TempSiblingPath("/tmp/edgepipe_statistics_gen_bench")) {
    ExampleGenOptions o;
    o.input = std::string(EDGEPIPE_DATA_DIR) + "/mnist";
    o.format = InputFormat::kIdx;
    o.output = dir;
    o.show_progress = false;
    if (!RunExampleGen(o).ok()) dir.clear();
  }
  ~MnistArtifact() {
    if (!dir.empty()) Env::Default()->RemoveAll(dir).IgnoreError();
  }
  std::string dir;
};

const std::string& MnistExamples() {
  static MnistArtifact artifact;
  return artifact.dir;
}

void BM_RunStatisticsGenMnist(benchmark::State& state) {
  const std::string& examples = MnistExamples();
  if (examples.empty()) {
    state.SkipWithError("ExampleGen over EDGEPIPE_DATA_DIR/mnist failed");
    return;
  }
  StatisticsGenOptions o;
  o.examples = examples;
  o.output = examples + "-stats";
  int64_t n = 0;
  for (auto _ : state) {
    auto r = RunStatisticsGen(o);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    n = r->num_examples[0] + r->num_examples[1];
  }
  state.SetItemsProcessed(state.iterations() * n);
  Env::Default()->RemoveAll(o.output).IgnoreError();
}
BENCHMARK(BM_RunStatisticsGenMnist)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_AccumulateParsedMnist(benchmark::State& state) {
  const std::string& examples = MnistExamples();
  auto files = data::MatchFiles(examples + "/Split-train/data_tfrecord-*");
  if (examples.empty() || !files.ok()) {
    state.SkipWithError("no MNIST examples");
    return;
  }
  std::vector<tf::Example> parsed;
  auto reader = data::TFRecordFileSetReader::Open(*files);
  std::string record;
  while (reader.ok() && (*reader)->Next(&record).value_or(false)) {
    parsed.emplace_back().ParseFromString(record);
  }
  for (auto _ : state) {
    StatisticsAccumulator acc;
    for (const auto& e : parsed) benchmark::DoNotOptimize(acc.Add(e));
    auto s = acc.Finish("train");
    benchmark::DoNotOptimize(s);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(parsed.size()));
}
BENCHMARK(BM_AccumulateParsedMnist)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgepipe::components

BENCHMARK_MAIN();
