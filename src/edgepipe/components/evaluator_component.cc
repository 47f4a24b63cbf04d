#include "edgepipe/components/evaluator_component.h"

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/components/component_util.h"
#include "edgepipe/components/trainer.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/evaluator.h"
#include "edgepipe/eval/report.h"
#include "edgepipe/eval/writers.h"

namespace edgepipe::components {
namespace {

// The model folder of a Model artifact: its Format-Serving folder when it
// has one, else the artifact folder itself.
std::string ServingDir(const std::string& uri, Env* env) {
  std::string serving = JoinPath(uri, kServingModelDirName);
  return env->IsDirectory(serving) ? serving : uri;
}

// Parses the model_files parameter: a JSON object of plain file names.
Result<std::map<std::string, std::string>> ParseModelFiles(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument("\"" + text + "\" is not a JSON object");
  }
  std::map<std::string, std::string> files;
  for (const auto& [name, value] : j.items()) {
    if (!value.is_string()) {
      return Status::InvalidArgument("model \"" + name + "\": file name must be a string");
    }
    const std::string file = value.get<std::string>();
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos) {
      return Status::InvalidArgument("model \"" + name + "\": file name \"" + file +
                                     "\" must be a plain name inside Format-Serving");
    }
    files[name] = file;
  }
  return files;
}

// Pairs the config's ModelSpecs (in config order) with model paths: the
// baseline spec with `baseline_dir` (empty: no baseline input), every other
// spec with `model_dir`, or the file model_files names for it there.
Result<std::vector<eval::ModelSource>> PairModels(const eval::EvalConfig& config,
                                                  const std::map<std::string, std::string>& files,
                                                  const std::string& model_dir,
                                                  const std::string& baseline_dir) {
  const eval::ModelSpec* baseline_spec = eval::BaselineModelSpec(config);
  if (baseline_dir.empty() != (baseline_spec == nullptr)) {
    return Status::InvalidArgument(
        !baseline_dir.empty()
            ? "input \"baseline_model\" given but eval_config has no ModelSpec with is_baseline"
            : "eval_config has a baseline ModelSpec \"" + baseline_spec->name() +
                  "\" but input \"baseline_model\" is not given");
  }
  std::vector<eval::ModelSource> models;
  int candidates = 0;
  for (const eval::ModelSpec& spec : config.model_specs()) {
    if (spec.is_baseline()) {
      models.push_back({spec.name(), baseline_dir});
      continue;
    }
    ++candidates;
    auto it = files.find(spec.name());
    models.push_back(
        {spec.name(), it == files.end() ? model_dir : JoinPath(model_dir, it->second)});
  }
  if (candidates == 0) {
    return Status::InvalidArgument("eval_config: model_specs has no candidate model");
  }
  for (const auto& [name, file] : files) {
    bool known = false;
    for (const eval::ModelSpec& spec : config.model_specs()) {
      known = known || (spec.name() == name && !spec.is_baseline());
    }
    if (!known) {
      return Status::InvalidArgument("parameter \"model_files\": \"" + name +
                                     "\" is not the name of a candidate ModelSpec");
    }
  }
  return models;
}

class EvaluatorExecutor : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override {
    Env* env = context.env;
    ASSIGN_OR_RETURN(const pipeline::Artifact* examples, SingleInput(context, "examples", env));
    ASSIGN_OR_RETURN(const pipeline::Artifact* model, SingleInput(context, "model", env));
    ASSIGN_OR_RETURN(const pipeline::Artifact* baseline,
                     OptionalInput(context, "baseline_model", env));
    ASSIGN_OR_RETURN(pipeline::Artifact * evaluation, SingleOutput(context, "evaluation"));
    ASSIGN_OR_RETURN(pipeline::Artifact * blessing, SingleOutput(context, "blessing"));

    ASSIGN_OR_RETURN(std::string config_text, StringParamOr(context, "eval_config", ""));
    ASSIGN_OR_RETURN(std::string config_file, StringParamOr(context, "eval_config_file", ""));
    if (config_text.empty() == config_file.empty()) {
      return Status::InvalidArgument(
          "parameters \"eval_config\" and \"eval_config_file\": exactly one must be set, got " +
          std::string(config_text.empty() ? "neither" : "both"));
    }
    eval::EvalConfig config;
    if (!config_text.empty()) {
      ASSIGN_OR_RETURN(config, eval::ParseEvalConfig(config_text, "parameter \"eval_config\""));
    } else {
      ASSIGN_OR_RETURN(config, eval::ReadEvalConfig(config_file, env));
    }

    ASSIGN_OR_RETURN(std::string splits_json,
                     StringParamOr(context, "example_splits", "[\"eval\"]"));
    Result<std::vector<std::string>> splits = ParseSplitNamesJson(splits_json);
    if (!splits.ok()) return splits.status().WithContext("parameter \"example_splits\"");
    if (splits->size() != 1) {
      return Status::InvalidArgument("parameter \"example_splits\" is " + splits_json +
                                     ": exactly one split is supported");
    }

    ASSIGN_OR_RETURN(std::string files_json, StringParamOr(context, "model_files", "{}"));
    Result<std::map<std::string, std::string>> files = ParseModelFiles(files_json);
    if (!files.ok()) return files.status().WithContext("parameter \"model_files\"");
    ASSIGN_OR_RETURN(std::vector<eval::ModelSource> models,
                     PairModels(config, *files, ServingDir(model->uri, env),
                                baseline != nullptr ? ServingDir(baseline->uri, env) : ""));

    eval::EvaluateOptions options;
    options.split = splits->front();
    ASSIGN_OR_RETURN(options.tflite_filename, StringParamOr(context, "tflite_filename", "tflite"));
    ASSIGN_OR_RETURN(int64_t threads, IntParamOr(context, "num_threads", 0));
    options.num_threads = static_cast<int>(threads);
    options.progress = false;
    options.env = env;
    ASSIGN_OR_RETURN(eval::EvalResult result,
                     eval::Evaluate(config, models, examples->uri, options));

    RETURN_IF_ERROR(eval::WriteEvalResult(result, evaluation->uri, env));
    RETURN_IF_ERROR(eval::WriteReport(result, evaluation->uri, env));
    RETURN_IF_ERROR(eval::WriteBlessing(result.validation.ok, blessing->uri, env));
    const int64_t blessed = result.validation.ok ? 1 : 0;
    blessing->properties["blessed"] = blessed;
    evaluation->properties["blessed"] = blessed;
    evaluation->properties["num_examples"] = result.num_examples;
    return Status::Ok();
  }
};

}  // namespace

const pipeline::ComponentSpec& EvaluatorSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    using pipeline::ParamType;
    auto* s = new pipeline::ComponentSpec;
    s->type = "Evaluator";
    auto param = [](std::string name, ParamType type, pipeline::Value def, bool is_file = false) {
      pipeline::ParamSpec p;
      p.name = std::move(name);
      p.type = type;
      p.default_value = std::move(def);
      p.is_file = is_file;
      return p;
    };
    s->params = {
        param("eval_config", ParamType::kString, std::string()),
        param("eval_config_file", ParamType::kString, std::string(), /*is_file=*/true),
        param("example_splits", ParamType::kString, std::string("[\"eval\"]")),
        param("tflite_filename", ParamType::kString, std::string("tflite")),
        param("model_files", ParamType::kString, std::string("{}")),
        param("num_threads", ParamType::kInt, int64_t{0}),
    };
    s->inputs = {{"examples", std::string(pipeline::artifact_type::kExamples), false},
                 {"model", std::string(pipeline::artifact_type::kModel), false},
                 {"baseline_model", std::string(pipeline::artifact_type::kModel), true}};
    s->outputs = {{"evaluation", std::string(pipeline::artifact_type::kModelEvaluation), false},
                  {"blessing", std::string(pipeline::artifact_type::kModelBlessing), false}};
    return s;
  }();
  return *spec;
}

std::unique_ptr<pipeline::Executor> MakeEvaluatorExecutor() {
  return std::make_unique<EvaluatorExecutor>();
}

pipeline::Node Evaluator(EvaluatorArgs args) {
  pipeline::Params params{{"eval_config", std::move(args.eval_config)},
                          {"eval_config_file", std::move(args.eval_config_file)},
                          {"example_splits", std::move(args.example_splits)},
                          {"tflite_filename", std::move(args.tflite_filename)},
                          {"model_files", nlohmann::json(args.model_files).dump()}};
  std::map<std::string, pipeline::Channel, std::less<>> inputs{
      {"examples", std::move(args.examples)}, {"model", std::move(args.model)}};
  if (args.baseline_model) inputs.emplace("baseline_model", std::move(*args.baseline_model));
  return pipeline::Node(EvaluatorSpec(), MakeEvaluatorExecutor, std::move(params),
                        std::move(inputs));
}

}  // namespace edgepipe::components
