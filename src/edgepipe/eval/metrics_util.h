// Building blocks shared by the metric implementations (metrics_*.cc); not
// part of the public API (use metrics.h).
//
// A metric is a "kernel" K, a struct of static functions over a Config (the
// parsed JSON, immutable, shared by the Metric and its accumulators) and a
// State (the sums), wrapped by KernelMetric<K> / KernelAccumulator<K>. A
// batch is first checked completely (K::Check), then added (K::Add, which
// cannot fail), so an accumulator is unchanged on error. K::Add loops over
// the rows itself: no virtual call and no allocation per row.
//
// Kernel contract:
//   struct K {
//     struct Config { std::string class_name; ...; bool operator==(...) = default; };
//     struct State { ... };                     // default = empty accumulator
//     static constexpr bool kIsDiff = false;
//     static std::vector<std::string> Names(const Config&);
//     static Status Check(const Config&, const State&, const BatchView&);
//     static void Add(const Config&, const BatchView&, State&, Scratch&);
//     static Status Merge(const Config&, const State& from, State& into);
//     static void Finish(const Config&, const State&, const std::string& model,
//                        MetricMap*, Plots*);
//   };
// Thread safety: as metric.h.
#ifndef EDGEPIPE_EVAL_METRICS_UTIL_H_
#define EDGEPIPE_EVAL_METRICS_UTIL_H_

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/eval/metric.h"

namespace edgepipe::eval::internal {

using Json = nlohmann::json;

// ---- configuration ---------------------------------------------------------

// Typed, non-throwing reads of a metric's JSON config; errors name the metric
// class and the key. The reader remembers which keys were read; Done() fails
// on any other key.
class ConfigReader {
 public:
  // `config` must outlive the reader; null reads as {}.
  ConfigReader(std::string_view class_name, const Json& config);
  Result<bool> Bool(std::string_view key, bool fallback);
  // An integer in [min, max].
  Result<int64_t> Int(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  Result<std::optional<int64_t>> OptionalInt(std::string_view key, int64_t min, int64_t max);
  // One of `allowed`.
  Result<std::string> Enum(std::string_view key, std::string fallback,
                           std::initializer_list<std::string_view> allowed);
  // A finite number or a non-empty list of them, each in [min, max]; empty
  // when absent.
  Result<std::vector<double>> Numbers(std::string_view key, double min, double max);
  // Fails when the config is not an object, or has a key nobody read.
  Status Done() const;

 private:
  const Json* Find(std::string_view key);
  Status Error(std::string_view key, std::string_view rule) const;

  std::string class_name_;
  const Json* config_;
  std::vector<std::string> read_;
};

// ---- batch checks (all errors name the metric, the row and the value) -----

// "row 3" or "row 3 (example 1027)".
std::string RowName(const BatchView& b, int64_t row);

// Shape and rows: size >= 0, num_outputs >= 1, arrays present, every entry
// of rows in [0, size), weights finite and >= 0.
Status CheckBatch(std::string_view metric, const BatchView& b);
// label_width == 1 and each used label an integer in [0, num_classes).
Status CheckClassLabels(std::string_view metric, const BatchView& b, int num_classes);
// label_width == 1 and each used label 0 or 1.
Status CheckBinaryLabels(std::string_view metric, const BatchView& b);
// label_width == `width` and each used label value in [0, 1].
Status CheckUnitLabels(std::string_view metric, const BatchView& b, int width);
// label_width == 1 and each used label finite.
Status CheckFiniteLabels(std::string_view metric, const BatchView& b);
// Class labels: class ids (label_width 1) or one-hot rows (label_width ==
// num_outputs, values in [0, 1]; the class is the argmax). `num_classes` is
// the number of classes the metric sees (num_outputs, or 2 for width 1).
Status CheckClassOrOneHotLabels(std::string_view metric, const BatchView& b, int num_classes);
// reference_predictions present.
Status CheckReference(std::string_view metric, const BatchView& b);
// An error "<metric>: <what>" (InvalidArgument).
Status BatchError(std::string_view metric, std::string_view what);

// ---- per-row helpers (inline: called per row) ------------------------------

// Calls f(row, weight) for each row of the slice.
template <typename F>
inline void ForEachRow(const BatchView& b, F&& f) {
  if (b.rows.empty()) {
    for (int64_t r = 0; r < b.size; ++r) f(r, b.weights != nullptr ? b.weights[r] : 1.0f);
  } else {
    for (int32_t r : b.rows) f(int64_t{r}, b.weights != nullptr ? b.weights[r] : 1.0f);
  }
}

// Index of the first largest value (NaN never wins).
inline int ArgMax(const float* v, int width) {
  int best = 0;
  for (int i = 1; i < width; ++i) {
    if (v[i] > v[best] || std::isnan(v[best])) best = i;
  }
  return best;
}

inline float Sigmoid(float x) {
  // Both branches avoid exp overflow.
  if (x >= 0) return 1.0f / (1.0f + std::exp(-x));
  const float e = std::exp(x);
  return e / (1.0f + e);
}

// out[i] = exp(x[i] - max) / sum; out may not alias x.
void Softmax(const float* x, int width, float* out);

// The row's probabilities: `row` itself, or its softmax (width > 1) /
// sigmoid (width 1) in `scratch` (>= width floats) when from_logits.
inline const float* RowProbabilities(const float* row, int width, bool from_logits,
                                     float* scratch) {
  if (!from_logits) return row;
  if (width == 1) {
    scratch[0] = Sigmoid(row[0]);
  } else {
    Softmax(row, width, scratch);
  }
  return scratch;
}

// The predicted class: argmax for width > 1, (p > 0.5) for width 1 (p the
// probability; a logit > 0 when from_logits).
inline int PredictedClass(const float* row, int width, bool from_logits) {
  if (width > 1) return ArgMax(row, width);
  return from_logits ? (row[0] > 0.0f ? 1 : 0) : (row[0] > 0.5f ? 1 : 0);
}

// The true class of `row`: labels[row] (label_width 1) or the argmax of the
// one-hot label row. Requires a checked batch.
inline int LabelClass(const BatchView& b, int64_t row) {
  if (b.label_width == 1) return static_cast<int>(b.labels[row]);
  return ArgMax(b.labels + row * b.label_width, b.label_width);
}

// "0.5" style text of a threshold for sub keys ("threshold:0.5").
std::string FormatNumber(double v);

// a / b, NaN when b == 0.
inline double Ratio(double a, double b) { return b != 0 ? a / b : std::nan(""); }

// Writes metrics[{name, model, sub_key}] = value.
void SetMetric(MetricMap* metrics, std::string name, const std::string& model, std::string sub_key,
               double value);

// ---- kernels to Metric -----------------------------------------------------

// Per-accumulator buffers reused across batches (no per-row allocation).
struct Scratch {
  std::vector<float> floats;
  std::vector<int> ints;
  float* Floats(size_t n) {
    if (floats.size() < n) floats.resize(n);
    return floats.data();
  }
  int* Ints(size_t n) {
    if (ints.size() < n) ints.resize(n);
    return ints.data();
  }
};

template <typename K>
class KernelAccumulator final : public MetricAccumulator {
 public:
  explicit KernelAccumulator(std::shared_ptr<const typename K::Config> config)
      : config_(std::move(config)) {}

  Status Add(const BatchView& batch) override {
    RETURN_IF_ERROR(CheckBatch(config_->class_name, batch));
    RETURN_IF_ERROR(K::Check(*config_, state_, batch));
    K::Add(*config_, batch, state_, scratch_);
    return Status::Ok();
  }

  Status Merge(const MetricAccumulator& other) override {
    const auto* o = dynamic_cast<const KernelAccumulator*>(&other);
    if (o == nullptr || (o->config_ != config_ && !(*o->config_ == *config_))) {
      return Status::InvalidArgument(config_->class_name +
                                     ": cannot merge an accumulator of a different metric");
    }
    return K::Merge(*config_, o->state_, state_);
  }

  void Finish(const std::string& model_name, MetricMap* metrics, Plots* plots) const override {
    K::Finish(*config_, state_, model_name, metrics, plots);
  }

 private:
  std::shared_ptr<const typename K::Config> config_;
  typename K::State state_;
  Scratch scratch_;
};

template <typename K>
class KernelMetric final : public Metric {
 public:
  explicit KernelMetric(typename K::Config config)
      : config_(std::make_shared<const typename K::Config>(std::move(config))) {}
  std::string_view class_name() const override { return config_->class_name; }
  std::vector<std::string> metric_names() const override { return K::Names(*config_); }
  bool is_diff() const override { return K::kIsDiff; }
  std::unique_ptr<MetricAccumulator> NewAccumulator() const override {
    return std::make_unique<KernelAccumulator<K>>(config_);
  }

 private:
  std::shared_ptr<const typename K::Config> config_;
};

template <typename K>
std::unique_ptr<Metric> MakeKernelMetric(typename K::Config config) {
  return std::make_unique<KernelMetric<K>>(std::move(config));
}

// ---- factories, one per metric family (metrics_*.cc) -----------------------
// Each reads its keys from the reader, calls reader.Done(), and returns the
// metric named `class_name` (already known to belong to the family).

using Factory = Result<std::unique_ptr<Metric>> (*)(std::string_view class_name,
                                                    ConfigReader& reader);
// metrics_basic.cc: ExampleCount, WeightedExampleCount, MeanLabel,
// MeanPrediction, Calibration.
Result<std::unique_ptr<Metric>> MakeBasicMetric(std::string_view class_name, ConfigReader& reader);
// metrics_accuracy.cc: SparseCategoricalAccuracy, Accuracy and the three
// crossentropies.
Result<std::unique_ptr<Metric>> MakeAccuracyOrLossMetric(std::string_view class_name,
                                                         ConfigReader& reader);
// metrics_threshold.cc: Precision, Recall, F1Score / F1,
// ConfusionMatrixAtThresholds.
Result<std::unique_ptr<Metric>> MakeThresholdMetric(std::string_view class_name,
                                                    ConfigReader& reader);
// metrics_auc.cc: AUC, AUCPrecisionRecall.
Result<std::unique_ptr<Metric>> MakeAucMetric(std::string_view class_name, ConfigReader& reader);
// metrics_plots.cc: MultiClassConfusionMatrixPlot, CalibrationPlot.
Result<std::unique_ptr<Metric>> MakePlotMetric(std::string_view class_name, ConfigReader& reader);
// metrics_diff.cc: FlipRate, MaxAbsPredictionDiff, MeanAbsPredictionDiff.
Result<std::unique_ptr<Metric>> MakeDiffMetric(std::string_view class_name, ConfigReader& reader);

}  // namespace edgepipe::eval::internal

#endif  // EDGEPIPE_EVAL_METRICS_UTIL_H_
