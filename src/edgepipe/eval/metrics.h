// The Evaluator's metrics: MakeMetric turns a MetricConfig (class_name + JSON
// config, TFMA's names) into a Metric whose accumulators implement metric.h.
//
// Supported classes, with the MetricKey.name values they write:
//   ExampleCount (example_count, unweighted rows), WeightedExampleCount
//   (weighted_example_count), SparseCategoricalAccuracy
//   (sparse_categorical_accuracy), Accuracy (accuracy),
//   SparseCategoricalCrossentropy / CategoricalCrossentropy /
//   BinaryCrossentropy (their snake_case names; weighted mean loss),
//   Precision / Recall / F1Score (alias F1) (precision, recall, f1_score),
//   AUC (auc), AUCPrecisionRecall (auc_precision_recall), MeanLabel
//   (mean_label), MeanPrediction (mean_prediction), Calibration (calibration),
//   MultiClassConfusionMatrixPlot (Plots.multi_class_confusion),
//   ConfusionMatrixAtThresholds (Plots.confusion_at_thresholds),
//   CalibrationPlot (Plots.calibration), and the model-diff metrics
//   (is_diff() = true) FlipRate (flip_rate, top1_agreement),
//   MaxAbsPredictionDiff (max_abs_prediction_diff), MeanAbsPredictionDiff
//   (mean_abs_prediction_diff).
//
// Config keys (anything else is an error naming the key and the metric):
//   from_logits (bool, default false): predictions are logits; softmax for
//     width > 1, sigmoid for width 1. Accepted by every metric that reads
//     predictions (ExampleCount, WeightedExampleCount and MeanLabel take none).
//   Precision / Recall / F1Score: thresholds (number or list; binary default
//     0.5; multi-class default none), top_k (default 1), average ("micro" |
//     "macro", default micro), class_id (one-vs-rest for that class).
//   AUC / AUCPrecisionRecall: num_thresholds (default 10000), class_id.
//   ConfusionMatrixAtThresholds: thresholds (default 0, 0.01, ..., 1), class_id.
//   CalibrationPlot: num_buckets (default 10).
//   "name" is accepted and ignored (Keras configs carry it).
// The semantics of each metric (labels it accepts, widths, ties, undefined
// values) are documented at the top of its implementation file:
// metrics_basic.cc, metrics_accuracy.cc, metrics_threshold.cc,
// metrics_auc.cc, metrics_plots.cc, metrics_diff.cc. Finish() needs non-null
// `metrics` and `plots`.
//
// Thread safety: MakeMetric is thread-safe; a Metric is immutable after
// creation and may be shared between threads; see metric.h for accumulators.
// Accumulators keep their own copy of the configuration, so they may outlive
// the Metric that made them.
#ifndef EDGEPIPE_EVAL_METRICS_H_
#define EDGEPIPE_EVAL_METRICS_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/eval/metric.h"

namespace edgepipe::eval {

// The metric `class_name` configured by `config` (a JSON object, or null for
// the defaults). InvalidArgument for an unknown class name (the message lists
// the known ones), an unknown config key, or a bad config value.
Result<std::unique_ptr<Metric>> MakeMetric(std::string_view class_name,
                                           const nlohmann::json& config);

// Parses MetricConfig.config text: a JSON object ("{...}"), the members of
// one without braces ('"from_logits": true', TFMA's habit), or empty (= {}).
// InvalidArgument naming `class_name` and the parse error otherwise.
Result<nlohmann::json> ParseMetricConfig(std::string_view class_name, std::string_view text);

// Every class name MakeMetric accepts (aliases included), sorted.
std::vector<std::string_view> MetricClassNames();

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_METRICS_H_
