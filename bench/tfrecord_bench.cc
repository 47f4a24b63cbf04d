// TFRecord reading against the cost of reading the bytes at all.
//
// Creates once, in a temp dir (removed at exit), a ~100 MB uncompressed
// TFRecord of MNIST-like tf.Examples (784 floats + 1 int64, 3187 bytes each,
// as in the TFX fixture), reads it once to warm the page cache, then runs
// side by side:
//   BM_ReadSyscall    read() into a 1 MiB buffer until EOF (what cat does)
//   BM_CatDevNull     `cat file > /dev/null` as a process (posix_spawnp)
//   BM_TFRecordView   our reader, every crc verified, records as views
//   BM_TFRecordCopy   the same, copying each record into a std::string
// and prints the ratios of the median throughputs (ours / read, ours / cat).
//
//   build/rel/bench/tfrecord_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "bench/rate_reporter.h"
#include "edgepipe/core/file.h"
#include "edgepipe/data/crc32c.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"

extern char** environ;

namespace {

using edgepipe::data::TFRecordReader;
using edgepipe::data::TFRecordWriter;

struct Fixture {
  std::string dir;
  std::string path;
  int64_t bytes = 0;
  int64_t records = 0;
};

const Fixture& TheFile() {
  static const Fixture* fixture = [] {
    auto* f = new Fixture;
    std::string tmpl = "/tmp/edgepipe_tfrecord_bench.XXXXXX";
    f->dir = mkdtemp(tmpl.data());
    f->path = f->dir + "/mnist_like.tfrecord";
    auto writer = TFRecordWriter::Open(f->path);
    if (!writer.ok()) {
      std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
      std::exit(1);
    }
    std::mt19937 rng(1);
    std::vector<float> pixels(784);
    edgepipe::tf::Example ex;
    const int64_t target = int64_t{100} << 20;
    while (f->bytes < target) {
      for (float& p : pixels) p = static_cast<float>((rng() % 256) / 255.0 - 0.5);
      edgepipe::data::SetFloats(&ex, "image_floats", pixels);
      edgepipe::data::SetInt64s(&ex, "image_class",
                                std::vector<int64_t>{static_cast<int64_t>(rng() % 10)});
      const std::string record = edgepipe::data::SerializeDeterministic(ex);
      if (!(*writer)->Write(record).ok()) std::exit(1);
      f->bytes += static_cast<int64_t>(record.size() + 16);
      ++f->records;
    }
    if (!(*writer)->Close().ok()) std::exit(1);
    // Warm the page cache.
    std::vector<char> buf(1 << 20);
    int fd = ::open(f->path.c_str(), O_RDONLY);
    while (::read(fd, buf.data(), buf.size()) > 0) {
    }
    ::close(fd);
    std::atexit([] { edgepipe::Env::Default()->RemoveAll(TheFile().dir).IgnoreError(); });
    return f;
  }();
  return *fixture;
}

void BM_ReadSyscall(benchmark::State& state) {
  const Fixture& f = TheFile();
  std::vector<char> buf(1 << 20);
  for (auto _ : state) {
    int fd = ::open(f.path.c_str(), O_RDONLY);
    int64_t total = 0;
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) total += n;
    ::close(fd);
    if (total != f.bytes) state.SkipWithError("short read");
    benchmark::DoNotOptimize(total);
  }
  state.SetBytesProcessed(state.iterations() * f.bytes);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(f.records),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CatDevNull(benchmark::State& state) {
  const Fixture& f = TheFile();
  for (auto _ : state) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    std::string cat = "cat";
    std::string path = f.path;
    char* argv[] = {cat.data(), path.data(), nullptr};
    pid_t pid;
    int rc = posix_spawnp(&pid, "cat", &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    int wstatus = 0;
    if (rc != 0 || ::waitpid(pid, &wstatus, 0) != pid || !WIFEXITED(wstatus) ||
        WEXITSTATUS(wstatus) != 0) {
      state.SkipWithError("cat failed");
      break;
    }
  }
  state.SetBytesProcessed(state.iterations() * f.bytes);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(f.records),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

template <typename Out>
void ReadRecords(benchmark::State& state) {
  const Fixture& f = TheFile();
  for (auto _ : state) {
    edgepipe::data::TFRecordReaderOptions options;
    if (state.range(0) > 0) options.buffer_size = static_cast<size_t>(state.range(0)) << 10;
    auto reader = TFRecordReader::Open(f.path, options);
    if (!reader.ok()) {
      state.SkipWithError(reader.status().ToString().c_str());
      break;
    }
    Out record;
    int64_t count = 0;
    while (true) {
      auto more = (*reader)->Next(&record);
      if (!more.ok()) {
        state.SkipWithError(more.status().ToString().c_str());
        return;
      }
      if (!*more) break;
      ++count;
      benchmark::DoNotOptimize(record.data());
    }
    if (count != f.records) state.SkipWithError("record count mismatch");
  }
  state.SetBytesProcessed(state.iterations() * f.bytes);
  state.counters["records/s"] = benchmark::Counter(static_cast<double>(f.records),
                                                   benchmark::Counter::kIsIterationInvariantRate);
}

void BM_TFRecordView(benchmark::State& state) {
  state.SetLabel(std::string("crc32c ") + edgepipe::data::Crc32cImplementationName());
  ReadRecords<std::string_view>(state);
}
void BM_TFRecordCopy(benchmark::State& state) { ReadRecords<std::string>(state); }

BENCHMARK(BM_ReadSyscall)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_CatDevNull)->Unit(benchmark::kMillisecond)->UseRealTime();
// Argument: the reader's buffer in KiB (1024 is the default).
BENCHMARK(BM_TFRecordView)
    ->Arg(1024)
    ->Arg(256)
    ->Arg(128)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_TFRecordCopy)->Arg(1024)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Fixture& f = TheFile();
  std::printf("file: %s, %.1f MB, %lld records\n", f.path.c_str(), f.bytes / 1e6,
              static_cast<long long>(f.records));
  edgepipe::bench::RateReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double read = reporter.Rate("BM_ReadSyscall"), cat = reporter.Rate("BM_CatDevNull");
  std::printf("\nmedian throughput (MB/s = 1e6 bytes/s):\n");
  for (const char* name : {"BM_ReadSyscall", "BM_CatDevNull", "BM_TFRecordView/1024",
                           "BM_TFRecordView/256", "BM_TFRecordView/128", "BM_TFRecordCopy/1024"}) {
    const double rate = reporter.Rate(name);
    if (rate <= 0) continue;
    std::printf("  %-21s %6.0f MB/s  %9.0f records/s", name, rate / 1e6,
                rate / static_cast<double>(f.bytes) * static_cast<double>(f.records));
    if (read > 0) std::printf("  x%.2f of read()", rate / read);
    if (cat > 0) std::printf("  x%.2f of cat", rate / cat);
    std::printf("\n");
  }
  benchmark::Shutdown();
  return 0;
}
