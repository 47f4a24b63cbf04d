// Throughput of the training input path: tf.Example parsing by FeatureSpec
// (MNIST-shaped records: 784 floats + 1 int64) and the full
// shuffle -> repeat -> batch -> parse pipeline. Peer: protobuf's own parse of
// the same records (the floor our parser builds on).
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "edgepipe/data/dataset.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/feature_spec.h"

namespace edgepipe::data {
namespace {

std::vector<std::string> MnistLikeRecords(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    tf::Example ex;
    auto& f = *ex.mutable_features()->mutable_feature();
    auto* img = f["image_floats"].mutable_float_list();
    for (int k = 0; k < 784; ++k) img->add_value(static_cast<float>((i * 7 + k) % 256) / 255.f);
    f["image_class"].mutable_int64_list()->add_value(i % 10);
    out.push_back(ex.SerializeAsString());
  }
  return out;
}

std::vector<FeatureSpec> MnistSpecs() {
  return {FeatureSpec::Float32("image_floats", {784}), FeatureSpec::Int64("image_class")};
}

void BM_ExampleParserParse(benchmark::State& state) {
  const auto recs = MnistLikeRecords(static_cast<int>(state.range(0)));
  auto parser = ExampleParser::Create(MnistSpecs());
  for (auto _ : state) {
    auto b = parser->Parse(recs);
    if (!b.ok()) state.SkipWithError(b.status().ToString().c_str());
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ExampleParserParse)->Arg(256);

// Peer: protobuf parsing alone into a reused message, no copy-out.
void BM_ProtobufParseOnly(benchmark::State& state) {
  const auto recs = MnistLikeRecords(static_cast<int>(state.range(0)));
  tf::Example ex;
  for (auto _ : state) {
    for (const auto& r : recs) {
      bool ok = ex.ParseFromString(r);
      benchmark::DoNotOptimize(ok);
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ProtobufParseOnly)->Arg(256);

void BM_ShuffleRepeatBatchParse(benchmark::State& state) {
  auto shared = std::make_shared<const std::vector<std::string>>(MnistLikeRecords(1000));
  ExampleDatasetOptions opt;
  opt.batch = {.batch_size = 128, .drop_remainder = true};
  opt.shuffle_buffer = 1000;
  opt.seed = 1;
  opt.repeat = -1;
  auto ds = MakeExampleDataset(std::make_unique<MemoryRecordSource>(shared), MnistSpecs(), opt);
  for (auto _ : state) {
    auto b = (*ds)->Next();
    if (!b.ok() || !b->has_value()) state.SkipWithError("pipeline ended");
    benchmark::DoNotOptimize(b);
  }
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_ShuffleRepeatBatchParse);

}  // namespace
}  // namespace edgepipe::data

BENCHMARK_MAIN();
