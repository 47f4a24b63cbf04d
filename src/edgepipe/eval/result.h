// The Evaluator's results, in memory: the one structure every model type
// produces (native or TFLite), written by eval/writers to metrics.json,
// plots.json, validations.json and rendered by eval/report into report.html.
//
// Plain values; no invariants beyond those stated per field. Thread-compatible.
#ifndef EDGEPIPE_EVAL_RESULT_H_
#define EDGEPIPE_EVAL_RESULT_H_

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edgepipe::eval {

// A slice: (feature, value) pairs in the order of the slicing spec's keys;
// empty = the overall slice. Values are the feature's value as text (int64 as
// decimal, float with %g, bytes as is).
struct SliceKey {
  std::vector<std::pair<std::string, std::string>> features;

  bool overall() const { return features.empty(); }
  // "Overall", "island:Biscoe", "island:Biscoe;sex:male" (TFMA's
  // stringify_slice_key form).
  std::string ToString() const;
  auto operator<=>(const SliceKey&) const = default;
};

// One metric of one model. `sub_key` names a part of a multi-valued metric
// ("class:3", "top_k:2", "threshold:0.5"), empty otherwise. `is_diff` marks the
// change of a metric against the baseline model (value = model - baseline),
// computed when a baseline is given.
struct MetricKey {
  std::string name;        // "sparse_categorical_accuracy", "example_count", ...
  std::string model_name;  // ModelSpec.name ("" when the config has one model)
  std::string sub_key;
  bool is_diff = false;
  auto operator<=>(const MetricKey&) const = default;
};

struct ConfidenceInterval {
  double lower = 0;  // 2.5th percentile of the bootstrap distribution
  double upper = 0;  // 97.5th percentile
  double std_error = 0;
};

struct MetricValue {
  double value = 0;  // NaN when undefined (e.g. precision with no positives)
  std::optional<ConfidenceInterval> ci;
};

using MetricMap = std::map<MetricKey, MetricValue>;

// Weighted counts; row = label class, column = predicted class (top-1).
struct ConfusionMatrix {
  int num_classes = 0;
  std::vector<double> counts;  // num_classes * num_classes, row-major
};

// Binary classification at one decision threshold.
struct ThresholdCounts {
  double threshold = 0;
  double tp = 0, fp = 0, tn = 0, fn = 0;  // weighted
  double precision = 0, recall = 0;       // NaN when undefined
};

// Predictions bucketed by predicted value (binary: P(positive)).
struct CalibrationBucket {
  double lower = 0, upper = 0;  // bucket bounds on the prediction
  double weight = 0;            // weighted examples in the bucket
  double sum_label = 0;         // weighted sum of labels
  double sum_prediction = 0;    // weighted sum of predictions
};

struct Plots {
  std::optional<ConfusionMatrix> multi_class_confusion;  // MultiClassConfusionMatrixPlot
  std::vector<ThresholdCounts> confusion_at_thresholds;  // ConfusionMatrixAtThresholds
  std::vector<CalibrationBucket> calibration;            // CalibrationPlot
  bool empty() const {
    return !multi_class_confusion && confusion_at_thresholds.empty() && calibration.empty();
  }
};

struct SliceResult {
  SliceKey slice;
  double example_count = 0;            // unweighted examples in the slice
  MetricMap metrics;                   // every model's metrics, keyed by model
  std::map<std::string, Plots> plots;  // by model name
};

// One failed threshold.
struct ValidationFailure {
  SliceKey slice;
  MetricKey metric;
  std::string threshold;  // the threshold in text form, e.g. "lower_bound: 0.8"
  double value = 0;       // the metric (or its change) that failed
  std::string message;    // a sentence a person can act on
};

struct ValidationResult {
  bool ok = true;
  std::vector<ValidationFailure> failures;
  // Things the user should know that are not failures, e.g. "change
  // thresholds skipped: no baseline model" (TFMA's rubber stamp), or slices a
  // threshold names that had no examples.
  std::vector<std::string> notes;
  std::vector<SliceKey> missing_slices;
};

struct ModelInfo {
  std::string name;
  std::string model_type;  // "native" or "tf_lite"
  std::string path;        // the model folder or .tflite file read
  int64_t size_bytes = 0;  // on disk: weights (native) or the .tflite file
  double latency_ms = 0;   // mean inference time per batch of `latency_batch` examples
  int64_t latency_batch = 0;
  bool is_baseline = false;
};

struct EvalResult {
  std::vector<ModelInfo> models;    // in config order; diff metrics are against models[0]
  std::vector<SliceResult> slices;  // overall first, then in slicing-spec order
  ValidationResult validation;
  std::string eval_config_text;  // the config used, protobuf text format
  int64_t num_examples = 0;
  double seconds = 0;  // wall time of the whole evaluation
};

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_RESULT_H_
