// `edgepipe compare`: two Evaluator components of a pipeline run side by side
// (examples/mnist: Evaluator.mnist and Evaluator.mnist_lite). Reads the
// latest finished execution of each from the metadata store, their
// evaluation results (accuracy, size, latency, blessing), the Pushers'
// destinations, and runs one extra evaluation with both models on the same
// examples for their agreement (flip rate of the second against the first).
// Given one Evaluator that evaluated several models in one pass
// (examples/fashion_mnist: the native model and four TFLite rewrites), it
// prints one row per model from that evaluation alone: the diff metrics in
// it are already against the first model.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "edgepipe/cli/commands.h"
#include "edgepipe/components/trainer.h"
#include "edgepipe/core/file.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/evaluator.h"
#include "edgepipe/eval/report.h"
#include "edgepipe/eval/writers.h"
#include "edgepipe/pipeline/metadata_store.h"

namespace edgepipe::cli {
namespace {

using pipeline::ArtifactMap;
using pipeline::ExecutionRecord;
using pipeline::ExecutionState;
using pipeline::MetadataStore;

struct CompareFlags {
  std::string root = "out/mnist/pipeline";
  std::vector<std::string> evaluators = {"Evaluator.mnist", "Evaluator.mnist_lite"};
  std::string label_key = "image_class";
  std::string split = "eval";
};

// What one Evaluator execution saw and wrote.
struct Side {
  std::string evaluator;
  std::string evaluation_dir;
  std::string model_dir;  // the model folder evaluated (Format-Serving)
  std::string examples;
  eval::EvalResult result;
  std::string pushed = "-";
};

// The newest execution of `component_id` that finished (complete or cached).
Result<ExecutionRecord> LatestExecution(MetadataStore& store, const std::string& component_id) {
  ASSIGN_OR_RETURN(std::vector<ExecutionRecord> all, store.GetExecutions());
  const ExecutionRecord* best = nullptr;
  for (const ExecutionRecord& e : all) {
    if (e.component_id != component_id) continue;
    if (e.state != ExecutionState::kComplete && e.state != ExecutionState::kCached) continue;
    if (best == nullptr || e.id > best->id) best = &e;
  }
  if (best == nullptr) {
    return Status::NotFound(store.path() + ": no finished execution of \"" + component_id + "\"");
  }
  return *best;
}

Result<const pipeline::Artifact*> One(const ArtifactMap& m, const std::string& key,
                                      const std::string& component_id) {
  auto it = m.find(key);
  if (it == m.end() || it->second.empty()) {
    return Status::NotFound(component_id + ": no artifact on channel \"" + key + "\"");
  }
  return &it->second.front();
}

std::string ResolveUri(const std::string& root, const std::string& uri) {
  return uri.empty() || uri[0] == '/' ? uri : JoinPath(root, uri);
}

Result<Side> ReadSide(MetadataStore& store, const std::string& root, const std::string& id) {
  Side side;
  side.evaluator = id;
  ASSIGN_OR_RETURN(ExecutionRecord exec, LatestExecution(store, id));
  ASSIGN_OR_RETURN(ArtifactMap in,
                   store.GetExecutionArtifacts(exec.id, pipeline::EventType::kInput));
  ASSIGN_OR_RETURN(ArtifactMap out,
                   store.GetExecutionArtifacts(exec.id, pipeline::EventType::kOutput));
  ASSIGN_OR_RETURN(const pipeline::Artifact* evaluation, One(out, "evaluation", id));
  ASSIGN_OR_RETURN(const pipeline::Artifact* model, One(in, "model", id));
  ASSIGN_OR_RETURN(const pipeline::Artifact* examples, One(in, "examples", id));
  side.evaluation_dir = ResolveUri(root, evaluation->uri);
  const std::string model_uri = ResolveUri(root, model->uri);
  const std::string serving = JoinPath(model_uri, components::kServingModelDirName);
  side.model_dir = Env::Default()->IsDirectory(serving) ? serving : model_uri;
  side.examples = ResolveUri(root, examples->uri);
  ASSIGN_OR_RETURN(side.result, eval::ReadEvalResult(side.evaluation_dir));
  if (side.result.models.empty()) {
    return Status::DataLoss(side.evaluation_dir + ": evaluation has no model");
  }
  // The Pusher that consumed this evaluator's blessing, if any.
  ASSIGN_OR_RETURN(const pipeline::Artifact* blessing, One(out, "blessing", id));
  ASSIGN_OR_RETURN(std::vector<ExecutionRecord> consumers, store.GetConsumers(blessing->id));
  int64_t newest = 0;
  for (const ExecutionRecord& c : consumers) {
    if (c.component_type != "Pusher" || c.id < newest) continue;
    ASSIGN_OR_RETURN(ArtifactMap pushed,
                     store.GetExecutionArtifacts(c.id, pipeline::EventType::kOutput));
    auto p = One(pushed, "pushed_model", c.component_id);
    if (!p.ok()) continue;
    newest = c.id;
    auto d = (*p)->properties.find("pushed_destination");
    side.pushed = d != (*p)->properties.end() && std::holds_alternative<std::string>(d->second)
                      ? std::get<std::string>(d->second)
                      : "not pushed";
  }
  return side;
}

double MetricOf(const eval::EvalResult& r, const std::string& name, const std::string& model) {
  if (r.slices.empty()) return std::nan("");
  for (const auto& [key, value] : r.slices.front().metrics) {
    if (key.name == name && key.model_name == model) return value.value;
  }
  return std::nan("");
}

std::string Num(double v, const char* fmt) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

// One Evaluator's models, one row each (diff metrics against models[0]).
Status PrintModelsTable(const Side& side) {
  const eval::EvalResult& r = side.result;
  if (r.models.size() < 2) {
    return Status::InvalidArgument(side.evaluation_dir + ": evaluation of \"" + side.evaluator +
                                   "\" has " + std::to_string(r.models.size()) +
                                   " model; give two Evaluator ids to compare two evaluations");
  }
  const std::string& ref = r.models[0].name;
  std::printf("\n  %s: %lld examples, %zu models, flip rate against \"%s\"\n",
              side.evaluator.c_str(), static_cast<long long>(r.num_examples), r.models.size(),
              ref.c_str());
  std::printf("  %-15s %-8s %9s %11s %13s %10s %10s\n", "model", "type", "accuracy", "size",
              "latency", "flip rate", "max |diff|");
  for (const eval::ModelInfo& m : r.models) {
    const bool is_ref = m.name == ref;
    std::printf("  %-15s %-8s %9s %11s %13s %10s %10s\n", m.name.c_str(), m.model_type.c_str(),
                Num(MetricOf(r, "sparse_categorical_accuracy", m.name), "%.4f").c_str(),
                Num(static_cast<double>(m.size_bytes) / 1024.0, "%.1f KiB").c_str(),
                (Num(m.latency_ms, "%.2f ms") + "/" + std::to_string(m.latency_batch)).c_str(),
                is_ref ? "-" : Num(MetricOf(r, "flip_rate", m.name), "%.4f").c_str(),
                is_ref ? "-" : Num(MetricOf(r, "max_abs_prediction_diff", m.name), "%.3g").c_str());
  }
  std::printf("  blessed: %s\n  pushed:  %s\n  report:  %s\n", r.validation.ok ? "yes" : "no",
              side.pushed.c_str(),
              JoinPath(side.evaluation_dir, std::string(eval::kReportFileName)).c_str());
  return Status::Ok();
}

Status RunCompare(const CompareFlags& f) {
  if (f.evaluators.size() != 1 && f.evaluators.size() != 2) {
    return Status::InvalidArgument("--evaluators: give one or two component ids, got " +
                                   std::to_string(f.evaluators.size()));
  }
  const std::string metadata = JoinPath(f.root, "metadata.sqlite");
  ASSIGN_OR_RETURN(std::unique_ptr<MetadataStore> store,
                   MetadataStore::Open(metadata, {.create_if_missing = false}));
  if (f.evaluators.size() == 1) {
    ASSIGN_OR_RETURN(Side one, ReadSide(*store, f.root, f.evaluators[0]));
    return PrintModelsTable(one);
  }
  ASSIGN_OR_RETURN(Side a, ReadSide(*store, f.root, f.evaluators[0]));
  ASSIGN_OR_RETURN(Side b, ReadSide(*store, f.root, f.evaluators[1]));

  // Agreement: both models on the same examples in one evaluation.
  const std::string type_a = a.result.models[0].model_type;
  const std::string type_b = b.result.models[0].model_type;
  const std::string config_text = "model_specs { name: \"a\" label_key: \"" + f.label_key +
                                  "\" model_type: \"" + type_a +
                                  "\" }\n"
                                  "model_specs { name: \"b\" label_key: \"" +
                                  f.label_key + "\" model_type: \"" + type_b +
                                  "\" }\n"
                                  "metrics_specs { metrics { class_name: "
                                  "\"SparseCategoricalAccuracy\" } }\n";
  ASSIGN_OR_RETURN(eval::EvalConfig config, eval::ParseEvalConfig(config_text, "compare"));
  eval::EvaluateOptions options;
  options.split = f.split;
  options.progress = false;
  ASSIGN_OR_RETURN(
      eval::EvalResult both,
      eval::Evaluate(config, {{"a", a.model_dir}, {"b", b.model_dir}}, a.examples, options));
  const double flip = MetricOf(both, "flip_rate", "b");
  const double max_diff = MetricOf(both, "max_abs_prediction_diff", "b");

  auto row = [](const std::string& what, const std::string& x, const std::string& y) {
    char buf[256];
    std::snprintf(buf, sizeof(buf), "  %-26s %-24s %s", what.c_str(), x.c_str(), y.c_str());
    std::printf("%s\n", buf);
  };
  const eval::ModelInfo& ma = a.result.models[0];
  const eval::ModelInfo& mb = b.result.models[0];
  std::printf("\n");
  row("", a.evaluator, b.evaluator);
  row("model type", ma.model_type, mb.model_type);
  row("accuracy (eval split)",
      Num(MetricOf(a.result, "sparse_categorical_accuracy", ma.name), "%.4f"),
      Num(MetricOf(b.result, "sparse_categorical_accuracy", mb.name), "%.4f"));
  row("examples", std::to_string(a.result.num_examples), std::to_string(b.result.num_examples));
  row("model size", Num(static_cast<double>(ma.size_bytes) / 1024.0, "%.1f KiB"),
      Num(static_cast<double>(mb.size_bytes) / 1024.0, "%.1f KiB"));
  row("latency", Num(ma.latency_ms, "%.3f ms") + " /" + std::to_string(ma.latency_batch),
      Num(mb.latency_ms, "%.3f ms") + " /" + std::to_string(mb.latency_batch));
  row("blessed", a.result.validation.ok ? "yes" : "no", b.result.validation.ok ? "yes" : "no");
  std::printf("  agreement on %lld examples: flip rate %s (top-1 agreement %s), max |diff| %s\n",
              static_cast<long long>(both.num_examples), Num(flip, "%.4f").c_str(),
              Num(1.0 - flip, "%.4f").c_str(), Num(max_diff, "%.3g").c_str());
  std::printf("  pushed:  %s\n           %s\n", a.pushed.c_str(), b.pushed.c_str());
  std::printf("  report:  %s\n           %s\n",
              JoinPath(a.evaluation_dir, std::string(eval::kReportFileName)).c_str(),
              JoinPath(b.evaluation_dir, std::string(eval::kReportFileName)).c_str());
  return Status::Ok();
}

}  // namespace

void RegisterCompareCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* cmd = app.add_subcommand(
      "compare",
      "Two Evaluator components of a pipeline run side by side: accuracy, model size, latency, "
      "blessing, push destination, and the models' agreement (one extra evaluation of both); "
      "or the models of one Evaluator that evaluated several, one row each");
  cmd->add_option("--root", flags->root, "pipeline root")->capture_default_str();
  cmd->add_option("--evaluators", flags->evaluators,
                  "two Evaluator component ids, or one that evaluated several models")
      ->capture_default_str()
      ->expected(1, 2);
  cmd->add_option("--label-key", flags->label_key, "label feature of the examples")
      ->capture_default_str();
  cmd->add_option("--split", flags->split, "split of the Examples artifact")->capture_default_str();
  cmd->callback([flags, &registry] { registry.Set([flags] { return RunCompare(*flags); }); });
}

}  // namespace edgepipe::cli
