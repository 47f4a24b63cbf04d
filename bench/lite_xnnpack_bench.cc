// The MNIST MLP (784-64-64-10, bench/lite_mlp.h) in our TFLite interpreter
// against the same three layers as raw XNNPACK operators
// (xnn_create_fully_connected_nc_f32 / _qs8, Debian's libxnnpack-dev; built
// only when that library is found), single thread (null threadpool; our
// interpreter is single-threaded). Float32 and int8 (full-integer, int8 in
// and out; XNNPACK gets the int8 model's weights, scales and zero points),
// batch 1 (latency) and batch 256 (throughput). After the table: medians of
// per-invoke times, ours / XNNPACK speed ratios, and the largest output
// difference between the two (float: absolute; int8: in quantization
// steps).
//
//   build/rel/bench/lite_xnnpack_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "bench/lite_mlp.h"
#include "edgepipe/lite/schema.h"

namespace {

using edgepipe::bench::MakeInterpreter;
using edgepipe::bench::Mlp;
using edgepipe::lite::Interpreter;

// Median per-invoke seconds of each benchmark (the last repetition's).
std::map<std::string, double>& Medians() {
  static std::map<std::string, double> m;
  return m;
}
std::map<std::string, double>& MaxDiff() {
  static std::map<std::string, double> m;
  return m;
}

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
void TimedLoop(benchmark::State& state, const std::string& key, int batch, F&& invoke) {
  std::vector<double> samples;
  samples.reserve(4096);
  const double cpu0 = ThreadCpuSeconds();
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    if (!invoke()) return state.SkipWithError("invoke failed");
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
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "lite_xnnpack_bench: %s\n", what.c_str());
  std::exit(1);
}

// One FULLY_CONNECTED layer as read from a model file.
struct FcLayer {
  int in = 0, out = 0;
  std::vector<float> wf, bf;  // float model
  std::vector<int8_t> wq;     // int8 model
  std::vector<int32_t> bq;
  float in_scale = 0, w_scale = 0, out_scale = 0;
  int in_zp = 0, out_zp = 0;
  bool relu = false;
};

// The FULLY_CONNECTED ops of `m` in order (the MLP has no other ops when its
// io is native: checked).
std::vector<FcLayer> ReadLayers(const std::string& bytes, bool quantized) {
  namespace lite = edgepipe::lite;
  auto model = lite::Model::FromBytes(bytes, "mlp");
  if (!model.ok()) Die(model.status().ToString());
  const lite::Model& m = **model;
  const tflite::SubGraph& g = m.subgraph(0);
  const auto* ops = g.operators();
  const auto* tensors = g.tensors();
  if (ops == nullptr || tensors == nullptr) Die("MLP has no operators or tensors");
  std::vector<FcLayer> layers;
  for (int i = 0; i < static_cast<int>(ops->size()); ++i) {
    const tflite::Operator* op = ops->Get(static_cast<unsigned>(i));
    if (m.OpCode(0, i) != static_cast<int32_t>(tflite::BuiltinOperator::FULLY_CONNECTED)) {
      Die("MLP op " + std::to_string(i) + " is " + lite::BuiltinOperatorName(m.OpCode(0, i)) +
          ", expected only FULLY_CONNECTED");
    }
    const auto* ins = op->inputs();
    const auto* outs = op->outputs();
    const auto* opts = op->builtin_options_as_FullyConnectedOptions();
    if (ins == nullptr || ins->size() != 3 || outs == nullptr || outs->size() != 1 ||
        opts == nullptr) {
      Die("MLP op " + std::to_string(i) + ": expected 3 inputs, 1 output and options");
    }
    const int x = ins->Get(0), w = ins->Get(1), b = ins->Get(2);
    const int y = outs->Get(0);
    FcLayer l;
    const tflite::Tensor* wt = tensors->Get(static_cast<unsigned>(w));
    const auto* shape = wt ? wt->shape() : nullptr;
    if (shape == nullptr || shape->size() != 2) Die("MLP filter must be rank 2");
    l.out = shape->Get(0);
    l.in = shape->Get(1);
    l.relu = opts->fused_activation_function() == tflite::ActivationFunctionType::RELU;
    const auto wd = m.TensorData(0, w);
    const auto bd = m.TensorData(0, b);
    if (quantized) {
      l.wq.assign(reinterpret_cast<const int8_t*>(wd.data()),
                  reinterpret_cast<const int8_t*>(wd.data()) + wd.size());
      l.bq.resize(bd.size() / 4);
      std::memcpy(l.bq.data(), bd.data(), bd.size());
      l.in_scale = m.TensorQuant(0, x).scale[0];
      l.in_zp = static_cast<int>(m.TensorQuant(0, x).zero_point[0]);
      l.w_scale = m.TensorQuant(0, w).scale[0];
      l.out_scale = m.TensorQuant(0, y).scale[0];
      l.out_zp = static_cast<int>(m.TensorQuant(0, y).zero_point[0]);
    } else {
      l.wf.resize(wd.size() / 4);
      std::memcpy(l.wf.data(), wd.data(), wd.size());
      l.bf.resize(bd.size() / 4);
      std::memcpy(l.bf.data(), bd.data(), bd.size());
    }
    layers.push_back(std::move(l));
  }
  return layers;
}

// The three layers as XNNPACK operators over its own buffers, set up for
// `batch` rows.
class XnnMlp {
 public:
  XnnMlp(const std::vector<FcLayer>& layers, bool quantized, int batch) : q_(quantized) {
    if (xnn_initialize(nullptr) != xnn_status_success) Die("xnn_initialize");
    const size_t elem = quantized ? 1 : 4;
    bufs_.emplace_back(static_cast<size_t>(batch * layers[0].in) * elem + 64);
    for (const FcLayer& l : layers) {
      bufs_.emplace_back(static_cast<size_t>(batch * l.out) * elem + 64);
      xnn_operator_t op = nullptr;
      xnn_status s;
      if (quantized) {
        const int8_t lo = l.relu ? static_cast<int8_t>(std::max(-128, l.out_zp)) : int8_t{-128};
        s = xnn_create_fully_connected_nc_qs8(
            static_cast<size_t>(l.in), static_cast<size_t>(l.out), static_cast<size_t>(l.in),
            static_cast<size_t>(l.out), static_cast<int8_t>(l.in_zp), l.in_scale, l.w_scale,
            l.wq.data(), l.bq.data(), static_cast<int8_t>(l.out_zp), l.out_scale, lo, 127, 0, &op);
      } else {
        s = xnn_create_fully_connected_nc_f32(
            static_cast<size_t>(l.in), static_cast<size_t>(l.out), static_cast<size_t>(l.in),
            static_cast<size_t>(l.out), l.wf.data(), l.bf.data(),
            l.relu ? 0.0f : -std::numeric_limits<float>::infinity(),
            std::numeric_limits<float>::infinity(), 0, &op);
      }
      if (s != xnn_status_success) Die("xnn_create_fully_connected");
      ops_.push_back(op);
    }
    for (size_t i = 0; i < ops_.size(); ++i) {
      xnn_status s = quantized ? xnn_setup_fully_connected_nc_qs8(
                                     ops_[i], static_cast<size_t>(batch),
                                     reinterpret_cast<const int8_t*>(bufs_[i].data()),
                                     reinterpret_cast<int8_t*>(bufs_[i + 1].data()), nullptr)
                               : xnn_setup_fully_connected_nc_f32(
                                     ops_[i], static_cast<size_t>(batch),
                                     reinterpret_cast<const float*>(bufs_[i].data()),
                                     reinterpret_cast<float*>(bufs_[i + 1].data()), nullptr);
      if (s != xnn_status_success) Die("xnn_setup_fully_connected");
    }
  }
  ~XnnMlp() {
    for (xnn_operator_t op : ops_) xnn_delete_operator(op);
  }
  XnnMlp(const XnnMlp&) = delete;
  XnnMlp& operator=(const XnnMlp&) = delete;

  uint8_t* input() { return bufs_.front().data(); }
  const uint8_t* output() const { return bufs_.back().data(); }
  bool Run() {
    for (xnn_operator_t op : ops_) {
      if (xnn_run_operator(op, nullptr) != xnn_status_success) return false;
    }
    return true;
  }

 private:
  bool q_;
  std::vector<std::vector<uint8_t>> bufs_;
  std::vector<xnn_operator_t> ops_;
};

void Run(benchmark::State& state, bool quantized, bool xnn, int batch) {
  const std::string& bytes = quantized ? Mlp().int8 : Mlp().float32;
  auto in = MakeInterpreter(bytes, batch);
  if (!in.ok()) return state.SkipWithError(in.status().ToString().c_str());
  const std::string key =
      std::string(quantized ? "int8" : "float32") + "/batch:" + std::to_string(batch);
  if (!xnn) {
    TimedLoop(state, "ours/" + key, batch, [&] { return (*in)->Invoke().ok(); });
    return;
  }
  XnnMlp x(ReadLayers(bytes, quantized), quantized, batch);
  const size_t in_bytes = (*in)->input(0).bytes;
  std::memcpy(x.input(), (*in)->input(0).data, in_bytes);
  TimedLoop(state, "xnnpack/" + key, batch, [&] { return x.Run(); });
  // Compare the outputs on the same input.
  if (!(*in)->Invoke().ok()) return state.SkipWithError("our invoke failed");
  const edgepipe::lite::Tensor& out = (*in)->output(0);
  double diff = 0;
  for (int64_t i = 0; i < out.num_elements(); ++i) {
    const double a = quantized ? out.as<int8_t>()[i] : out.as<float>()[i];
    const double b = quantized ? reinterpret_cast<const int8_t*>(x.output())[i]
                               : reinterpret_cast<const float*>(x.output())[i];
    diff = std::max(diff, std::abs(a - b));
  }
  MaxDiff()[key] = diff;
}

void Register() {
  for (bool quantized : {false, true}) {
    for (int batch : {1, 256}) {
      for (bool xnn : {false, true}) {
        const std::string name = std::string("Mlp/") + (xnn ? "xnnpack/" : "ours/") +
                                 (quantized ? "int8" : "float32") +
                                 "/batch:" + std::to_string(batch);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) {
          Run(s, quantized, xnn, batch);
        })->Unit(benchmark::kMicrosecond);
      }
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
  std::printf("\n%-18s %10s %10s %9s %10s %10s %9s %12s %12s %10s\n", "mlp", "ours_us", "xnn_us",
              "ours/xnn", "ours_cpu", "xnn_cpu", "cpu ratio", "ours_rows/s", "xnn_rows/s",
              "max_diff");
  for (const auto& [key, x] : Medians()) {
    if (key.rfind("xnnpack/", 0) != 0) continue;
    const std::string k = key.substr(8);
    const auto o = Medians().find("ours/" + k);
    if (o == Medians().end()) continue;
    const int batch = std::stoi(k.substr(k.find(':') + 1));
    const double oc = CpuMeans()["ours/" + k], xc = CpuMeans()[key];
    std::printf("%-18s %10.2f %10.2f %8.2fx %10.2f %10.2f %8.2fx %12.0f %12.0f %10.3g\n", k.c_str(),
                o->second * 1e6, x * 1e6, x / o->second, oc * 1e6, xc * 1e6, xc / oc, batch / oc,
                batch / xc, MaxDiff()[k]);
  }
  std::printf(
      "(times per invoke in us: wall medians, and thread-CPU means; ratios are the speed "
      "of ours relative to XNNPACK, > 1 is faster; rows/s from CPU time)\n");
  return 0;
}
