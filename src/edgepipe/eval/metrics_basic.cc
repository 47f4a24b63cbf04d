// Counts and means: ExampleCount, WeightedExampleCount, MeanLabel,
// MeanPrediction, Calibration.
//
//   example_count          rows in the slice (unweighted, as TFMA)
//   weighted_example_count sum of the rows' weights
//   mean_label             sum w*label / sum w       (label_width 1, finite labels)
//   mean_prediction        sum w*pred / sum w        (num_outputs 1; sigmoid first
//                                                     when from_logits)
//   calibration            sum w*pred / sum w*label  (NaN when sum w*label == 0)
// Means over no weight are NaN.
#include <string>
#include <vector>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval::internal {
namespace {

struct CountKernel {
  struct Config {
    std::string class_name;
    bool weighted = false;
    bool operator==(const Config&) const = default;
  };
  struct State {
    double count = 0;
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config& c) {
    return {c.weighted ? "weighted_example_count" : "example_count"};
  }
  static Status Check(const Config&, const State&, const BatchView&) { return Status::Ok(); }
  static void Add(const Config& c, const BatchView& b, State& s, Scratch&) {
    if (!c.weighted) {
      s.count += static_cast<double>(b.rows.empty() ? b.size : static_cast<int64_t>(b.rows.size()));
      return;
    }
    double sum = 0;
    ForEachRow(b, [&](int64_t, float w) { sum += w; });
    s.count += sum;
  }
  static Status Merge(const Config&, const State& from, State& into) {
    into.count += from.count;
    return Status::Ok();
  }
  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots*) {
    SetMetric(m, Names(c)[0], model, "", s.count);
  }
};

enum class MeanKind { kLabel, kPrediction, kCalibration };

struct MeanKernel {
  struct Config {
    std::string class_name;
    MeanKind kind = MeanKind::kLabel;
    bool from_logits = false;
    bool operator==(const Config&) const = default;
  };
  struct State {
    double weight = 0, label = 0, prediction = 0;  // weighted sums
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config& c) {
    switch (c.kind) {
      case MeanKind::kLabel:
        return {"mean_label"};
      case MeanKind::kPrediction:
        return {"mean_prediction"};
      case MeanKind::kCalibration:
        return {"calibration"};
    }
    return {};
  }
  static Status Check(const Config& c, const State&, const BatchView& b) {
    if (c.kind != MeanKind::kLabel && b.num_outputs != 1) {
      return BatchError(c.class_name,
                        "needs one prediction per row (binary or regression), got "
                        "num_outputs " +
                            std::to_string(b.num_outputs));
    }
    if (c.kind == MeanKind::kPrediction) return Status::Ok();
    return CheckFiniteLabels(c.class_name, b);
  }
  static void Add(const Config& c, const BatchView& b, State& s, Scratch&) {
    double weight = 0, label = 0, prediction = 0;
    const bool use_labels = c.kind != MeanKind::kPrediction;
    const bool use_predictions = c.kind != MeanKind::kLabel;
    ForEachRow(b, [&](int64_t r, float w) {
      weight += w;
      if (use_labels) label += static_cast<double>(w) * b.labels[r];
      if (use_predictions) {
        const float p = c.from_logits ? Sigmoid(b.predictions[r]) : b.predictions[r];
        prediction += static_cast<double>(w) * p;
      }
    });
    s.weight += weight;
    s.label += label;
    s.prediction += prediction;
  }
  static Status Merge(const Config&, const State& from, State& into) {
    into.weight += from.weight;
    into.label += from.label;
    into.prediction += from.prediction;
    return Status::Ok();
  }
  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots*) {
    double v = 0;
    switch (c.kind) {
      case MeanKind::kLabel:
        v = Ratio(s.label, s.weight);
        break;
      case MeanKind::kPrediction:
        v = Ratio(s.prediction, s.weight);
        break;
      case MeanKind::kCalibration:
        v = Ratio(s.prediction, s.label);
        break;
    }
    SetMetric(m, Names(c)[0], model, "", v);
  }
};

}  // namespace

Result<std::unique_ptr<Metric>> MakeBasicMetric(std::string_view class_name, ConfigReader& reader) {
  if (class_name == "ExampleCount" || class_name == "WeightedExampleCount") {
    RETURN_IF_ERROR(reader.Done());
    return MakeKernelMetric<CountKernel>(
        {std::string(class_name), class_name == "WeightedExampleCount"});
  }
  MeanKernel::Config c;
  c.class_name = std::string(class_name);
  if (class_name == "MeanLabel") {
    c.kind = MeanKind::kLabel;
  } else {
    c.kind = class_name == "MeanPrediction" ? MeanKind::kPrediction : MeanKind::kCalibration;
    ASSIGN_OR_RETURN(c.from_logits, reader.Bool("from_logits", false));
  }
  RETURN_IF_ERROR(reader.Done());
  return MakeKernelMetric<MeanKernel>(std::move(c));
}

}  // namespace edgepipe::eval::internal
