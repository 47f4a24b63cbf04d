// The matrix products of one training step of the guide's MNIST MLP
// (784-64-64-10) at batch 256 (and three of the CNN's), each on every nn/gemm.h kernel this CPU
// runs, next to the core's FMA peak measured by a tight loop of independent FMAs (BM_FmaPeak, 1
// thread). Counter GFLOP/s = 2 m n k / time. Threads: EDGEPIPE_NUM_THREADS (Sgemm's own split);
// rates use the CPU time of the calling thread, so compare at 1 thread.
//   build/rel/bench/nn_gemm_bench --benchmark_repetitions=3
//       --benchmark_report_aggregates_only=true   (one line)
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "edgepipe/nn/gemm.h"
#include "edgepipe/nn/random.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace edgepipe::nn {
namespace {

// Args: m, n, k, transposed a, transposed b, accumulate, kernel (GemmIsa).
void BM_MlpGemm(benchmark::State& state) {
  const int64_t m = state.range(0), n = state.range(1), k = state.range(2);
  const bool ta = state.range(3) != 0, tb = state.range(4) != 0, acc = state.range(5) != 0;
  const auto isa = static_cast<GemmIsa>(state.range(6));
  const GemmIsa saved = ActiveGemmIsa();
  if (SetGemmIsa(isa) != isa) {
    SetGemmIsa(saved);
    state.SkipWithError("this CPU cannot run the kernel");
    return;
  }
  Rng rng(5);
  std::vector<float> a(static_cast<size_t>(m * k)), b(static_cast<size_t>(k * n)),
      c(static_cast<size_t>(m * n));
  for (float& v : a) v = rng.Uniform(-1.0f, 1.0f);
  for (float& v : b) v = rng.Uniform(-1.0f, 1.0f);
  for (auto _ : state) {
    Sgemm(m, n, k, {a.data(), ta ? m : k, ta}, {b.data(), tb ? k : n, tb}, c.data(), n, acc);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(2 * m * n * k) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetLabel(std::string(GemmIsaName(isa)));
  SetGemmIsa(saved);
}

void MlpShapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"m", "n", "k", "ta", "tb", "acc", "isa"});
  // As nn/ops.cc's MatMul calls them: forward y = x w, then the backward
  // products gx += g w^T and gw += x^T g, layer by layer.
  const std::vector<std::vector<int64_t>> shapes = {
      {256, 64, 784, 0, 0, 0},  // dense 1 forward
      {256, 64, 64, 0, 0, 0},   // dense 2 forward
      {256, 10, 64, 0, 0, 0},   // dense 3 forward
      {256, 64, 10, 0, 1, 1},   // dense 3 input gradient
      {64, 10, 256, 1, 0, 1},   // dense 3 weight gradient
      {256, 64, 64, 0, 1, 1},   // dense 2 input gradient
      {64, 64, 256, 1, 0, 1},   // dense 2 weight gradient
      {784, 64, 256, 1, 0, 1},  // dense 1 weight gradient
      // Batch 40 (the guide's batch): dense 1 forward and weight gradient.
      {40, 64, 784, 0, 0, 0},
      {784, 64, 40, 1, 0, 0},
      // The CNN's (nn_train_bench) second convolution at batch 64: forward,
      // kernel gradient, patch gradient.
      {7744, 64, 288, 0, 0, 0},
      {288, 64, 7744, 1, 0, 1},
      {7744, 288, 64, 0, 1, 0},
  };
  for (const auto& s : shapes) {
    for (int64_t isa : {0, 1, 2}) {
      std::vector<int64_t> args = s;
      args.push_back(isa);
      b->Args(args);
    }
  }
}
BENCHMARK(BM_MlpGemm)->Apply(MlpShapes);

#if defined(__x86_64__) || defined(__i386__)
// 12 independent FMA chains of 16 floats: enough to cover FMA latency x
// throughput, so the loop runs at the core's peak.
__attribute__((target("avx512f"), noinline)) float FmaLoop512(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 x = _mm512_set1_ps(0.999f), y = _mm512_set1_ps(1e-3f);
  for (int64_t it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, s);
  float sum = 0.0f;
  for (float v : lanes) sum += v;
  return sum;
}

void BM_FmaPeak(benchmark::State& state) {
  if (!CpuHasAvx512()) {
    state.SkipWithError("no AVX-512F");
    return;
  }
  constexpr int64_t kIters = 1 << 16;
  for (auto _ : state) {
    int64_t iters = kIters;
    benchmark::DoNotOptimize(iters);  // keeps the call in the loop
    benchmark::DoNotOptimize(FmaLoop512(iters));
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(kIters * 12 * 32 * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_FmaPeak);
#endif

}  // namespace
}  // namespace edgepipe::nn

BENCHMARK_MAIN();
