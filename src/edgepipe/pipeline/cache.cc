#include "edgepipe/pipeline/cache.h"

#include <cstdio>

#include "edgepipe/core/sha256.h"

namespace edgepipe::pipeline {
namespace {

// Appends a length-prefixed field, so that no two different sequences of
// fields encode alike ("ab" + "c" vs "a" + "bc").
void Field(Sha256& h, std::string_view tag, std::string_view data) {
  h.Update(tag);
  h.Update(":");
  h.Update(std::to_string(data.size()));
  h.Update(":");
  h.Update(data);
}

std::string Encode(const Value& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "i%lld", static_cast<long long>(*i));
    return buf;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "d%.17g", *d);
    return buf;
  }
  std::string out = "s";
  out += std::get<std::string>(v);
  return out;
}

void HashProperties(Sha256& h, const Properties& props) {
  Field(h, "n", std::to_string(props.size()));
  for (const auto& [name, value] : props) {
    Field(h, "k", name);
    Field(h, "v", Encode(value));
  }
}

// Hashes a file's content, or a folder's tree: sorted names, each entry's
// content recursively.
Status HashPath(Sha256& h, const std::string& path, Env* env) {
  if (env->IsDirectory(path)) {
    ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(path));
    Field(h, "dir", std::to_string(names.size()));
    for (const std::string& name : names) {
      Field(h, "name", name);
      RETURN_IF_ERROR(HashPath(h, JoinPath(path, name), env));
    }
    return Status::Ok();
  }
  ASSIGN_OR_RETURN(Sha256Digest digest, Sha256File(path, env));
  Field(h, "file_sha256", ToHex(digest));
  return Status::Ok();
}

}  // namespace

Result<std::string> ComputeCacheKey(const ComponentSpec& spec, std::string_view component_id,
                                    const Params& params, const ArtifactMap& inputs, Env* env) {
  Sha256 h;
  Field(h, "edgepipe-cache-key", "1");
  Field(h, "component_id", component_id);
  Field(h, "component_type", spec.type);
  Field(h, "executor_version", spec.executor_version);
  Field(h, "params", std::to_string(params.size()));
  for (const auto& [name, value] : params) {
    Field(h, "k", name);
    Field(h, "v", Encode(value));
    for (const ParamSpec& ps : spec.params) {
      if (ps.name != name || !ps.is_file) continue;
      const auto* path = std::get_if<std::string>(&value);
      if (path == nullptr || path->empty()) continue;
      Status hashed = HashPath(h, *path, env);
      if (!hashed.ok()) {
        return hashed.WithContext(std::string(component_id) + ": file parameter \"" + name + "\"");
      }
    }
  }
  if (spec.cache_fingerprint) {
    Result<std::string> fingerprint = spec.cache_fingerprint(params);
    if (!fingerprint.ok()) {
      return fingerprint.status().WithContext(std::string(component_id) + ": cache fingerprint");
    }
    Field(h, "fingerprint", *fingerprint);
  }
  Field(h, "inputs", std::to_string(inputs.size()));
  for (const auto& [key, list] : inputs) {
    Field(h, "channel", key);
    Field(h, "count", std::to_string(list.size()));
    for (const Artifact& a : list) {
      Field(h, "id", std::to_string(a.id));
      Field(h, "type", a.type);
      Field(h, "uri", a.uri);
      HashProperties(h, a.properties);
    }
  }
  return ToHex(h.Finish());
}

Result<std::optional<CacheHit>> LookupCache(MetadataStore& store, std::string_view cache_key,
                                            Env* env) {
  ASSIGN_OR_RETURN(std::vector<ExecutionRecord> candidates,
                   store.GetCompleteExecutionsByCacheKey(cache_key));
  for (const ExecutionRecord& e : candidates) {
    ASSIGN_OR_RETURN(std::vector<Event> events, store.GetEventsByExecution(e.id));
    ASSIGN_OR_RETURN(ArtifactMap outputs, store.GetExecutionArtifacts(e.id, EventType::kOutput));
    bool usable = true;
    for (const Event& ev : events) {
      if (ev.type != EventType::kOutput) continue;
      ASSIGN_OR_RETURN(ArtifactRecord r, store.GetArtifact(ev.artifact_id));
      if (r.state != ArtifactState::kLive || !env->IsDirectory(r.artifact.uri)) {
        usable = false;
        break;
      }
    }
    if (usable) return std::optional<CacheHit>(CacheHit{e.id, std::move(outputs)});
  }
  return std::optional<CacheHit>();
}

}  // namespace edgepipe::pipeline
