#include "edgepipe/eval/evaluator.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "edgepipe/core/progress.h"
#include "edgepipe/core/thread_pool.h"
#include "edgepipe/eval/bootstrap.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/extract.h"
#include "edgepipe/eval/metrics.h"
#include "edgepipe/eval/model_runner.h"
#include "edgepipe/eval/slicer.h"
#include "edgepipe/eval/thresholds.h"
#include "edgepipe/nn/parallel.h"

namespace edgepipe::eval {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// A configured metric and the models (by position) it is computed for.
struct MetricEntry {
  std::shared_ptr<const Metric> metric;
  std::vector<char> for_model;  // per model: computed for it
};

// Accumulators of one slice: [model][entry] (null where the entry does not
// apply to the model).
struct SliceAccumulators {
  double count = 0;
  std::vector<std::vector<std::unique_ptr<MetricAccumulator>>> acc;
};

using SliceMap = std::map<SliceKey, SliceAccumulators>;

struct Worker {
  std::vector<std::unique_ptr<ModelRunner>> runners;
  std::optional<Extractor> extractor;
  SliceMap slices;
  std::vector<int64_t> missing;
  double read_seconds = 0, infer_seconds = 0, metric_seconds = 0;
};

// Pairs the sources with config.model_specs (config order).
Result<std::vector<std::pair<ModelSpec, std::string>>> PairModels(
    const EvalConfig& config, const std::vector<ModelSource>& models) {
  std::vector<std::pair<ModelSpec, std::string>> out;
  if (config.model_specs_size() == 0) {
    return Status::InvalidArgument("eval config has no model_specs");
  }
  if (models.empty()) return Status::InvalidArgument("no model to evaluate");
  if (config.model_specs_size() == 1 && models.size() == 1 &&
      (config.model_specs(0).name().empty() || config.model_specs(0).name() == models[0].name)) {
    out.emplace_back(config.model_specs(0), models[0].path);
    return out;
  }
  std::set<std::string> used;
  for (const ModelSpec& spec : config.model_specs()) {
    const ModelSource* source = nullptr;
    for (const ModelSource& m : models) {
      if (m.name == spec.name()) source = &m;
    }
    if (source == nullptr) {
      return Status::InvalidArgument("model_specs \"" + spec.name() +
                                     "\" has no model given (--model " + spec.name() + "=DIR)");
    }
    used.insert(source->name);
    out.emplace_back(spec, source->path);
  }
  for (const ModelSource& m : models) {
    if (!used.count(m.name)) {
      std::string names;
      for (const ModelSpec& s : config.model_specs()) {
        names += (names.empty() ? "" : ", ") + ("\"" + s.name() + "\"");
      }
      return Status::InvalidArgument("model \"" + m.name +
                                     "\" has no model_specs entry (specs: " + names + ")");
    }
  }
  return out;
}

Result<std::vector<MetricEntry>> MakeMetrics(const EvalConfig& config,
                                             const std::vector<ModelSpec>& specs) {
  const size_t nm = specs.size();
  std::vector<MetricEntry> entries;
  std::optional<BootstrapOptions> bootstrap;
  if (config.options().has_compute_confidence_intervals() &&
      config.options().compute_confidence_intervals().value()) {
    bootstrap.emplace();
    const int n = config.options().confidence_intervals().num_bootstrap_samples();
    if (n > 0) bootstrap->num_replicas = n;
  }
  auto wrap = [&](std::unique_ptr<Metric> m) -> Result<std::shared_ptr<const Metric>> {
    std::shared_ptr<const Metric> shared(std::move(m));
    if (!bootstrap) return shared;
    ASSIGN_OR_RETURN(auto b, MakeBootstrapMetric(shared, *bootstrap));
    return std::shared_ptr<const Metric>(std::move(b));
  };
  // (class_name, model) pairs of diff metrics the config already has.
  std::set<std::pair<std::string, size_t>> diff_configured;
  for (int s = 0; s < config.metrics_specs_size(); ++s) {
    const MetricsSpec& ms = config.metrics_specs(s);
    std::vector<char> for_model(nm, ms.model_names_size() == 0 ? 1 : 0);
    for (const std::string& name : ms.model_names()) {
      bool found = false;
      for (size_t m = 0; m < nm; ++m) {
        if (specs[m].name() == name) for_model[m] = 1, found = true;
      }
      if (!found) {
        return Status::InvalidArgument(fmt::format(
            "metrics_specs[{}].model_names: \"{}\" is not a model being evaluated", s, name));
      }
    }
    for (const MetricConfig& mc : ms.metrics()) {
      ASSIGN_OR_RETURN(nlohmann::json json, ParseMetricConfig(mc.class_name(), mc.config()));
      ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MakeMetric(mc.class_name(), json));
      MetricEntry e;
      e.for_model = for_model;
      if (metric->is_diff()) {
        if (!e.for_model.empty()) e.for_model[0] = 0;  // the reference has no diff with itself
        for (size_t m = 1; m < nm; ++m) {
          if (e.for_model[m]) diff_configured.insert({mc.class_name(), m});
        }
      }
      ASSIGN_OR_RETURN(e.metric, wrap(std::move(metric)));
      entries.push_back(std::move(e));
    }
  }
  if (nm > 1) {
    for (const char* cls : {"FlipRate", "MaxAbsPredictionDiff", "MeanAbsPredictionDiff"}) {
      MetricEntry e;
      e.for_model.assign(nm, 0);
      bool any = false;
      for (size_t m = 1; m < nm; ++m) {
        e.for_model[m] = diff_configured.count({cls, m}) ? 0 : 1;
        any = any || e.for_model[m];
      }
      if (!any) continue;
      ASSIGN_OR_RETURN(std::unique_ptr<Metric> metric, MakeMetric(cls, nlohmann::json::object()));
      ASSIGN_OR_RETURN(e.metric, wrap(std::move(metric)));
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

SliceAccumulators NewSlice(const std::vector<MetricEntry>& entries, size_t num_models) {
  SliceAccumulators s;
  s.acc.resize(num_models);
  for (size_t m = 0; m < num_models; ++m) {
    for (const MetricEntry& e : entries) {
      s.acc[m].push_back(e.for_model[m] ? e.metric->NewAccumulator() : nullptr);
    }
  }
  return s;
}

}  // namespace

Result<EvalResult> Evaluate(const EvalConfig& config, const std::vector<ModelSource>& models,
                            const std::string& examples, const EvaluateOptions& options) {
  const double start = Now();
  RETURN_IF_ERROR(CheckEvalConfig(config));
  if (options.batch_size < 1) {
    return Status::InvalidArgument(
        fmt::format("evaluate: batch_size {} must be >= 1", options.batch_size));
  }
  ASSIGN_OR_RETURN(auto paired, PairModels(config, models));
  const size_t nm = paired.size();
  std::vector<ModelSpec> specs;
  for (const auto& [spec, path] : paired) specs.push_back(spec);

  // Label and weight keys: one per evaluation.
  const std::string label_key = specs[0].label_key();
  const std::string weight_key = specs[0].example_weight_key();
  for (const ModelSpec& s : specs) {
    if (s.label_key() != label_key || s.example_weight_key() != weight_key) {
      return Status::InvalidArgument("model_specs \"" + s.name() +
                                     "\": label_key and example_weight_key must be the same "
                                     "for every model evaluated in one pass");
    }
  }
  if (label_key.empty()) {
    return Status::InvalidArgument("model_specs \"" + specs[0].name() + "\": label_key is empty");
  }

  // Models.
  Worker first;
  ModelRunnerOptions ro{.batch_size = options.batch_size,
                        .tflite_filename = options.tflite_filename,
                        .env = options.env};
  for (const auto& [spec, path] : paired) {
    ASSIGN_OR_RETURN(auto r, OpenModel(spec, path, ro));
    first.runners.push_back(std::move(r));
  }
  const int num_classes = first.runners[0]->num_outputs();
  for (size_t m = 1; m < nm; ++m) {
    if (first.runners[m]->num_outputs() != num_classes) {
      return Status::InvalidArgument(fmt::format(
          "model \"{}\" has {} outputs per example but model \"{}\" has {}; models compared in "
          "one evaluation must predict the same classes",
          specs[m].name(), first.runners[m]->num_outputs(), specs[0].name(), num_classes));
    }
  }

  ASSIGN_OR_RETURN(std::vector<MetricEntry> entries, MakeMetrics(config, specs));
  ASSIGN_OR_RETURN(Slicer slicer, Slicer::Create(config));

  // What to extract: the union of the models' input features.
  ExtractSpec es;
  es.label_key = label_key;
  es.example_weight_key = weight_key;
  es.num_classes = num_classes > 1 ? num_classes : 0;
  es.slice_keys = slicer.feature_keys();
  for (const auto& r : first.runners) {
    es.keep_serialized = es.keep_serialized || r->needs_serialized();
    for (const data::FeatureSpec& f : r->input_features()) {
      auto same = std::find_if(es.features.begin(), es.features.end(),
                               [&](const data::FeatureSpec& g) { return g.name == f.name; });
      if (same == es.features.end()) {
        es.features.push_back(f);
      } else if (same->type != f.type || same->shape != f.shape) {
        return Status::InvalidArgument("feature \"" + f.name +
                                       "\" is read with different types or shapes by the models");
      }
    }
  }
  ASSIGN_OR_RETURN(Extractor extractor, Extractor::Create(es));

  // The data: the first chunk is read here to check the models' inputs.
  // The reader only frames records under the workers' lock; each worker
  // checks its chunk's data crcs (in Extract), outside the lock.
  ASSIGN_OR_RETURN(auto reader, ExampleReader::Open(examples, {.split = options.split,
                                                               .env = options.env,
                                                               .defer_data_crc = true}));
  std::optional<ExampleChunk> pending(ExampleChunk{});
  ASSIGN_OR_RETURN(bool any, reader->Next(options.batch_size, &*pending));
  if (!any) return Status::InvalidArgument("examples " + examples + " hold no records");
  RETURN_IF_ERROR(pending->VerifyDataCrcs());
  {
    Result<std::vector<std::string>> names = FeatureNamesOf(pending->record(0));
    if (!names.ok()) {
      return Status::DataLoss(pending->file + ": example 0: " + names.status().message());
    }
    for (const auto& r : first.runners) RETURN_IF_ERROR(r->CheckFeatures(*names));
  }

  // Workers.
  const int nt = options.num_threads > 0 ? options.num_threads : ThreadPool::MachineThreads();
  std::vector<Worker> workers(static_cast<size_t>(nt));
  workers[0] = std::move(first);
  for (size_t w = 1; w < workers.size(); ++w) {
    for (const auto& r : workers[0].runners) {
      ASSIGN_OR_RETURN(auto c, r->Clone());
      workers[w].runners.push_back(std::move(c));
    }
  }
  for (Worker& w : workers) {
    w.extractor.emplace(extractor);
    w.missing.assign(slicer.spec_names().size(), 0);
  }

  ProgressOptions po;
  po.out = options.progress ? options.progress_out : nullptr;
  po.units = "examples";
  Progress progress("evaluate", -1, po);
  std::mutex mu;  // guards reader, pending, next_chunk, error, error_chunk
  Status error;
  // Chunks are numbered in file order as workers take them; of several
  // workers' errors the one of the earliest chunk is reported, so the error a
  // user sees (the first bad example) does not depend on thread timing: a
  // worker finishes the chunk it holds, so every chunk before the first bad
  // one is checked.
  int64_t next_chunk = 0;
  int64_t error_chunk = 0;

  auto work = [&](Worker& w, int64_t* chunk_number) -> Status {
    ExampleChunk chunk;
    ExtractedChunk x;  // reused: its buffers are allocated once per worker
    ChunkSlices cs;
    std::vector<std::vector<float>> preds(nm);
    while (true) {
      double t0 = Now();
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!error.ok()) return Status::Ok();
        *chunk_number = next_chunk++;
        if (pending) {
          chunk = std::move(*pending);
          pending.reset();
        } else {
          ASSIGN_OR_RETURN(bool more, reader->Next(options.batch_size, &chunk));
          if (!more) return Status::Ok();
        }
      }
      RETURN_IF_ERROR(w.extractor->Extract(std::move(chunk), &x));
      chunk.blocks.clear();  // lets the reader reuse its buffer block
      double t1 = Now();
      w.read_seconds += t1 - t0;
      ModelInputBatch in{.size = x.size, .serialized = x.records, .features = &x.features};
      for (size_t m = 0; m < nm; ++m) RETURN_IF_ERROR(w.runners[m]->Run(in, &preds[m]));
      double t2 = Now();
      w.infer_seconds += t2 - t1;

      slicer.Assign(x, &cs);
      for (size_t s = 0; s < cs.missing.size(); ++s) w.missing[s] += cs.missing[s];
      auto feed = [&](const SliceKey& key, std::span<const int32_t> rows) -> Status {
        auto it = w.slices.find(key);
        if (it == w.slices.end()) it = w.slices.emplace(key, NewSlice(entries, nm)).first;
        it->second.count += static_cast<double>(rows.empty() ? x.size : rows.size());
        for (size_t m = 0; m < nm; ++m) {
          BatchView v;
          v.size = x.size;
          v.num_outputs = w.runners[m]->num_outputs();
          v.predictions = preds[m].data();
          v.labels = x.labels.data();
          v.label_width = x.label_width;
          v.weights = x.weights.empty() ? nullptr : x.weights.data();
          v.reference_predictions = m == 0 ? nullptr : preds[0].data();
          v.rows = rows;
          v.example_ids = x.example_ids.data();
          for (auto& acc : it->second.acc[m]) {
            if (acc == nullptr) continue;
            Status s = acc->Add(v);
            if (!s.ok()) {
              return s.WithContext(fmt::format("{}: examples {}..{}: model \"{}\"", x.file,
                                               x.first_in_file, x.first_in_file + x.size - 1,
                                               specs[m].name()));
            }
          }
        }
        return Status::Ok();
      };
      if (cs.has_overall) RETURN_IF_ERROR(feed(SliceKey{}, {}));
      for (const auto& [key, rows] : cs.rows) RETURN_IF_ERROR(feed(key, rows));
      w.metric_seconds += Now() - t2;
      progress.Add(x.size);
    }
  };
  const auto run = [&](int64_t i) {
    int64_t chunk_number = 0;
    Status s = work(workers[static_cast<size_t>(i)], &chunk_number);
    if (!s.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      if (error.ok() || chunk_number < error_chunk) {
        error = s;
        error_chunk = chunk_number;
      }
    }
  };
  // Several workers with a native model: run them as the tasks of one
  // nn::ParallelFor, so that the native layers' own nn::ParallelFor calls
  // run inline on each worker (parallel.h: a ParallelFor issued from inside
  // a task runs inline). Otherwise every worker's matrix products would
  // queue for nn's single process-wide pool (one job at a time, its threads
  // spinning between jobs) and the workers would not scale. This holds nn's
  // pool for the evaluation; it needs at least as many nn threads.
  const bool any_native = std::any_of(specs.begin(), specs.end(), [](const ModelSpec& s) {
    Result<std::string> type = RunnerModelType(s.model_type());
    return type.ok() && *type == "native";
  });
  if (workers.size() > 1 && any_native && nn::NumThreads() >= static_cast<int>(workers.size())) {
    nn::ParallelFor(static_cast<int64_t>(workers.size()), run);
  } else {
    ThreadPool::Default()->ParallelFor(static_cast<int64_t>(workers.size()), 1,
                                       [&](int64_t begin, int64_t end) {
                                         for (int64_t i = begin; i < end; ++i) run(i);
                                       });
  }
  progress.Finish();
  RETURN_IF_ERROR(error);

  // Merge the workers' accumulators into worker 0's.
  SliceMap& merged = workers[0].slices;
  for (size_t w = 1; w < workers.size(); ++w) {
    for (auto& [key, sa] : workers[w].slices) {
      auto it = merged.find(key);
      if (it == merged.end()) {
        merged.emplace(key, std::move(sa));
        continue;
      }
      it->second.count += sa.count;
      for (size_t m = 0; m < nm; ++m) {
        for (size_t e = 0; e < entries.size(); ++e) {
          if (sa.acc[m][e] == nullptr) continue;
          RETURN_IF_ERROR(it->second.acc[m][e]->Merge(*sa.acc[m][e]));
        }
      }
    }
    for (size_t s = 0; s < workers[0].missing.size(); ++s) {
      workers[0].missing[s] += workers[w].missing[s];
    }
  }

  EvalResult result;
  result.num_examples = reader->records_read();
  for (size_t m = 0; m < nm; ++m) {
    ModelInfo info = workers[0].runners[m]->info();
    // Mean latency over the workers that ran batches.
    double sum = 0;
    int n = 0;
    for (const Worker& w : workers) {
      const ModelInfo wi = w.runners[m]->info();
      if (wi.latency_batch > 0) {
        sum += wi.latency_ms;
        ++n;
      }
    }
    if (n > 0) info.latency_ms = sum / n;
    result.models.push_back(std::move(info));
  }
  // Slices: overall first, then by spec, then by key.
  std::vector<std::pair<int, const SliceKey*>> order;
  for (const auto& [key, sa] : merged) order.emplace_back(slicer.SpecIndexOf(key), &key);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [spec, key] : order) {
    const SliceAccumulators& sa = merged.at(*key);
    SliceResult r;
    r.slice = *key;
    r.example_count = sa.count;
    for (size_t m = 0; m < nm; ++m) {
      Plots plots;
      for (const auto& acc : sa.acc[m]) {
        if (acc != nullptr) acc->Finish(specs[m].name(), &r.metrics, &plots);
      }
      if (!plots.empty()) r.plots[specs[m].name()] = std::move(plots);
    }
    result.slices.push_back(std::move(r));
  }

  EvalStats stats;
  for (size_t s = 0; s < slicer.spec_names().size(); ++s) {
    stats.missing_by_spec.emplace_back(slicer.spec_names()[s], workers[0].missing[s]);
  }
  const int64_t min_size =
      config.options().has_min_slice_size() ? config.options().min_slice_size().value() : 0;
  stats.dropped_slices = DropSmallSlices(&result.slices, min_size);
  for (const Worker& w : workers) {
    stats.read_seconds += w.read_seconds;
    stats.infer_seconds += w.infer_seconds;
    stats.metric_seconds += w.metric_seconds;
  }

  ASSIGN_OR_RETURN(result.validation, Validate(config, result.slices, result.models));
  for (const auto& [name, count] : stats.missing_by_spec) {
    if (count > 0) {
      result.validation.notes.push_back(fmt::format(
          "{}: {} of {} examples lack a feature it slices on and are in none of its slices", name,
          count, result.num_examples));
    }
  }
  for (const auto& [key, count] : stats.dropped_slices) {
    result.validation.notes.push_back(
        fmt::format("slice {} dropped: {} examples, fewer than min_slice_size {}", key.ToString(),
                    count, min_size));
  }
  result.eval_config_text = EvalConfigToText(config);
  result.seconds = Now() - start;
  if (options.stats != nullptr) *options.stats = std::move(stats);
  return result;
}

}  // namespace edgepipe::eval
