#include "edgepipe/eval/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

// A batch owned by the test; View() points into it.
struct TestBatch {
  int width = 1;
  int label_width = 1;
  std::vector<float> predictions, labels, weights, reference;
  std::vector<int32_t> rows;
  std::vector<int64_t> ids;

  int64_t size() const { return static_cast<int64_t>(predictions.size()) / width; }
  BatchView View() const {
    BatchView b;
    b.size = size();
    b.num_outputs = width;
    b.predictions = predictions.data();
    b.labels = labels.empty() ? nullptr : labels.data();
    b.label_width = label_width;
    b.weights = weights.empty() ? nullptr : weights.data();
    b.reference_predictions = reference.empty() ? nullptr : reference.data();
    b.rows = rows;
    b.example_ids = ids.empty() ? nullptr : ids.data();
    return b;
  }
};

std::unique_ptr<Metric> Make(std::string_view name, const Json& config = Json()) {
  auto m = MakeMetric(name, config);
  EXPECT_TRUE(m.ok()) << m.status();
  return m.ok() ? std::move(m).value() : nullptr;
}

struct Output {
  MetricMap metrics;
  Plots plots;
};

Output Finish(const MetricAccumulator& acc) {
  Output out;
  acc.Finish("m", &out.metrics, &out.plots);
  return out;
}

// Runs one metric over the batches, expecting success.
Output RunMetric(std::string_view name, const Json& config, const std::vector<TestBatch>& batches) {
  auto metric = Make(name, config);
  if (metric == nullptr) return {};
  auto acc = metric->NewAccumulator();
  for (const TestBatch& b : batches) {
    Status s = acc->Add(b.View());
    EXPECT_TRUE(s.ok()) << s;
  }
  return Finish(*acc);
}

double Value(const Output& out, const std::string& name, const std::string& sub_key = "") {
  auto it = out.metrics.find(MetricKey{name, "m", sub_key, false});
  EXPECT_NE(it, out.metrics.end()) << name << " " << sub_key;
  return it == out.metrics.end() ? -12345 : it->second.value;
}

double One(std::string_view name, const Json& config, const TestBatch& b, const std::string& key,
           const std::string& sub_key = "") {
  return Value(RunMetric(name, config, {b}), key, sub_key);
}

Status AddError(std::string_view name, const Json& config, const TestBatch& b) {
  auto metric = Make(name, config);
  auto acc = metric->NewAccumulator();
  return acc->Add(b.View());
}

// 3 classes, 4 rows; predicted classes 1, 0, 2, 2; labels 1, 2, 2, 0.
TestBatch ThreeClass() {
  TestBatch b;
  b.width = 3;
  b.predictions = {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.2f, 0.6f, 0.3f, 0.3f, 0.4f};
  b.labels = {1, 2, 2, 0};
  b.weights = {1, 2, 3, 4};
  return b;
}

// Binary: p = 0.9 0.6 0.4 0.2 0.7, labels 1 0 1 0 0.
TestBatch Binary() {
  TestBatch b;
  b.predictions = {0.9f, 0.6f, 0.4f, 0.2f, 0.7f};
  b.labels = {1, 0, 1, 0, 0};
  return b;
}

// ---- factory ---------------------------------------------------------------

TEST(MakeMetricTest, KnowsEveryClassAndItsNames) {
  EXPECT_EQ(MetricClassNames().size(), 22u);
  for (std::string_view name : MetricClassNames()) {
    auto m = MakeMetric(name, Json::object());
    ASSERT_TRUE(m.ok()) << name << ": " << m.status();
    EXPECT_EQ((*m)->class_name(), name);
  }
  EXPECT_EQ(Make("F1")->metric_names(), std::vector<std::string>{"f1_score"});
  EXPECT_EQ(Make("FlipRate")->metric_names(),
            (std::vector<std::string>{"flip_rate", "top1_agreement"}));
  EXPECT_TRUE(Make("MeanAbsPredictionDiff")->is_diff());
  EXPECT_FALSE(Make("AUC")->is_diff());
  EXPECT_EQ(Make("SparseCategoricalCrossentropy")->metric_names(),
            std::vector<std::string>{"sparse_categorical_crossentropy"});
}

TEST(MakeMetricTest, RejectsUnknownNamesKeysAndValues) {
  auto bad = MakeMetric("Acuracy", Json::object());
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("\"Acuracy\""));
  EXPECT_THAT(bad.status().message(), HasSubstr("SparseCategoricalAccuracy"));

  auto key = MakeMetric("AUC", Json{{"num_tresholds", 10}});
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.status().message(), HasSubstr("AUC: unknown config key \"num_tresholds\""));

  EXPECT_FALSE(MakeMetric("Accuracy", Json{{"from_logits", "yes"}}).ok());
  EXPECT_FALSE(MakeMetric("Precision", Json{{"average", "weighted"}}).ok());
  EXPECT_FALSE(MakeMetric("Precision", Json{{"top_k", 0}}).ok());
  EXPECT_FALSE(MakeMetric("Precision", Json{{"thresholds", Json::array()}}).ok());
  EXPECT_FALSE(MakeMetric("CalibrationPlot", Json{{"num_buckets", 2.5}}).ok());
  EXPECT_FALSE(MakeMetric("ExampleCount", Json{{"from_logits", true}}).ok());
  EXPECT_FALSE(MakeMetric("ExampleCount", Json::array()).ok());
  // Keras configs carry a name: accepted.
  EXPECT_TRUE(MakeMetric("Accuracy", Json{{"name", "acc"}}).ok());
}

TEST(ParseMetricConfigTest, AcceptsObjectsBareMembersAndEmpty) {
  auto a = ParseMetricConfig("Accuracy", R"("from_logits": true)");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*a)["from_logits"], true);
  auto b = ParseMetricConfig("Precision", R"({"top_k": 3, "average": "macro"})");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ((*b)["top_k"], 3);
  auto c = ParseMetricConfig("AUC", "  ");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->is_object() && c->empty());
  auto d = ParseMetricConfig("AUC", "{num_thresholds: 3");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status().message(), HasSubstr("AUC: config"));
}

// ---- counts and accuracy ----------------------------------------------------

TEST(CountTest, CountsRowsAndWeightsOfTheSlice) {
  TestBatch b = ThreeClass();
  EXPECT_EQ(One("ExampleCount", {}, b, "example_count"), 4);
  EXPECT_EQ(One("WeightedExampleCount", {}, b, "weighted_example_count"), 10);
  b.rows = {1, 3};
  EXPECT_EQ(One("ExampleCount", {}, b, "example_count"), 2);
  EXPECT_EQ(One("WeightedExampleCount", {}, b, "weighted_example_count"), 6);
}

TEST(AccuracyTest, ArgmaxWeightedAndSliced) {
  TestBatch b = ThreeClass();
  // Correct rows 0 and 2: weights 1 + 3 of 10.
  EXPECT_DOUBLE_EQ(One("SparseCategoricalAccuracy", {}, b, "sparse_categorical_accuracy"), 0.4);
  EXPECT_DOUBLE_EQ(One("Accuracy", {}, b, "accuracy"), 0.4);
  b.weights.clear();
  EXPECT_DOUBLE_EQ(One("SparseCategoricalAccuracy", {}, b, "sparse_categorical_accuracy"), 0.5);
  b.rows = {0, 1, 2};
  EXPECT_DOUBLE_EQ(One("Accuracy", {}, b, "accuracy"), 2.0 / 3);
}

TEST(AccuracyTest, OneHotLabelsAndBinaryWidth) {
  TestBatch b = ThreeClass();
  b.label_width = 3;
  b.labels = {0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0};
  EXPECT_DOUBLE_EQ(One("Accuracy", {}, b, "accuracy"), 0.4);
  // SparseCategoricalAccuracy takes class ids only.
  EXPECT_FALSE(AddError("SparseCategoricalAccuracy", {}, b).ok());

  TestBatch bin;
  bin.predictions = {0.9f, 0.4f, 0.6f};
  bin.labels = {1, 1, 0};
  EXPECT_DOUBLE_EQ(One("SparseCategoricalAccuracy", {}, bin, "sparse_categorical_accuracy"),
                   1.0 / 3);
  bin.predictions = {2.0f, -1.0f, 0.5f};  // logits
  bin.labels = {1, 0, 0};
  EXPECT_DOUBLE_EQ(One("Accuracy", {{"from_logits", true}}, bin, "accuracy"), 2.0 / 3);
}

// ---- losses ----------------------------------------------------------------

TEST(LossTest, SparseCategoricalCrossentropy) {
  TestBatch b;
  b.width = 3;
  b.predictions = {0.7f, 0.2f, 0.1f, 0.2f, 0.5f, 0.3f};
  b.labels = {0, 2};
  b.weights = {1, 3};
  const double expected = (-std::log(0.7) - 3 * std::log(0.3)) / 4;
  EXPECT_NEAR(One("SparseCategoricalCrossentropy", {}, b, "sparse_categorical_crossentropy"),
              expected, 1e-6);
  // Probability 0 is clipped to 1e-7.
  b.predictions = {0.0f, 0.5f, 0.5f, 0.2f, 0.5f, 0.3f};
  b.weights.clear();
  EXPECT_NEAR(One("SparseCategoricalCrossentropy", {}, b, "sparse_categorical_crossentropy"),
              (-std::log(1e-7) - std::log(0.3)) / 2, 1e-4);
  // Logits: log-sum-exp minus the label's logit.
  b.predictions = {1, 2, 3, 0, 0, 0};
  const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
  EXPECT_NEAR(One("SparseCategoricalCrossentropy", {{"from_logits", true}}, b,
                  "sparse_categorical_crossentropy"),
              ((lse - 1) + std::log(3.0)) / 2, 1e-5);
}

TEST(LossTest, CategoricalCrossentropyNormalizesAndTakesSoftLabels) {
  TestBatch b;
  b.width = 3;
  b.label_width = 3;
  b.predictions = {2, 6, 2, 0.25f, 0.5f, 0.25f};  // row 0 sums to 10
  b.labels = {0, 1, 0, 0.5f, 0.5f, 0};
  const double expected = (-std::log(0.6) - (0.5 * std::log(0.25) + 0.5 * std::log(0.5))) / 2;
  EXPECT_NEAR(One("CategoricalCrossentropy", {}, b, "categorical_crossentropy"), expected, 1e-6);
  // Class ids work like one-hot rows.
  TestBatch ids = b;
  ids.label_width = 1;
  ids.labels = {1, 0};
  EXPECT_NEAR(One("CategoricalCrossentropy", {}, ids, "categorical_crossentropy"),
              (-std::log(0.6) - std::log(0.25)) / 2, 1e-6);
  TestBatch one;
  one.predictions = {0.5f};
  one.labels = {1};
  Status s = AddError("CategoricalCrossentropy", {}, one);
  EXPECT_THAT(s.message(), HasSubstr("num_outputs >= 2"));
}

TEST(LossTest, BinaryCrossentropy) {
  TestBatch b;
  b.predictions = {0.8f, 0.3f};
  b.labels = {1, 0};
  EXPECT_NEAR(One("BinaryCrossentropy", {}, b, "binary_crossentropy"),
              (-std::log(0.8) - std::log(0.7)) / 2, 1e-6);
  b.predictions = {2, -1};
  b.labels = {1, 1};
  auto sig = [](double x) { return 1 / (1 + std::exp(-x)); };
  EXPECT_NEAR(One("BinaryCrossentropy", {{"from_logits", true}}, b, "binary_crossentropy"),
              (-std::log(sig(2)) - std::log(sig(-1))) / 2, 1e-6);
  // Multi-label: mean over outputs.
  TestBatch m;
  m.width = 2;
  m.label_width = 2;
  m.predictions = {0.9f, 0.2f};
  m.labels = {1, 0};
  EXPECT_NEAR(One("BinaryCrossentropy", {}, m, "binary_crossentropy"),
              (-std::log(0.9) - std::log(0.8)) / 2, 1e-6);
}

// ---- precision / recall / F1 -----------------------------------------------

TEST(PrecisionRecallTest, BinaryAtThresholds) {
  TestBatch b = Binary();
  // At 0.5: predicted rows 0, 1, 4 -> TP 1, FP 2, FN 1.
  EXPECT_DOUBLE_EQ(One("Precision", {}, b, "precision"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(One("Recall", {}, b, "recall"), 0.5);
  EXPECT_DOUBLE_EQ(One("F1Score", {}, b, "f1_score"), 0.4);
  Output two = RunMetric("Precision", {{"thresholds", {0.65, 0.3}}}, {b});
  EXPECT_DOUBLE_EQ(Value(two, "precision", "threshold:0.3"), 0.5);   // TP 2, FP 2
  EXPECT_DOUBLE_EQ(Value(two, "precision", "threshold:0.65"), 0.5);  // TP 1, FP 1
  b.weights = {2, 1, 1, 1, 3};
  EXPECT_DOUBLE_EQ(One("Precision", {}, b, "precision"), 2.0 / 6);
  EXPECT_DOUBLE_EQ(One("Recall", {}, b, "recall"), 2.0 / 3);
  // No predicted positives: undefined.
  b.predictions = {0, 0, 0, 0, 0};
  EXPECT_TRUE(std::isnan(One("Precision", {}, b, "precision")));
}

TEST(PrecisionRecallTest, MultiClassMicroMacroTopKAndClassId) {
  TestBatch b = ThreeClass();
  b.weights.clear();
  EXPECT_DOUBLE_EQ(One("Precision", {}, b, "precision"), 0.5);  // micro top-1 == accuracy
  EXPECT_DOUBLE_EQ(One("Recall", {}, b, "recall"), 0.5);
  // Per class (P, R): class 0 (0, 0), class 1 (1, 1), class 2 (1/2, 1/2); a
  // fourth class never predicted nor labelled is undefined and left out.
  TestBatch four;
  four.width = 4;
  for (size_t r = 0; r < 4; ++r) {
    for (int c = 0; c < 3; ++c) four.predictions.push_back(b.predictions[r * 3 + c]);
    four.predictions.push_back(0.0f);
  }
  four.labels = b.labels;
  EXPECT_DOUBLE_EQ(One("Precision", {{"average", "macro"}}, four, "precision"), 0.5);
  EXPECT_DOUBLE_EQ(One("F1", {{"average", "macro"}}, four, "f1_score"), 0.5);
  // top_k 2: rows' top-2 {1,2} {0,1} {2,0} {2,0}: TP 3, FP 5, FN 1.
  EXPECT_DOUBLE_EQ(One("Precision", {{"top_k", 2}}, b, "precision", "top_k:2"), 3.0 / 8);
  EXPECT_DOUBLE_EQ(One("Recall", {{"top_k", 2}}, b, "recall", "top_k:2"), 3.0 / 4);
  // class 2 vs rest: predicted rows 2, 3; labelled rows 1, 2.
  EXPECT_DOUBLE_EQ(One("Precision", {{"class_id", 2}}, b, "precision", "class:2"), 0.5);
  EXPECT_DOUBLE_EQ(One("Recall", {{"class_id", 2}}, b, "recall", "class:2"), 0.5);
  // A threshold on the top-1 probability: only rows 0 (0.7) and 2 (0.6) pass 0.55.
  EXPECT_DOUBLE_EQ(One("Precision", {{"thresholds", 0.55}}, b, "precision"), 1.0);
  EXPECT_DOUBLE_EQ(One("Recall", {{"thresholds", 0.55}}, b, "recall"), 0.5);
}

// ---- AUC -------------------------------------------------------------------

TEST(AucTest, RocAreaWithTiesAndWeights) {
  TestBatch b;
  b.predictions = {0.1f, 0.4f, 0.35f, 0.8f};
  b.labels = {0, 0, 1, 1};
  EXPECT_NEAR(One("AUC", {}, b, "auc"), 0.75, 1e-12);
  b.weights = {1, 2, 1, 1};  // positive-over-negative pair weight 4 of 6
  EXPECT_NEAR(One("AUC", {}, b, "auc"), 2.0 / 3, 1e-12);
  TestBatch tie;
  tie.predictions = {0.5f, 0.5f};
  tie.labels = {0, 1};
  EXPECT_NEAR(One("AUC", {}, tie, "auc"), 0.5, 1e-12);
  tie.labels = {1, 1};
  EXPECT_TRUE(std::isnan(One("AUC", {}, tie, "auc")));
}

TEST(AucTest, PrecisionRecallAreaInterpolates) {
  TestBatch b;
  b.predictions = {0.1f, 0.4f, 0.35f, 0.8f};
  b.labels = {0, 0, 1, 1};
  // Sweep: (tp, predicted) (0,0) (1,1) (1,2) (2,3) (2,4); Davis-Goadrich
  // segments give 1/2 + (1 - ln(3/2)) / 2.
  EXPECT_NEAR(One("AUCPrecisionRecall", {}, b, "auc_precision_recall"),
              0.5 + (1 - std::log(1.5)) / 2, 1e-9);
  b.predictions = {0.1f, 0.2f, 0.9f, 0.95f};
  EXPECT_NEAR(One("AUCPrecisionRecall", {}, b, "auc_precision_recall"), 1.0, 1e-12);
}

TEST(AucTest, OneVsRestWithClassId) {
  TestBatch b = ThreeClass();
  b.weights.clear();
  // Class 2 scores 0.2 0.2 0.6 0.4, positives rows 1 (0.2) and 2 (0.6);
  // negatives 0.2 and 0.4: pairs won 0.5 + 0 + 1 + 1 of 4.
  EXPECT_NEAR(One("AUC", {{"class_id", 2}}, b, "auc", "class:2"), 2.5 / 4, 1e-12);
  Status s = AddError("AUC", {}, b);
  EXPECT_THAT(s.message(), HasSubstr("AUC: is binary"));
}

// ---- means -----------------------------------------------------------------

TEST(MeanTest, LabelPredictionCalibration) {
  TestBatch b;
  b.predictions = {0.2f, 0.6f, 0.9f};
  b.labels = {0, 1, 1};
  b.weights = {1, 1, 2};
  EXPECT_DOUBLE_EQ(One("MeanLabel", {}, b, "mean_label"), 0.75);
  EXPECT_NEAR(One("MeanPrediction", {}, b, "mean_prediction"), 0.65, 1e-7);
  EXPECT_NEAR(One("Calibration", {}, b, "calibration"), 2.6 / 3, 1e-7);
  b.predictions = {0, 0, 0};  // logits: sigmoid 0.5
  EXPECT_NEAR(One("MeanPrediction", {{"from_logits", true}}, b, "mean_prediction"), 0.5, 1e-7);
  TestBatch empty = b;
  empty.rows = std::vector<int32_t>{};
  empty.predictions.clear();
  empty.labels.clear();
  empty.weights.clear();
  EXPECT_TRUE(std::isnan(One("MeanLabel", {}, empty, "mean_label")));
}

// ---- plots -----------------------------------------------------------------

TEST(PlotTest, MultiClassConfusionMatrix) {
  Output out = RunMetric("MultiClassConfusionMatrixPlot", {}, {ThreeClass()});
  ASSERT_TRUE(out.plots.multi_class_confusion.has_value());
  EXPECT_EQ(out.plots.multi_class_confusion->num_classes, 3);
  // (label, predicted): (1,1) w1, (2,0) w2, (2,2) w3, (0,2) w4.
  EXPECT_EQ(out.plots.multi_class_confusion->counts,
            (std::vector<double>{0, 0, 4, 0, 1, 0, 2, 0, 3}));
  Output bin = RunMetric("MultiClassConfusionMatrixPlot", {}, {Binary()});
  ASSERT_TRUE(bin.plots.multi_class_confusion.has_value());
  EXPECT_EQ(bin.plots.multi_class_confusion->counts, (std::vector<double>{1, 2, 1, 1}));
}

TEST(PlotTest, ConfusionMatrixAtThresholds) {
  Output out = RunMetric("ConfusionMatrixAtThresholds", {}, {Binary()});
  const auto& t = out.plots.confusion_at_thresholds;
  ASSERT_EQ(t.size(), 101u);
  EXPECT_DOUBLE_EQ(t[50].threshold, 0.5);
  EXPECT_EQ(t[50].tp, 1);
  EXPECT_EQ(t[50].fp, 2);
  EXPECT_EQ(t[50].fn, 1);
  EXPECT_EQ(t[50].tn, 1);
  EXPECT_DOUBLE_EQ(t[50].precision, 1.0 / 3);
  EXPECT_EQ(t[0].tp + t[0].fp, 5);  // everything above 0
  EXPECT_EQ(t[100].tp + t[100].fp, 0);
  EXPECT_TRUE(std::isnan(t[100].precision));
  Output custom =
      RunMetric("ConfusionMatrixAtThresholds", {{"thresholds", {0.5, 0.3}}}, {Binary()});
  ASSERT_EQ(custom.plots.confusion_at_thresholds.size(), 2u);
  EXPECT_EQ(custom.plots.confusion_at_thresholds[0].threshold, 0.3);
  EXPECT_EQ(custom.plots.confusion_at_thresholds[0].tp, 2);
  EXPECT_EQ(custom.plots.confusion_at_thresholds[0].tn, 1);
}

TEST(PlotTest, CalibrationBinaryAndTopOne) {
  TestBatch b;
  b.predictions = {0.05f, 0.15f, 0.12f, 0.95f, 1.0f};
  b.labels = {0, 1, 0, 1, 1};
  Output out = RunMetric("CalibrationPlot", {}, {b});
  const auto& c = out.plots.calibration;
  ASSERT_EQ(c.size(), 10u);
  EXPECT_DOUBLE_EQ(c[1].lower, 0.1);
  EXPECT_DOUBLE_EQ(c[1].upper, 0.2);
  EXPECT_EQ(c[0].weight, 1);
  EXPECT_EQ(c[1].weight, 2);
  EXPECT_EQ(c[1].sum_label, 1);
  EXPECT_NEAR(c[1].sum_prediction, 0.27, 1e-6);
  EXPECT_EQ(c[9].weight, 2);  // 1.0 lands in the last bucket
  EXPECT_NEAR(c[9].sum_prediction, 1.95, 1e-6);
  EXPECT_EQ(c[5].weight, 0);
  // Multi-class: top-1 probabilities 0.7 0.5 0.6 0.4, correct rows 0 and 2.
  TestBatch m = ThreeClass();
  m.weights.clear();
  Output mc = RunMetric("CalibrationPlot", {{"num_buckets", 5}}, {m});
  ASSERT_EQ(mc.plots.calibration.size(), 5u);
  EXPECT_EQ(mc.plots.calibration[2].weight, 2);     // 0.5, 0.4 (bucket [0.4, 0.6))
  EXPECT_EQ(mc.plots.calibration[2].sum_label, 0);  // both wrong
  EXPECT_EQ(mc.plots.calibration[3].weight, 2);     // 0.7, 0.6
  EXPECT_EQ(mc.plots.calibration[3].sum_label, 2);
}

// ---- model diff ------------------------------------------------------------

TEST(DiffTest, FlipRateAndPredictionDiffs) {
  TestBatch b;
  b.width = 2;
  b.predictions = {0.1f, 0.9f, 0.6f, 0.4f, 0.3f, 0.7f};
  b.reference = {0.2f, 0.8f, 0.4f, 0.6f, 0.3f, 0.7f};
  b.weights = {1, 2, 1};
  Output flip = RunMetric("FlipRate", {}, {b});
  EXPECT_DOUBLE_EQ(Value(flip, "flip_rate"), 0.5);  // row 1 flips, weight 2 of 4
  EXPECT_DOUBLE_EQ(Value(flip, "top1_agreement"), 0.5);
  EXPECT_NEAR(One("MaxAbsPredictionDiff", {}, b, "max_abs_prediction_diff"), 0.2, 1e-6);
  EXPECT_NEAR(One("MeanAbsPredictionDiff", {}, b, "mean_abs_prediction_diff"),
              (1 * 0.2 + 2 * 0.4) / 8, 1e-6);
  b.weights = {1, 0, 1};  // a weight-0 row does not count for the max
  EXPECT_NEAR(One("MaxAbsPredictionDiff", {}, b, "max_abs_prediction_diff"), 0.1, 1e-6);
  b.reference.clear();
  EXPECT_THAT(AddError("FlipRate", {}, b).message(), HasSubstr("reference"));
}

// ---- properties over every metric ------------------------------------------

struct Case {
  const char* name;
  Json config;
  bool binary;  // num_outputs 1 instead of 10 classes
};

std::vector<Case> AllCases() {
  return {{"ExampleCount", {}, false},
          {"WeightedExampleCount", {}, false},
          {"SparseCategoricalAccuracy", {}, false},
          {"Accuracy", {}, true},
          {"SparseCategoricalCrossentropy", {}, false},
          {"CategoricalCrossentropy", {}, false},
          {"BinaryCrossentropy", {}, true},
          {"Precision", {{"top_k", 3}}, false},
          {"Recall", {{"average", "macro"}}, false},
          {"F1Score", {{"thresholds", {0.3, 0.5}}}, true},
          {"AUC", {{"num_thresholds", 50}}, true},
          {"AUCPrecisionRecall", {{"class_id", 3}}, false},
          {"MeanLabel", {}, true},
          {"MeanPrediction", {}, true},
          {"Calibration", {}, true},
          {"MultiClassConfusionMatrixPlot", {}, false},
          {"ConfusionMatrixAtThresholds", {}, true},
          {"CalibrationPlot", {}, false},
          {"FlipRate", {}, false},
          {"MaxAbsPredictionDiff", {}, false},
          {"MeanAbsPredictionDiff", {}, true}};
}

TestBatch RandomBatch(bool binary, int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  TestBatch b;
  b.width = binary ? 1 : 10;
  for (int r = 0; r < rows; ++r) {
    float sum = 0;
    for (int c = 0; c < b.width; ++c) b.predictions.push_back(u(rng)), sum += b.predictions.back();
    if (!binary) {
      for (int c = 0; c < b.width; ++c) b.predictions[r * b.width + c] /= sum;
    }
    for (int c = 0; c < b.width; ++c) b.reference.push_back(u(rng));
    b.labels.push_back(static_cast<float>(rng() % (binary ? 2 : 10)));
    b.weights.push_back(static_cast<float>(rng() % 4));
  }
  return b;
}

void ExpectSame(const Output& a, const Output& b, const std::string& what) {
  ASSERT_EQ(a.metrics.size(), b.metrics.size()) << what;
  for (const auto& [key, v] : a.metrics) {
    auto it = b.metrics.find(key);
    ASSERT_NE(it, b.metrics.end()) << what << " " << key.name;
    if (std::isnan(v.value)) {
      EXPECT_TRUE(std::isnan(it->second.value)) << what;
    } else {
      EXPECT_NEAR(v.value, it->second.value, 1e-9 * (1 + std::fabs(v.value))) << what << key.name;
    }
  }
  EXPECT_EQ(a.plots.confusion_at_thresholds.size(), b.plots.confusion_at_thresholds.size());
  for (size_t i = 0; i < a.plots.confusion_at_thresholds.size(); ++i) {
    EXPECT_NEAR(a.plots.confusion_at_thresholds[i].tp, b.plots.confusion_at_thresholds[i].tp, 1e-9);
    EXPECT_NEAR(a.plots.confusion_at_thresholds[i].fp, b.plots.confusion_at_thresholds[i].fp, 1e-9);
  }
  EXPECT_EQ(a.plots.multi_class_confusion.has_value(), b.plots.multi_class_confusion.has_value());
  if (a.plots.multi_class_confusion && b.plots.multi_class_confusion) {
    EXPECT_EQ(a.plots.multi_class_confusion->counts, b.plots.multi_class_confusion->counts);
  }
  ASSERT_EQ(a.plots.calibration.size(), b.plots.calibration.size()) << what;
  for (size_t i = 0; i < a.plots.calibration.size(); ++i) {
    EXPECT_NEAR(a.plots.calibration[i].sum_prediction, b.plots.calibration[i].sum_prediction, 1e-6);
  }
}

TEST(MergeTest, TwoHalvesMergedEqualOnePass) {
  for (const Case& c : AllCases()) {
    SCOPED_TRACE(c.name);
    const TestBatch all = RandomBatch(c.binary, 200, 7);
    TestBatch first = all, second = all;
    for (int32_t r = 0; r < 200; ++r) (r % 3 == 0 ? first : second).rows.push_back(r);
    auto metric = Make(c.name, c.config);
    auto one = metric->NewAccumulator();
    ASSERT_TRUE(one->Add(all.View()).ok());
    auto a = metric->NewAccumulator();
    auto b = metric->NewAccumulator();
    ASSERT_TRUE(a->Add(first.View()).ok());
    ASSERT_TRUE(b->Add(second.View()).ok());
    ASSERT_TRUE(a->Merge(*b).ok());
    auto empty = metric->NewAccumulator();
    ASSERT_TRUE(a->Merge(*empty).ok());
    ExpectSame(Finish(*one), Finish(*a), c.name);
    ASSERT_TRUE(empty->Merge(*one).ok());  // into an empty accumulator
    ExpectSame(Finish(*one), Finish(*empty), c.name);
  }
}

TEST(MergeTest, RejectsAnotherMetric) {
  auto a = Make("Precision")->NewAccumulator();
  auto b = Make("Precision", {{"top_k", 2}})->NewAccumulator();
  auto c = Make("Recall")->NewAccumulator();
  EXPECT_FALSE(a->Merge(*b).ok());
  EXPECT_FALSE(a->Merge(*c).ok());
  auto same_config = Make("Precision")->NewAccumulator();  // another Metric, same config
  EXPECT_TRUE(a->Merge(*same_config).ok());
}

TEST(FromLogitsTest, EqualsTheMetricOnProbabilities) {
  const char* names[] = {"SparseCategoricalAccuracy",
                         "SparseCategoricalCrossentropy",
                         "CategoricalCrossentropy",
                         "Precision",
                         "AUC",
                         "CalibrationPlot",
                         "MeanAbsPredictionDiff",
                         "BinaryCrossentropy",
                         "MeanPrediction"};
  for (const char* name : names) {
    SCOPED_TRACE(name);
    const bool binary = std::string(name) == "BinaryCrossentropy" ||
                        std::string(name) == "MeanPrediction" || std::string(name) == "AUC";
    TestBatch logits = RandomBatch(binary, 60, 11);
    for (float& x : logits.predictions) x = 6 * x - 3;
    for (float& x : logits.reference) x = 6 * x - 3;
    TestBatch probs = logits;
    const int w = logits.width;
    for (int64_t r = 0; r < logits.size(); ++r) {
      for (std::vector<float>* v : {&probs.predictions, &probs.reference}) {
        const std::vector<float>& src =
            v == &probs.predictions ? logits.predictions : logits.reference;
        double sum = 0;
        for (int c = 0; c < w; ++c) sum += std::exp(src[r * w + c]);
        for (int c = 0; c < w; ++c) {
          const double x = src[r * w + c];
          (*v)[r * w + c] = static_cast<float>(w == 1 ? 1 / (1 + std::exp(-x)) : std::exp(x) / sum);
        }
      }
    }
    Json logit_config = {{"from_logits", true}};
    Output a = RunMetric(name, logit_config, {logits});
    Output b = RunMetric(name, Json::object(), {probs});
    ASSERT_EQ(a.metrics.size(), b.metrics.size());
    for (const auto& [key, v] : a.metrics)
      EXPECT_NEAR(v.value, b.metrics[key].value, 2e-5) << key.name;
    ASSERT_EQ(a.plots.calibration.size(), b.plots.calibration.size());
    for (size_t i = 0; i < a.plots.calibration.size(); ++i) {
      EXPECT_EQ(a.plots.calibration[i].weight, b.plots.calibration[i].weight);
    }
  }
}

// ---- errors ----------------------------------------------------------------

TEST(ErrorTest, BadLabelsNameMetricRowAndValueAndChangeNothing) {
  auto metric = Make("SparseCategoricalAccuracy");
  auto acc = metric->NewAccumulator();
  ASSERT_TRUE(acc->Add(ThreeClass().View()).ok());
  const Output before = Finish(*acc);

  TestBatch bad = ThreeClass();
  bad.labels[2] = 3;
  bad.ids = {100, 101, 102, 103};
  Status s = acc->Add(bad.View());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("SparseCategoricalAccuracy: row 2 (example 102): label 3"));
  EXPECT_THAT(s.message(), HasSubstr("[0, 3)"));
  bad.labels[2] = 1.5f;
  EXPECT_THAT(acc->Add(bad.View()).message(), HasSubstr("label 1.5 is not a class id"));
  ExpectSame(before, Finish(*acc), "after errors");

  // A bad label outside the slice is not looked at.
  bad.rows = {0, 1};
  EXPECT_TRUE(acc->Add(bad.View()).ok());
}

TEST(ErrorTest, ShapesWeightsRowsAndWidths) {
  TestBatch b = ThreeClass();
  b.weights[1] = -1;
  EXPECT_THAT(AddError("Accuracy", {}, b).message(), HasSubstr("row 1: weight -1"));
  b = ThreeClass();
  b.rows = {0, 4};
  EXPECT_THAT(AddError("Accuracy", {}, b).message(), HasSubstr("slice row 4 is outside"));
  b = ThreeClass();
  b.label_width = 2;
  EXPECT_THAT(AddError("Accuracy", {}, b).message(), HasSubstr("label width 2"));
  b = ThreeClass();
  EXPECT_THAT(AddError("Precision", {{"top_k", 4}}, b).message(), HasSubstr("top_k 4 exceeds"));
  EXPECT_THAT(AddError("Precision", {{"class_id", 3}}, b).message(), HasSubstr("class_id 3"));
  EXPECT_THAT(AddError("MeanPrediction", {}, b).message(), HasSubstr("num_outputs 3"));
  EXPECT_THAT(AddError("ConfusionMatrixAtThresholds", {}, b).message(), HasSubstr("class_id"));
  TestBatch bin = Binary();
  bin.labels[3] = 0.5f;
  EXPECT_THAT(AddError("AUC", {}, bin).message(), HasSubstr("row 3: label 0.5 must be 0 or 1"));
  bin.labels.clear();
  EXPECT_THAT(AddError("Recall", {}, bin).message(), HasSubstr("no labels"));

  // A later batch of another width.
  auto acc = Make("AUCPrecisionRecall")->NewAccumulator();
  ASSERT_TRUE(acc->Add(Binary().View()).ok());
  TestBatch wide = ThreeClass();
  EXPECT_FALSE(acc->Add(wide.View()).ok());
  auto cm = Make("MultiClassConfusionMatrixPlot")->NewAccumulator();
  ASSERT_TRUE(cm->Add(Binary().View()).ok());
  EXPECT_THAT(cm->Add(wide.View()).message(), HasSubstr("differs from earlier batches"));
}

}  // namespace
}  // namespace edgepipe::eval
