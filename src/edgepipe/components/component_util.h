// Helpers shared by the component executors: split folders, the split_names
// property, and typed access to an ExecutionContext's artifacts and params
// with errors that name the channel or parameter and the file. As the
// Executor contract says, the runner prefixes errors with the component id
// ("StatisticsGen: input ..."); executors do not.
//
// Thread safety: pure functions; safe to call concurrently.
#ifndef EDGEPIPE_COMPONENTS_COMPONENT_UTIL_H_
#define EDGEPIPE_COMPONENTS_COMPONENT_UTIL_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

// "Split-<name>" folder of an artifact.
std::string SplitDir(std::string_view artifact_dir, std::string_view split);

// The split names of the Split-* folders of `artifact_dir`, sorted. NotFound
// naming the folder when it does not exist.
Result<std::vector<std::string>> ListSplits(const std::string& artifact_dir,
                                            Env* env = Env::Default());

// TFX's split_names property: a JSON list, `["train","eval"]`.
std::string SplitNamesJson(const std::vector<std::string>& names);
// InvalidArgument naming the text when it is not a JSON list of strings.
Result<std::vector<std::string>> ParseSplitNamesJson(std::string_view json);

// The one artifact of input (or output) channel `key`. Errors name the key:
// `input "examples": no artifact given`;
// NotFound when its folder does not exist (`... folder /x/y does not exist`).
Result<const pipeline::Artifact*> SingleInput(const pipeline::ExecutionContext& context,
                                              std::string_view key, Env* env);
// As SingleInput, but OK with a null result when the channel is absent/empty.
Result<const pipeline::Artifact*> OptionalInput(const pipeline::ExecutionContext& context,
                                                std::string_view key, Env* env);
Result<pipeline::Artifact*> SingleOutput(pipeline::ExecutionContext& context, std::string_view key);

// Typed parameter reads. InvalidArgument naming the parameter, its value and
// the expected type when the kind differs (`parameter "push_destination" is
// int 3, expected string`); NotFound when absent and no default given.
Result<std::string> StringParam(const pipeline::ExecutionContext& context, std::string_view name);
Result<int64_t> IntParam(const pipeline::ExecutionContext& context, std::string_view name);
Result<std::string> StringParamOr(const pipeline::ExecutionContext& context, std::string_view name,
                                  std::string_view fallback);
Result<int64_t> IntParamOr(const pipeline::ExecutionContext& context, std::string_view name,
                           int64_t fallback);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_COMPONENT_UTIL_H_
