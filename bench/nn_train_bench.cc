// Training throughput of nn/ on synthetic data: the guide's MNIST MLP
// (784-64-64-10, dropout 0.2, RMSprop, sparse CE from logits) at batch 40
// and 256, and the small CNN (Conv2D 32 3x3 relu, MaxPool, Conv2D 64
// 3x3 relu, MaxPool, Flatten, Dropout 0.5, Dense 10; Adam) at batch 64.
// Reports steps/s and examples/s; the arg is the batch size. Threads:
// EDGEPIPE_NUM_THREADS; EDGEPIPE_NN_GEMM=portable forces the portable matrix
// kernel (nn/gemm.h). The matrix products alone, on every kernel:
// bench/nn_gemm_bench.cc.
//   build/rel/bench/nn_train_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

#include <vector>

#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::nn {
namespace {

Sequential MakeMlp() {
  Sequential model("mlp", 1);
  (void)model.Add(layers::InputLayer({784}, "image_floats"));
  (void)model.Add(layers::Dense(64, {.activation = "relu"}));
  (void)model.Add(layers::Dropout(0.2f));
  (void)model.Add(layers::Dense(64, {.activation = "relu"}));
  (void)model.Add(layers::Dropout(0.2f));
  (void)model.Add(layers::Dense(10));
  (void)model.Compile(RMSprop(0.0015f), SparseCategoricalCrossentropy(true),
                      SparseCategoricalAccuracy());
  return model;
}

void BM_MlpTrain(benchmark::State& state) {
  const int64_t batch = state.range(0);
  constexpr int64_t kN = 4096, kSteps = 200;
  Array x = *Array::Zeros(DType::kFloat32, {kN, 784});
  Array y = *Array::Zeros(DType::kInt64, {kN});
  Rng rng(3);
  for (float& v : x.data<float>()) v = rng.Uniform();
  for (int64_t& v : y.data<int64_t>()) v = static_cast<int64_t>(rng.Below(10));
  Sequential model = MakeMlp();
  for (auto _ : state) {
    Result<History> h = model.Fit(x, y, {.batch_size = batch, .steps_per_epoch = kSteps});
    if (!h.ok()) state.SkipWithError(h.status().ToString().c_str());
  }
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(kSteps),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * kSteps * batch);
}
BENCHMARK(BM_MlpTrain)->Arg(40)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_CnnTrain(benchmark::State& state) {
  const int64_t batch = state.range(0);
  constexpr int64_t kN = 1024, kSteps = 10;
  Array x = *Array::Zeros(DType::kFloat32, {kN, 28, 28, 1});
  Array y = *Array::Zeros(DType::kInt64, {kN});
  Rng rng(3);
  for (float& v : x.data<float>()) v = rng.Uniform();
  for (int64_t& v : y.data<int64_t>()) v = static_cast<int64_t>(rng.Below(10));
  Sequential model("cnn", 1);
  (void)model.Add(layers::InputLayer({28, 28, 1}));
  (void)model.Add(layers::Conv2D(32, 3, {.activation = "relu"}));
  (void)model.Add(layers::MaxPooling2D());
  (void)model.Add(layers::Conv2D(64, 3, {.activation = "relu"}));
  (void)model.Add(layers::MaxPooling2D());
  (void)model.Add(layers::Flatten());
  (void)model.Add(layers::Dropout(0.5f));
  (void)model.Add(layers::Dense(10));
  (void)model.Compile(Adam(), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy());
  for (auto _ : state) {
    Result<History> h = model.Fit(x, y, {.batch_size = batch, .steps_per_epoch = kSteps});
    if (!h.ok()) state.SkipWithError(h.status().ToString().c_str());
  }
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(kSteps),
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.SetItemsProcessed(state.iterations() * kSteps * batch);
}
BENCHMARK(BM_CnnTrain)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace edgepipe::nn

BENCHMARK_MAIN();
