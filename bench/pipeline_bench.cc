// Runner and metadata-store overhead on a pipeline shaped like the guide's
// MNIST pipeline (11 components: ExampleGen, StatisticsGen, SchemaGen,
// ExampleValidator, Transform, 2 Trainers, 2 Evaluators, 2 Pushers) whose
// executors do almost nothing, so the time measured is the runner's:
//   BM_PipelineCold    empty root each time: 11 executions recorded, 11
//                      folders staged and published
//   BM_PipelineCached  the same pipeline fully cached (the goal for
//                      the real pipeline's cached rerun: < 0.5 s)
//   BM_MetadataOpen    opening an existing store
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "edgepipe/pipeline/fake_components_testing.h"
#include "edgepipe/pipeline/metadata_store.h"
#include "edgepipe/pipeline/runner.h"

namespace {

namespace fs = std::filesystem;
using edgepipe::pipeline::Node;
using edgepipe::pipeline::Pipeline;
using edgepipe::pipeline::RunOptions;
using edgepipe::pipeline::testing::Concat;

Pipeline MnistShaped(const std::string& root) {
  Node gen = Concat("ExampleGen", {}, {{"suffix", std::string("e")}});
  Node stats = Concat("StatisticsGen", {gen.outputs()["out"]});
  Node schema = Concat("SchemaGen", {stats.outputs()["out"]});
  Node validator = Concat("ExampleValidator", {stats.outputs()["out"], schema.outputs()["out"]});
  Node transform = Concat("Transform", {gen.outputs()["out"], schema.outputs()["out"]});
  std::vector<Node> nodes = {gen, stats, schema, validator, transform};
  for (const char* name : {"mnist", "mnist_lite"}) {
    const std::string n = name;
    Node trainer = Concat("Trainer." + n, {transform.outputs()["out"]});
    Node evaluator = Concat("Evaluator." + n, {gen.outputs()["out"], trainer.outputs()["out"]});
    Node pusher = Concat("Pusher." + n, {trainer.outputs()["out"], evaluator.outputs()["out"]});
    nodes.insert(nodes.end(), {trainer, evaluator, pusher});
  }
  return Pipeline{"mnist_shaped", root, nodes, true, ""};
}

std::string BenchRoot(const char* what) {
  return (fs::temp_directory_path() / ("pipeline_bench_" + std::to_string(::getpid()) + "_" + what))
      .string();
}

RunOptions Quiet() {
  RunOptions o;
  o.log = nullptr;
  return o;
}

void BM_PipelineCold(benchmark::State& state) {
  const std::string root = BenchRoot("cold");
  for (auto _ : state) {
    state.PauseTiming();
    fs::remove_all(root);
    state.ResumeTiming();
    auto s = edgepipe::pipeline::RunPipeline(MnistShaped(root), Quiet());
    if (!s.ok() || !s->status().ok()) state.SkipWithError("run failed");
  }
  fs::remove_all(root);
}
BENCHMARK(BM_PipelineCold)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PipelineCached(benchmark::State& state) {
  const std::string root = BenchRoot("cached");
  fs::remove_all(root);
  auto first = edgepipe::pipeline::RunPipeline(MnistShaped(root), Quiet());
  if (!first.ok()) state.SkipWithError("first run failed");
  for (auto _ : state) {
    auto s = edgepipe::pipeline::RunPipeline(MnistShaped(root), Quiet());
    if (!s.ok() || !s->status().ok()) state.SkipWithError("run failed");
    for (const auto& n : s->nodes) {
      if (n.status != edgepipe::pipeline::NodeStatus::kCached) state.SkipWithError("not cached");
    }
  }
  fs::remove_all(root);
}
BENCHMARK(BM_PipelineCached)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MetadataOpen(benchmark::State& state) {
  const std::string root = BenchRoot("open");
  fs::remove_all(root);
  auto first = edgepipe::pipeline::RunPipeline(MnistShaped(root), Quiet());
  if (!first.ok()) state.SkipWithError("first run failed");
  for (auto _ : state) {
    auto store = edgepipe::pipeline::MetadataStore::Open(root + "/metadata.sqlite");
    if (!store.ok()) state.SkipWithError("open failed");
  }
  fs::remove_all(root);
}
BENCHMARK(BM_MetadataOpen)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
