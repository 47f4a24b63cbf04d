// edgepipe lite run|inspect|bench: run a .tflite file on .npy inputs, describe
// it, and time it.
//
//   edgepipe lite run MODEL --input NAME=FILE.npy ... --out DIR [--signature KEY]
//   edgepipe lite inspect MODEL [--json]
//   edgepipe lite bench MODEL [--runs N] [--warmup N] [--batch B] [--threads T]
//
// Inputs and outputs are named by the model's SignatureDef (the first one, or
// --signature KEY) when it has one, else by their tensor names; `run` also
// accepts tensor names for inputs. Results go to stdout, logs and progress to
// stderr; exit codes 0 ok, 1 failure, 2 usage.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <thread>

#include "edgepipe/cli/commands.h"
#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/npy.h"
#include "edgepipe/core/progress.h"
#include "edgepipe/lite/inspect.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/op_profiler.h"

namespace edgepipe::cli {
namespace {

using lite::Interpreter;
using lite::Model;

// A loaded model and one interpreter over it, plus the names users see.
struct Loaded {
  std::shared_ptr<const Model> model;
  std::unique_ptr<Interpreter> interp;
  std::string signature_key;              // empty: no signature used
  std::vector<std::string> input_names;   // per interpreter input
  std::vector<std::string> output_names;  // per interpreter output
};

std::string ShapeString(const std::vector<int32_t>& shape) {
  return ShapeToString(std::vector<int64_t>(shape.begin(), shape.end()));
}

std::string TensorDesc(const lite::Tensor& t) {
  return fmt::format("{}{}", lite::TensorTypeName(t.type), ShapeString(t.shape));
}

// Picks the signature (`key`, or the first when empty) and names the
// interpreter's inputs and outputs by it; tensor names without signatures.
Status NameIo(const std::string& key, Loaded* l) {
  const Model& m = *l->model;
  const Interpreter& in = *l->interp;
  l->input_names.clear();
  l->output_names.clear();
  for (int i = 0; i < in.num_inputs(); ++i) l->input_names.push_back(in.input(i).name);
  for (int i = 0; i < in.num_outputs(); ++i) l->output_names.push_back(in.output(i).name);
  const auto* sigs = m.fb().signature_defs();
  if (!sigs || sigs->size() == 0) {
    if (!key.empty()) {
      return Status::NotFound(
          fmt::format("{}: --signature {}: the model has no signatures", m.name(), key));
    }
    return Status::Ok();
  }
  const tflite::SignatureDef* sig = nullptr;
  std::string keys;
  for (uint32_t i = 0; i < sigs->size(); ++i) {
    const auto* k = sigs->Get(i)->signature_key();
    const std::string name = k ? k->str() : "";
    keys += fmt::format("{}\"{}\"", keys.empty() ? "" : ", ", name);
    if (!sig && (key.empty() || key == name)) sig = sigs->Get(i);
  }
  if (!sig) {
    return Status::NotFound(
        fmt::format("{}: no signature \"{}\" (signatures: {})", m.name(), key, keys));
  }
  l->signature_key = sig->signature_key() ? sig->signature_key()->str() : "";
  if (sig->subgraph_index() != 0) {
    return Status::Unimplemented(
        fmt::format("{}: signature \"{}\" runs subgraph {}; only subgraph 0 is supported", m.name(),
                    l->signature_key, sig->subgraph_index()));
  }
  const auto apply = [&](const flatbuffers::Vector<flatbuffers::Offset<tflite::TensorMap>>* maps,
                         bool inputs) -> Status {
    const int n = inputs ? in.num_inputs() : in.num_outputs();
    for (uint32_t j = 0; maps && j < maps->size(); ++j) {
      const tflite::TensorMap* tm = maps->Get(j);
      const std::string name = tm->name() ? tm->name()->str() : "";
      int found = -1;
      for (int i = 0; i < n; ++i) {
        const lite::Tensor& t = inputs ? in.input(i) : in.output(i);
        if (static_cast<uint32_t>(t.index) == tm->tensor_index()) found = i;
      }
      if (found < 0) {
        return Status::InvalidArgument(
            fmt::format("{}: signature \"{}\" {} \"{}\" maps to tensor {}, which is not a graph {}",
                        m.name(), l->signature_key, inputs ? "input" : "output", name,
                        tm->tensor_index(), inputs ? "input" : "output"));
      }
      (inputs ? l->input_names : l->output_names)[static_cast<size_t>(found)] = name;
    }
    return Status::Ok();
  };
  RETURN_IF_ERROR(apply(sig->inputs(), true));
  return apply(sig->outputs(), false);
}

Result<Loaded> Open(const std::string& path, const std::string& signature_key) {
  Env* env = Env::Default();
  if (!env->Exists(path)) return Status::NotFound(path + ": no such file");
  Loaded l;
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Load(path, env));
  l.model = std::move(model);
  ASSIGN_OR_RETURN(l.interp, Interpreter::Create(l.model, lite::BuiltinOpResolver()));
  RETURN_IF_ERROR(NameIo(signature_key, &l));
  return l;
}

// "\"x\" (tensor \"serving_default_x:0\" float32[1, 4])" for input i.
std::string InputDesc(const Loaded& l, int i) {
  const lite::Tensor& t = l.interp->input(i);
  const std::string& name = l.input_names[static_cast<size_t>(i)];
  if (name == t.name) return fmt::format("\"{}\" {}", name, TensorDesc(t));
  return fmt::format("\"{}\" (tensor \"{}\" {})", name, t.name, TensorDesc(t));
}

std::string AllInputs(const Loaded& l) {
  std::string s;
  for (int i = 0; i < l.interp->num_inputs(); ++i) {
    s += fmt::format("{}{}", i ? ", " : "", InputDesc(l, i));
  }
  return s.empty() ? "none" : s;
}

// A file name for an output: characters other than [A-Za-z0-9._:-] become '_'.
std::string FileSafe(const std::string& name) {
  std::string s = name.empty() ? "output" : name;
  for (char& c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) c = '_';
  }
  if (s == "." || s == "..") s = "_";
  return s;
}

// ---------------------------------------------------------------- run

struct RunFlags {
  std::string model;
  std::vector<std::string> inputs;  // NAME=FILE
  std::string out;
  std::string signature;
};

Status RunRun(const RunFlags& f) {
  ASSIGN_OR_RETURN(Loaded l, Open(f.model, f.signature));
  Interpreter& in = *l.interp;
  std::vector<Array> values(static_cast<size_t>(in.num_inputs()));
  std::vector<std::string> files(static_cast<size_t>(in.num_inputs()));
  for (const std::string& spec : f.inputs) {
    const size_t eq = spec.find('=');
    const std::string name = spec.substr(0, eq);
    const std::string file = spec.substr(eq + 1);
    int idx = -1;
    for (int i = 0; i < in.num_inputs() && idx < 0; ++i) {
      if (l.input_names[static_cast<size_t>(i)] == name) idx = i;
    }
    for (int i = 0; i < in.num_inputs() && idx < 0; ++i) {
      if (in.input(i).name == name) idx = i;
    }
    if (idx < 0) {
      return Status::InvalidArgument(
          fmt::format("{}: --input {}: the model has no input \"{}\"; "
                      "its inputs: {}",
                      f.model, spec, name, AllInputs(l)));
    }
    if (!files[static_cast<size_t>(idx)].empty()) {
      return Status::InvalidArgument(fmt::format("--input {}: input {} is already given by {}",
                                                 spec, InputDesc(l, idx),
                                                 files[static_cast<size_t>(idx)]));
    }
    ASSIGN_OR_RETURN(Array a, ReadNpy(file));
    const lite::Tensor& t = in.input(idx);
    Result<DType> want_or = lite::ArrayDTypeOf(t.type);
    if (!want_or.ok()) {
      return want_or.status().WithContext(fmt::format("{}: input {}", f.model, InputDesc(l, idx)));
    }
    const DType want = *want_or;
    if (a.dtype() != want) {
      return Status::InvalidArgument(
          fmt::format("{}: dtype {} does not match input {}, which needs {}", file,
                      DTypeName(a.dtype()), InputDesc(l, idx), DTypeName(want)));
    }
    // Same rank; every dimension but the first (the batch) must match.
    bool fits = a.rank() == t.rank();
    for (int d = 1; fits && d < t.rank(); ++d) fits = a.dim(d) == t.dim(d);
    if (!fits) {
      return Status::InvalidArgument(fmt::format(
          "{}: shape {} does not fit input {}: needs rank {} and dimensions {} after the "
          "first (the batch may differ)",
          file, ShapeToString(a.shape()), InputDesc(l, idx), t.rank(), ShapeString(t.shape)));
    }
    files[static_cast<size_t>(idx)] = file;
    values[static_cast<size_t>(idx)] = std::move(a);
  }
  std::string missing;
  for (int i = 0; i < in.num_inputs(); ++i) {
    if (files[static_cast<size_t>(i)].empty()) {
      missing += fmt::format("{}{}", missing.empty() ? "" : ", ", InputDesc(l, i));
    }
  }
  if (!missing.empty()) {
    return Status::InvalidArgument(fmt::format("{}: missing --input for {}", f.model, missing));
  }
  for (int i = 0; i < in.num_inputs(); ++i) {
    const Array& a = values[static_cast<size_t>(i)];
    if (a.rank() > 0 && a.dim(0) != in.input(i).dim(0)) {
      if (a.dim(0) < 1 || a.dim(0) > (int64_t{1} << 30)) {
        return Status::InvalidArgument(fmt::format("{}: batch {} must be in [1, 2^30]",
                                                   files[static_cast<size_t>(i)], a.dim(0)));
      }
      std::vector<int32_t> shape(in.input(i).shape);
      shape[0] = static_cast<int32_t>(a.dim(0));
      RETURN_IF_ERROR(in.ResizeInput(i, std::move(shape)));
    }
  }
  RETURN_IF_ERROR(in.AllocateTensors());
  for (int i = 0; i < in.num_inputs(); ++i) {
    RETURN_IF_ERROR(in.SetInput(i, values[static_cast<size_t>(i)]));
  }
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(in.Invoke());
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  Env* env = Env::Default();
  RETURN_IF_ERROR(env->CreateDirs(f.out));
  std::vector<std::string> used;
  for (int i = 0; i < in.num_outputs(); ++i) {
    std::string base = FileSafe(l.output_names[static_cast<size_t>(i)]);
    if (std::find(used.begin(), used.end(), base) != used.end()) base += fmt::format("_{}", i);
    used.push_back(base);
    ASSIGN_OR_RETURN(Array a, in.GetOutput(i));
    const std::string path = JoinPath(f.out, base + ".npy");
    RETURN_IF_ERROR(WriteNpy(path, a, env));
    std::printf("output \"%s\" %s%s -> %s\n", l.output_names[static_cast<size_t>(i)].c_str(),
                std::string(DTypeName(a.dtype())).c_str(), ShapeToString(a.shape()).c_str(),
                path.c_str());
  }
  std::fprintf(stderr, "lite run: %s: %d ops in %.3f ms, arena %zu bytes\n", f.model.c_str(),
               in.num_ops(), ms, in.arena_bytes());
  return Status::Ok();
}

// ---------------------------------------------------------------- inspect

struct InspectFlags {
  std::string model;
  bool json = false;
};

Status RunInspect(const InspectFlags& f) {
  Env* env = Env::Default();
  if (!env->Exists(f.model)) return Status::NotFound(f.model + ": no such file");
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Load(f.model, env));
  const std::string text = f.json ? lite::InspectJson(*model) : lite::InspectText(*model);
  std::fwrite(text.data(), 1, text.size(), stdout);
  return Status::Ok();
}

// ---------------------------------------------------------------- bench

struct BenchFlags {
  std::string model;
  std::string signature;
  int runs = 50;
  int warmup = 5;
  int profile_runs = -1;  // -1: same as runs
  int batch = 0;          // 0: the model's own
  int threads = 1;
  uint32_t seed = 1;
  bool quiet = false;
};

// Fills every input of `in` with random values: floats uniform in [-1, 1],
// int32/int64 in [0, 10), booleans 0/1, other types uniform random bytes.
Status FillRandom(Interpreter& in, uint32_t seed) {
  std::mt19937 rng(seed);
  for (int i = 0; i < in.num_inputs(); ++i) {
    ASSIGN_OR_RETURN(std::span<uint8_t> data, in.mutable_input_data(i));
    const tflite::TensorType type = in.input(i).type;
    if (type == tflite::TensorType::FLOAT32) {
      std::uniform_real_distribution<float> u(-1.0f, 1.0f);
      for (size_t k = 0; k + 4 <= data.size(); k += 4) {
        const float v = u(rng);
        std::memcpy(data.data() + k, &v, 4);
      }
    } else if (type == tflite::TensorType::INT32 || type == tflite::TensorType::INT64) {
      const size_t w = type == tflite::TensorType::INT32 ? 4 : 8;
      for (size_t k = 0; k + w <= data.size(); k += w) {
        const int64_t v = static_cast<int64_t>(rng() % 10);
        std::memcpy(data.data() + k, &v, w);  // little-endian low bytes
      }
    } else if (type == tflite::TensorType::BOOL) {
      for (uint8_t& b : data) b = static_cast<uint8_t>(rng() & 1);
    } else {
      for (uint8_t& b : data) b = static_cast<uint8_t>(rng() >> 24);
    }
  }
  return Status::Ok();
}

// Nearest-rank percentile p (0-100] of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t rank =
      static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<size_t>(rank, 1)) - 1];
}

// The first dimension of input 0 (1 for models without inputs or scalars).
[[gnu::noinline]] int BatchOf(const Interpreter& in) {
  if (in.num_inputs() == 0) return 1;
  const lite::Tensor& t = in.input(0);
  return t.shape.empty() ? 1 : t.shape.front();
}

// One benchmark worker: its own interpreter over the shared model.
struct Worker {
  std::unique_ptr<Interpreter> owned;  // null for worker 0 (uses Loaded's)
  Interpreter* interp = nullptr;
  std::vector<double> latency_ms;
  Status status;
};

Status RunBench(const BenchFlags& f) {
  ASSIGN_OR_RETURN(Loaded l, Open(f.model, f.signature));
  const int threads = f.threads;
  std::vector<Worker> workers(static_cast<size_t>(threads));
  for (int w = 0; w < threads; ++w) {
    Worker& wk = workers[static_cast<size_t>(w)];
    if (w == 0) {
      wk.interp = l.interp.get();
    } else {
      ASSIGN_OR_RETURN(wk.owned, Interpreter::Create(l.model, lite::BuiltinOpResolver()));
      wk.interp = wk.owned.get();
    }
    if (wk.interp == nullptr) return Status::Internal("lite bench: no interpreter");
    Interpreter& in = *wk.interp;
    if (f.batch > 0) {
      for (int i = 0; i < in.num_inputs(); ++i) {
        std::vector<int32_t> shape = in.input(i).shape;
        if (shape.empty()) {
          return Status::InvalidArgument(
              fmt::format("--batch {}: input {} is a scalar and has no batch dimension", f.batch,
                          InputDesc(l, i)));
        }
        shape[0] = f.batch;
        RETURN_IF_ERROR(in.ResizeInput(i, std::move(shape)));
      }
    }
    RETURN_IF_ERROR(in.AllocateTensors());
    RETURN_IF_ERROR(FillRandom(in, f.seed + static_cast<uint32_t>(w)));
  }
  Interpreter& first = *workers[0].interp;  // non-null: checked above
  const int batch = BatchOf(first);
  std::fprintf(stderr, "lite bench: %s: %d ops, batch %d, %d thread(s), %d warm-up + %d runs\n",
               f.model.c_str(), first.num_ops(), batch, threads, f.warmup, f.runs);
  std::printf("model %s\n", f.model.c_str());
  for (int i = 0; i < first.num_inputs(); ++i) {
    std::printf("  input  %s\n", InputDesc(l, i).c_str());
  }
  std::printf("  ops %d, batch %d, threads %d, runs %d (+%d warm-up) per thread\n", first.num_ops(),
              batch, threads, f.runs, f.warmup);

  ProgressOptions popts;
  popts.units = "runs";
  popts.out = f.quiet ? nullptr : stderr;
  Progress progress("bench", static_cast<int64_t>(threads) * (f.warmup + f.runs), popts);
  const auto work = [&](Worker& wk) {
    wk.latency_ms.reserve(static_cast<size_t>(f.runs));
    for (int r = 0; r < f.warmup + f.runs; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      wk.status = wk.interp->Invoke();
      const auto t1 = std::chrono::steady_clock::now();
      if (!wk.status.ok()) return;
      if (r >= f.warmup) {
        wk.latency_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
      progress.Add();
    }
  };
  const auto wall0 = std::chrono::steady_clock::now();
  {
    std::vector<std::thread> pool;
    for (int w = 1; w < threads; ++w)
      pool.emplace_back(work, std::ref(workers[static_cast<size_t>(w)]));
    work(workers[0]);
    for (std::thread& t : pool) t.join();
  }
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  progress.Finish();
  std::vector<double> all;
  for (Worker& wk : workers) {
    RETURN_IF_ERROR(wk.status);
    all.insert(all.end(), wk.latency_ms.begin(), wk.latency_ms.end());
  }
  std::sort(all.begin(), all.end());
  double mean = 0;
  for (double v : all) mean += v;
  mean /= static_cast<double>(std::max<size_t>(all.size(), 1));
  std::printf("latency ms: p50 %.4f  p90 %.4f  p99 %.4f  (min %.4f, mean %.4f, max %.4f)\n",
              Percentile(all, 50), Percentile(all, 90), Percentile(all, 99), all.front(), mean,
              all.back());
  const double inferences = static_cast<double>(threads) * f.runs * batch;
  std::printf(
      "throughput: %.1f inferences/s (%d x %d runs x batch %d over %.3f s, warm-up "
      "included)\n",
      inferences / wall_s, threads, f.runs, batch, wall_s);
  const size_t arena = first.arena_bytes();
  const size_t bound = first.arena_lower_bound();
  std::printf(
      "arena bytes: %zu  (all activations unshared %zu; lower bound of any plan %zu; "
      "arena/bound %.3f)\n",
      arena, first.unshared_bytes(), bound,
      bound ? static_cast<double>(arena) / static_cast<double>(bound) : 1.0);

  // Per-op times: a separate pass with the profiler on, so that its clock
  // reads do not touch the latencies above.
  const int profile_runs = f.profile_runs < 0 ? f.runs : f.profile_runs;
  if (profile_runs == 0) return Status::Ok();
  lite::OpTimeProfiler prof(first.num_ops());
  first.set_profiler(&prof);
  for (int r = 0; r < profile_runs; ++r) RETURN_IF_ERROR(first.Invoke());
  first.set_profiler(nullptr);
  const double sum_ns = static_cast<double>(std::max<int64_t>(prof.sum_ns(), 1));
  std::printf("per-op time over %d runs (thread 0; sum %.3f ms per run):\n", profile_runs,
              sum_ns / 1e6 / profile_runs);
  std::printf("  %4s  %-24s %12s %10s %7s\n", "op", "name", "total ms", "mean us", "share");
  for (int o = 0; o < prof.num_ops(); ++o) {
    const double ns = static_cast<double>(prof.total_ns(o));
    std::printf("  %4d  %-24s %12.3f %10.2f %6.1f%%\n", o, first.op_name(o).c_str(), ns / 1e6,
                ns / 1e3 / profile_runs, 100.0 * ns / sum_ns);
  }
  return Status::Ok();
}

// CLI11 check for NAME=FILE.
std::string CheckInputSpec(const std::string& s) {
  const size_t eq = s.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == s.size()) {
    return "--input must be NAME=FILE.npy, got \"" + s + "\"";
  }
  return {};
}

}  // namespace

void RegisterLiteCommand(CLI::App& app, CommandRegistry& registry) {
  CLI::App* lite = app.add_subcommand("lite", "Run, inspect and time TensorFlow Lite models");
  lite->require_subcommand(1);

  auto run = std::make_shared<RunFlags>();
  CLI::App* r = lite->add_subcommand(
      "run", "Run a .tflite model on .npy inputs and write one <output name>.npy per output");
  r->add_option("model", run->model, ".tflite file")->required();
  r->add_option("--input", run->inputs,
                "NAME=FILE.npy, one per model input; NAME is the signature input name or the "
                "tensor name; the batch (first dimension) may differ from the model's")
      ->required()
      ->check(CheckInputSpec);
  r->add_option("--out", run->out, "folder for the outputs (created; files written atomically)")
      ->required();
  r->add_option("--signature", run->signature,
                "signature key naming inputs and outputs (default: the first signature)");
  r->callback([run, &registry] { registry.Set([run] { return RunRun(*run); }); });

  auto insp = std::make_shared<InspectFlags>();
  CLI::App* i =
      lite->add_subcommand("inspect",
                           "Describe a .tflite model: size by section, signatures, ops, tensors, "
                           "shapes, dtypes and quantization");
  i->add_option("model", insp->model, ".tflite file")->required();
  i->add_flag("--json", insp->json, "print JSON instead of text");
  i->callback([insp, &registry] { registry.Set([insp] { return RunInspect(*insp); }); });

  auto bench = std::make_shared<BenchFlags>();
  CLI::App* b = lite->add_subcommand(
      "bench",
      "Time a .tflite model on random inputs: latency percentiles, throughput, arena "
      "bytes, per-op time");
  b->add_option("model", bench->model, ".tflite file")->required();
  b->add_option("--runs", bench->runs, "timed runs per thread")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  b->add_option("--warmup", bench->warmup, "untimed runs first, per thread")
      ->capture_default_str()
      ->check(CLI::Range(0, 1'000'000));
  b->add_option("--profile-runs", bench->profile_runs,
                "runs with the per-op profiler on (default: --runs; 0: no per-op table)")
      ->check(CLI::Range(0, 1'000'000));
  b->add_option("--batch", bench->batch, "resize every input's first dimension to B")
      ->check(CLI::Range(1, 1 << 20));
  b->add_option("--threads", bench->threads,
                "independent interpreters run side by side, one per thread (kernels are "
                "single-threaded)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  b->add_option("--seed", bench->seed, "seed of the random inputs")->capture_default_str();
  b->add_option("--signature", bench->signature, "signature key naming the inputs");
  b->add_flag("-q,--quiet", bench->quiet, "no progress display");
  b->callback([bench, &registry] { registry.Set([bench] { return RunBench(*bench); }); });
}

}  // namespace edgepipe::cli
