// Decision-threshold metrics: Precision, Recall, F1Score (alias F1) and the
// ConfusionMatrixAtThresholds plot. Semantics follow Keras / TFMA:
//
// Binary (num_outputs 1): the prediction p (sigmoid first when from_logits)
//   is positive at threshold t when p > t; labels are 0 / 1. Default
//   thresholds: 0.5 (Precision / Recall / F1), 0, 0.01, ..., 1 (the plot).
// One-vs-rest (num_outputs > 1 and class_id): a row is predicted positive
//   when class_id is among its top_k scores (ties: lower index first) and,
//   if thresholds are given, its probability of class_id is > t; the label is
//   positive when the row's class (id, or argmax of a one-hot label) is
//   class_id.
// Multi-class (num_outputs > 1, no class_id): each of a row's top_k classes
//   (with probability > t when thresholds are given) is a positive
//   prediction for that class; TP/FP/FN are counted per class. "micro" sums
//   them over classes (with top_k 1 micro precision == recall == accuracy);
//   "macro" averages the per-class values over the classes where the value
//   is defined (denominator > 0).
// precision = TP / (TP + FP), recall = TP / (TP + FN), f1 = 2TP / (2TP + FP
// + FN); NaN when the denominator is 0. All counts are weighted.
//
// Sub keys: "class:<id>" with class_id, "top_k:<k>" when top_k is configured,
// "threshold:<t>" when several thresholds are; joined by ",". Thresholds
// are reported in ascending order (duplicates dropped).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval::internal {
namespace {

// Appends "<name><value>" to a sub key, "," separated.
void AppendPart(std::string& key, std::string_view name, const std::string& value) {
  if (!key.empty()) key.push_back(',');
  key.append(name);
  key.append(value);
}

enum class Output { kPrecision, kRecall, kF1, kConfusion };

struct ThresholdKernel {
  struct Config {
    std::string class_name;
    Output output = Output::kPrecision;
    bool from_logits = false;
    bool thresholds_set = false;
    std::vector<double> binary_thresholds;  // ascending; width 1
    std::vector<double> multi_thresholds;   // ascending; width > 1 ({-inf}: none)
    int top_k = 1;
    bool top_k_set = false;
    bool macro = false;
    std::optional<int> class_id;
    bool operator==(const Config&) const = default;
  };
  struct State {
    int width = 0;  // num_outputs of the batches so far; 0 = none yet
    // Binary and one-vs-rest: weight of positive / negative rows by bin,
    // bin = number of thresholds below the score (0 .. T).
    std::vector<double> pos, neg;
    // Multi-class: [threshold][class] weighted counts.
    std::vector<double> tp, fp, fn;
  };
  static constexpr bool kIsDiff = false;

  static std::vector<std::string> Names(const Config& c) {
    switch (c.output) {
      case Output::kPrecision:
        return {"precision"};
      case Output::kRecall:
        return {"recall"};
      case Output::kF1:
        return {"f1_score"};
      case Output::kConfusion:
        return {};
    }
    return {};
  }

  static bool Histogram(const Config& c, int width) { return width == 1 || c.class_id; }
  static const std::vector<double>& Thresholds(const Config& c, int width) {
    return width == 1 ? c.binary_thresholds : c.multi_thresholds;
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
      if (c.top_k > 1) {
        return BatchError(c.class_name, "top_k " + std::to_string(c.top_k) +
                                            " needs multi-class predictions, got num_outputs 1");
      }
      return CheckBinaryLabels(c.class_name, b);
    }
    if (c.class_id && *c.class_id >= w) {
      return BatchError(c.class_name, "class_id " + std::to_string(*c.class_id) +
                                          " is not below num_outputs " + std::to_string(w));
    }
    if (c.top_k > w) {
      return BatchError(c.class_name, "top_k " + std::to_string(c.top_k) + " exceeds num_outputs " +
                                          std::to_string(w));
    }
    if (c.output == Output::kConfusion && !c.class_id) {
      return BatchError(c.class_name,
                        "needs binary predictions (num_outputs 1) or a class_id, got "
                        "num_outputs " +
                            std::to_string(w));
    }
    return CheckClassOrOneHotLabels(c.class_name, b, w);
  }

  static void Add(const Config& c, const BatchView& b, State& s, Scratch& scratch) {
    const int width = b.num_outputs;
    const std::vector<double>& t = Thresholds(c, width);
    const size_t nt = t.size();
    if (s.width == 0) {
      s.width = width;
      if (Histogram(c, width)) {
        s.pos.assign(nt + 1, 0.0);
        s.neg.assign(nt + 1, 0.0);
      } else {
        s.tp.assign(nt * width, 0.0);
        s.fp.assign(nt * width, 0.0);
        s.fn.assign(nt * width, 0.0);
      }
    }
    auto bin_of = [&](double score) {
      return static_cast<size_t>(std::lower_bound(t.begin(), t.end(), score) - t.begin());
    };
    if (width == 1) {
      ForEachRow(b, [&](int64_t r, float w) {
        const float p = c.from_logits ? Sigmoid(b.predictions[r]) : b.predictions[r];
        (b.labels[r] == 1 ? s.pos : s.neg)[bin_of(p)] += w;
      });
      return;
    }
    if (c.class_id) {
      const int cid = *c.class_id;
      ForEachRow(b, [&](int64_t r, float w) {
        const float* x = b.predictions + r * width;
        int rank = 0;  // classes ranked before cid
        for (int j = 0; j < width; ++j) rank += (x[j] > x[cid] || (x[j] == x[cid] && j < cid));
        size_t bin = 0;
        if (rank < c.top_k) {
          double score = x[cid];
          if (c.from_logits) {
            float m = x[0];
            for (int j = 1; j < width; ++j) m = std::max(m, x[j]);
            float sum = 0;
            for (int j = 0; j < width; ++j) sum += std::exp(x[j] - m);
            score = std::exp(x[cid] - m) / sum;
          }
          bin = bin_of(score);
        }
        (LabelClass(b, r) == cid ? s.pos : s.neg)[bin] += w;
      });
      return;
    }
    const bool no_threshold = nt == 1 && std::isinf(t[0]) && t[0] < 0;
    const int k = c.top_k;
    int* top = scratch.Ints(k);
    float* probs_buf = scratch.Floats(width);
    ForEachRow(b, [&](int64_t r, float w) {
      const float* x = b.predictions + r * width;
      // top-k indices, best first (ties: lower index first).
      int n = 0;
      for (int j = 0; j < width; ++j) {
        int pos = n;
        while (pos > 0 && x[j] > x[top[pos - 1]]) --pos;
        if (pos >= k) continue;
        for (int q = std::min(n, k - 1); q > pos; --q) top[q] = top[q - 1];
        top[pos] = j;
        n = std::min(n + 1, k);
      }
      const int label = LabelClass(b, r);
      const float* p = no_threshold ? x : RowProbabilities(x, width, c.from_logits, probs_buf);
      for (size_t i = 0; i < nt; ++i) {
        double* tp = s.tp.data() + i * width;
        double* fp = s.fp.data() + i * width;
        bool hit = false;
        for (int j = 0; j < k; ++j) {
          const int cls = top[j];
          if (!no_threshold && !(p[cls] > t[i])) continue;
          if (cls == label) {
            tp[cls] += w;
            hit = true;
          } else {
            fp[cls] += w;
          }
        }
        if (!hit) s.fn[i * width + label] += w;
      }
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
    auto add = [](const std::vector<double>& a, std::vector<double>& b) {
      for (size_t i = 0; i < a.size(); ++i) b[i] += a[i];
    };
    add(from.pos, into.pos);
    add(from.neg, into.neg);
    add(from.tp, into.tp);
    add(from.fp, into.fp);
    add(from.fn, into.fn);
    return Status::Ok();
  }

  static double Value(Output o, double tp, double fp, double fn) {
    switch (o) {
      case Output::kPrecision:
        return Ratio(tp, tp + fp);
      case Output::kRecall:
        return Ratio(tp, tp + fn);
      default:
        return Ratio(2 * tp, 2 * tp + fp + fn);
    }
  }

  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots* plots) {
    const int width = s.width == 0 ? 1 : s.width;
    const std::vector<double>& t = Thresholds(c, width);
    const size_t nt = t.size();
    // Per threshold: (tp, fp, fn, tn) for the histogram path.
    std::vector<ThresholdCounts> counts(nt);
    if (s.width == 0 || Histogram(c, width)) {
      double pos_above = 0, neg_above = 0, pos_total = 0, neg_total = 0;
      for (size_t bin = 0; bin < s.pos.size(); ++bin) {
        pos_total += s.pos[bin];
        neg_total += s.neg[bin];
      }
      for (size_t i = nt; i-- > 0;) {  // predicted positive at t[i]: bins > i
        if (!s.pos.empty()) {
          pos_above += s.pos[i + 1];
          neg_above += s.neg[i + 1];
        }
        ThresholdCounts& tc = counts[i];
        tc.threshold = t[i];
        tc.tp = pos_above;
        tc.fp = neg_above;
        tc.fn = pos_total - pos_above;
        tc.tn = neg_total - neg_above;
        tc.precision = Ratio(tc.tp, tc.tp + tc.fp);
        tc.recall = Ratio(tc.tp, tc.tp + tc.fn);
      }
    }
    if (c.output == Output::kConfusion) {
      plots->confusion_at_thresholds = std::move(counts);
      return;
    }
    std::string base;
    if (c.class_id) base = "class:" + std::to_string(*c.class_id);
    if (c.top_k_set) AppendPart(base, "top_k:", std::to_string(c.top_k));
    for (size_t i = 0; i < nt; ++i) {
      std::string sub = base;
      if (nt > 1) AppendPart(sub, "threshold:", FormatNumber(t[i]));
      double v;
      if (s.width == 0 || Histogram(c, width)) {
        v = Value(c.output, counts[i].tp, counts[i].fp, counts[i].fn);
      } else {
        const double* tp = s.tp.data() + i * width;
        const double* fp = s.fp.data() + i * width;
        const double* fn = s.fn.data() + i * width;
        if (!c.macro) {
          double a = 0, b = 0, d = 0;
          for (int j = 0; j < width; ++j) a += tp[j], b += fp[j], d += fn[j];
          v = Value(c.output, a, b, d);
        } else {
          double sum = 0;
          int defined = 0;
          for (int j = 0; j < width; ++j) {
            const double x = Value(c.output, tp[j], fp[j], fn[j]);
            if (!std::isnan(x)) sum += x, ++defined;
          }
          v = defined > 0 ? sum / defined : std::nan("");
        }
      }
      SetMetric(m, Names(c)[0], model, sub, v);
    }
  }
};

}  // namespace

Result<std::unique_ptr<Metric>> MakeThresholdMetric(std::string_view class_name,
                                                    ConfigReader& reader) {
  ThresholdKernel::Config c;
  c.class_name = std::string(class_name);
  c.output = class_name == "Precision"                     ? Output::kPrecision
             : class_name == "Recall"                      ? Output::kRecall
             : class_name == "ConfusionMatrixAtThresholds" ? Output::kConfusion
                                                           : Output::kF1;
  ASSIGN_OR_RETURN(c.from_logits, reader.Bool("from_logits", false));
  ASSIGN_OR_RETURN(std::vector<double> thresholds, reader.Numbers("thresholds", -1e30, 1e30));
  ASSIGN_OR_RETURN(std::optional<int64_t> class_id, reader.OptionalInt("class_id", 0, 1 << 24));
  if (class_id) c.class_id = static_cast<int>(*class_id);
  if (c.output != Output::kConfusion) {
    ASSIGN_OR_RETURN(std::optional<int64_t> top_k, reader.OptionalInt("top_k", 1, 1 << 24));
    c.top_k_set = top_k.has_value();
    c.top_k = static_cast<int>(top_k.value_or(1));
    ASSIGN_OR_RETURN(std::string average, reader.Enum("average", "micro", {"micro", "macro"}));
    c.macro = average == "macro";
  }
  RETURN_IF_ERROR(reader.Done());
  if (!thresholds.empty()) {
    std::sort(thresholds.begin(), thresholds.end());
    thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
    c.thresholds_set = true;
    c.binary_thresholds = thresholds;
    c.multi_thresholds = thresholds;
  } else if (c.output == Output::kConfusion) {
    for (int i = 0; i <= 100; ++i) c.binary_thresholds.push_back(i / 100.0);
    c.multi_thresholds = c.binary_thresholds;
  } else {
    c.binary_thresholds = {0.5};
    c.multi_thresholds = {-std::numeric_limits<double>::infinity()};
  }
  return MakeKernelMetric<ThresholdKernel>(std::move(c));
}

}  // namespace edgepipe::eval::internal
