// Areas under curves of a binary score: AUC (ROC) and AUCPrecisionRecall.
//
// The score is the prediction for num_outputs 1 (sigmoid first when
// from_logits; labels 0 / 1), or, with class_id, the probability of that
// class (softmax first when from_logits; the label is positive when the row's
// class is class_id). Scores are bucketed, as TFMA does, into num_thresholds
// (default 10000) equal-width buckets on [0, 1] (scores outside are clamped
// into the first / last bucket), which keeps accumulators small and mergeable.
//   auc: the ROC area by the trapezoid rule over the bucket edges, i.e. the
//     probability that a random positive scores above a random negative, with
//     pairs in the same bucket counted as ties (half). Exact for scores that
//     differ by more than 1 / num_thresholds.
//   auc_precision_recall: the PR area over the same edges with the
//     interpolation of Davis & Goadrich (2006), as Keras' AUC(curve="PR")
//     computes it.
// NaN without both a positive and a negative (ROC) or without positives (PR).
// All counts are weighted. Memory: 16 bytes per bucket per accumulator
// (160 KB at the default), allocated at the first batch.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval::internal {
namespace {

struct AucKernel {
  struct Config {
    std::string class_name;
    bool pr = false;
    bool from_logits = false;
    int num_thresholds = 10000;
    std::optional<int> class_id;
    bool operator==(const Config&) const = default;
  };
  struct State {
    int width = 0;
    std::vector<double> pos, neg;  // weight of positive / negative rows by bucket
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config& c) {
    return {c.pr ? "auc_precision_recall" : "auc"};
  }

  static Status Check(const Config& c, const State& s, const BatchView& b) {
    const int w = b.num_outputs;
    if (s.width != 0 && s.width != w) {
      return BatchError(c.class_name, "num_outputs " + std::to_string(w) +
                                          " differs from earlier batches' " +
                                          std::to_string(s.width));
    }
    if (w == 1) {
      if (c.class_id) {
        return BatchError(c.class_name,
                          "class_id needs multi-class predictions, got num_outputs 1");
      }
      return CheckBinaryLabels(c.class_name, b);
    }
    if (!c.class_id) {
      return BatchError(c.class_name,
                        "is binary: needs num_outputs 1 or a class_id, got "
                        "num_outputs " +
                            std::to_string(w));
    }
    if (*c.class_id >= w) {
      return BatchError(c.class_name, "class_id " + std::to_string(*c.class_id) +
                                          " is not below num_outputs " + std::to_string(w));
    }
    return CheckClassOrOneHotLabels(c.class_name, b, w);
  }

  static void Add(const Config& c, const BatchView& b, State& s, Scratch&) {
    const int width = b.num_outputs;
    const int n = c.num_thresholds;
    if (s.width == 0) {
      s.width = width;
      s.pos.assign(n, 0.0);
      s.neg.assign(n, 0.0);
    }
    const float scale = static_cast<float>(n);
    auto bucket = [&](float p) {
      const float f = p * scale;
      if (!(f >= 0)) return 0;  // negative or NaN
      return f >= scale ? n - 1 : std::min(static_cast<int>(f), n - 1);
    };
    if (width == 1) {
      ForEachRow(b, [&](int64_t r, float w) {
        const float p = c.from_logits ? Sigmoid(b.predictions[r]) : b.predictions[r];
        (b.labels[r] == 1 ? s.pos : s.neg)[bucket(p)] += w;
      });
      return;
    }
    const int cid = *c.class_id;
    ForEachRow(b, [&](int64_t r, float w) {
      const float* x = b.predictions + r * width;
      float p = x[cid];
      if (c.from_logits) {
        float m = x[0];
        for (int j = 1; j < width; ++j) m = std::max(m, x[j]);
        float sum = 0;
        for (int j = 0; j < width; ++j) sum += std::exp(x[j] - m);
        p = std::exp(x[cid] - m) / sum;
      }
      (LabelClass(b, r) == cid ? s.pos : s.neg)[bucket(p)] += w;
    });
  }

  static Status Merge(const Config& c, const State& from, State& into) {
    if (from.width == 0) return Status::Ok();
    if (into.width == 0) {
      into = from;
      return Status::Ok();
    }
    if (from.width != into.width) {
      return Status::InvalidArgument(c.class_name + ": cannot merge accumulators of num_outputs " +
                                     std::to_string(from.width) + " and " +
                                     std::to_string(into.width));
    }
    for (size_t i = 0; i < from.pos.size(); ++i) {
      into.pos[i] += from.pos[i];
      into.neg[i] += from.neg[i];
    }
    return Status::Ok();
  }

  static double RocArea(const State& s) {
    double total_pos = 0, total_neg = 0, area = 0, pos_above = 0;
    for (size_t i = s.pos.size(); i-- > 0;) {
      // Negatives in bucket i rank below every positive above it and tie
      // with the positives in it.
      area += s.neg[i] * (pos_above + 0.5 * s.pos[i]);
      pos_above += s.pos[i];
      total_pos += s.pos[i];
      total_neg += s.neg[i];
    }
    if (total_pos == 0 || total_neg == 0) return std::nan("");
    return area / (total_pos * total_neg);
  }

  static double PrArea(const State& s) {
    const size_t n = s.pos.size();
    double total_pos = 0;
    for (double p : s.pos) total_pos += p;
    if (total_pos == 0) return std::nan("");
    // Edge j (0..n): predicted positive = buckets >= j. Walk j from n down,
    // so (tp_hi, p_hi) is edge j + 1 and (tp_lo, p_lo) edge j.
    double area = 0, tp_hi = 0, p_hi = 0;
    for (size_t j = n; j-- > 0;) {
      const double tp_lo = tp_hi + s.pos[j];
      const double p_lo = p_hi + s.pos[j] + s.neg[j];
      const double dtp = tp_lo - tp_hi;
      const double dp = p_lo - p_hi;
      if (dtp > 0 && dp > 0) {
        // Precision interpolated along the segment: tp = slope * p + intercept.
        const double slope = dtp / dp;
        const double intercept = tp_hi - slope * p_hi;
        const double log_ratio = (p_lo > 0 && p_hi > 0) ? std::log(p_lo / p_hi) : 0.0;
        area += slope * (dtp + intercept * log_ratio) / total_pos;
      }
      tp_hi = tp_lo;
      p_hi = p_lo;
    }
    return area;
  }

  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots*) {
    const std::string sub = c.class_id ? "class:" + std::to_string(*c.class_id) : "";
    const double v = s.width == 0 ? std::nan("") : (c.pr ? PrArea(s) : RocArea(s));
    SetMetric(m, Names(c)[0], model, sub, v);
  }
};

}  // namespace

Result<std::unique_ptr<Metric>> MakeAucMetric(std::string_view class_name, ConfigReader& reader) {
  AucKernel::Config c;
  c.class_name = std::string(class_name);
  c.pr = class_name == "AUCPrecisionRecall";
  ASSIGN_OR_RETURN(c.from_logits, reader.Bool("from_logits", false));
  ASSIGN_OR_RETURN(int64_t n, reader.Int("num_thresholds", 10000, 1, 10000000));
  c.num_thresholds = static_cast<int>(n);
  ASSIGN_OR_RETURN(std::optional<int64_t> class_id, reader.OptionalInt("class_id", 0, 1 << 24));
  if (class_id) c.class_id = static_cast<int>(*class_id);
  RETURN_IF_ERROR(reader.Done());
  return MakeKernelMetric<AucKernel>(std::move(c));
}

}  // namespace edgepipe::eval::internal
