// edgepipe evaluate --eval-config CFG.pbtxt --model NAME=DIR [--model NAME=DIR ...]
//   --examples PATH [--baseline NAME] --out DIR [--tflite-filename NAME]
//   [--batch-size N] [--threads N]
// Runs the Evaluator (eval/evaluator.h) over the examples with every model in
// one pass, writes metrics.json, plots.json, validations.json,
// eval_config.pbtxt, report.html and BLESSED or NOT_BLESSED into --out,
// prints the main metrics per model and the validation result on stdout
// (progress on stderr). Exit codes: 0 validation passed (or no thresholds),
// 3 a threshold failed, 2 usage error, 1 any other error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "edgepipe/cli/commands.h"
#include "edgepipe/core/file.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/evaluator.h"
#include "edgepipe/eval/report.h"
#include "edgepipe/eval/writers.h"

namespace edgepipe::cli {
namespace {

struct EvaluateFlags {
  std::string eval_config;
  std::vector<std::string> models;  // NAME=DIR, or DIR alone for a one-model config
  std::string examples;
  std::string baseline;
  std::string out;
  std::string tflite_filename = "tflite";
  int64_t batch_size = 256;
  int threads = 0;
};

// Slices printed on stdout one by one up to this many; beyond, only the
// overall slice (the report has them all).
constexpr size_t kMaxPrintedSlices = 4;

std::string Number(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "n/a" : (v > 0 ? "inf" : "-inf");
  char buf[48];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.4g", v);
  }
  return buf;
}

std::string Shown(const std::string& model) { return model.empty() ? "(model)" : model; }

// Pairs "NAME=DIR" flags with the config. A config with a single unnamed
// model_spec also takes a bare DIR; every other case needs NAME=.
Result<std::vector<eval::ModelSource>> ParseModels(const std::vector<std::string>& flags,
                                                   const eval::EvalConfig& config) {
  const bool single_unnamed =
      config.model_specs_size() == 1 && config.model_specs(0).name().empty();
  std::vector<eval::ModelSource> sources;
  std::set<std::string> seen;
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    eval::ModelSource source;
    if (eq == std::string::npos) {
      if (!single_unnamed) {
        return Status::InvalidArgument("--model \"" + flag +
                                       "\": expected NAME=DIR, NAME being a model_specs name");
      }
      source.path = flag;
    } else {
      source.name = flag.substr(0, eq);
      source.path = flag.substr(eq + 1);
    }
    if (source.path.empty()) {
      return Status::InvalidArgument("--model \"" + flag + "\": the model folder is empty");
    }
    if (!seen.insert(source.name).second) {
      return Status::InvalidArgument("--model: model \"" + source.name + "\" is given twice");
    }
    if (!single_unnamed) {
      bool known = false;
      std::string names;
      for (const eval::ModelSpec& spec : config.model_specs()) {
        known = known || spec.name() == source.name;
        names += (names.empty() ? "\"" : ", \"") + spec.name() + "\"";
      }
      if (!known) {
        return Status::InvalidArgument("--model " + flag +
                                       ": the eval config has no model_specs "
                                       "named \"" +
                                       source.name + "\" (it has " + names + ")");
      }
    }
    sources.push_back(std::move(source));
  }
  if (single_unnamed && sources.size() != 1) {
    return Status::InvalidArgument(
        "the eval config has one unnamed model_specs entry: give one "
        "--model, not " +
        std::to_string(sources.size()));
  }
  return sources;
}

// Marks the model_specs entry named `name` as the baseline (and no other).
Status SetBaseline(const std::string& name, eval::EvalConfig& config) {
  bool found = false;
  for (eval::ModelSpec& spec : *config.mutable_model_specs()) {
    spec.set_is_baseline(spec.name() == name);
    found = found || spec.name() == name;
  }
  if (!found) {
    return Status::InvalidArgument("--baseline \"" + name +
                                   "\": no model_specs entry has that name");
  }
  return eval::CheckEvalConfig(config).WithContext("--baseline " + name);
}

// A slice's scalar metrics as a table: one row per metric, one column per
// model ("-" where a model lacks it).
void PrintSlice(const eval::SliceResult& slice, const std::vector<std::string>& models) {
  using Row = std::tuple<std::string, bool>;  // name, is_diff
  std::vector<Row> rows;
  std::map<std::pair<Row, std::string>, double> values;
  for (const auto& [key, value] : slice.metrics) {
    if (!key.sub_key.empty()) continue;  // per-class / per-threshold parts: in the report
    Row row{key.name, key.is_diff};
    if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
    values[{row, key.model_name}] = value.value;
  }
  std::printf("%s (%s examples)\n", slice.slice.ToString().c_str(),
              Number(slice.example_count).c_str());
  size_t name_width = 6;
  for (const Row& row : rows) {
    name_width = std::max(name_width, std::get<0>(row).size() + (std::get<1>(row) ? 9 : 0));
  }
  std::vector<size_t> widths;
  for (const std::string& m : models) widths.push_back(std::max<size_t>(10, Shown(m).size()));
  std::printf("  %-*s", static_cast<int>(name_width), "metric");
  for (size_t i = 0; i < models.size(); ++i) {
    std::printf("  %*s", static_cast<int>(widths[i]), Shown(models[i]).c_str());
  }
  std::printf("\n");
  for (const Row& row : rows) {
    const std::string label = std::get<0>(row) + (std::get<1>(row) ? " (change)" : "");
    std::printf("  %-*s", static_cast<int>(name_width), label.c_str());
    for (size_t i = 0; i < models.size(); ++i) {
      auto it = values.find({row, models[i]});
      std::printf("  %*s", static_cast<int>(widths[i]),
                  it == values.end() ? "-" : Number(it->second).c_str());
    }
    std::printf("\n");
  }
}

void PrintSummary(const eval::EvalResult& r) {
  std::vector<std::string> models;
  for (const eval::ModelInfo& m : r.models) models.push_back(m.name);
  std::printf("evaluated %lld examples with %zu model%s in %.2f s\n",
              static_cast<long long>(r.num_examples), models.size(), models.size() == 1 ? "" : "s",
              r.seconds);
  for (const eval::ModelInfo& m : r.models) {
    std::printf("  %s: %s, %lld bytes, %.3f ms per batch of %lld%s\n", Shown(m.name).c_str(),
                m.model_type.c_str(), static_cast<long long>(m.size_bytes), m.latency_ms,
                static_cast<long long>(m.latency_batch), m.is_baseline ? " (baseline)" : "");
  }
  const size_t shown =
      r.slices.size() <= kMaxPrintedSlices ? r.slices.size() : std::min<size_t>(1, r.slices.size());
  for (size_t i = 0; i < shown; ++i) PrintSlice(r.slices[i], models);
  if (shown < r.slices.size()) {
    std::printf("(%zu more slices in report.html)\n", r.slices.size() - shown);
  }
  const eval::ValidationResult& v = r.validation;
  if (v.ok) {
    std::printf("validation: passed\n");
  } else {
    std::printf("validation: FAILED (%zu failure%s)\n", v.failures.size(),
                v.failures.size() == 1 ? "" : "s");
  }
  for (const eval::ValidationFailure& f : v.failures) {
    std::printf("  %s\n", f.message.c_str());
  }
  for (const eval::SliceKey& k : v.missing_slices) {
    std::printf("  missing slice: %s\n", k.ToString().c_str());
  }
  for (const std::string& note : v.notes) std::printf("note: %s\n", note.c_str());
}

Result<int> RunEvaluateCommand(const EvaluateFlags& f) {
  ASSIGN_OR_RETURN(eval::EvalConfig config, eval::ReadEvalConfig(f.eval_config));
  if (!f.baseline.empty()) RETURN_IF_ERROR(SetBaseline(f.baseline, config));
  ASSIGN_OR_RETURN(std::vector<eval::ModelSource> models, ParseModels(f.models, config));
  std::fprintf(stderr, "evaluate: %zu model%s on %s -> %s\n", models.size(),
               models.size() == 1 ? "" : "s", f.examples.c_str(), f.out.c_str());
  eval::EvaluateOptions options;
  options.batch_size = f.batch_size;
  options.num_threads = f.threads;
  options.tflite_filename = f.tflite_filename;
  ASSIGN_OR_RETURN(eval::EvalResult result, eval::Evaluate(config, models, f.examples, options));
  RETURN_IF_ERROR(eval::WriteEvalResult(result, f.out));
  RETURN_IF_ERROR(eval::WriteReport(result, f.out));
  RETURN_IF_ERROR(eval::WriteBlessing(result.validation.ok, f.out));
  PrintSummary(result);
  std::printf("wrote %s: metrics.json plots.json validations.json eval_config.pbtxt %s %s\n",
              f.out.c_str(), std::string(eval::kReportFileName).c_str(),
              result.validation.ok ? "BLESSED" : "NOT_BLESSED");
  return result.validation.ok ? kExitOk : kExitValidationFailed;
}

}  // namespace

void RegisterEvaluateCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<EvaluateFlags>();
  CLI::App* cmd = app.add_subcommand(
      "evaluate",
      "Evaluate models (native and TFLite) on tf.Example data with an EvalConfig: metrics per "
      "slice, thresholds, blessing and report.html. Exit 0: validation passed or no "
      "thresholds; 3: a threshold failed; 2: usage error; 1: other errors");
  cmd->add_option("--eval-config", flags->eval_config,
                  "EvalConfig in protobuf text format (TFMA field names)")
      ->required();
  cmd->add_option("--model", flags->models,
                  "NAME=DIR: a model folder (native saved model, folder with a TFLite file, "
                  "Trainer model artifact, or .tflite file) for model_specs entry NAME; repeat "
                  "for several models (the first model_specs entry is the reference of the "
                  "agreement metrics). "
                  "A config with one unnamed model_specs takes a bare DIR")
      ->required();
  cmd->add_option("--examples", flags->examples,
                  "TFRecord file, folder of TFRecord files, or Examples artifact (its "
                  "Split-eval)")
      ->required();
  cmd->add_option("--baseline", flags->baseline,
                  "model_specs name to use as the baseline of change thresholds (overrides the "
                  "config's is_baseline)");
  cmd->add_option("--out", flags->out,
                  "output folder: metrics.json, plots.json, validations.json, eval_config.pbtxt, "
                  "report.html, BLESSED or NOT_BLESSED")
      ->required();
  cmd->add_option("--tflite-filename", flags->tflite_filename,
                  "name of the TFLite file inside a tf_lite model's folder")
      ->capture_default_str();
  cmd->add_option("--batch-size", flags->batch_size, "examples per inference batch")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 20));
  cmd->add_option("--threads", flags->threads, "worker threads (0 = one per core)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->callback([flags, &registry] {
    registry.SetWithExitCode([flags] { return RunEvaluateCommand(*flags); });
  });
}

}  // namespace edgepipe::cli
