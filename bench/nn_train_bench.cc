// Training throughput of nn/: the guide's MNIST MLP (784-64-64-10, dropout
// 0.2, RMSprop, sparse CE from logits) on synthetic data, batch 40 and 256.
// Reports steps/s and examples/s; arg 1 is the batch size.
//   build/rel/bench/nn_train_bench --benchmark_repetitions=5
#include <benchmark/benchmark.h>

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

}  // namespace
}  // namespace edgepipe::nn

BENCHMARK_MAIN();
