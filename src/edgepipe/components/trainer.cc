#include "edgepipe/components/trainer.h"

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/model/json_util.h"

namespace edgepipe::components {
namespace {

using pipeline::Artifact;
using pipeline::ExecutionContext;
using pipeline::ParamType;
using pipeline::Value;

constexpr int64_t kDefaultTrainSteps = 1000;

Result<int64_t> IntParam(const ExecutionContext& ctx, std::string_view name, int64_t fallback) {
  auto it = ctx.params.find(name);
  if (it == ctx.params.end()) return fallback;
  if (const int64_t* v = std::get_if<int64_t>(&it->second)) return *v;
  return Status::InvalidArgument("Trainer: parameter " + std::string(name) + " must be an int");
}

Result<std::string> StringParam(const ExecutionContext& ctx, std::string_view name,
                                std::string fallback) {
  auto it = ctx.params.find(name);
  if (it == ctx.params.end()) return fallback;
  if (const std::string* v = std::get_if<std::string>(&it->second)) return *v;
  return Status::InvalidArgument("Trainer: parameter " + std::string(name) + " must be a string");
}

// The single artifact of channel `key`, or null when the channel is absent
// (optional inputs); InvalidArgument when it holds several.
Result<const Artifact*> OneArtifact(const pipeline::ArtifactMap& map, std::string_view key,
                                    bool required, std::string_view what) {
  auto it = map.find(key);
  if (it == map.end() || it->second.empty()) {
    if (!required) return static_cast<const Artifact*>(nullptr);
    return Status::InvalidArgument("Trainer: no " + std::string(what) + " \"" + std::string(key) +
                                   "\" artifact");
  }
  if (it->second.size() != 1) {
    return Status::InvalidArgument("Trainer: " + std::string(what) + " \"" + std::string(key) +
                                   "\" has " + std::to_string(it->second.size()) +
                                   " artifacts, expected 1");
  }
  return &it->second.front();
}

Status RequireFolder(Env* env, const std::string& uri, std::string_view what) {
  if (uri.empty()) return Status::InvalidArgument("Trainer: " + std::string(what) + " has no uri");
  if (!env->IsDirectory(uri)) {
    return Status::NotFound("Trainer: " + std::string(what) + " folder " + uri + " does not exist");
  }
  return Status::Ok();
}

// The examples' split names from the "split_names" property (a JSON list),
// when set; both train and eval must be among them.
Status CheckSplits(const Artifact& examples, Env* env) {
  auto it = examples.properties.find("split_names");
  if (it != examples.properties.end()) {
    const std::string* text = std::get_if<std::string>(&it->second);
    model::Json names = text ? model::Json::parse(*text, nullptr, false) : model::Json();
    if (!names.is_array()) {
      return Status::InvalidArgument("Trainer: examples " + examples.uri +
                                     ": property split_names is not a JSON list");
    }
    for (const char* need : {"train", "eval"}) {
      bool found = false;
      for (const auto& n : names) found = found || (n.is_string() && n.get<std::string>() == need);
      if (!found) {
        return Status::InvalidArgument("Trainer: examples " + examples.uri + " have no split \"" +
                                       need + "\" (split_names " + *text + ")");
      }
    }
  }
  for (const char* split : {"Split-train", "Split-eval"}) {
    if (!env->IsDirectory(JoinPath(examples.uri, split))) {
      return Status::NotFound("Trainer: examples " + examples.uri + " have no " + split +
                              " folder");
    }
  }
  return Status::Ok();
}

// schema.pbtxt in the Schema folder, or its only file.
Result<std::string> SchemaPath(const Artifact& schema, Env* env) {
  RETURN_IF_ERROR(RequireFolder(env, schema.uri, "schema"));
  const std::string pbtxt = JoinPath(schema.uri, "schema.pbtxt");
  if (env->Exists(pbtxt)) return pbtxt;
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(schema.uri));
  if (names.size() == 1) return JoinPath(schema.uri, names[0]);
  return Status::NotFound("Trainer: schema folder " + schema.uri +
                          " has no schema.pbtxt (and not exactly one file)");
}

Status WriteTrainerLog(const FnArgs& args, const std::string& module_file,
                       const std::string& library, double build_seconds, double run_seconds) {
  model::Json log = {
      {"module_file", module_file},          {"library", library},
      {"train_steps", args.train_steps},     {"eval_steps", args.eval_steps},
      {"custom_config", args.custom_config}, {"serving_model_dir", args.serving_model_dir},
      {"build_seconds", build_seconds},      {"run_fn_seconds", run_seconds}};
  return WriteFileAtomic(JoinPath(args.model_run_dir, kTrainerLogName), log.dump(2) + "\n",
                         args.env);
}

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

const pipeline::ComponentSpec& TrainerSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    auto* s = new pipeline::ComponentSpec;
    s->type = "Trainer";
    auto param = [](std::string name, ParamType type, bool required, std::optional<Value> dflt,
                    bool is_file) {
      pipeline::ParamSpec p;
      p.name = std::move(name);
      p.type = type;
      p.required = required;
      p.default_value = std::move(dflt);
      p.is_file = is_file;
      return p;
    };
    s->params = {
        param("module_file", ParamType::kString, true, std::nullopt, /*is_file=*/true),
        param("train_steps", ParamType::kInt, false, Value(kDefaultTrainSteps), false),
        param("eval_steps", ParamType::kInt, false, Value(int64_t{0}), false),
        param("custom_config", ParamType::kString, false, Value(std::string("{}")), false),
    };
    s->inputs = {{"examples", std::string(pipeline::artifact_type::kExamples), false},
                 {"schema", std::string(pipeline::artifact_type::kSchema), true},
                 {"transform_graph", std::string(pipeline::artifact_type::kTransformGraph), true}};
    s->outputs = {{"model", std::string(pipeline::artifact_type::kModel), false},
                  {"model_run", std::string(pipeline::artifact_type::kModelRun), false}};
    s->executor_version = "1";
    return s;
  }();
  return *spec;
}

Status TrainerExecutor::Do(ExecutionContext& context) {
  Env* env = context.env != nullptr ? context.env : Env::Default();
  auto progress = [&](double fraction, std::string_view what) {
    if (context.progress) context.progress(fraction, what);
  };

  ASSIGN_OR_RETURN(std::string module_file, StringParam(context, "module_file", ""));
  if (module_file.empty()) {
    return Status::InvalidArgument("Trainer: parameter module_file is required");
  }
  const std::string where = "Trainer module_file " + module_file;
  FnArgs args;
  args.env = env;
  ASSIGN_OR_RETURN(args.train_steps, IntParam(context, "train_steps", kDefaultTrainSteps));
  ASSIGN_OR_RETURN(args.eval_steps, IntParam(context, "eval_steps", 0));
  ASSIGN_OR_RETURN(args.custom_config, StringParam(context, "custom_config", "{}"));
  if (args.train_steps < 1) {
    return Status::InvalidArgument("Trainer: train_steps " + std::to_string(args.train_steps) +
                                   " must be >= 1");
  }
  if (args.eval_steps < 0) {
    return Status::InvalidArgument("Trainer: eval_steps " + std::to_string(args.eval_steps) +
                                   " must be >= 0");
  }
  if (Result<model::Json> config = ParseCustomConfig(args); !config.ok()) {
    return config.status().WithContext("Trainer");
  }

  // Inputs.
  ASSIGN_OR_RETURN(const Artifact* examples,
                   OneArtifact(context.inputs, "examples", true, "input"));
  RETURN_IF_ERROR(RequireFolder(env, examples->uri, "input examples"));
  RETURN_IF_ERROR(CheckSplits(*examples, env));
  args.train_files = {JoinPath(examples->uri, "Split-train/*")};
  args.eval_files = {JoinPath(examples->uri, "Split-eval/*")};
  ASSIGN_OR_RETURN(const Artifact* schema, OneArtifact(context.inputs, "schema", false, "input"));
  if (schema != nullptr) {
    ASSIGN_OR_RETURN(args.schema_path, SchemaPath(*schema, env));
  }
  ASSIGN_OR_RETURN(const Artifact* transform,
                   OneArtifact(context.inputs, "transform_graph", false, "input"));
  if (transform != nullptr) {
    RETURN_IF_ERROR(RequireFolder(env, transform->uri, "input transform_graph"));
    args.transform_output = transform->uri;
  }

  // Outputs.
  ASSIGN_OR_RETURN(const Artifact* model, OneArtifact(context.outputs, "model", true, "output"));
  ASSIGN_OR_RETURN(const Artifact* model_run,
                   OneArtifact(context.outputs, "model_run", true, "output"));
  args.serving_model_dir = JoinPath(model->uri, kServingModelDirName);
  args.model_run_dir = model_run->uri;
  RETURN_IF_ERROR(env->CreateDirs(args.serving_model_dir));
  RETURN_IF_ERROR(env->CreateDirs(args.model_run_dir));

  // The module: build (if a source), load, run.
  ModuleBuildOptions build = options_.build;
  if (build.build_root.empty() && !context.pipeline_root.empty()) {
    build.build_root = JoinPath(context.pipeline_root, ".modules");
  }
  const auto t_build = std::chrono::steady_clock::now();
  if (IsModuleSource(module_file)) progress(-1, "building module " + module_file);
  Result<std::string> library = ResolveModuleLibrary(module_file, build, env);
  if (!library.ok()) return library.status().WithContext("Trainer");
  const double build_seconds = SecondsSince(t_build);
  Result<LoadedRunFn> run_fn = LoadRunFn(*library, env);
  if (!run_fn.ok()) {
    return *library == module_file ? run_fn.status().WithContext("Trainer")
                                   : run_fn.status().WithContext(where);
  }

  progress(-1, "run_fn");
  const auto t_run = std::chrono::steady_clock::now();
  Status status = run_fn->Run(args);
  const double run_seconds = SecondsSince(t_run);
  if (!status.ok()) return status.WithContext(where + ": run_fn failed");

  ASSIGN_OR_RETURN(std::vector<std::string> written, env->ListDir(args.serving_model_dir));
  if (written.empty()) {
    return Status::FailedPrecondition(where + ": run_fn returned OK but wrote nothing to " +
                                      args.serving_model_dir);
  }
  RETURN_IF_ERROR(WriteTrainerLog(args, module_file, *library, build_seconds, run_seconds));
  progress(1, "done");
  return Status::Ok();
}

pipeline::Node Trainer(TrainerArgs args) {
  pipeline::Params params = {{"module_file", Value(args.module_file)},
                             {"train_steps", Value(args.train_steps)},
                             {"eval_steps", Value(args.eval_steps)},
                             {"custom_config", Value(args.custom_config)}};
  std::map<std::string, pipeline::Channel, std::less<>> inputs;
  inputs.emplace("examples", std::move(args.examples));
  if (args.schema) inputs.emplace("schema", std::move(*args.schema));
  if (args.transform_graph) inputs.emplace("transform_graph", std::move(*args.transform_graph));
  return pipeline::Node(
      TrainerSpec(), [] { return std::make_unique<TrainerExecutor>(); }, std::move(params),
      std::move(inputs));
}

}  // namespace edgepipe::components
