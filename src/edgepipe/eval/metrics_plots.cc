// Plots: MultiClassConfusionMatrixPlot and CalibrationPlot.
//
// MultiClassConfusionMatrixPlot: weighted counts, row = true class, column =
//   predicted class (argmax; ties to the lower index). num_outputs 1 is a
//   binary problem with 2 classes (predicted 1 when p > 0.5, logit > 0 with
//   from_logits; labels 0 / 1). Labels: class ids or one-hot rows.
// CalibrationPlot (a reliability diagram): num_buckets (default 10)
//   equal-width buckets of the predicted probability on [0, 1]; values
//   outside are clamped into the first / last bucket. Binary (num_outputs 1):
//   the probability is p (sigmoid first when from_logits), the label its
//   value in [0, 1]. Multi-class: the probability is the top-1 class's
//   (softmax first when from_logits), the label 1 when that class is the
//   true class, else 0. Every bucket is written, empty ones with weight 0.
// Nothing is written before the first batch.
#include <algorithm>
#include <string>
#include <vector>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval::internal {
namespace {

Status CheckSameWidth(std::string_view metric, int seen, int width) {
  if (seen == 0 || seen == width) return Status::Ok();
  return BatchError(metric, "num_outputs " + std::to_string(width) +
                                " differs from earlier batches' " + std::to_string(seen));
}

Status MergeWidth(std::string_view metric, int from, int into) {
  if (from == into) return Status::Ok();
  return Status::InvalidArgument(std::string(metric) +
                                 ": cannot merge accumulators of num_outputs " +
                                 std::to_string(from) + " and " + std::to_string(into));
}

struct ConfusionKernel {
  struct Config {
    std::string class_name;
    bool from_logits = false;
    bool operator==(const Config&) const = default;
  };
  struct State {
    int width = 0;
    int classes = 0;
    std::vector<double> counts;  // classes x classes
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config&) { return {}; }
  static Status Check(const Config& c, const State& s, const BatchView& b) {
    RETURN_IF_ERROR(CheckSameWidth(c.class_name, s.width, b.num_outputs));
    if (b.num_outputs == 1) return CheckBinaryLabels(c.class_name, b);
    return CheckClassOrOneHotLabels(c.class_name, b, b.num_outputs);
  }
  static void Add(const Config& c, const BatchView& b, State& s, Scratch&) {
    const int width = b.num_outputs;
    if (s.width == 0) {
      s.width = width;
      s.classes = std::max(width, 2);
      s.counts.assign(static_cast<size_t>(s.classes) * s.classes, 0.0);
    }
    const int n = s.classes;
    ForEachRow(b, [&](int64_t r, float w) {
      const int predicted = PredictedClass(b.predictions + r * width, width, c.from_logits);
      s.counts[static_cast<size_t>(LabelClass(b, r)) * n + predicted] += w;
    });
  }
  static Status Merge(const Config& c, const State& from, State& into) {
    if (from.width == 0) return Status::Ok();
    if (into.width == 0) {
      into = from;
      return Status::Ok();
    }
    RETURN_IF_ERROR(MergeWidth(c.class_name, from.width, into.width));
    for (size_t i = 0; i < from.counts.size(); ++i) into.counts[i] += from.counts[i];
    return Status::Ok();
  }
  static void Finish(const Config&, const State& s, const std::string&, MetricMap*, Plots* plots) {
    if (s.width == 0) return;
    plots->multi_class_confusion = ConfusionMatrix{s.classes, s.counts};
  }
};

struct CalibrationPlotKernel {
  struct Config {
    std::string class_name;
    bool from_logits = false;
    int num_buckets = 10;
    bool operator==(const Config&) const = default;
  };
  struct State {
    int width = 0;
    std::vector<double> weight, label, prediction;  // by bucket
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config&) { return {}; }
  static Status Check(const Config& c, const State& s, const BatchView& b) {
    RETURN_IF_ERROR(CheckSameWidth(c.class_name, s.width, b.num_outputs));
    if (b.num_outputs == 1) return CheckUnitLabels(c.class_name, b, 1);
    return CheckClassOrOneHotLabels(c.class_name, b, b.num_outputs);
  }
  static void Add(const Config& c, const BatchView& b, State& s, Scratch& scratch) {
    const int width = b.num_outputs;
    const int n = c.num_buckets;
    if (s.width == 0) {
      s.width = width;
      s.weight.assign(n, 0.0);
      s.label.assign(n, 0.0);
      s.prediction.assign(n, 0.0);
    }
    const float scale = static_cast<float>(n);
    auto add = [&](float p, float label, float w) {
      const float f = p * scale;
      const int i = !(f >= 0) ? 0 : (f >= scale ? n - 1 : std::min(static_cast<int>(f), n - 1));
      s.weight[i] += w;
      s.label[i] += static_cast<double>(w) * label;
      s.prediction[i] += static_cast<double>(w) * p;
    };
    if (width == 1) {
      ForEachRow(b, [&](int64_t r, float w) {
        add(c.from_logits ? Sigmoid(b.predictions[r]) : b.predictions[r], b.labels[r], w);
      });
      return;
    }
    float* buf = scratch.Floats(width);
    ForEachRow(b, [&](int64_t r, float w) {
      const float* x = b.predictions + r * width;
      const int top = ArgMax(x, width);
      const float p = c.from_logits ? RowProbabilities(x, width, true, buf)[top] : x[top];
      add(p, top == LabelClass(b, r) ? 1.0f : 0.0f, w);
    });
  }
  static Status Merge(const Config& c, const State& from, State& into) {
    if (from.width == 0) return Status::Ok();
    if (into.width == 0) {
      into = from;
      return Status::Ok();
    }
    RETURN_IF_ERROR(MergeWidth(c.class_name, from.width, into.width));
    for (size_t i = 0; i < from.weight.size(); ++i) {
      into.weight[i] += from.weight[i];
      into.label[i] += from.label[i];
      into.prediction[i] += from.prediction[i];
    }
    return Status::Ok();
  }
  static void Finish(const Config& c, const State& s, const std::string&, MetricMap*,
                     Plots* plots) {
    if (s.width == 0) return;
    plots->calibration.clear();
    for (int i = 0; i < c.num_buckets; ++i) {
      CalibrationBucket bucket;
      bucket.lower = static_cast<double>(i) / c.num_buckets;
      bucket.upper = static_cast<double>(i + 1) / c.num_buckets;
      bucket.weight = s.weight[i];
      bucket.sum_label = s.label[i];
      bucket.sum_prediction = s.prediction[i];
      plots->calibration.push_back(bucket);
    }
  }
};

}  // namespace

Result<std::unique_ptr<Metric>> MakePlotMetric(std::string_view class_name, ConfigReader& reader) {
  ASSIGN_OR_RETURN(bool from_logits, reader.Bool("from_logits", false));
  if (class_name == "MultiClassConfusionMatrixPlot") {
    RETURN_IF_ERROR(reader.Done());
    return MakeKernelMetric<ConfusionKernel>({std::string(class_name), from_logits});
  }
  ASSIGN_OR_RETURN(int64_t buckets, reader.Int("num_buckets", 10, 1, 100000));
  RETURN_IF_ERROR(reader.Done());
  return MakeKernelMetric<CalibrationPlotKernel>(
      {std::string(class_name), from_logits, static_cast<int>(buckets)});
}

}  // namespace edgepipe::eval::internal
