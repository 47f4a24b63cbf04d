// Cache keys and cache lookup, as in TFX: an execution is reused when its
// component, executor version, parameters, inputs and module files are the
// same as those of an earlier complete execution whose outputs still exist.
//
// The key is the lower-case hex SHA-256 of a canonical, length-prefixed
// encoding of:
//   component id and type, the spec's executor_version,
//   the parameters (sorted by name, typed: int / double (%.17g) / string),
//   for each parameter whose spec has is_file: the SHA-256 of the file's
//     CONTENT (so editing a Trainer module reruns the Trainer); a folder is
//     hashed as its tree (sorted entry names and contents, recursively), so
//     ExampleGen (whose input_base is an is_file parameter) reruns when
//     the data changes,
//   the spec's cache_fingerprint(params) when it has one (code a parameter
//     names, e.g. a registered preprocessing_fn's build id),
//   the input artifacts by channel key and index: id, type, uri and
//     properties.
// Anything else (pipeline name, root, run id, time, other components) does
// not change the key. Pure functions apart from reading module files;
// thread-safe.
#ifndef EDGEPIPE_PIPELINE_CACHE_H_
#define EDGEPIPE_PIPELINE_CACHE_H_

#include <optional>
#include <string>
#include <string_view>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"
#include "edgepipe/pipeline/metadata_store.h"

namespace edgepipe::pipeline {

// The cache key of one execution. `params` should be resolved (defaults
// filled in, see ResolveParams). Errors: a module file that cannot be read
// (NotFound / IoError naming the component, the parameter and the path).
Result<std::string> ComputeCacheKey(const ComponentSpec& spec, std::string_view component_id,
                                    const Params& params, const ArtifactMap& inputs,
                                    Env* env = Env::Default());

struct CacheHit {
  int64_t execution_id = 0;  // the COMPLETE execution whose outputs are reused
  ArtifactMap outputs;       // its output artifacts (LIVE, folders present)
};

// Finds a COMPLETE execution with `cache_key` whose output artifacts are all
// LIVE and whose folders exist (newest first); nullopt when there is none.
// Errors come from the store only.
Result<std::optional<CacheHit>> LookupCache(MetadataStore& store, std::string_view cache_key,
                                            Env* env = Env::Default());

}  // namespace edgepipe::pipeline

#endif  // EDGEPIPE_PIPELINE_CACHE_H_
