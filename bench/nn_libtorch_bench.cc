// edgepipe's nn/ against LibTorch's C++ frontend, side by side in one run
// (issue 3, "Benchmarks"), on synthetic 28x28 images:
//   - training throughput (examples/s) of the guide's MNIST MLP at batch 40
//     and 256 and of the small CNN at batch 64 (bench/nn_libtorch_models.h);
//   - Predict throughput over 10,000 images (batch 256);
//   - peak RSS of a training run, each side in its own fork/exec'd child
//     that reports its VmHWM: LibTorch's in this binary re-executed with
//     --rss_child=..., ours in nn_libtorch_rss_child, which does not link
//     LibTorch (else our figure would carry its ~160 MB).
// Ours runs at 1 and 2 threads (nn::SetNumThreads). LibTorch runs at every
// (torch intra-op threads, OpenBLAS threads) in {1, 2}^2, because on 2 cores
// its OpenMP pool and OpenBLAS's pool fight; ours at 1 thread is compared
// with LibTorch (1, 1), ours at 2 threads with the fastest of the four.
//
//   bench/run.sh torch                                # all of it, 5 repetitions
//   build/rel/bench/nn_libtorch_bench --benchmark_filter=mlp  # the ratio tables
//   build/rel/bench/nn_libtorch_bench --only_rss      # just the RSS table
//   build/rel/bench/nn_libtorch_bench --skip_rss      # just throughput
#include <benchmark/benchmark.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/nn_libtorch_data.h"
#include "bench/nn_libtorch_models.h"
#include "edgepipe/nn/parallel.h"

namespace edgepipe::bench {
namespace {

constexpr int64_t kTrainExamples = 4096;
constexpr int64_t kPredictExamples = 10000;
constexpr int64_t kPredictBatch = 256;
constexpr TorchThreads kTorchConfigs[] = {{1, 1}, {2, 1}, {1, 2}, {2, 2}};

// Optimizer steps per benchmark iteration.
int64_t StepsPerIteration(Net net) { return net == Net::kMlp ? 50 : 10; }

// Synthetic images shaped for `net`, made once per (net, count).
const LabeledImages& Data(Net net, int64_t n) {
  static std::map<std::pair<Net, int64_t>, LabeledImages> cache;
  auto it = cache.find({net, n});
  if (it == cache.end()) {
    Result<LabeledImages> d = SyntheticImages(n, /*seed=*/3);
    if (!d.ok()) {
      std::fprintf(stderr, "synthetic data: %s\n", d.status().ToString().c_str());
      std::exit(1);
    }
    if (net == Net::kCnn) (void)ToImageShape(&*d);
    it = cache.emplace(std::make_pair(net, n), std::move(*d)).first;
  }
  return it->second;
}

void BM_TrainOurs(benchmark::State& state, Net net) {
  const int64_t batch = state.range(0), steps = StepsPerIteration(net);
  nn::SetNumThreads(static_cast<int>(state.range(1)));
  const LabeledImages& data = Data(net, kTrainExamples);
  Result<nn::Sequential> model = MakeOursModel(net, /*seed=*/1);
  if (!model.ok()) return state.SkipWithError(model.status().ToString().c_str());
  for (auto _ : state) {
    Result<nn::History> h =
        model->Fit(data.x, data.y, {.batch_size = batch, .steps_per_epoch = steps});
    if (!h.ok()) return state.SkipWithError(h.status().ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * steps * batch);
}

void BM_TrainTorch(benchmark::State& state, Net net) {
  const int64_t batch = state.range(0), steps = StepsPerIteration(net);
  const TorchThreads threads{static_cast<int>(state.range(1)), static_cast<int>(state.range(2))};
  if (threads.blas > 1 && !HasOpenBlas()) return state.SkipWithError("BLAS is not OpenBLAS");
  SetTorchThreads(threads);
  const LabeledImages& data = Data(net, kTrainExamples);
  Result<std::unique_ptr<TorchNet>> model = TorchNet::Create(net, /*seed=*/1);
  if (!model.ok()) return state.SkipWithError(model.status().ToString().c_str());
  for (auto _ : state) {
    Status s = (*model)->TrainSteps(data, batch, steps);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(state.iterations() * steps * batch);
  SetTorchThreads({1, 1});  // park both pools before the next benchmark
}

void BM_PredictOurs(benchmark::State& state, Net net) {
  nn::SetNumThreads(static_cast<int>(state.range(0)));
  const LabeledImages& data = Data(net, kPredictExamples);
  Result<nn::Sequential> model = MakeOursModel(net, /*seed=*/1);
  if (!model.ok()) return state.SkipWithError(model.status().ToString().c_str());
  for (auto _ : state) {
    Result<nn::Tensor> out = model->Predict(data.x, kPredictBatch);
    if (!out.ok()) return state.SkipWithError(out.status().ToString().c_str());
    benchmark::DoNotOptimize(out->data());
  }
  state.SetItemsProcessed(state.iterations() * kPredictExamples);
}

void BM_PredictTorch(benchmark::State& state, Net net) {
  const TorchThreads threads{static_cast<int>(state.range(0)), static_cast<int>(state.range(1))};
  if (threads.blas > 1 && !HasOpenBlas()) return state.SkipWithError("BLAS is not OpenBLAS");
  SetTorchThreads(threads);
  const LabeledImages& data = Data(net, kPredictExamples);
  Result<std::unique_ptr<TorchNet>> model = TorchNet::Create(net, /*seed=*/1);
  if (!model.ok()) return state.SkipWithError(model.status().ToString().c_str());
  Result<Array> out = Array::Zeros(DType::kFloat32, {kPredictExamples, 10});
  if (!out.ok()) return state.SkipWithError(out.status().ToString().c_str());
  for (auto _ : state) {
    Status s = (*model)->Predict(data.x, kPredictBatch, &*out);
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out->raw_data());
  }
  state.SetItemsProcessed(state.iterations() * kPredictExamples);
  SetTorchThreads({1, 1});
}

void TorchTrainArgs(benchmark::internal::Benchmark* b, std::initializer_list<int64_t> batches) {
  for (int64_t batch : batches) {
    for (TorchThreads t : kTorchConfigs) b->Args({batch, t.torch, t.blas});
  }
  b->ArgNames({"batch", "torch", "blas"})->Unit(benchmark::kMillisecond)->UseRealTime();
}
void TorchPredictArgs(benchmark::internal::Benchmark* b) {
  for (TorchThreads t : kTorchConfigs) b->Args({t.torch, t.blas});
  b->ArgNames({"torch", "blas"})->Unit(benchmark::kMillisecond)->UseRealTime();
}

BENCHMARK_CAPTURE(BM_TrainOurs, mlp, Net::kMlp)
    ->ArgsProduct({{40, 256}, {1, 2}})
    ->ArgNames({"batch", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainTorch, mlp, Net::kMlp)->Apply([](auto* b) {
  TorchTrainArgs(b, {40, 256});
});
BENCHMARK_CAPTURE(BM_TrainOurs, cnn, Net::kCnn)
    ->ArgsProduct({{64}, {1, 2}})
    ->ArgNames({"batch", "threads"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainTorch, cnn, Net::kCnn)->Apply([](auto* b) { TorchTrainArgs(b, {64}); });
BENCHMARK_CAPTURE(BM_PredictOurs, mlp, Net::kMlp)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_PredictTorch, mlp, Net::kMlp)->Apply(TorchPredictArgs);
BENCHMARK_CAPTURE(BM_PredictOurs, cnn, Net::kCnn)
    ->Arg(1)
    ->Arg(2)
    ->ArgName("threads")
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK_CAPTURE(BM_PredictTorch, cnn, Net::kCnn)->Apply(TorchPredictArgs);

// A console reporter that keeps each benchmark's items_per_second (the
// median when repetitions are aggregated), keyed "BM_Name/capture/args".
class ItemRateReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      const bool usable = run.run_type == Run::RT_Iteration || run.aggregate_name == "median";
      auto it = run.counters.find("items_per_second");
      if (usable && !run.error_occurred && it != run.counters.end()) {
        const std::string name = run.run_name.function_name + "/" + run.run_name.args;
        rates_[name] = it->second.value;
        cpu_[name] = run.GetAdjustedCPUTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  double Rate(const std::string& name) const {
    auto it = rates_.find(name);
    return it == rates_.end() ? 0 : it->second;
  }
  // CPU time of the benchmark's own thread per iteration (the median).
  double Cpu(const std::string& name) const {
    auto it = cpu_.find(name);
    return it == cpu_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> rates_, cpu_;
};

// One row: ours at `threads` against LibTorch at (1, 1) for 1 thread, or
// the fastest configuration for 2.
void PrintRatio(const ItemRateReporter& r, const std::string& what, const std::string& ours_name,
                const std::string& torch_prefix, int threads) {
  const double ours = r.Rate(ours_name);
  double best = 0;
  std::string best_name;
  TorchThreads best_config;
  for (TorchThreads t : kTorchConfigs) {
    if (threads == 1 && (t.torch != 1 || t.blas != 1)) continue;
    const std::string name =
        torch_prefix + "torch:" + std::to_string(t.torch) + "/blas:" + std::to_string(t.blas);
    if (r.Rate(name) > best) {
      best = r.Rate(name);
      best_name = name;
      best_config = t;
    }
  }
  if (ours == 0 || best == 0) return;  // filtered out
  // At 1 thread both sides do the same work per iteration on one thread, so
  // the CPU-time ratio is the wall-time ratio of an unloaded machine.
  char cpu_ratio[32] = "-";
  if (threads == 1 && r.Cpu(ours_name) > 0) {
    std::snprintf(cpu_ratio, sizeof cpu_ratio, "%.2fx", r.Cpu(best_name) / r.Cpu(ours_name));
  }
  std::printf("%-22s %9d %12.0f %12.0f  %-18s %6.2fx %10s\n", what.c_str(), threads, ours, best,
              ToString(best_config).c_str(), ours / best, cpu_ratio);
}

void PrintRatios(const ItemRateReporter& r) {
  std::printf(
      "\n%s\nexamples/s (medians when repeated); LibTorch at 2 threads = the fastest "
      "of (torch, blas) in {1,2}^2\n",
      TorchDescription().c_str());
  std::printf("%-22s %9s %12s %12s  %-18s %7s %10s\n", "benchmark", "threads", "ours", "LibTorch",
              "LibTorch config", "ratio", "CPU ratio");
  for (int threads : {1, 2}) {
    const std::string t = std::to_string(threads);
    for (int batch : {40, 256}) {
      const std::string b = std::to_string(batch);
      PrintRatio(r, "train mlp batch " + b, "BM_TrainOurs/mlp/batch:" + b + "/threads:" + t,
                 "BM_TrainTorch/mlp/batch:" + b + "/", threads);
    }
    PrintRatio(r, "train cnn batch 64", "BM_TrainOurs/cnn/batch:64/threads:" + t,
               "BM_TrainTorch/cnn/batch:64/", threads);
    PrintRatio(r, "predict mlp 10k", "BM_PredictOurs/mlp/threads:" + t, "BM_PredictTorch/mlp/",
               threads);
    PrintRatio(r, "predict cnn 10k", "BM_PredictOurs/cnn/threads:" + t, "BM_PredictTorch/cnn/",
               threads);
  }
}

// ---- Peak RSS, one child process per measurement. ----

// Child side, LibTorch: "idle" (load this binary, do nothing) or
// "<mlp|cnn>:<torch threads>:<blas threads>".
int RunTorchRssChild(std::string_view mode) {
  if (mode == "idle") {
    ReportPeakRss();
    return 0;
  }
  const Net net = mode.starts_with("cnn") ? Net::kCnn : Net::kMlp;
  TorchThreads threads;
  if (std::sscanf(std::string(mode.substr(4)).c_str(), "%d:%d", &threads.torch, &threads.blas) !=
      2) {
    std::fprintf(stderr, "--rss_child=%s: expected idle or <mlp|cnn>:<torch>:<blas>\n",
                 std::string(mode).c_str());
    return 2;
  }
  SetTorchThreads(threads);
  const RssRun run = RssRunFor(net);
  Result<LabeledImages> data = SyntheticImages(run.examples, /*seed=*/3);
  Result<std::unique_ptr<TorchNet>> model = data.ok()
                                                ? TorchNet::Create(net, /*seed=*/1)
                                                : Result<std::unique_ptr<TorchNet>>(data.status());
  Status s = model.ok() ? (*model)->TrainSteps(*data, run.batch, run.steps) : model.status();
  if (!s.ok()) {
    std::fprintf(stderr, "torch %s: %s\n", std::string(mode).c_str(), s.ToString().c_str());
    return 1;
  }
  ReportPeakRss();
  return 0;
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string();
}

// Parent side: the peak RSS in KiB that `path` run with `args` reports on
// its stdout ("peak_rss_kib <n>"), or -1 when the child failed. (wait4's
// ru_maxrss would include the pages the child inherited from this process
// at fork: at least LibTorch's ~60 MB of relocated and heap pages.)
int64_t ChildPeakRssKiB(const std::string& path, const std::vector<std::string>& args) {
  std::vector<char*> argv = {const_cast<char*>(path.c_str())};  // execv does not write
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int fds[2];
  if (pipe(fds) != 0) return -1;
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], STDOUT_FILENO);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[256];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) != 0) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    if (n < 0 && errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  long long kib = -1;
  const size_t at = out.find("peak_rss_kib ");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || at == std::string::npos ||
      std::sscanf(out.c_str() + at, "peak_rss_kib %lld", &kib) != 1) {
    return -1;
  }
  return kib;
}

void PrintRss() {
  const std::string self = SelfPath();
  const std::string ours_child = self.substr(0, self.rfind('/') + 1) + "nn_libtorch_rss_child";
  auto torch_rss = [&](const std::string& mode) {
    return ChildPeakRssKiB(self, {"--rss_child=" + mode});
  };
  const int64_t ours_idle = ChildPeakRssKiB(ours_child, {"idle"});
  const int64_t torch_idle = torch_rss("idle");
  std::printf(
      "\npeak RSS of a training run, MiB (VmHWM of a child process: ours in "
      "nn_libtorch_rss_child,\nwhich does not link LibTorch; LibTorch in this binary). "
      "'idle' = the binary loaded, doing nothing.\n");
  std::printf("%-46s %9s %11s\n", "run", "peak RSS", "above idle");
  auto row = [](const std::string& name, int64_t kib, int64_t idle) {
    if (kib < 0) {
      std::printf("%-46s %9s\n", name.c_str(), "failed");
      return;
    }
    std::printf("%-46s %9.1f %11.1f\n", name.c_str(), static_cast<double>(kib) / 1024,
                static_cast<double>(kib - idle) / 1024);
  };
  row("ours  idle", ours_idle, ours_idle);
  row("torch idle", torch_idle, torch_idle);
  for (Net net : {Net::kMlp, Net::kCnn}) {
    const std::string n(NetName(net));
    const RssRun run = RssRunFor(net);
    const std::string what =
        n + " b" + std::to_string(run.batch) + " x" + std::to_string(run.steps) + " steps, ";
    int64_t ours_min = -1, torch_min = -1;
    for (int threads : {1, 2}) {
      const int64_t kib = ChildPeakRssKiB(ours_child, {n, std::to_string(threads)});
      row("ours  " + what + std::to_string(threads) + " thread(s)", kib, ours_idle);
      if (kib >= 0 && (ours_min < 0 || kib < ours_min)) ours_min = kib;
    }
    for (TorchThreads t : kTorchConfigs) {
      if (t.blas > 1 && !HasOpenBlas()) continue;
      const int64_t kib =
          torch_rss(n + ":" + std::to_string(t.torch) + ":" + std::to_string(t.blas));
      row("torch " + what + ToString(t), kib, torch_idle);
      if (kib >= 0 && (torch_min < 0 || kib < torch_min)) torch_min = kib;
    }
    if (ours_min > 0 && torch_min > 0) {
      std::printf(
          "%-46s %8.2fx %10.2fx\n", ("lowest ours / lowest torch, " + n).c_str(),
          static_cast<double>(ours_min) / static_cast<double>(torch_min),
          static_cast<double>(ours_min - ours_idle) / static_cast<double>(torch_min - torch_idle));
    }
  }
}

}  // namespace
}  // namespace edgepipe::bench

int main(int argc, char** argv) {
  using namespace edgepipe::bench;
  bool skip_rss = false, only_rss = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.starts_with("--rss_child=")) return RunTorchRssChild(a.substr(12));
    if (a == "--skip_rss") {
      skip_rss = true;
    } else if (a == "--only_rss") {
      only_rss = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(args.size());
  if (!only_rss) {
    benchmark::Initialize(&n, args.data());
    if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
    ItemRateReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    PrintRatios(reporter);
  }
  if (!skip_rss) PrintRss();
  std::fflush(stdout);
  return 0;
}
