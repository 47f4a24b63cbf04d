// ExampleGen as a pipeline component: the executor runs RunExampleGen
// (example_gen.h) into its `examples` output folder.
//
// Params: input_base (string, required: a file or folder), input_format
// (string "idx" | "csv" | "tfrecord", default "tfrecord"), splits (string,
// "train:2,eval:1"), keep_input_splits (int 0/1, 0), num_shards (int, 0 =
// automatic), gzip_level (int, 1). input_base is an is_file parameter: the
// cache key holds its path AND its content (pipeline/cache.h: a file's
// SHA-256, a folder's tree of sorted entry names and contents, recursively),
// so editing, adding, removing or renaming a data file reruns ExampleGen and
// everything downstream. Chosen over a size+mtime fingerprint because it is
// exact (a copy that keeps mtimes, or an edit within the same second, still
// reruns) and cheap enough here (MNIST's IDX folder is 7.8 MB): ~10 ms of
// CPU per 10 MB with the SHA extensions core/sha256 uses when the CPU has
// them, ~45 ms without; paid on every run, cached or not. A missing input_base fails
// the key (NotFound naming the component, the parameter and the path).
// Output: examples (Examples) with property split_names (`["train","eval"]`)
// and span 0.
#ifndef EDGEPIPE_COMPONENTS_EXAMPLE_GEN_COMPONENT_H_
#define EDGEPIPE_COMPONENTS_EXAMPLE_GEN_COMPONENT_H_

#include <memory>
#include <string>

#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

const pipeline::ComponentSpec& ExampleGenSpec();
std::unique_ptr<pipeline::Executor> MakeExampleGenExecutor();

// The DSL node, e.g. ExampleGen("data/mnist", "idx", {{"keep_input_splits", 1}}).
pipeline::Node ExampleGen(std::string input_base, std::string input_format = "tfrecord",
                          pipeline::Params params = {});

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_EXAMPLE_GEN_COMPONENT_H_
