// The Evaluator on the issue's benchmark: the MNIST MLP (784-64-64-10,
// trained briefly on Fashion-MNIST) as a native model and as an int8 TFLite
// model (full integer, int8 I/O), evaluated together in one pass over the
// 10,000 Fashion-MNIST test images written as tf.Example TFRecord, with the
// overall slice and one feature slice (image_class), SparseCategoricalAccuracy
// + ExampleCount + the automatic diff metrics.
//
//   BM_Evaluate/<threads>       Evaluate() end to end: read, parse, both models,
//                               slices, metrics (examples/s = per model, as
//                               each model sees every example)
//   BM_BareInference/<threads>  the same two models on already-parsed tensors
//                               ([10000, 784] float32 in memory), same batch
//   BM_BareNative, BM_BareInt8  each model alone, 1 thread
// main() prints the evaluator's overhead over bare inference.
//
// Rates are per CPU-second of the whole process (MeasureProcessCPUTime), so
// that they mean something on a shared, overloaded machine; wall-clock
// examples/s on N idle cores is at most N times the per-CPU-second rate.
//
//   build/rel/bench/eval_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one line)
// EVAL_BENCH_GZIP=1 writes the examples gzip-compressed (as ExampleGen does).
// EVAL_BENCH_KEEP=<dir> also copies the two models, the examples and the
// EvalConfig there (native/, lite/, test.tfrecord, eval_config.pbtxt), to
// compare `edgepipe evaluate` outputs of two builds on the same inputs.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/evaluator.h"
#include "edgepipe/eval/model_runner.h"
#include "edgepipe/lite/rewriter.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"
#include "tests/fashion_mnist_data.h"

namespace edgepipe::eval {
namespace {

constexpr int64_t kBatch = 256;

struct Fixture {
  TempDir tmp;
  std::string native, lite, examples;
  Array test_x;  // [10000, 784]
  int64_t n = 0;
  double train_seconds = 0;
};

Status Build(Fixture* f) {
  ASSIGN_OR_RETURN(testing::FashionMnist d, testing::LoadFashionMnist());
  nn::Sequential m("mnist_mlp", 1);
  namespace L = nn::layers;
  RETURN_IF_ERROR(m.Add(L::InputLayer({784}, "image_floats")));
  RETURN_IF_ERROR(m.Add(L::Dense(64, {.activation = "relu"})));
  RETURN_IF_ERROR(m.Add(L::Dropout(0.2f)));
  RETURN_IF_ERROR(m.Add(L::Dense(64, {.activation = "relu"})));
  RETURN_IF_ERROR(m.Add(L::Dropout(0.2f)));
  RETURN_IF_ERROR(m.Add(L::Dense(10)));
  RETURN_IF_ERROR(m.Compile(nn::RMSprop(0.0015f), nn::SparseCategoricalCrossentropy(true),
                            nn::SparseCategoricalAccuracy()));
  ASSIGN_OR_RETURN(nn::History h,
                   m.Fit(d.train_x, d.train_y, {.batch_size = 128, .steps_per_epoch = 300}));
  (void)h;
  f->native = f->tmp.Join("native");
  RETURN_IF_ERROR(
      model::Save(m, f->native,
                  std::vector<model::Signature>{model::TensorSignature(
                      "serving_default", {{"image_floats", DType::kFloat32, {-1, 784}}})}));
  lite::TFLiteRewriterOptions q;
  q.quantization = lite::Quantization::kFullInteger;
  q.inference_input_type = lite::InferenceType::kInt8;
  q.inference_output_type = lite::InferenceType::kInt8;
  for (int b = 0; b < 4; ++b) {
    ASSIGN_OR_RETURN(Array a, Array::Uninitialized(DType::kFloat32, {100, 784}));
    std::copy_n(d.train_x.data<float>().begin() + b * 100 * 784, 100 * 784,
                a.data<float>().begin());
    q.representative_dataset.push_back({{"image_floats", std::move(a)}});
  }
  lite::TFLiteRewriter rewriter(q);
  f->lite = f->tmp.Join("lite");
  RETURN_IF_ERROR(lite::RewriteSavedModel(f->native, f->lite, rewriter));

  const bool gz = std::getenv("EVAL_BENCH_GZIP") != nullptr;
  f->examples = f->tmp.Join(gz ? "test.tfrecord.gz" : "test.tfrecord");
  ASSIGN_OR_RETURN(auto w, data::TFRecordWriter::Open(f->examples));
  f->n = d.test_x.dim(0);
  for (int64_t i = 0; i < f->n; ++i) {
    tf::Example e;
    data::SetFloats(&e, "image_floats",
                    std::span<const float>(d.test_x.data<float>().data() + i * 784, 784));
    data::SetInt64s(&e, "image_class",
                    std::span<const int64_t>(d.test_y.data<int64_t>().data() + i, 1));
    RETURN_IF_ERROR(w->Write(data::SerializeDeterministic(e)));
  }
  RETURN_IF_ERROR(w->Close());
  f->test_x = std::move(d.test_x);
  return Status::Ok();
}

constexpr char kConfig[] = R"(
  model_specs { name: "native" model_type: "tf_keras" label_key: "image_class" }
  model_specs { name: "int8" model_type: "tf_lite" label_key: "image_class" }
  slicing_specs {}
  slicing_specs { feature_keys: "image_class" }
  metrics_specs {
    metrics { class_name: "ExampleCount" }
    metrics { class_name: "SparseCategoricalAccuracy" }
  }
)";

Status Keep(const Fixture& f, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  for (const auto& [from, to] : {std::pair{f.native, "native"}, std::pair{f.lite, "lite"},
                                 std::pair{f.examples, "test.tfrecord"}}) {
    fs::copy(from, fs::path(dir) / to,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::IoError("copy " + from + " to " + dir + ": " + ec.message());
  }
  return WriteFileAtomic(JoinPath(dir, "eval_config.pbtxt"), kConfig);
}

Fixture& TheFixture() {
  static Fixture* f = [] {
    auto* fx = new Fixture();
    Status s = Build(fx);
    if (const char* keep = std::getenv("EVAL_BENCH_KEEP"); s.ok() && keep != nullptr) {
      s = Keep(*fx, keep);
    }
    if (!s.ok()) {
      std::fprintf(stderr, "eval_bench setup: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    return fx;
  }();
  return *f;
}

void BM_Evaluate(benchmark::State& state) {
  Fixture& f = TheFixture();
  auto config = ParseEvalConfig(kConfig, "bench");
  if (!config.ok()) return state.SkipWithError(config.status().ToString().c_str());
  EvaluateOptions o;
  o.batch_size = kBatch;
  o.num_threads = static_cast<int>(state.range(0));
  o.progress = false;
  EvalStats stats;
  o.stats = &stats;
  double acc_native = 0, acc_int8 = 0, flip = 0;
  for (auto _ : state) {
    auto r = Evaluate(*config, {{"native", f.native}, {"int8", f.lite}}, f.examples, o);
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    const auto& m = r->slices[0].metrics;
    acc_native = m.at({"sparse_categorical_accuracy", "native", "", false}).value;
    acc_int8 = m.at({"sparse_categorical_accuracy", "int8", "", false}).value;
    flip = m.at({"flip_rate", "int8", "", false}).value;
  }
  state.SetItemsProcessed(state.iterations() * f.n);
  state.counters["acc_native"] = acc_native;
  state.counters["acc_int8"] = acc_int8;
  state.counters["flip_rate"] = flip;
  const double iters = static_cast<double>(state.iterations());
  state.counters["read_s"] = stats.read_seconds;
  state.counters["infer_s"] = stats.infer_seconds;
  state.counters["metric_s"] = stats.metric_seconds;
  (void)iters;
}
BENCHMARK(BM_Evaluate)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Runs `runners` over rows [begin, end) of x in batches of kBatch.
Status RunRows(std::vector<std::unique_ptr<ModelRunner>>& runners, const Array& x, int64_t begin,
               int64_t end) {
  std::vector<float> out;
  for (int64_t b = begin; b < end; b += kBatch) {
    const int64_t n = std::min(kBatch, end - b);
    data::Batch batch;
    batch.size = n;
    ASSIGN_OR_RETURN(Array part, Array::Uninitialized(DType::kFloat32, {n, 784}));
    std::copy_n(x.data<float>().begin() + b * 784, n * 784, part.data<float>().begin());
    batch.arrays.emplace("image_floats", std::move(part));
    for (auto& r : runners) {
      RETURN_IF_ERROR(r->Run({.size = n, .serialized = {}, .features = &batch}, &out));
    }
  }
  return Status::Ok();
}

Result<std::vector<std::unique_ptr<ModelRunner>>> OpenRunners(bool native, bool lite) {
  Fixture& f = TheFixture();
  std::vector<std::unique_ptr<ModelRunner>> runners;
  ModelSpec n, l;
  n.set_name("native");
  l.set_name("int8");
  l.set_model_type("tf_lite");
  if (native) {
    ASSIGN_OR_RETURN(auto r, OpenModel(n, f.native, {.batch_size = kBatch}));
    runners.push_back(std::move(r));
  }
  if (lite) {
    ASSIGN_OR_RETURN(auto r, OpenModel(l, f.lite, {.batch_size = kBatch}));
    runners.push_back(std::move(r));
  }
  return runners;
}

void Bare(benchmark::State& state, bool native, bool lite, int threads) {
  Fixture& f = TheFixture();
  std::vector<std::vector<std::unique_ptr<ModelRunner>>> per_thread;
  for (int t = 0; t < threads; ++t) {
    auto r = OpenRunners(native, lite);
    if (!r.ok()) return state.SkipWithError(r.status().ToString().c_str());
    per_thread.push_back(std::move(*r));
  }
  for (auto _ : state) {
    std::vector<std::thread> pool;
    std::vector<Status> st(static_cast<size_t>(threads));
    // Chunks of kBatch rows split between the threads (as the evaluator does).
    const int64_t chunks = (f.n + kBatch - 1) / kBatch;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        const int64_t c0 = chunks * t / threads, c1 = chunks * (t + 1) / threads;
        st[static_cast<size_t>(t)] = RunRows(per_thread[static_cast<size_t>(t)], f.test_x,
                                             c0 * kBatch, std::min(f.n, c1 * kBatch));
      });
    }
    for (auto& th : pool) th.join();
    for (const Status& s : st) {
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
  }
  state.SetItemsProcessed(state.iterations() * f.n);
}

void BM_BareInference(benchmark::State& state) {
  Bare(state, true, true, static_cast<int>(state.range(0)));
}
BENCHMARK(BM_BareInference)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
void BM_BareNative(benchmark::State& state) { Bare(state, true, false, 1); }
BENCHMARK(BM_BareNative)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
void BM_BareInt8(benchmark::State& state) { Bare(state, false, true, 1); }
BENCHMARK(BM_BareInt8)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// Remembers items_per_second (the median when aggregated).
class ItemsReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const bool usable = run.run_type == Run::RT_Iteration || run.aggregate_name == "median";
      auto it = run.counters.find("items_per_second");
      if (usable && it != run.counters.end()) {
        std::string name = run.run_name.function_name;
        if (!run.run_name.args.empty()) name += "/" + run.run_name.args;
        rates[name] = it->second.value;
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::map<std::string, double> rates;
};

}  // namespace
}  // namespace edgepipe::eval

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  edgepipe::eval::TheFixture();
  edgepipe::eval::ItemsReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  std::printf(
      "\nexamples per process CPU-second, per model (each model sees every example), median:\n");
  for (const char* t : {"1", "2"}) {
    const double ev = reporter.rates["BM_Evaluate/" + std::string(t)];
    const double bare = reporter.rates["BM_BareInference/" + std::string(t)];
    if (ev <= 0 || bare <= 0) continue;
    std::printf("  %s thread(s): evaluate %.0f/s, bare inference %.0f/s, overhead %.0f%%\n", t, ev,
                bare, 100.0 * (bare / ev - 1.0));
  }
  benchmark::Shutdown();
  return 0;
}
