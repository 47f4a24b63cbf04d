// EvalConfig reading and checking: protobuf text format with TFMA's field
// names (eval_config.proto), then the semantic rules edgepipe supports.
//
//   ASSIGN_OR_RETURN(EvalConfig config, ReadEvalConfig("eval_config.pbtxt"));
//   for (const ModelSpec& spec : config.model_specs())
//     if (NormalizedModelType(spec) == "tf_lite") ...
//
// Every error names the source, the offending field (with its index, e.g.
// "metrics_specs[0].metrics[2]"), its value and the rule. All functions are
// thread-safe (no shared mutable state).
#ifndef EDGEPIPE_EVAL_CONFIG_H_
#define EDGEPIPE_EVAL_CONFIG_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/eval/eval_config.pb.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

// Parses `text` (protobuf text format) and checks it with CheckEvalConfig.
// Syntax errors read "<source_name>:<line>:<col>: <what>" (1-based line and
// column); an unknown field is named in <what>. Semantic errors read
// "<source_name>: <field>: <rule>".
Result<EvalConfig> ParseEvalConfig(std::string_view text, std::string_view source_name);

// Reads `path` through `env` and parses it; errors are prefixed by `path`.
Result<EvalConfig> ReadEvalConfig(const std::string& path, Env* env = Env::Default());

// The semantic rules, applied by ParseEvalConfig (exposed for configs built in
// code): model_type in {"", "native", "tf_keras", "tf_lite"}; model names
// unique, and non-empty when there are several models; at most one
// is_baseline, and not the only model; metric class_name supported (see
// SupportedMetricClassNames); metric config a JSON object (MetricConfigJson);
// no threshold on a plot; metrics_specs.model_names name model_specs;
// thresholds map keys name a metric of the same MetricsSpec; change
// thresholds have a direction; lower_bound <= upper_bound; options >= 0.
Status CheckEvalConfig(const EvalConfig& config);

// "native" for "", "native" and "tf_keras" (TFX's Keras type, our native
// model); "tf_lite" for "tf_lite". Any other value returns it unchanged
// (CheckEvalConfig rejects it).
std::string NormalizedModelType(const ModelSpec& spec);

// The metric class names the Evaluator implements, in a fixed order
// (TFMA/Keras names; "F1" is accepted as an alias of "F1Score" and is not
// listed). The reference is to a static, never-destroyed vector.
const std::vector<std::string>& SupportedMetricClassNames();

// True for a supported class name or alias.
bool IsSupportedMetricClassName(std::string_view class_name);

// True for the classes that produce plots rather than metric values
// (MultiClassConfusionMatrixPlot, ConfusionMatrixAtThresholds,
// CalibrationPlot).
bool IsPlotMetricClassName(std::string_view class_name);

// The snake_case name a class writes its values under (MetricKey.name):
// "SparseCategoricalAccuracy" -> "sparse_categorical_accuracy", "AUC" ->
// "auc", "AUCPrecisionRecall" -> "auc_precision_recall", "F1"/"F1Score" ->
// "f1_score". Unknown names get the generic CamelCase -> snake_case mapping.
std::string MetricOutputName(std::string_view class_name);

// The metric's `config` as a JSON object. TFMA accepts the object with or
// without its outer braces ('"from_logits": true' or '{"top_k": 3}'); empty
// text is {}. Errors name the class and the JSON problem.
Result<nlohmann::json> MetricConfigJson(const MetricConfig& metric);

// The name the metric's values are keyed by: the config's "name" member when
// it is a non-empty string (as Keras/TFMA allow), else
// MetricOutputName(class_name).
Result<std::string> MetricConfigOutputName(const MetricConfig& metric);

// The baseline ModelSpec, or nullptr when none is marked is_baseline. The
// pointer refers into `config`.
const ModelSpec* BaselineModelSpec(const EvalConfig& config);

// `config` in protobuf text format (what the writers store as
// eval_config.pbtxt); parses back to an equal config.
std::string EvalConfigToText(const EvalConfig& config);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_CONFIG_H_
