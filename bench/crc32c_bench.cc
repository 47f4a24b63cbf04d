// crc32c throughput: the hardware path against the portable slicing-by-8
// table, on 4 KiB, 64 KiB and 16 MiB buffers. After the table, prints the
// ratio hardware / portable of the median throughputs per size (GB/s = 1e9
// bytes/s there; the table's "G/s" is GiB/s).
//
//   build/rel/bench/crc32c_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/rate_reporter.h"
#include "edgepipe/data/crc32c.h"

namespace {

using edgepipe::data::Crc32cExtendFn;

std::vector<uint8_t> Buffer(size_t n) {
  std::mt19937 rng(1);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

void Run(benchmark::State& state, Crc32cExtendFn fn) {
  if (fn == nullptr) {
    state.SkipWithError("no hardware crc32c on this CPU");
    return;
  }
  const std::vector<uint8_t> buf = Buffer(static_cast<size_t>(state.range(0)));
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = fn(crc, buf.data(), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(0));
}

void BM_Crc32cHardware(benchmark::State& state) {
  state.SetLabel(edgepipe::data::Crc32cImplementationName());
  Run(state, edgepipe::data::Crc32cHardware());
}
void BM_Crc32cPortable(benchmark::State& state) { Run(state, &edgepipe::data::Crc32cPortable); }

BENCHMARK(BM_Crc32cHardware)->Arg(4 << 10)->Arg(64 << 10)->Arg(16 << 20);
BENCHMARK(BM_Crc32cPortable)->Arg(4 << 10)->Arg(64 << 10)->Arg(16 << 20);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  edgepipe::bench::RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf("\ncrc32c implementation: %s\n", edgepipe::data::Crc32cImplementationName());
  for (const char* size : {"4096", "65536", "16777216"}) {
    const double hw = reporter.Rate(std::string("BM_Crc32cHardware/") + size);
    const double portable = reporter.Rate(std::string("BM_Crc32cPortable/") + size);
    if (hw > 0 && portable > 0) {
      std::printf("%9s bytes: hardware %6.2f GB/s, portable %5.2f GB/s, ratio %.1fx\n", size,
                  hw / 1e9, portable / 1e9, hw / portable);
    }
  }
  benchmark::Shutdown();
  return 0;
}
