#include "edgepipe/components/component_util.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace edgepipe::components {
namespace {

constexpr std::string_view kSplitPrefix = "Split-";

std::string_view KindName(const pipeline::Value& v) {
  if (std::holds_alternative<int64_t>(v)) return "int";
  if (std::holds_alternative<double>(v)) return "double";
  return "string";
}

std::string ValueText(const pipeline::Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return nlohmann::json(*d).dump();
  return nlohmann::json(std::get<std::string>(v)).dump();
}

Result<const pipeline::Value*> FindParam(const pipeline::ExecutionContext& context,
                                         std::string_view name) {
  auto it = context.params.find(name);
  if (it == context.params.end()) {
    return Status::NotFound("parameter \"" + std::string(name) + "\" is not set");
  }
  return &it->second;
}

Status WrongKind(std::string_view name, const pipeline::Value& v, std::string_view expected) {
  return Status::InvalidArgument("parameter \"" + std::string(name) + "\" is " +
                                 std::string(KindName(v)) + " " + ValueText(v) + ", expected " +
                                 std::string(expected));
}

Result<const pipeline::Artifact*> FindArtifact(const pipeline::ExecutionContext& context,
                                               std::string_view key, Env* env, bool optional) {
  auto it = context.inputs.find(key);
  if (it == context.inputs.end() || it->second.empty()) {
    if (optional) return static_cast<const pipeline::Artifact*>(nullptr);
    return Status::InvalidArgument("input \"" + std::string(key) + "\": no artifact given");
  }
  if (it->second.size() > 1) {
    return Status::InvalidArgument("input \"" + std::string(key) + "\": expected 1 artifact, got " +
                                   std::to_string(it->second.size()));
  }
  const pipeline::Artifact& a = it->second.front();
  if (!env->IsDirectory(a.uri)) {
    return Status::NotFound("input \"" + std::string(key) + "\" (" + a.type + "): folder " + a.uri +
                            " does not exist");
  }
  return &a;
}

}  // namespace

std::string SplitDir(std::string_view artifact_dir, std::string_view split) {
  return JoinPath(artifact_dir, std::string(kSplitPrefix) + std::string(split));
}

Result<std::vector<std::string>> ListSplits(const std::string& artifact_dir, Env* env) {
  if (!env->IsDirectory(artifact_dir)) {
    return Status::NotFound(artifact_dir + ": folder does not exist");
  }
  ASSIGN_OR_RETURN(std::vector<std::string> entries, env->ListDir(artifact_dir));
  std::vector<std::string> splits;
  for (const std::string& e : entries) {
    if (e.size() > kSplitPrefix.size() && e.starts_with(kSplitPrefix) &&
        env->IsDirectory(JoinPath(artifact_dir, e))) {
      splits.push_back(e.substr(kSplitPrefix.size()));
    }
  }
  return splits;
}

std::string SplitNamesJson(const std::vector<std::string>& names) {
  return nlohmann::json(names).dump();
}

Result<std::vector<std::string>> ParseSplitNamesJson(std::string_view json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  auto bad = [&] {
    return Status::InvalidArgument("split names " + std::string(json) +
                                   ": expected a JSON list of strings, e.g. [\"train\",\"eval\"]");
  };
  if (!j.is_array()) return bad();
  std::vector<std::string> names;
  for (const auto& v : j) {
    if (!v.is_string()) return bad();
    names.push_back(v.get<std::string>());
  }
  return names;
}

Result<const pipeline::Artifact*> SingleInput(const pipeline::ExecutionContext& context,
                                              std::string_view key, Env* env) {
  return FindArtifact(context, key, env, /*optional=*/false);
}

Result<const pipeline::Artifact*> OptionalInput(const pipeline::ExecutionContext& context,
                                                std::string_view key, Env* env) {
  return FindArtifact(context, key, env, /*optional=*/true);
}

Result<pipeline::Artifact*> SingleOutput(pipeline::ExecutionContext& context,
                                         std::string_view key) {
  auto it = context.outputs.find(key);
  if (it == context.outputs.end() || it->second.size() != 1) {
    return Status::InvalidArgument("output \"" + std::string(key) + "\": expected 1 artifact");
  }
  return &it->second.front();
}

Result<std::string> StringParam(const pipeline::ExecutionContext& context, std::string_view name) {
  ASSIGN_OR_RETURN(const pipeline::Value* v, FindParam(context, name));
  if (const auto* s = std::get_if<std::string>(v)) return *s;
  return WrongKind(name, *v, "string");
}

Result<int64_t> IntParam(const pipeline::ExecutionContext& context, std::string_view name) {
  ASSIGN_OR_RETURN(const pipeline::Value* v, FindParam(context, name));
  if (const auto* i = std::get_if<int64_t>(v)) return *i;
  return WrongKind(name, *v, "int");
}

Result<std::string> StringParamOr(const pipeline::ExecutionContext& context, std::string_view name,
                                  std::string_view fallback) {
  if (!context.params.contains(name)) return std::string(fallback);
  return StringParam(context, name);
}

Result<int64_t> IntParamOr(const pipeline::ExecutionContext& context, std::string_view name,
                           int64_t fallback) {
  if (!context.params.contains(name)) return fallback;
  return IntParam(context, name);
}

}  // namespace edgepipe::components
