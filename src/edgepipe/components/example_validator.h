// ExampleValidator: checks the statistics of each split against a schema and
// reports anomalies per feature, as TFDV's validate_statistics does.
//
// Output layout (the ExampleAnomalies artifact):
//   <output>/Split-<name>/anomalies.pbtxt   Anomalies (anomalies.proto, TFMD
//                                           field names) in text format
// Anomaly kinds (AnomalyInfo.Type, all severity ERROR):
//   SCHEMA_MISSING_COLUMN              a schema feature that is required
//                                      (min_count >= 1) has no values at all
//   FEATURE_TYPE_LOW_FRACTION_PRESENT  present in fewer examples than
//                                      presence.min_fraction
//   FEATURE_TYPE_LOW_NUMBER_PRESENT    present in fewer examples than min_count
//   UNEXPECTED_DATA_TYPE               statistics type differs from the schema's
//   FEATURE_TYPE_LOW/HIGH_NUMBER_VALUES value count outside value_count or shape
//   ENUM_TYPE_UNEXPECTED_STRING_VALUES values outside the string domain
//   INT_TYPE_SMALL/BIG_INT, FLOAT_TYPE_SMALL/BIG_FLOAT  outside int/float_domain
//   SCHEMA_NEW_COLUMN                  a feature that the schema does not have
// A split without examples sets data_missing.
#ifndef EDGEPIPE_COMPONENTS_EXAMPLE_VALIDATOR_H_
#define EDGEPIPE_COMPONENTS_EXAMPLE_VALIDATOR_H_

#include <memory>
#include <string>
#include <vector>

#include "edgepipe/components/anomalies.pb.h"
#include "edgepipe/components/schema.pb.h"
#include "edgepipe/components/statistics.pb.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

// The anomalies of one split's statistics against `schema`. Pure. The result
// holds the schema as `baseline`.
tfmd::Anomalies ValidateStatistics(const tfmd::DatasetFeatureStatistics& stats,
                                   const tfmd::Schema& schema);

struct ExampleValidatorOptions {
  std::string statistics;  // an ExampleStatistics artifact folder
  std::string schema;      // a Schema folder or a schema.pbtxt file
  std::string output;      // the ExampleAnomalies folder; created if missing
  std::vector<std::string> exclude_splits;
};

struct SplitAnomalies {
  std::string split;
  int num_anomalies = 0;  // features with anomalies (+1 when data_missing)
  // "feature: short description" per anomaly, in feature name order.
  std::vector<std::string> lines;
};

struct ExampleValidatorSummary {
  std::vector<SplitAnomalies> splits;
  int total_anomalies() const;
};

Result<ExampleValidatorSummary> RunExampleValidator(const ExampleValidatorOptions& options,
                                                    Env* env = Env::Default());

// Reads <artifact>/Split-<split>/anomalies.pbtxt. Errors name the file.
Result<tfmd::Anomalies> ReadAnomalies(const std::string& artifact_dir, std::string_view split,
                                      Env* env = Env::Default());

// --- the component ---------------------------------------------------------
// Inputs: statistics (ExampleStatistics), schema (Schema). Outputs: anomalies
// (ExampleAnomalies, properties split_names and num_anomalies). Params:
// exclude_splits (string, JSON list, "[]"), fail_on_anomalies (int 0/1, 0):
// when 1 and anomalies were found, Do() fails (FailedPrecondition listing
// them) after writing its output.
const pipeline::ComponentSpec& ExampleValidatorSpec();
std::unique_ptr<pipeline::Executor> MakeExampleValidatorExecutor();
pipeline::Node ExampleValidator(pipeline::Channel statistics, pipeline::Channel schema,
                                pipeline::Params params = {});

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_EXAMPLE_VALIDATOR_H_
