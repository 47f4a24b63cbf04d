#include "edgepipe/components/pusher.h"

#include <ctime>
#include <memory>
#include <utility>

#include "edgepipe/components/component_util.h"

namespace edgepipe::components {
namespace {

constexpr char kBlessedFile[] = "BLESSED";
constexpr char kNotBlessedFile[] = "NOT_BLESSED";
constexpr char kPushedFile[] = "PUSHED";
constexpr char kNotPushedFile[] = "NOT_PUSHED";
constexpr char kServingDir[] = "Format-Serving";

Status CopyFile(const std::string& from, const std::string& to, Env* env) {
  ASSIGN_OR_RETURN(auto in, env->OpenForRead(from));
  ASSIGN_OR_RETURN(auto out, env->OpenForWrite(to));
  std::unique_ptr<char[]> buf(new char[1 << 20]);
  while (true) {
    ASSIGN_OR_RETURN(size_t n, in->Read(buf.get(), 1 << 20));
    if (n == 0) break;
    RETURN_IF_ERROR(out->Append(std::string_view(buf.get(), n)));
  }
  RETURN_IF_ERROR(out->Sync());
  return out->Close();
}

Status CopyTree(const std::string& from, const std::string& to, Env* env) {
  RETURN_IF_ERROR(env->CreateDirs(to));
  ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir(from));
  for (const std::string& e : entries) {
    std::string src = JoinPath(from, e), dst = JoinPath(to, e);
    if (env->IsDirectory(src)) {
      RETURN_IF_ERROR(CopyTree(src, dst, env));
    } else {
      RETURN_IF_ERROR(CopyFile(src, dst, env));
    }
  }
  return env->SyncDir(to);
}

}  // namespace

Status CopyTreeAtomic(const std::string& from, const std::string& to, Env* env) {
  if (!env->IsDirectory(from)) return Status::NotFound(from + ": folder does not exist");
  if (env->Exists(to)) return Status::AlreadyExists(to + ": already exists");
  std::string parent = Dirname(to);
  RETURN_IF_ERROR(env->CreateDirs(parent));
  std::string temp = TempSiblingPath(to);
  Status s = CopyTree(from, temp, env);
  if (s.ok()) s = env->Rename(temp, to);
  if (s.ok()) s = env->SyncDir(parent);
  if (!s.ok()) env->RemoveAll(temp).IgnoreError();
  return s;
}

Result<PusherSummary> RunPusher(const PusherOptions& options, Env* env) {
  if (!env->IsDirectory(options.model)) {
    return Status::NotFound("model " + options.model + ": folder does not exist");
  }
  if (options.push_destination.empty()) {
    return Status::InvalidArgument("push_destination is empty");
  }
  if (options.version.empty() || options.version.find('/') != std::string::npos ||
      options.version == "." || options.version == "..") {
    return Status::InvalidArgument("version \"" + options.version +
                                   "\" must be a non-empty folder name");
  }
  PusherSummary summary;
  if (options.blessing) {
    const std::string& b = *options.blessing;
    if (!env->IsDirectory(b)) {
      return Status::NotFound("model_blessing " + b + ": folder does not exist");
    }
    bool blessed = env->Exists(JoinPath(b, kBlessedFile)) ||
                   (options.blessed_property && *options.blessed_property == 1);
    if (!blessed) {
      summary.reason =
          "model not blessed: " + b + " has " +
          (env->Exists(JoinPath(b, kNotBlessedFile)) ? "a NOT_BLESSED file" : "no BLESSED file") +
          (options.blessed_property
               ? " and property blessed = " + std::to_string(*options.blessed_property)
               : std::string(" and no blessed property"));
    }
  }
  if (!summary.reason.empty()) {
    if (!options.output.empty()) {
      RETURN_IF_ERROR(env->CreateDirs(options.output));
      RETURN_IF_ERROR(
          WriteFileAtomic(JoinPath(options.output, kNotPushedFile), summary.reason + "\n", env));
    }
    return summary;
  }
  std::string serving = JoinPath(options.model, kServingDir);
  std::string source = env->IsDirectory(serving) ? serving : options.model;
  std::string destination = JoinPath(options.push_destination, options.version);
  RETURN_IF_ERROR(CopyTreeAtomic(source, destination, env));
  summary.pushed = true;
  summary.destination = destination;
  if (!options.output.empty()) {
    RETURN_IF_ERROR(env->CreateDirs(options.output));
    RETURN_IF_ERROR(
        WriteFileAtomic(JoinPath(options.output, kPushedFile), destination + "\n", env));
  }
  return summary;
}

// --- the component ---------------------------------------------------------

namespace {

class PusherExecutor : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override { return DoImpl(context); }

 private:
  Status DoImpl(pipeline::ExecutionContext& context) {
    Env* env = context.env;
    ASSIGN_OR_RETURN(const pipeline::Artifact* model, SingleInput(context, "model", env));
    ASSIGN_OR_RETURN(const pipeline::Artifact* blessing,
                     OptionalInput(context, "model_blessing", env));
    ASSIGN_OR_RETURN(pipeline::Artifact * out, SingleOutput(context, "pushed_model"));
    PusherOptions options;
    options.model = model->uri;
    if (blessing != nullptr) {
      options.blessing = blessing->uri;
      auto it = blessing->properties.find("blessed");
      if (it != blessing->properties.end()) {
        if (const auto* v = std::get_if<int64_t>(&it->second)) options.blessed_property = *v;
      }
    }
    ASSIGN_OR_RETURN(options.push_destination, StringParam(context, "push_destination"));
    ASSIGN_OR_RETURN(std::string versioning, StringParamOr(context, "versioning", "timestamp"));
    if (versioning == "timestamp") {
      options.version = std::to_string(static_cast<int64_t>(std::time(nullptr)));
    } else if (versioning == "execution_id") {
      options.version = std::to_string(context.execution_id);
    } else {
      return Status::InvalidArgument("parameter \"versioning\" is \"" + versioning +
                                     "\", expected \"timestamp\" or \"execution_id\"");
    }
    options.output = out->uri;
    ASSIGN_OR_RETURN(PusherSummary summary, RunPusher(options, env));
    out->properties["pushed"] = int64_t{summary.pushed ? 1 : 0};
    if (summary.pushed) {
      out->properties["pushed_destination"] = summary.destination;
      out->properties["pushed_version"] = options.version;
    }
    return Status::Ok();
  }
};

}  // namespace

const pipeline::ComponentSpec& PusherSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    auto* s = new pipeline::ComponentSpec;
    s->type = "Pusher";
    s->params = {
        {"push_destination", pipeline::ParamType::kString, true, std::nullopt},
        {"versioning", pipeline::ParamType::kString, false,
         pipeline::Value{std::string("timestamp")}},
    };
    s->inputs = {{"model", std::string(pipeline::artifact_type::kModel), false},
                 {"model_blessing", std::string(pipeline::artifact_type::kModelBlessing), true}};
    s->outputs = {{"pushed_model", std::string(pipeline::artifact_type::kPushedModel), false}};
    return s;
  }();
  return *spec;
}

std::unique_ptr<pipeline::Executor> MakePusherExecutor() {
  return std::make_unique<PusherExecutor>();
}

pipeline::Node Pusher(pipeline::Channel model, std::optional<pipeline::Channel> model_blessing,
                      std::string push_destination, pipeline::Params params) {
  params["push_destination"] = std::move(push_destination);
  std::map<std::string, pipeline::Channel, std::less<>> inputs{{"model", std::move(model)}};
  if (model_blessing) inputs.emplace("model_blessing", std::move(*model_blessing));
  return pipeline::Node(PusherSpec(), MakePusherExecutor, std::move(params), std::move(inputs));
}

}  // namespace edgepipe::components
