// Our TFLite interpreter on its issue-4 workloads (single thread):
//   Mlp/<variant>/batch:{1,256}  the MNIST MLP (bench/lite_mlp.h: float32,
//       int8 full-integer, float16 weights, dynamic-range), latency and rows/s
//   Mobilenet/batch:1  mobilenet_v2_quantized (int8 fixture), latency; the
//       counter GOPS = 2 * MACs (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED)
//       / median time
//   Int8Peak/avx2  a tight AVX2 vpmaddubsw + vpmaddwd + vpaddd loop (8
//       independent accumulators, 32 int8 MACs per vpmaddubsw);
//   Int8Peak/avx512vnni  the same with 64-MAC vpdpbusd: the faster of the two
//       is the machine's practical int8 GOPS on one core
// After the table: the MLP model sizes and their ratios to float32, the
// mobilenet GOPS against the peak, and with --profile the slowest mobilenet
// op types. --write_models=DIR writes the MLP variants (mlp_<variant>.tflite,
// and float32 / int8 with a static batch of 256, mlp_<variant>_batch256.tflite,
// since LiteRT runs only a file's static shape) for bench/litert_bench.mjs and exits.
//
//   build/rel/bench/lite_interpreter_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "bench/lite_mlp.h"
#include "edgepipe/lite/op_profiler.h"
#include "edgepipe/lite/schema.h"

namespace {

using edgepipe::bench::MakeInterpreter;
using edgepipe::bench::Mlp;
namespace lite = edgepipe::lite;

const std::string kMobilenet =
    std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/mobilenet_v2_quantized_1x3x224x224.tflite";

std::map<std::string, double>& Medians() {
  static std::map<std::string, double> m;
  return m;
}
double& PeakGops() {
  static double g = 0;
  return g;
}
double& MobilenetMacs() {
  static double m = 0;
  return m;
}
bool g_profile = false;

// Mean thread CPU seconds per invoke of each benchmark (the machine is
// shared: CPU time is what the loop itself used, wall time includes waiting
// for a core).
std::map<std::string, double>& CpuMeans() {
  static std::map<std::string, double> m;
  return m;
}

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

template <typename F>
double TimedLoop(benchmark::State& state, const std::string& key, int batch, F&& invoke) {
  std::vector<double> samples;
  const double cpu0 = ThreadCpuSeconds();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!invoke()) {
      state.SkipWithError("invoke failed");
      return 0;
    }
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double cpu =
      (ThreadCpuSeconds() - cpu0) / static_cast<double>(std::max<size_t>(1, samples.size()));
  state.SetItemsProcessed(state.iterations() * batch);
  const double med = Median(std::move(samples));
  state.counters["cpu_us"] = cpu * 1e6;
  CpuMeans()[key] = cpu;
  state.counters["median_us"] = med * 1e6;
  Medians()[key] = med;
  return med;
}

void MlpBench(benchmark::State& state, const std::string& variant, const std::string& bytes,
              int batch) {
  auto in = MakeInterpreter(bytes, batch);
  if (!in.ok()) return state.SkipWithError(in.status().ToString().c_str());
  TimedLoop(state, "mlp/" + variant + "/batch:" + std::to_string(batch), batch,
            [&] { return (*in)->Invoke().ok(); });
}

// Multiply-accumulates of the CONV_2D, DEPTHWISE_CONV_2D and
// FULLY_CONNECTED ops at the allocated shapes.
double CountMacs(const lite::Model& m, const lite::Interpreter& in) {
  const tflite::SubGraph& g = m.subgraph(0);
  const auto* ops = g.operators();
  if (ops == nullptr) return 0;
  double macs = 0;
  for (int i = 0; i < static_cast<int>(ops->size()); ++i) {
    const tflite::Operator* op = ops->Get(static_cast<unsigned>(i));
    const auto* ins = op->inputs();
    const auto* outs = op->outputs();
    if (ins == nullptr || ins->size() < 2 || outs == nullptr || outs->size() < 1) continue;
    const lite::Tensor& f = in.tensors()[static_cast<size_t>(ins->Get(1))];
    const double out =
        static_cast<double>(in.tensors()[static_cast<size_t>(outs->Get(0))].num_elements());
    using Op = tflite::BuiltinOperator;
    const auto code = static_cast<Op>(m.OpCode(0, i));
    if (code == Op::CONV_2D && f.rank() == 4) {
      macs += out * f.dim(1) * f.dim(2) * f.dim(3);
    } else if (code == Op::DEPTHWISE_CONV_2D && f.rank() == 4) {
      macs += out * f.dim(1) * f.dim(2);
    } else if (code == Op::FULLY_CONNECTED && f.rank() == 2) {
      macs += out * f.dim(1);
    }
  }
  return macs;
}

void MobilenetBench(benchmark::State& state) {
  auto model = lite::Model::Load(kMobilenet);
  if (!model.ok()) return state.SkipWithError(model.status().ToString().c_str());
  std::shared_ptr<const lite::Model> shared(std::move(*model));
  auto in = lite::Interpreter::Create(shared, lite::BuiltinOpResolver());
  if (!in.ok()) return state.SkipWithError(in.status().ToString().c_str());
  if (!(*in)->AllocateTensors().ok()) return state.SkipWithError("AllocateTensors failed");
  auto raw = (*in)->mutable_input_data(0);
  if (!raw.ok()) return state.SkipWithError(raw.status().ToString().c_str());
  uint32_t seed = 12345;
  for (uint8_t& b : *raw) {
    seed = seed * 1103515245u + 12345u;
    b = static_cast<uint8_t>(seed >> 24);
  }
  MobilenetMacs() = CountMacs(*shared, **in);
  const double med = TimedLoop(state, "mobilenet/batch:1", 1, [&] { return (*in)->Invoke().ok(); });
  state.counters["GOPS"] = med > 0 ? 2 * MobilenetMacs() / med / 1e9 : 0;
  state.counters["MMACs"] = MobilenetMacs() / 1e6;
  if (!g_profile) return;
  lite::OpTimeProfiler prof((*in)->num_ops());
  (*in)->set_profiler(&prof);
  for (int i = 0; i < 5; ++i) {
    if (!(*in)->Invoke().ok()) return state.SkipWithError("invoke failed");
  }
  (*in)->set_profiler(nullptr);
  std::map<std::string, int64_t> by_type;
  int64_t total = 0;
  for (int i = 0; i < prof.num_ops(); ++i) {
    by_type[(*in)->op_name(i)] += prof.total_ns(i);
    total += prof.total_ns(i);
  }
  std::printf("mobilenet profile (5 invokes):\n");
  for (const auto& [name, ns] : by_type) {
    std::printf("  %-24s %8.2f ms/invoke %5.1f%%\n", name.c_str(), static_cast<double>(ns) / 5e6,
                100.0 * static_cast<double>(ns) / static_cast<double>(total));
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// 64 iterations x 8 vpmaddubsw x 32 MACs per call.
__attribute__((target("avx2"))) int32_t PeakLoop(int8_t av, int8_t bv, int64_t iters) {
  __m256i a = _mm256_set1_epi8(av);
  const __m256i b = _mm256_set1_epi8(bv);
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i acc[8];
  for (int j = 0; j < 8; ++j) acc[j] = _mm256_set1_epi32(j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) {
      acc[j] = _mm256_add_epi32(acc[j], _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), ones));
    }
    // A dependency on the accumulators keeps the products in the loop.
    a = _mm256_xor_si256(a, _mm256_srli_epi32(acc[0], 31));
  }
  __m256i s = acc[0];
  for (int j = 1; j < 8; ++j) s = _mm256_add_epi32(s, acc[j]);
  return _mm256_extract_epi32(s, 0);
}

// 64-MAC vpdpbusd (AVX512-VNNI, what lite/gemm_int8 runs on such CPUs):
// 8 independent accumulators, 8 x 64 MACs per iteration.
__attribute__((target("avx512f,avx512vnni"))) int32_t PeakLoopVnni(int8_t av, int8_t bv,
                                                                   int64_t iters) {
  __m512i a = _mm512_set1_epi8(av);
  const __m512i b = _mm512_set1_epi8(bv);
  __m512i acc[8];
  for (int j = 0; j < 8; ++j) acc[j] = _mm512_set1_epi32(j);
  for (int64_t i = 0; i < iters; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) acc[j] = _mm512_dpbusd_epi32(acc[j], a, b);
    a = _mm512_xor_si512(a, _mm512_and_si512(acc[0], _mm512_set1_epi32(1)));
  }
  __m512i t = acc[0];
  for (int j = 1; j < 8; ++j) t = _mm512_add_epi32(t, acc[j]);
  alignas(64) int32_t lanes[16];
  _mm512_store_si512(lanes, t);
  return lanes[0];
}

void Int8PeakBench(benchmark::State& state, bool vnni) {
  if (vnni ? !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vnni"))
           : !__builtin_cpu_supports("avx2")) {
    return state.SkipWithError(vnni ? "no AVX512-VNNI" : "no AVX2");
  }
  constexpr int64_t kIters = 1 << 16;
  volatile int8_t seed = 3;
  std::vector<double> samples;
  int64_t sink = 0;
  const double cpu0 = ThreadCpuSeconds();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const int32_t r = vnni ? PeakLoopVnni(seed, -5, kIters) : PeakLoop(seed, -5, kIters);
    samples.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    sink += r;
  }
  benchmark::DoNotOptimize(sink);
  const double macs = static_cast<double>(kIters) * 8 * (vnni ? 64 : 32);
  // By thread CPU time (the machine is shared; wall time includes waits).
  const double cpu =
      (ThreadCpuSeconds() - cpu0) / static_cast<double>(std::max<size_t>(1, samples.size()));
  const double gops = 2 * macs / cpu / 1e9;
  PeakGops() = std::max(PeakGops(), gops);  // the machine's peak: the faster loop
  state.counters["GOPS_wall_median"] = 2 * macs / Median(samples) / 1e9;
  state.counters["GOPS"] = gops;
}
#endif

void Register() {
  const edgepipe::bench::MlpModels& m = Mlp();
  const std::pair<const char*, const std::string*> variants[] = {{"float32", &m.float32},
                                                                 {"int8", &m.int8},
                                                                 {"float16", &m.float16},
                                                                 {"dynamic_range", &m.dynamic}};
  for (const auto& [name, bytes] : variants) {
    for (int batch : {1, 256}) {
      const std::string n = std::string("Mlp/") + name + "/batch:" + std::to_string(batch);
      benchmark::RegisterBenchmark(n.c_str(), [name = std::string(name), bytes,
                                               batch](benchmark::State& s) {
        MlpBench(s, name, *bytes, batch);
      })->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("Mobilenet/batch:1", MobilenetBench)
      ->Unit(benchmark::kMillisecond)
      ->MinTime(2.0);
#if defined(__x86_64__) && defined(__GNUC__)
  benchmark::RegisterBenchmark("Int8Peak/avx2", Int8PeakBench, false)
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("Int8Peak/avx512vnni", Int8PeakBench, true)
      ->Unit(benchmark::kMicrosecond);
#endif
}

// `bytes` with every dynamic batch (shape_signature[0] == -1) fixed to
// `batch` in shape and shape_signature, patched in place (same sizes): LiteRT
// runs a model only at the file's static shape.
std::string WithStaticBatch(const std::string& bytes, int32_t batch) {
  std::string out = bytes;
  const tflite::Model* m = tflite::GetModel(out.data());
  if (m->subgraphs() == nullptr) return out;
  for (const tflite::SubGraph* g : *m->subgraphs()) {
    if (g == nullptr || g->tensors() == nullptr) continue;
    for (const tflite::Tensor* t : *g->tensors()) {
      const flatbuffers::Vector<int32_t>* shape = t == nullptr ? nullptr : t->shape();
      if (shape == nullptr || shape->size() < 2) continue;
      const flatbuffers::Vector<int32_t>* sig = t->shape_signature();
      const bool dynamic = sig != nullptr && sig->size() > 0 && sig->Get(0) == -1;
      // The quantizer's tensors carry no shape_signature: an activation
      // (no constant data) of batch 1 is a batch dimension too.
      bool constant = false;
      if (const auto* buffers = m->buffers(); buffers != nullptr && t->buffer() < buffers->size()) {
        const tflite::Buffer* buf = buffers->Get(t->buffer());
        const auto* data = buf != nullptr ? buf->data() : nullptr;
        constant = data != nullptr && data->size() > 0;
      }
      if (!dynamic && (constant || sig != nullptr || shape->Get(0) != 1)) continue;
      std::vector<const int32_t*> dims = {shape->data()};
      if (dynamic) dims.push_back(sig->data());
      for (const int32_t* p : dims) {
        std::memcpy(out.data() + (reinterpret_cast<const char*>(p) - out.data()), &batch, 4);
      }
    }
  }
  return out;
}

int WriteModels(const std::string& dir) {
  const edgepipe::bench::MlpModels& m = Mlp();
  const std::string f32_256 = WithStaticBatch(m.float32, 256);
  const std::string int8_256 = WithStaticBatch(m.int8, 256);
  for (const auto& [name, bytes] :
       {std::pair<const char*, const std::string*>{"float32", &m.float32},
        {"int8", &m.int8},
        {"float16", &m.float16},
        {"dynamic_range", &m.dynamic},
        {"float32_batch256", &f32_256},
        {"int8_batch256", &int8_256}}) {
    const std::string path = dir + "/mlp_" + name + ".tflite";
    std::ofstream f(path, std::ios::binary);
    f.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
    if (!f) {
      std::fprintf(stderr, "%s: write failed\n", path.c_str());
      return 1;
    }
    std::printf("%s\n", path.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--write_models=", 0) == 0) return WriteModels(a.substr(15));
    if (a == "--profile") {
      g_profile = true;
      continue;
    }
    args.push_back(argv[i]);
  }
  int n = static_cast<int>(args.size());
  Register();
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  const edgepipe::bench::MlpModels& m = Mlp();
  const double f32 = static_cast<double>(m.float32.size());
  std::printf(
      "\nMLP model sizes: float32 %zu B; int8 %zu B (%.3f); float16 %zu B (%.3f); "
      "dynamic_range %zu B (%.3f)\n",
      m.float32.size(), m.int8.size(), static_cast<double>(m.int8.size()) / f32, m.float16.size(),
      static_cast<double>(m.float16.size()) / f32, m.dynamic.size(),
      static_cast<double>(m.dynamic.size()) / f32);
  const auto mob = Medians().find("mobilenet/batch:1");
  if (mob != Medians().end()) {
    const double cpu = CpuMeans()["mobilenet/batch:1"];
    const double gops = 2 * MobilenetMacs() / cpu / 1e9;
    std::printf(
        "mobilenet_v2_quantized: %.1f M MACs, wall median %.2f ms, thread-CPU mean %.2f ms, "
        "%.2f GOPS (by CPU time)",
        MobilenetMacs() / 1e6, mob->second * 1e3, cpu * 1e3, gops);
    if (PeakGops() > 0) {
      std::printf(" = %.1f%% of the measured int8 peak %.1f GOPS", 100 * gops / PeakGops(),
                  PeakGops());
    }
    std::printf("\n");
  }
  std::printf("\n%-28s %12s %12s %14s\n", "mlp", "wall_med_us", "cpu_mean_us", "rows/s (cpu)");
  for (const auto& [key, med] : Medians()) {
    if (key.rfind("mlp/", 0) != 0) continue;
    const int batch = std::stoi(key.substr(key.find(':') + 1));
    const double cpu = CpuMeans()[key];
    std::printf("%-28s %12.2f %12.2f %14.0f\n", key.c_str(), med * 1e6, cpu * 1e6, batch / cpu);
  }
  return 0;
}
