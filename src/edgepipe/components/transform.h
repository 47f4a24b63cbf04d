// Transform: the pipeline component (TFX's Transform).
//
// Inputs: examples (Examples: Split-<name>/ TFRecord shards, as ExampleGen
// writes), schema (Schema, optional; not read yet: raw feature specs are
// inferred from the train split, see InferRawFeatureSpecs).
// Params: preprocessing_fn (the name of a function registered with
// RegisterPreprocessingFn), module_file (reserved for a C++ module exporting a
// preprocessing_fn; Unimplemented until module loading lands), analyze_split
// (default "train").
// Outputs:
//   transform_graph/transform_graph.json            the analyzed graph
//   transformed_examples/Split-<name>/data_tfrecord-00000-of-00001.gz
//   transformed_examples/transform.json              splits and counts
#ifndef EDGEPIPE_COMPONENTS_TRANSFORM_H_
#define EDGEPIPE_COMPONENTS_TRANSFORM_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/components/transform_graph.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

// Registers `fn` under `name` for the component's preprocessing_fn param.
// Thread-safe. AlreadyExists when the name is taken by another call
// (re-registering is an error so that two modules cannot silently clash).
Status RegisterPreprocessingFn(std::string name, PreprocessingFn fn);
// The function registered as `name`; NotFound listing the registered names.
Result<PreprocessingFn> FindPreprocessingFn(std::string_view name);

// The raw feature specs of the examples in `files` (TFRecord, plain or gzip):
// each feature's kind from the first record holding it and its shape from
// its value count ({} for one value, {n} otherwise); features missing from
// some records, or whose count varies, get no default and fail at parse time
// naming the record. InvalidArgument when there are no records.
// `max_records` bounds the scan (0 = all).
Result<std::vector<data::FeatureSpec>> InferRawFeatureSpecs(const std::vector<std::string>& files,
                                                            int64_t max_records = 1000,
                                                            Env* env = Env::Default());

struct TransformOptions {
  std::string examples;  // the input Examples folder (Split-* inside)
  std::string analyze_split = "train";
  std::string transform_graph;       // output folder (exists or is created)
  std::string transformed_examples;  // output folder (exists or is created)
  // When empty, inferred from the analyze split (InferRawFeatureSpecs).
  std::vector<data::FeatureSpec> raw_features;
  int64_t batch_size = 256;
  int gzip_level = 1;
};

struct TransformSummary {
  std::vector<std::string> splits;
  std::vector<int64_t> counts;  // transformed records per split
};

// The component's work outside the pipeline: traces `fn`, analyzes the
// analyze split, saves the graph and writes every split transformed. Errors
// name the split, the file and the record. An empty analyze split is
// FailedPrecondition.
Result<TransformSummary> RunTransform(const PreprocessingFn& fn, const TransformOptions& options,
                                      Env* env = Env::Default());

// The component spec ("Transform") and its executor.
pipeline::ComponentSpec TransformSpec();
std::unique_ptr<pipeline::Executor> NewTransformExecutor();

// The DSL node: Transform(example_gen.outputs()["examples"], schema,
// "mnist_preprocessing"). `schema` may be std::nullopt.
pipeline::Node Transform(const pipeline::Channel& examples,
                         const std::optional<pipeline::Channel>& schema,
                         std::string preprocessing_fn_name);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_TRANSFORM_H_
