// Model-diff metrics (is_diff() = true): a model's predictions against the
// first model's (BatchView.reference_predictions, same shape). No labels.
//
//   flip_rate       weighted fraction of rows whose top-1 class differs
//                   (argmax; p > 0.5 for num_outputs 1, logit > 0 with
//                   from_logits); top1_agreement = 1 - flip_rate.
//   max_abs_prediction_diff   max |a - b| over every prediction value of the
//                   rows with weight > 0 (0 with no such row).
//   mean_abs_prediction_diff  sum_rows w * sum_values |a - b| /
//                   (num_outputs * sum w).
// With from_logits, both models' outputs are turned into probabilities
// (softmax / sigmoid) before the differences are taken.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval::internal {
namespace {

enum class DiffKind { kFlipRate, kMaxAbs, kMeanAbs };

struct DiffKernel {
  struct Config {
    std::string class_name;
    DiffKind kind = DiffKind::kFlipRate;
    bool from_logits = false;
    bool operator==(const Config&) const = default;
  };
  struct State {
    double weight = 0;  // sum w (times num_outputs for kMeanAbs)
    double sum = 0;     // flips, or sum w |a - b|
    double max = 0;
    bool any = false;  // a row with weight > 0 seen (kMaxAbs)
  };
  static constexpr bool kIsDiff = true;
  static std::vector<std::string> Names(const Config& c) {
    switch (c.kind) {
      case DiffKind::kFlipRate:
        return {"flip_rate", "top1_agreement"};
      case DiffKind::kMaxAbs:
        return {"max_abs_prediction_diff"};
      case DiffKind::kMeanAbs:
        return {"mean_abs_prediction_diff"};
    }
    return {};
  }
  static Status Check(const Config& c, const State&, const BatchView& b) {
    return CheckReference(c.class_name, b);
  }
  static void Add(const Config& c, const BatchView& b, State& s, Scratch& scratch) {
    const int width = b.num_outputs;
    const float* pa = b.predictions;
    const float* pb = b.reference_predictions;
    if (c.kind == DiffKind::kFlipRate) {
      double weight = 0, flips = 0;
      ForEachRow(b, [&](int64_t r, float w) {
        weight += w;
        if (PredictedClass(pa + r * width, width, c.from_logits) !=
            PredictedClass(pb + r * width, width, c.from_logits)) {
          flips += w;
        }
      });
      s.weight += weight;
      s.sum += flips;
      return;
    }
    float* buf = scratch.Floats(2 * static_cast<size_t>(width));
    double weight = 0, sum = 0, max = s.max;
    bool any = s.any;
    ForEachRow(b, [&](int64_t r, float w) {
      const float* a = RowProbabilities(pa + r * width, width, c.from_logits, buf);
      const float* e = RowProbabilities(pb + r * width, width, c.from_logits, buf + width);
      float row_sum = 0, row_max = 0;
      for (int i = 0; i < width; ++i) {
        const float d = std::fabs(a[i] - e[i]);
        row_sum += d;
        row_max = std::max(row_max, d);
      }
      weight += w;
      sum += static_cast<double>(w) * row_sum;
      if (w > 0) {
        max = std::max(max, static_cast<double>(row_max));
        any = true;
      }
    });
    s.weight += weight * width;
    s.sum += sum;
    s.max = max;
    s.any = any;
  }
  static Status Merge(const Config&, const State& from, State& into) {
    into.weight += from.weight;
    into.sum += from.sum;
    into.max = std::max(into.max, from.max);
    into.any = into.any || from.any;
    return Status::Ok();
  }
  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots*) {
    switch (c.kind) {
      case DiffKind::kFlipRate: {
        const double flip = Ratio(s.sum, s.weight);
        SetMetric(m, "flip_rate", model, "", flip);
        SetMetric(m, "top1_agreement", model, "", 1.0 - flip);
        break;
      }
      case DiffKind::kMaxAbs:
        SetMetric(m, "max_abs_prediction_diff", model, "", s.max);
        break;
      case DiffKind::kMeanAbs:
        SetMetric(m, "mean_abs_prediction_diff", model, "", Ratio(s.sum, s.weight));
        break;
    }
  }
};

}  // namespace

Result<std::unique_ptr<Metric>> MakeDiffMetric(std::string_view class_name, ConfigReader& reader) {
  DiffKernel::Config c;
  c.class_name = std::string(class_name);
  c.kind = class_name == "FlipRate"               ? DiffKind::kFlipRate
           : class_name == "MaxAbsPredictionDiff" ? DiffKind::kMaxAbs
                                                  : DiffKind::kMeanAbs;
  ASSIGN_OR_RETURN(c.from_logits, reader.Bool("from_logits", false));
  RETURN_IF_ERROR(reader.Done());
  return MakeKernelMetric<DiffKernel>(std::move(c));
}

}  // namespace edgepipe::eval::internal
