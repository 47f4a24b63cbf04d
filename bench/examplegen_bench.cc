// ExampleGen on Fashion-MNIST (70,000 IDX images, train + t10k kept as splits):
// records/s in-process at two gzip levels, and the wall time of the whole CLI
// command (process start to exit). Goal: the CLI under 1.5 s on 2 cores.
//
//   build/release/bench/examplegen_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "edgepipe/components/example_gen.h"

namespace {

namespace fs = std::filesystem;
const char* kFashion = "/usr/share/datasets/fashion-mnist";

std::string OutDir(const char* name) {
  return (fs::temp_directory_path() / ("examplegen_bench_" + std::to_string(::getpid()) + name))
      .string();
}

void BM_ExampleGenInProcess(benchmark::State& state) {
  edgepipe::components::ExampleGenOptions o;
  o.input = kFashion;
  o.format = edgepipe::components::InputFormat::kIdx;
  o.keep_input_splits = true;
  o.output = OutDir("_inproc");
  o.overwrite = true;
  o.show_progress = false;
  o.gzip_level = static_cast<int>(state.range(0));
  int64_t records = 0;
  for (auto _ : state) {
    auto s = edgepipe::components::RunExampleGen(o);
    if (!s.ok()) {
      state.SkipWithError(s.status().ToString().c_str());
      return;
    }
    records += s->total();
  }
  state.counters["records/s"] =
      benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  fs::remove_all(o.output);
}
BENCHMARK(BM_ExampleGenInProcess)
    ->Arg(6)
    ->Arg(1)
    ->ArgName("gzip_level")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_ExampleGenCli(benchmark::State& state) {
  const std::string out = OutDir("_cli");
  const std::string cmd = std::string(EDGEPIPE_CLI_PATH) + " examplegen --input " + kFashion +
                          " --format idx --keep-splits --quiet --overwrite --gzip-level " +
                          std::to_string(state.range(0)) + " --output " + out + " >/dev/null";
  for (auto _ : state) {
    int rc = std::system(cmd.c_str());
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) != 0) {
      state.SkipWithError("edgepipe examplegen failed");
      return;
    }
  }
  state.counters["records/s"] = benchmark::Counter(
      70000.0 * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  fs::remove_all(out);
}
BENCHMARK(BM_ExampleGenCli)
    ->Arg(6)
    ->Arg(1)
    ->ArgName("gzip_level")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
