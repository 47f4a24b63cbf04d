// Arena bytes of the interpreter's static memory plan, per fixture model:
// against the sum of all activation tensor sizes (no sharing) and against
// the lower bound of any plan (the largest total size of tensors live at one
// op step, ArenaLowerBound). The timed loop is AllocateTensors (Prepare of
// every op + planning); the sizes are counters. After the table, prints one
// summary line per model with arena / bound. Goal: within 10% of the bound.
//
//   build/rel/bench/lite_arena_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgepipe/lite/interpreter.h"

namespace {

using edgepipe::lite::Interpreter;
using edgepipe::lite::Model;

struct Sizes {
  size_t arena = 0, unshared = 0, bound = 0;
};
std::map<std::string, Sizes>& Summary() {
  static std::map<std::string, Sizes> s;
  return s;
}

void Arena(benchmark::State& state, const std::string& file, int batch) {
  auto m = Model::Load(std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + file);
  if (!m.ok()) return state.SkipWithError(m.status().ToString().c_str());
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)),
                                edgepipe::lite::BuiltinOpResolver());
  if (!in.ok()) return state.SkipWithError(in.status().ToString().c_str());
  if (batch > 1) {
    for (int i = 0; i < (*in)->num_inputs(); ++i) {
      std::vector<int32_t> shape = (*in)->input(i).shape;
      shape[0] = batch;
      if (!(*in)->ResizeInput(i, shape).ok()) return state.SkipWithError("resize failed");
    }
  }
  for (auto _ : state) {
    const auto s = (*in)->AllocateTensors();
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  Sizes sz{(*in)->arena_bytes(), (*in)->unshared_bytes(), (*in)->arena_lower_bound()};
  state.counters["arena_bytes"] = static_cast<double>(sz.arena);
  state.counters["unshared_bytes"] = static_cast<double>(sz.unshared);
  state.counters["bound_bytes"] = static_cast<double>(sz.bound);
  state.counters["arena/bound"] = static_cast<double>(sz.arena) / static_cast<double>(sz.bound);
  Summary()[file + " batch " + std::to_string(batch)] = sz;
}

void Register() {
  for (const char* f :
       {"hello_world_float.tflite", "hello_world_int8.tflite", "micro_speech_quantized.tflite",
        "mobilenet_v2_quantized_1x3x224x224.tflite"}) {
    // mobilenet's RESHAPE hard-codes batch 1.
    const bool batch1_only = std::string(f).rfind("mobilenet", 0) == 0;
    for (int batch : {1, 8}) {
      if (batch > 1 && batch1_only) continue;
      const std::string name = std::string("Arena/") + f + "/batch:" + std::to_string(batch);
      benchmark::RegisterBenchmark(name.c_str(), [f, batch](benchmark::State& s) {
        Arena(s, f, batch);
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::printf("\n%-52s %12s %12s %12s %8s %10s\n", "model", "arena", "unshared", "bound", "a/bound",
              "a/unshared");
  for (const auto& [name, s] : Summary()) {
    std::printf("%-52s %12zu %12zu %12zu %8.3f %10.3f\n", name.c_str(), s.arena, s.unshared,
                s.bound, static_cast<double>(s.arena) / static_cast<double>(s.bound),
                static_cast<double>(s.arena) / static_cast<double>(s.unshared));
  }
  return 0;
}
