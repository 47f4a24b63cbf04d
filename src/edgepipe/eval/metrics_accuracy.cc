// Accuracy and losses: SparseCategoricalAccuracy, Accuracy,
// SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy.
// Every value is a weighted mean over the slice's rows (NaN with no weight).
//
// SparseCategoricalAccuracy: labels are class ids (label_width 1). Correct when
//   argmax(pred) == label; for num_outputs 1 the prediction is the
//   probability of class 1 (p > 0.5; logit > 0 when from_logits) and labels
//   are 0 / 1.
// Accuracy: as above, and also takes one-hot labels (label_width ==
//   num_outputs; the class is the label's argmax).
// Crossentropies follow Keras, with epsilon = 1e-7:
//   Sparse (class ids):   -log(clip(p[label], eps, 1 - eps)); from_logits:
//                         log-sum-exp(x) - x[label] (exact). num_outputs 1 is
//                         treated as binary (labels 0 / 1, p = P(class 1)).
//   Categorical (one-hot or soft labels y, label_width == num_outputs, or
//                class ids): p normalized to sum 1, then
//                -sum_c y_c log(clip(p_c, eps, 1 - eps)); from_logits:
//                -sum_c y_c log_softmax(x)_c. Needs num_outputs >= 2.
//   Binary (labels y in [0, 1], label_width == num_outputs): per output
//          -(y log(p) + (1 - y) log(1 - p)) with p clipped to [eps, 1 - eps];
//          from_logits: max(x, 0) - x y + log(1 + exp(-|x|)); a row's loss is
//          the mean over its outputs.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval::internal {
namespace {

constexpr float kEpsilon = 1e-7f;

inline float Clip(float p) { return std::min(std::max(p, kEpsilon), 1.0f - kEpsilon); }

// Binary crossentropy of one probability (or logit) against label y.
inline float BinaryLoss(float x, float y, bool from_logits) {
  if (from_logits) return std::max(x, 0.0f) - x * y + std::log1p(std::exp(-std::fabs(x)));
  const float p = Clip(x);
  return -(y * std::log(p) + (1 - y) * std::log(1 - p));
}

struct AccuracyKernel {
  struct Config {
    std::string class_name;
    bool sparse = true;  // SparseCategoricalAccuracy (class ids only)
    bool from_logits = false;
    bool operator==(const Config&) const = default;
  };
  struct State {
    double weight = 0, correct = 0;
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config& c) {
    return {c.sparse ? "sparse_categorical_accuracy" : "accuracy"};
  }
  static Status Check(const Config& c, const State&, const BatchView& b) {
    if (b.num_outputs == 1) return CheckBinaryLabels(c.class_name, b);
    if (c.sparse) return CheckClassLabels(c.class_name, b, b.num_outputs);
    return CheckClassOrOneHotLabels(c.class_name, b, b.num_outputs);
  }
  static void Add(const Config& c, const BatchView& b, State& s, Scratch&) {
    const int width = b.num_outputs;
    double weight = 0, correct = 0;
    ForEachRow(b, [&](int64_t r, float w) {
      const int predicted = PredictedClass(b.predictions + r * width, width, c.from_logits);
      weight += w;
      if (predicted == LabelClass(b, r)) correct += w;
    });
    s.weight += weight;
    s.correct += correct;
  }
  static Status Merge(const Config&, const State& from, State& into) {
    into.weight += from.weight;
    into.correct += from.correct;
    return Status::Ok();
  }
  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots*) {
    SetMetric(m, Names(c)[0], model, "", Ratio(s.correct, s.weight));
  }
};

enum class LossKind { kSparse, kCategorical, kBinary };

struct LossKernel {
  struct Config {
    std::string class_name;
    LossKind kind = LossKind::kSparse;
    bool from_logits = false;
    bool operator==(const Config&) const = default;
  };
  struct State {
    double weight = 0, loss = 0;
  };
  static constexpr bool kIsDiff = false;
  static std::vector<std::string> Names(const Config& c) {
    switch (c.kind) {
      case LossKind::kSparse:
        return {"sparse_categorical_crossentropy"};
      case LossKind::kCategorical:
        return {"categorical_crossentropy"};
      case LossKind::kBinary:
        return {"binary_crossentropy"};
    }
    return {};
  }
  static Status Check(const Config& c, const State&, const BatchView& b) {
    switch (c.kind) {
      case LossKind::kSparse:
        if (b.num_outputs == 1) return CheckBinaryLabels(c.class_name, b);
        return CheckClassLabels(c.class_name, b, b.num_outputs);
      case LossKind::kCategorical:
        if (b.num_outputs < 2) {
          return BatchError(c.class_name, "needs num_outputs >= 2, got 1 (use BinaryCrossentropy)");
        }
        return CheckClassOrOneHotLabels(c.class_name, b, b.num_outputs);
      case LossKind::kBinary:
        return CheckUnitLabels(c.class_name, b, b.num_outputs);
    }
    return Status::Ok();
  }

  static void Add(const Config& c, const BatchView& b, State& s, Scratch&) {
    const int width = b.num_outputs;
    const bool logits = c.from_logits;
    double weight = 0, loss = 0;
    auto add = [&](float w, float row_loss) {
      weight += w;
      loss += static_cast<double>(w) * row_loss;
    };
    if (c.kind == LossKind::kBinary || (c.kind == LossKind::kSparse && width == 1)) {
      ForEachRow(b, [&](int64_t r, float w) {
        const float* x = b.predictions + r * width;
        const float* y = b.labels + r * b.label_width;
        float sum = 0;
        for (int i = 0; i < width; ++i) sum += BinaryLoss(x[i], y[i], logits);
        add(w, sum / static_cast<float>(width));
      });
    } else if (c.kind == LossKind::kSparse) {
      ForEachRow(b, [&](int64_t r, float w) {
        const float* x = b.predictions + r * width;
        const int label = static_cast<int>(b.labels[r]);
        if (!logits) {
          add(w, -std::log(Clip(x[label])));
          return;
        }
        float m = x[0];
        for (int i = 1; i < width; ++i) m = std::max(m, x[i]);
        float sum = 0;
        for (int i = 0; i < width; ++i) sum += std::exp(x[i] - m);
        add(w, m + std::log(sum) - x[label]);
      });
    } else {
      const bool one_hot = b.label_width != 1;
      ForEachRow(b, [&](int64_t r, float w) {
        const float* x = b.predictions + r * width;
        // ln(q_c), q = normalized probabilities (clipped) or the softmax.
        float norm = 0;  // sum p, or log-sum-exp of the logits
        if (logits) {
          float m = x[0];
          for (int i = 1; i < width; ++i) m = std::max(m, x[i]);
          float sum = 0;
          for (int i = 0; i < width; ++i) sum += std::exp(x[i] - m);
          norm = m + std::log(sum);
        } else {
          for (int i = 0; i < width; ++i) norm += x[i];
        }
        auto log_q = [&](int i) {
          return logits ? x[i] - norm : std::log(Clip(norm != 0 ? x[i] / norm : 0.0f));
        };
        float row_loss = 0;
        if (!one_hot) {
          row_loss = -log_q(static_cast<int>(b.labels[r]));
        } else {
          const float* y = b.labels + r * width;
          for (int i = 0; i < width; ++i) {
            if (y[i] != 0) row_loss -= y[i] * log_q(i);
          }
        }
        add(w, row_loss);
      });
    }
    s.weight += weight;
    s.loss += loss;
  }
  static Status Merge(const Config&, const State& from, State& into) {
    into.weight += from.weight;
    into.loss += from.loss;
    return Status::Ok();
  }
  static void Finish(const Config& c, const State& s, const std::string& model, MetricMap* m,
                     Plots*) {
    SetMetric(m, Names(c)[0], model, "", Ratio(s.loss, s.weight));
  }
};

}  // namespace

Result<std::unique_ptr<Metric>> MakeAccuracyOrLossMetric(std::string_view class_name,
                                                         ConfigReader& reader) {
  ASSIGN_OR_RETURN(bool from_logits, reader.Bool("from_logits", false));
  RETURN_IF_ERROR(reader.Done());
  if (class_name == "SparseCategoricalAccuracy" || class_name == "Accuracy") {
    return MakeKernelMetric<AccuracyKernel>(
        {std::string(class_name), class_name == "SparseCategoricalAccuracy", from_logits});
  }
  LossKernel::Config c;
  c.class_name = std::string(class_name);
  c.from_logits = from_logits;
  c.kind = class_name == "SparseCategoricalCrossentropy" ? LossKind::kSparse
           : class_name == "CategoricalCrossentropy"     ? LossKind::kCategorical
                                                         : LossKind::kBinary;
  return MakeKernelMetric<LossKernel>(std::move(c));
}

}  // namespace edgepipe::eval::internal
