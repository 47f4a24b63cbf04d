// The real examples/mnist pipeline (11 components, 5000 training steps for
// each of the two Trainers) run by the `edgepipe run` binary as a child
// process, as `make mnist` runs it (issue 6's goals):
//   BM_MnistCold     empty pipeline root each repetition; goal < 15 s
//   BM_MnistCached   the same root again, all 11 components served from the
//                    cache; goal < 0.5 s
//   BM_ProcessStart  `edgepipe --help` (a process start, no pipeline): the
//                    floor under BM_MnistCached
// One run per repetition, so that the counters are that run's (the
// aggregates give their medians). Wall time per run; counters: peak_rss_MB (the child's ru_maxrss
// from wait4), goal_ratio (wall / goal: below 1 meets the goal), cpu_s (the child's user + system
// seconds: what the wall time would approach on an idle machine for the single-threaded cached
// run). The peer the issue names is TFX ("needs minutes"); it is not installed here, so the goals
// stand in for it. A run that fails, or a "cached" run that is not fully cached, is an error, not a
// figure. Child output goes to <root>.log. Run:
//   build/rel/bench/mnist_example_bench --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

constexpr double kColdGoalSeconds = 15.0;
constexpr double kCachedGoalSeconds = 0.5;

struct ChildRun {
  bool ok = false;
  double seconds = 0;  // wall, fork to reaped
  double peak_rss_mb = 0;
  double cpu_seconds = 0;  // the child's user + system time
  std::string output;      // stdout + stderr
};

// <build>/bin/edgepipe -> <build>/examples/mnist_pipeline.so
std::string PipelineLibrary() {
  return (fs::path(EDGEPIPE_CLI_PATH).parent_path().parent_path() / "examples" /
          "mnist_pipeline.so")
      .string();
}

std::string BenchDir() {
  return (fs::temp_directory_path() / ("mnist_example_bench_" + std::to_string(::getpid())))
      .string();
}

// Runs `args` (args[0] a path) with stdout and stderr to `log`, measuring
// the child's wall time and peak RSS.
ChildRun RunChild(const std::vector<std::string>& args, const std::string& log,
                  const std::string& serving) {
  ChildRun r;
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) return r;
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    ::setenv("EDGEPIPE_MNIST_SERVING", serving.c_str(), 1);
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  if (::wait4(pid, &status, 0, &usage) != pid) return r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.peak_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // KiB on Linux
  r.cpu_seconds = static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
                  static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
  r.ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::ifstream in(log);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

ChildRun RunMnist(const std::string& dir) {
  return RunChild({EDGEPIPE_CLI_PATH, "run", PipelineLibrary(), "--root", dir + "/pipeline"},
                  dir + "/run.log", dir + "/serving_model");
}

// The runner's last line: `pipeline "mnist": 11 ran, 0 cached, ...`.
bool Says(const ChildRun& r, const std::string& what) {
  return r.output.find(what) != std::string::npos;
}

void Report(benchmark::State& state, const ChildRun& r, double goal) {
  state.SetIterationTime(r.seconds);
  state.counters["peak_rss_MB"] = r.peak_rss_mb;
  state.counters["goal_ratio"] = r.seconds / goal;
  state.counters["cpu_s"] = r.cpu_seconds;
}

void BM_MnistCold(benchmark::State& state) {
  const std::string dir = BenchDir() + "_cold";
  for (auto _ : state) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    ChildRun r = RunMnist(dir);
    if (!r.ok || !Says(r, "11 ran, 0 cached, 0 failed")) {
      state.SkipWithError(("cold run failed, see " + dir + "/run.log").c_str());
      return;
    }
    Report(state, r, kColdGoalSeconds);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_MnistCold)->Unit(benchmark::kSecond)->UseManualTime()->Iterations(1)->Repetitions(3);

void BM_MnistCached(benchmark::State& state) {
  const std::string dir = BenchDir() + "_cached";
  if (!fs::exists(dir + "/pipeline/metadata.sqlite")) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (!RunMnist(dir).ok) {
      state.SkipWithError(("first (cold) run failed, see " + dir + "/run.log").c_str());
      return;
    }
  }
  for (auto _ : state) {
    ChildRun r = RunMnist(dir);
    if (!r.ok || !Says(r, "0 ran, 11 cached, 0 failed")) {
      state.SkipWithError(("cached run not fully cached, see " + dir + "/run.log").c_str());
      return;
    }
    Report(state, r, kCachedGoalSeconds);
  }
}
BENCHMARK(BM_MnistCached)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(9);

void BM_ProcessStart(benchmark::State& state) {
  const std::string dir = BenchDir() + "_start";
  fs::create_directories(dir);
  for (auto _ : state) {
    ChildRun r = RunChild({EDGEPIPE_CLI_PATH, "--help"}, dir + "/help.log", dir);
    if (!r.ok) {
      state.SkipWithError(("edgepipe --help failed, see " + dir + "/help.log").c_str());
      return;
    }
    Report(state, r, kCachedGoalSeconds);
  }
  fs::remove_all(dir);
}
BENCHMARK(BM_ProcessStart)
    ->Unit(benchmark::kMillisecond)
    ->UseManualTime()
    ->Iterations(1)
    ->Repetitions(9);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  // The cached root is kept across benchmarks of one process only.
  fs::remove_all(BenchDir() + "_cached");
  return 0;
}
