// SampleEvalResult(): a small, fully populated EvalResult for the report's
// tests (unit and browser): two models (a native model and its TFLite
// rewrite), two slices (overall and one whose feature value is hostile
// markup), metrics with confidence intervals, agreement metrics, a 3-class
// confusion matrix, calibration buckets, precision/recall at thresholds and
// one validation failure. Header-only test helper; values are arbitrary but
// fixed.
#ifndef EDGEPIPE_EVAL_TESTING_SAMPLE_RESULT_H_
#define EDGEPIPE_EVAL_TESTING_SAMPLE_RESULT_H_

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "edgepipe/eval/result.h"

namespace edgepipe::eval::testing {

// The hostile feature value of the second slice.
inline constexpr char kHostileValue[] = "<script>alert('x')</script>&\"";

inline Plots SamplePlots(double skew) {
  Plots p;
  ConfusionMatrix m;
  m.num_classes = 3;
  m.counts = {40, 3 + skew, 2, 4, 35, 1, 0, 2 + skew, 13};
  p.multi_class_confusion = m;
  for (int b = 0; b < 5; ++b) {
    CalibrationBucket c;
    c.lower = b * 0.2;
    c.upper = (b + 1) * 0.2;
    c.weight = 10 + b;
    c.sum_prediction = c.weight * (c.lower + 0.1);
    c.sum_label = c.weight * std::min(1.0, c.lower + 0.05 + 0.02 * skew);
    p.calibration.push_back(c);
  }
  for (int t = 0; t <= 4; ++t) {
    ThresholdCounts tc;
    tc.threshold = t * 0.25;
    tc.tp = 30 - 6 * t;
    tc.fn = 6 * t;
    tc.fp = 20 - 5 * t + skew;
    tc.tn = 50 + 5 * t - skew;
    tc.precision =
        tc.tp + tc.fp > 0 ? tc.tp / (tc.tp + tc.fp) : std::numeric_limits<double>::quiet_NaN();
    tc.recall = tc.tp / (tc.tp + tc.fn);
    p.confusion_at_thresholds.push_back(tc);
  }
  return p;
}

inline EvalResult SampleEvalResult() {
  EvalResult r;
  ModelInfo native{"candidate", "native", "/models/candidate", 210000, 1.25, 256, false};
  ModelInfo lite{"candidate_lite", "tf_lite", "/models/candidate/tflite", 56000, 0.5, 256, false};
  r.models = {native, lite};
  r.num_examples = 118;
  r.seconds = 0.42;
  r.eval_config_text = "model_specs { name: \"candidate\" label_key: \"y\" }\n";

  const std::vector<SliceKey> keys = {SliceKey{}, SliceKey{{{"color", kHostileValue}}}};
  for (size_t s = 0; s < keys.size(); ++s) {
    SliceResult sr;
    sr.slice = keys[s];
    sr.example_count = s == 0 ? 118 : 40;
    for (int m = 0; m < 2; ++m) {
      const std::string& name = r.models[m].name;
      sr.metrics[{"example_count", name, "", false}] = {sr.example_count, std::nullopt};
      MetricValue acc{0.9 - 0.05 * m - 0.1 * static_cast<double>(s), std::nullopt};
      acc.ci = ConfidenceInterval{acc.value - 0.03, acc.value + 0.02, 0.012};
      sr.metrics[{"sparse_categorical_accuracy", name, "", false}] = acc;
      sr.metrics[{"sparse_categorical_crossentropy", name, "", false}] = {0.3 + 0.1 * m,
                                                                          std::nullopt};
      sr.metrics[{"precision", name, "class:1", false}] = {std::numeric_limits<double>::quiet_NaN(),
                                                           std::nullopt};
      sr.plots[name] = SamplePlots(m);
    }
    sr.metrics[{"flip_rate", "candidate_lite", "", true}] = {0.025, std::nullopt};
    sr.metrics[{"max_abs_prediction_diff", "candidate_lite", "", true}] = {0.0625, std::nullopt};
    sr.metrics[{"mean_abs_prediction_diff", "candidate_lite", "", true}] = {0.004, std::nullopt};
    r.slices.push_back(std::move(sr));
  }
  r.validation.ok = false;
  r.validation.failures.push_back(ValidationFailure{
      keys[1], MetricKey{"sparse_categorical_accuracy", "candidate_lite", "", false},
      "lower_bound: 0.8", 0.75,
      "sparse_categorical_accuracy 0.75 of candidate_lite on slice color:" +
          std::string(kHostileValue) + " is below the lower bound 0.8"});
  r.validation.notes.push_back("change thresholds skipped: no baseline model");
  return r;
}

}  // namespace edgepipe::eval::testing

#endif  // EDGEPIPE_EVAL_TESTING_SAMPLE_RESULT_H_
