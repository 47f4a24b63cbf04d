// Transform: the pipeline component (TFX's Transform).
//
// Inputs: examples (Examples: Split-<name>/ TFRecord shards, as ExampleGen
// writes), schema (Schema, optional). Raw feature specs are inferred from the
// analyze split (InferRawFeatureSpecs: exact shapes and defaults, which the
// schema does not always carry); when a schema is given, every raw feature
// the preprocessing_fn reads must be in it with the same type (INT / FLOAT /
// BYTES) and, when the schema has a shape, the same value count, else the
// run fails (FailedPrecondition naming the schema, the feature and both
// types), as TFX's Transform fails on a feature missing from its schema.
// Params (exactly one of the first two): preprocessing_fn (the name of a
// function registered with RegisterPreprocessingFn), module_file (a shared
// library, or a C++ source built like a Trainer module, exporting
// EDGEPIPE_PREPROCESSING_FN; its content is part of the cache key),
// analyze_split (default "train"). Raw feature specs are inferred from the
// analyze split; a scalar feature missing from some records is imputed (the
// analyze split's mean for numbers, "" for strings: ImputeMissingWithMeans).
//
// A module file:
//   std::map<std::string, Column> Preprocess(const Inputs& in) { ... }
//   EDGEPIPE_PREPROCESSING_FN(Preprocess)
// Cache key: a module_file by content; a registered preprocessing_fn by its
// name and PreprocessingFnFingerprint (the build id of the executable or
// module holding its code), so rebuilding that code with a change reruns
// the Transform (and also a rebuild that changes other code of the same
// object: conservative, never stale).
// Outputs:
//   transform_graph/transform_graph.json            the analyzed graph
//   transformed_examples/Split-<name>/data_tfrecord-00000-of-00001.gz
//   transformed_examples/transform.json              splits and counts
#ifndef EDGEPIPE_COMPONENTS_TRANSFORM_H_
#define EDGEPIPE_COMPONENTS_TRANSFORM_H_

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/components/schema.pb.h"
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
// "build-id:<hex>": the GNU build id (core/build_id.h) of the loaded object
// holding the code of the function registered as `name` (a plain function's
// own object; for a lambda or functor, the object that called
// RegisterPreprocessingFn). Changes when that object is rebuilt with other
// code. NotFound as FindPreprocessingFn; FailedPrecondition when the object
// has no build id. Thread-safe.
Result<std::string> PreprocessingFnFingerprint(std::string_view name);

// --- preprocessing_fn modules ----------------------------------------------

// The C entry point EDGEPIPE_PREPROCESSING_FN exports: *out = fn(*in); an
// exception escaping fn becomes an Internal *status.
using PreprocessingFnEntry = void(const Inputs* in, std::map<std::string, Column>* out,
                                  Status* status);
inline constexpr int64_t kPreprocessingFnAbiVersion = 1;
inline constexpr char kPreprocessingFnSymbol[] = "edgepipe_preprocessing_fn_v1";
inline constexpr char kPreprocessingFnAbiVersionSymbol[] = "edgepipe_preprocessing_fn_abi_version";

namespace internal {
inline Status CallPreprocessingFn(std::map<std::string, Column> (*fn)(const Inputs&),
                                  const Inputs* in, std::map<std::string, Column>* out) {
  try {
    *out = fn(*in);
    return Status::Ok();
  } catch (const std::exception& e) {
    return Status::Internal(std::string("preprocessing_fn threw an exception: ") + e.what());
  } catch (...) {
    return Status::Internal("preprocessing_fn threw an exception that is not a std::exception");
  }
}
}  // namespace internal

// Loads the preprocessing_fn of a module: a shared library exporting
// EDGEPIPE_PREPROCESSING_FN, or a C++ source (.cc) first built with
// BuildModule (components/trainer_module.h, DefaultModuleBuildOptions()).
// Errors name the file: NotFound, not loadable, no preprocessing_fn symbol,
// an ABI version other than kPreprocessingFnAbiVersion, a failed build. An
// error or exception inside the function fails the trace with its message.
Result<PreprocessingFn> LoadPreprocessingFn(const std::string& module_file,
                                            Env* env = Env::Default());

// The raw feature specs of the examples in `files` (TFRecord, plain or gzip):
// each feature's kind from the first record holding it and its shape from
// its value count ({} for one value, {n} otherwise); features missing from
// some records, or whose count varies, get no default and fail at parse time
// naming the record. InvalidArgument when there are no records.
// `max_records` bounds the scan (0 = all).
Result<std::vector<data::FeatureSpec>> InferRawFeatureSpecs(const std::vector<std::string>& files,
                                                            int64_t max_records = 1000,
                                                            Env* env = Env::Default());

// Mean imputation (the raw feature specs RunTransform uses when it infers
// them): every scalar spec of `specs` whose feature is missing (absent or an
// empty list) from some record of `analyze_files` or `other_files` gets a
// default - numeric features the mean of their present values in
// `analyze_files` (int64 features: rounded to the nearest integer; NaN
// floats are not counted), strings "". So a missing number enters the
// analyzers and the transformed examples as the analyze split's mean (a
// z-score of ~0) instead of 0. Specs of features never missing are left as
// they are. Reads every record (TFRecord, plain or gzip) through `env`.
// FailedPrecondition naming the feature when a numeric one has no value in
// the analyze split; DataLoss naming the file for a record that is not a
// tf.Example.
Status ImputeMissingWithMeans(const std::vector<std::string>& analyze_files,
                              const std::vector<std::string>& other_files,
                              std::vector<data::FeatureSpec>& specs, Env* env = Env::Default());

struct TransformOptions {
  std::string examples;  // the input Examples folder (Split-* inside)
  std::string analyze_split = "train";
  std::string transform_graph;       // output folder (exists or is created)
  std::string transformed_examples;  // output folder (exists or is created)
  // When empty, inferred from the analyze split (InferRawFeatureSpecs).
  std::vector<data::FeatureSpec> raw_features;
  // Optional Schema folder or schema.pbtxt: the raw features the function
  // reads are checked against it (CheckRawFeaturesAgainstSchema).
  std::string schema;
  int64_t batch_size = 256;
  int gzip_level = 1;
};

struct TransformSummary {
  std::vector<std::string> splits;
  std::vector<int64_t> counts;  // transformed records per split
};

// Checks the raw features a traced preprocessing_fn reads (`used`) against
// `schema`: each must be a schema feature of the same type and, when the
// schema has a shape, the same number of values. FailedPrecondition naming
// `schema_name`, the feature and the rule. Features of the schema the
// function does not read are not checked.
Status CheckRawFeaturesAgainstSchema(const std::vector<data::FeatureSpec>& used,
                                     const tfmd::Schema& schema, std::string_view schema_name);

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
// The same with the preprocessing_fn of a module file (see LoadPreprocessingFn).
pipeline::Node TransformWithModule(const pipeline::Channel& examples,
                                   const std::optional<pipeline::Channel>& schema,
                                   std::string module_file);

}  // namespace edgepipe::components

// Exports `fn` (std::map<std::string, Column>(const Inputs&)) from a module.
#define EDGEPIPE_PREPROCESSING_FN(fn)                                                      \
  extern "C" __attribute__((visibility("default"))) int64_t                                \
  edgepipe_preprocessing_fn_abi_version() {                                                \
    return ::edgepipe::components::kPreprocessingFnAbiVersion;                             \
  }                                                                                        \
  extern "C" __attribute__((visibility("default"))) void edgepipe_preprocessing_fn_v1(     \
      const ::edgepipe::components::Inputs* in,                                            \
      std::map<std::string, ::edgepipe::components::Column>* out, ::edgepipe::Status* s) { \
    *s = ::edgepipe::components::internal::CallPreprocessingFn(fn, in, out);               \
  }

#endif  // EDGEPIPE_COMPONENTS_TRANSFORM_H_
