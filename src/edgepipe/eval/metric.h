// Metrics as mergeable accumulators, TFMA's combiner model: an accumulator
// takes batches of (label, prediction, weight) rows for one model and one
// slice, accumulators of the same metric merge (per-shard results combine in
// any order to the same result up to float rounding), and Finish() writes the
// metric values and plots. The evaluator keeps one accumulator per (slice,
// model, metric); bootstrap confidence intervals resample through weights.
//
// Thread-compatible: one accumulator is fed by one thread at a time; distinct
// accumulators are independent.
#ifndef EDGEPIPE_EVAL_METRIC_H_
#define EDGEPIPE_EVAL_METRIC_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

// A batch of one model's outputs. Arrays are row-major, owned by the caller,
// valid for the duration of Add().
struct BatchView {
  int64_t size = 0;                    // rows in the arrays
  int num_outputs = 0;                 // prediction width: classes, or 1 (binary / regression)
  const float* predictions = nullptr;  // size * num_outputs, as the model outputs them
  // Labels: size values (a class id, or 0/1 for binary) when label_width == 1,
  // or size * num_outputs one-hot / multi-hot values when label_width ==
  // num_outputs (CategoricalCrossentropy).
  const float* labels = nullptr;
  int label_width = 1;
  const float* weights = nullptr;  // size values; nullptr = weight 1
  // The first model's predictions for the same rows (same shape), for the
  // model-diff metrics; nullptr for the first model itself.
  const float* reference_predictions = nullptr;
  // The rows of this slice; empty = all rows [0, size).
  std::span<const int32_t> rows;
  // Global example index of each of the `size` rows (position in the input),
  // so that bootstrap resampling weights depend on the example, not on how
  // the data was batched or sharded; nullptr = unknown.
  const int64_t* example_ids = nullptr;
};

class MetricAccumulator {
 public:
  virtual ~MetricAccumulator() = default;
  // Adds the batch's rows. Errors (label out of range for num_outputs, a
  // prediction width the metric cannot use) name the metric, the row and the
  // value; the accumulator is unchanged on error.
  virtual Status Add(const BatchView& batch) = 0;
  // Merges `other`, which must come from the same Metric (else an error).
  virtual Status Merge(const MetricAccumulator& other) = 0;
  // Writes this accumulator's values into `metrics` under
  // MetricKey{name, model_name, sub_key} and plots into `plots`.
  virtual void Finish(const std::string& model_name, MetricMap* metrics, Plots* plots) const = 0;
};

// A configured metric (MetricConfig.class_name + config): a factory of
// accumulators.
class Metric {
 public:
  virtual ~Metric() = default;
  virtual std::string_view class_name() const = 0;  // "SparseCategoricalAccuracy"
  // The MetricKey.name values it writes (TFMA's names, e.g.
  // "sparse_categorical_accuracy"); thresholds refer to these.
  virtual std::vector<std::string> metric_names() const = 0;
  // True for the model-diff metrics, which need reference_predictions and are
  // computed for every model but the first.
  virtual bool is_diff() const { return false; }
  virtual std::unique_ptr<MetricAccumulator> NewAccumulator() const = 0;
};

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_METRIC_H_
