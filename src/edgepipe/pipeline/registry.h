// Pipelines by name, and pipelines from shared libraries, for `edgepipe run`.
//
// Built-in pipelines register a factory at static-initialization time:
//
//   EDGEPIPE_REGISTER_PIPELINE("mnist", MakeMnistPipeline);
//
// (The registering object file must be linked into the binary: a static
// library member that nothing references is dropped by the linker, so put it
// in the executable's sources or an OBJECT library, or call a function of it.)
//
// A pipeline shared library (built against edgepipe) exports
//
//   extern "C" int edgepipe_pipeline_v1(edgepipe::pipeline::Pipeline* out,
//                                       std::string* error);
//
// returning 0 and filling `out`, or non-zero with a message in `error`; the
// macro EDGEPIPE_PIPELINE_V1(factory) defines it from a
// `Result<Pipeline> factory()`. The library stays loaded for the life of the
// process (its executors are its code).
//
// Thread safety: the registry is guarded by a mutex.
#ifndef EDGEPIPE_PIPELINE_REGISTRY_H_
#define EDGEPIPE_PIPELINE_REGISTRY_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/pipeline.h"

namespace edgepipe::pipeline {

using PipelineFactory = std::function<Result<Pipeline>()>;

// Registers `factory` under `name`; a second registration of a name replaces
// the first. Returns true (for static initializers).
bool RegisterPipeline(std::string name, PipelineFactory factory);
// The factory registered under `name`, or NotFound listing the known names.
Result<PipelineFactory> FindPipeline(std::string_view name);
// Registered names, sorted.
std::vector<std::string> RegisteredPipelines();

// dlopens `path` and calls its edgepipe_pipeline_v1. Errors name the path:
// not found, not loadable (dlerror), no symbol, or the library's own error.
Result<Pipeline> LoadPipelineLibrary(const std::string& path);

// A name ending in ".so" or containing '/' is a library path, anything else a
// registered name.
Result<Pipeline> ResolvePipeline(const std::string& name_or_path);

using PipelineEntryV1 = int (*)(Pipeline* out, std::string* error);
inline constexpr const char* kPipelineEntryV1 = "edgepipe_pipeline_v1";

}  // namespace edgepipe::pipeline

#define EDGEPIPE_REGISTER_PIPELINE(name, factory)                               \
  static const bool EDGEPIPE_CONCAT_(edgepipe_pipeline_registered_, __LINE__) = \
      ::edgepipe::pipeline::RegisterPipeline(name, factory)

#define EDGEPIPE_PIPELINE_V1(factory)                                                            \
  extern "C" int edgepipe_pipeline_v1(::edgepipe::pipeline::Pipeline* out, std::string* error) { \
    ::edgepipe::Result<::edgepipe::pipeline::Pipeline> edgepipe_p = (factory)();                 \
    if (!edgepipe_p.ok()) {                                                                      \
      *error = edgepipe_p.status().ToString();                                                   \
      return 1;                                                                                  \
    }                                                                                            \
    *out = std::move(edgepipe_p).value();                                                        \
    return 0;                                                                                    \
  }

#endif  // EDGEPIPE_PIPELINE_REGISTRY_H_
