#include "edgepipe/pipeline/registry.h"

#include <dlfcn.h>

#include <map>
#include <mutex>
#include <utility>

#include "edgepipe/core/file.h"

namespace edgepipe::pipeline {
namespace {

struct Registry {
  std::mutex mu;
  std::map<std::string, PipelineFactory, std::less<>> factories;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // never destroyed
  return *registry;
}

}  // namespace

bool RegisterPipeline(std::string name, PipelineFactory factory) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  r.factories[std::move(name)] = std::move(factory);
  return true;
}

Result<PipelineFactory> FindPipeline(std::string_view name) {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  auto it = r.factories.find(name);
  if (it != r.factories.end()) return it->second;
  std::string known;
  for (const auto& [n, f] : r.factories) known += (known.empty() ? "" : ", ") + n;
  return Status::NotFound("no pipeline named \"" + std::string(name) +
                          "\" (built-in: " + (known.empty() ? std::string("none") : known) +
                          "; or give the path of a pipeline .so)");
}

std::vector<std::string> RegisteredPipelines() {
  Registry& r = GetRegistry();
  std::lock_guard lock(r.mu);
  std::vector<std::string> names;
  for (const auto& [n, f] : r.factories) names.push_back(n);
  return names;
}

Result<Pipeline> LoadPipelineLibrary(const std::string& path) {
  Env* env = Env::Default();
  if (!env->Exists(path)) return Status::NotFound(path + ": no such pipeline library");
  // dlopen searches the library path for names without '/'.
  const std::string open_path = path.find('/') == std::string::npos ? "./" + path : path;
  void* handle = ::dlopen(open_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    return Status::InvalidArgument(path + ": cannot load the pipeline library: " +
                                   (err != nullptr ? err : "unknown dlopen error"));
  }
  ::dlerror();
  void* sym = ::dlsym(handle, kPipelineEntryV1);
  if (sym == nullptr) {
    ::dlclose(handle);
    return Status::NotFound(path + ": the library exports no " + kPipelineEntryV1 +
                            " (define it with EDGEPIPE_PIPELINE_V1(factory))");
  }
  // The handle stays open: the pipeline's executors are the library's code.
  auto entry = reinterpret_cast<PipelineEntryV1>(sym);
  Pipeline pipeline;
  std::string error;
  if (entry(&pipeline, &error) != 0) {
    return Status::InvalidArgument(path + ": " + kPipelineEntryV1 + " failed: " + error);
  }
  return pipeline;
}

Result<Pipeline> ResolvePipeline(const std::string& name_or_path) {
  const bool is_path =
      name_or_path.find('/') != std::string::npos ||
      (name_or_path.size() > 3 && name_or_path.compare(name_or_path.size() - 3, 3, ".so") == 0);
  if (is_path) return LoadPipelineLibrary(name_or_path);
  ASSIGN_OR_RETURN(PipelineFactory factory, FindPipeline(name_or_path));
  auto p = factory();
  if (!p.ok()) return p.status().WithContext("pipeline \"" + name_or_path + "\"");
  return p;
}

}  // namespace edgepipe::pipeline
