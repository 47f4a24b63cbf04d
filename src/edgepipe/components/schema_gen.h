// SchemaGen: infers a schema (schema.proto, TFMD field names) from the
// statistics of an ExampleStatistics artifact, as TFDV's infer_schema does.
//
// Output layout (the Schema artifact, as TFX writes it):
//   <output>/schema.pbtxt   Schema in protobuf text format
// Rules, per feature of the statistics:
//   type       INT -> INT, FLOAT -> FLOAT, STRING/BYTES -> BYTES
//   presence   present in every example: min_fraction 1 (required), min_count 1;
//              otherwise min_count 1 only
//   shape      infer_feature_shape and required and every example holds the
//              same count n: shape { dim { size: n } }
//   value_count otherwise: fixed count n -> min n, max n; varying -> min 1
//              when every present example has a value (else no limit)
//   domain     STRING features with at most max_string_domain_size distinct
//              values (all of them seen in the rank histogram): a schema-level
//              string_domain named after the feature, values sorted, referred
//              to by `domain: "<name>"`
// Several splits: the schema of the first, then relaxed by the others
// (presence lowered, value counts widened, domains united); a type clash
// between splits is an error.
#ifndef EDGEPIPE_COMPONENTS_SCHEMA_GEN_H_
#define EDGEPIPE_COMPONENTS_SCHEMA_GEN_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/components/schema.pb.h"
#include "edgepipe/components/statistics.pb.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

struct SchemaInferenceOptions {
  bool infer_feature_shape = true;
  int max_string_domain_size = 100;
};

// Infers the schema of one split's statistics. Pure.
tfmd::Schema InferSchema(const tfmd::DatasetFeatureStatistics& stats,
                         const SchemaInferenceOptions& options = {});

// Relaxes `schema` so that `stats` (another split) also conforms, as above.
// InvalidArgument when a feature's type differs: `feature "x": type FLOAT in
// split "eval", INT in the schema`.
Status UpdateSchema(const tfmd::DatasetFeatureStatistics& stats,
                    const SchemaInferenceOptions& options, tfmd::Schema* schema);

struct SchemaGenOptions {
  std::string statistics;  // an ExampleStatistics artifact folder
  std::string output;      // the Schema folder; created if missing
  std::vector<std::string> exclude_splits;
  SchemaInferenceOptions inference;
};

struct SchemaGenSummary {
  std::string schema_path;
  int num_features = 0;
};

Result<SchemaGenSummary> RunSchemaGen(const SchemaGenOptions& options, Env* env = Env::Default());

// Schema text-format I/O. A path may be the schema.pbtxt file or the Schema
// artifact folder holding it. Errors name the file and the parse error's
// line and column.
Result<tfmd::Schema> ReadSchema(const std::string& path, Env* env = Env::Default());
Status WriteSchema(const tfmd::Schema& schema, const std::string& path, Env* env = Env::Default());

// --- the component ---------------------------------------------------------
// Inputs: statistics (ExampleStatistics). Outputs: schema (Schema).
// Params: infer_feature_shape (int 0/1, default 1), exclude_splits (string,
// JSON list, default "[]"), max_string_domain_size (int, 100).
const pipeline::ComponentSpec& SchemaGenSpec();
std::unique_ptr<pipeline::Executor> MakeSchemaGenExecutor();
pipeline::Node SchemaGen(pipeline::Channel statistics, pipeline::Params params = {});

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_SCHEMA_GEN_H_
