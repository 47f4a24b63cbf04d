#include "edgepipe/eval/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;

// The config of architecture.md ("The user's side, as in the guide").
constexpr char kGuideConfig[] = R"pb(
  model_specs { label_key: "image_class" model_type: "tf_lite" }
  slicing_specs {}
  metrics_specs {
    metrics {
      class_name: "SparseCategoricalAccuracy"
      threshold { value_threshold { lower_bound { value: 0.8 } } }
    }
  }
)pb";

std::string ErrorOf(std::string_view text) {
  auto r = ParseEvalConfig(text, "cfg.pbtxt");
  EXPECT_FALSE(r.ok()) << "parsed unexpectedly: " << text;
  return r.ok() ? std::string() : r.status().message();
}

TEST(ParseEvalConfig, GuideConfigParses) {
  auto r = ParseEvalConfig(kGuideConfig, "guide");
  ASSERT_TRUE(r.ok()) << r.status();
  const EvalConfig& c = *r;
  ASSERT_EQ(c.model_specs_size(), 1);
  EXPECT_EQ(c.model_specs(0).label_key(), "image_class");
  EXPECT_EQ(NormalizedModelType(c.model_specs(0)), "tf_lite");
  ASSERT_EQ(c.slicing_specs_size(), 1);
  EXPECT_EQ(c.slicing_specs(0).feature_keys_size(), 0);
  ASSERT_EQ(c.metrics_specs_size(), 1);
  const MetricConfig& m = c.metrics_specs(0).metrics(0);
  EXPECT_EQ(m.class_name(), "SparseCategoricalAccuracy");
  ASSERT_TRUE(m.threshold().value_threshold().has_lower_bound());
  EXPECT_DOUBLE_EQ(m.threshold().value_threshold().lower_bound().value(), 0.8);
  EXPECT_FALSE(m.threshold().value_threshold().has_upper_bound());
  EXPECT_EQ(BaselineModelSpec(c), nullptr);
}

TEST(ParseEvalConfig, FullConfigWithEveryFieldParses) {
  constexpr char kText[] = R"pb(
    model_specs {
      name: "candidate"
      model_type: "tf_keras"
      signature_name: "serving_default"
      label_key: "y"
      prediction_key: "p"
      example_weight_key: "w"
    }
    model_specs { name: "baseline" is_baseline: true }
    model_specs { name: "lite" model_type: "tf_lite" }
    slicing_specs {}
    slicing_specs { feature_keys: "island" }
    slicing_specs { feature_values { key: "sex" value: "male" } }
    cross_slicing_specs {
      baseline_spec { feature_keys: "island" }
      slicing_specs { feature_keys: "sex" }
    }
    metrics_specs {
      model_names: "candidate"
      model_names: "lite"
      metrics { class_name: "ExampleCount" }
      metrics { class_name: "SparseCategoricalCrossentropy" config: '"from_logits": true' }
      metrics { class_name: "F1" config: '{"top_k": 3, "average": "macro"}' }
      metrics { class_name: "MultiClassConfusionMatrixPlot" }
      thresholds {
        key: "sparse_categorical_crossentropy"
        value {
          change_threshold {
            direction: LOWER_IS_BETTER
            absolute { value: 0.1 }
          }
        }
      }
      per_slice_thresholds {
        key: "example_count"
        value {
          thresholds {
            slicing_specs { feature_keys: "island" }
            threshold { value_threshold { lower_bound { value: 1 } } }
          }
        }
      }
    }
    options {
      compute_confidence_intervals { value: true }
      confidence_intervals { num_bootstrap_samples: 30 }
      min_slice_size { value: 10 }
    }
  )pb";
  auto r = ParseEvalConfig(kText, "full");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(NormalizedModelType(r->model_specs(0)), "native");
  EXPECT_EQ(NormalizedModelType(r->model_specs(1)), "native");
  ASSERT_NE(BaselineModelSpec(*r), nullptr);
  EXPECT_EQ(BaselineModelSpec(*r)->name(), "baseline");
  EXPECT_EQ(r->options().min_slice_size().value(), 10);
  EXPECT_TRUE(r->options().compute_confidence_intervals().value());
  // Round trip through text.
  auto again = ParseEvalConfig(EvalConfigToText(*r), "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->SerializeAsString(), r->SerializeAsString());
}

TEST(ParseEvalConfig, SyntaxErrorHasSourceLineAndColumn) {
  const std::string msg = ErrorOf("model_specs {\n  label_key: \"y\"\n  is_baseline: maybe\n}\n");
  EXPECT_THAT(msg, HasSubstr("cfg.pbtxt:3:16:"));
  EXPECT_THAT(msg, HasSubstr("maybe"));
}

TEST(ParseEvalConfig, UnknownFieldIsNamedWithPosition) {
  const std::string msg = ErrorOf("model_specs { label_key: \"y\" }\nmetric_specs { }\n");
  EXPECT_THAT(msg, HasSubstr("cfg.pbtxt:2:1:"));
  EXPECT_THAT(msg, HasSubstr("metric_specs"));
}

TEST(ParseEvalConfig, UnknownNestedField) {
  const std::string msg =
      ErrorOf("metrics_specs { metrics { class_name: \"AUC\" module: \"x.y\" } }");
  EXPECT_THAT(msg, HasSubstr("cfg.pbtxt:1:45:"));
  EXPECT_THAT(msg, HasSubstr("\"module\""));
}

TEST(ParseEvalConfig, UnknownMetricNamesItAndListsSupported) {
  const std::string msg = ErrorOf(
      "metrics_specs { metrics { class_name: \"ExampleCount\" } "
      "metrics { class_name: \"BinaryAccuracy\" } }");
  EXPECT_THAT(msg, HasSubstr("metrics_specs[0].metrics[1]"));
  EXPECT_THAT(msg, HasSubstr("\"BinaryAccuracy\""));
  for (const std::string& name : SupportedMetricClassNames()) {
    EXPECT_THAT(msg, HasSubstr(name));
  }
}

TEST(ParseEvalConfig, BadModelType) {
  const std::string msg = ErrorOf("model_specs { model_type: \"tf_js\" }");
  EXPECT_THAT(msg, HasSubstr("model_specs[0]"));
  EXPECT_THAT(msg, HasSubstr("\"tf_js\""));
  EXPECT_THAT(msg, HasSubstr("tf_lite"));
}

TEST(ParseEvalConfig, BadJsonConfig) {
  const std::string msg = ErrorOf(
      "metrics_specs { metrics { class_name: \"SparseCategoricalCrossentropy\" "
      "config: '\"from_logits\": tru' } }");
  EXPECT_THAT(msg, HasSubstr("metrics_specs[0].metrics[0]"));
  EXPECT_THAT(msg, HasSubstr("not valid JSON"));
  EXPECT_THAT(msg, HasSubstr("from_logits"));
}

TEST(ParseEvalConfig, JsonConfigMustBeAnObject) {
  EXPECT_THAT(ErrorOf("metrics_specs { metrics { class_name: \"AUC\" config: '[1, 2]' } }"),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(ErrorOf("metrics_specs { metrics { class_name: \"AUC\" config: '{\"name\": 3}' } }"),
              HasSubstr("\"name\" must be a non-empty string"));
}

TEST(ParseEvalConfig, ModelNamesMustNameModelSpecs) {
  const std::string msg = ErrorOf(
      "model_specs { name: \"a\" } model_specs { name: \"b\" }"
      "metrics_specs { model_names: \"a\" model_names: \"c\" metrics { class_name: \"AUC\" } }");
  EXPECT_THAT(msg, HasSubstr("metrics_specs[0].model_names[1]"));
  EXPECT_THAT(msg, HasSubstr("\"c\""));
  EXPECT_THAT(msg, HasSubstr("\"a\", \"b\""));
}

TEST(ParseEvalConfig, AtMostOneBaseline) {
  EXPECT_THAT(ErrorOf("model_specs { name: \"a\" is_baseline: true } "
                      "model_specs { name: \"b\" is_baseline: true } model_specs { name: \"c\" }"),
              HasSubstr("at most one"));
  EXPECT_THAT(ErrorOf("model_specs { name: \"a\" is_baseline: true }"),
              HasSubstr("only model is the baseline"));
}

TEST(ParseEvalConfig, DuplicateAndMissingModelNames) {
  EXPECT_THAT(ErrorOf("model_specs { name: \"a\" } model_specs { name: \"a\" }"),
              HasSubstr("model_specs[1]: duplicate model name \"a\""));
  EXPECT_THAT(ErrorOf("model_specs { name: \"a\" } model_specs { }"),
              HasSubstr("model_specs[1]: name is empty"));
}

TEST(ParseEvalConfig, ChangeThresholdNeedsDirection) {
  EXPECT_THAT(ErrorOf("metrics_specs { metrics { class_name: \"AUC\" threshold { "
                      "change_threshold { absolute { value: 0.1 } } } } }"),
              HasSubstr("metrics_specs[0].metrics[0].threshold.change_threshold: direction is "
                        "UNKNOWN"));
  EXPECT_THAT(ErrorOf("metrics_specs { metrics { class_name: \"AUC\" } thresholds { key: \"auc\" "
                      "value { change_threshold { relative { value: 0.1 } } } } }"),
              HasSubstr("thresholds[\"auc\"].change_threshold: direction is UNKNOWN"));
  EXPECT_THAT(
      ErrorOf("metrics_specs { metrics { class_name: \"AUC\" per_slice_thresholds { "
              "slicing_specs {} threshold { change_threshold { direction: UNKNOWN } } } } }"),
      HasSubstr("per_slice_thresholds[0].threshold.change_threshold: direction is UNKNOWN"));
}

TEST(ParseEvalConfig, ValueThresholdBoundsOrdered) {
  EXPECT_THAT(ErrorOf("metrics_specs { metrics { class_name: \"AUC\" threshold { value_threshold {"
                      " lower_bound { value: 0.9 } upper_bound { value: 0.5 } } } } }"),
              HasSubstr("lower_bound 0.9"));
}

TEST(ParseEvalConfig, ThresholdsKeyMustNameAMetricOfTheSpec) {
  const std::string msg = ErrorOf(
      "metrics_specs { metrics { class_name: \"AUC\" } metrics { class_name: \"Precision\" } "
      "thresholds { key: \"accuracy\" value { value_threshold { lower_bound { value: 0.5 } } } } "
      "}");
  EXPECT_THAT(msg, HasSubstr("thresholds[\"accuracy\"]"));
  EXPECT_THAT(msg, HasSubstr("auc, precision"));
  // A custom metric name from the config is a valid key.
  auto ok = ParseEvalConfig(
      "metrics_specs { metrics { class_name: \"AUC\" config: '\"name\": \"my_auc\"' } "
      "thresholds { key: \"my_auc\" value { value_threshold { lower_bound { value: 0.5 } } } } }",
      "cfg");
  EXPECT_TRUE(ok.ok()) << ok.status();
}

TEST(ParseEvalConfig, NoThresholdOnPlots) {
  EXPECT_THAT(ErrorOf("metrics_specs { metrics { class_name: \"CalibrationPlot\" threshold { "
                      "value_threshold { lower_bound { value: 0 } } } } }"),
              HasSubstr("CalibrationPlot is a plot"));
}

TEST(ParseEvalConfig, NegativeOptionsAndEmptyFeatureNames) {
  EXPECT_THAT(ErrorOf("options { min_slice_size { value: -1 } }"),
              HasSubstr("options.min_slice_size: -1 is negative"));
  EXPECT_THAT(ErrorOf("options { confidence_intervals { num_bootstrap_samples: -5 } }"),
              HasSubstr("num_bootstrap_samples: -5 is negative"));
  EXPECT_THAT(ErrorOf("slicing_specs { feature_keys: \"\" }"),
              HasSubstr("slicing_specs[0].feature_keys[0]: feature name is empty"));
  EXPECT_THAT(ErrorOf("cross_slicing_specs { baseline_spec { feature_keys: \"a\" } }"),
              HasSubstr("cross_slicing_specs[0]: slicing_specs is empty"));
}

TEST(ParseEvalConfig, ErrorsArePrefixedBySource) {
  auto r = ParseEvalConfig("model_specs { model_type: \"onnx\" }", "my/eval.pbtxt");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("my/eval.pbtxt: model_specs[0]", 0), 0u)
      << r.status().message();
}

TEST(MetricConfigJson, WithAndWithoutBraces) {
  MetricConfig m;
  m.set_class_name("SparseCategoricalCrossentropy");
  auto empty = MetricConfigJson(m);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->is_object());
  EXPECT_TRUE(empty->empty());

  m.set_config("  \"from_logits\": true, \"top_k\": 3 ");
  auto bare = MetricConfigJson(m);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ((*bare)["from_logits"], true);
  EXPECT_EQ((*bare)["top_k"], 3);

  m.set_config(" {\"from_logits\": false} ");
  auto braced = MetricConfigJson(m);
  ASSERT_TRUE(braced.ok()) << braced.status();
  EXPECT_EQ((*braced)["from_logits"], false);
  EXPECT_EQ(braced->size(), 1u);
}

TEST(MetricNames, OutputNamesOfEverySupportedClass) {
  EXPECT_EQ(MetricOutputName("ExampleCount"), "example_count");
  EXPECT_EQ(MetricOutputName("WeightedExampleCount"), "weighted_example_count");
  EXPECT_EQ(MetricOutputName("SparseCategoricalAccuracy"), "sparse_categorical_accuracy");
  EXPECT_EQ(MetricOutputName("Accuracy"), "accuracy");
  EXPECT_EQ(MetricOutputName("SparseCategoricalCrossentropy"), "sparse_categorical_crossentropy");
  EXPECT_EQ(MetricOutputName("CategoricalCrossentropy"), "categorical_crossentropy");
  EXPECT_EQ(MetricOutputName("BinaryCrossentropy"), "binary_crossentropy");
  EXPECT_EQ(MetricOutputName("Precision"), "precision");
  EXPECT_EQ(MetricOutputName("Recall"), "recall");
  EXPECT_EQ(MetricOutputName("F1Score"), "f1_score");
  EXPECT_EQ(MetricOutputName("F1"), "f1_score");
  EXPECT_EQ(MetricOutputName("AUC"), "auc");
  EXPECT_EQ(MetricOutputName("AUCPrecisionRecall"), "auc_precision_recall");
  EXPECT_EQ(MetricOutputName("MeanLabel"), "mean_label");
  EXPECT_EQ(MetricOutputName("MeanPrediction"), "mean_prediction");
  EXPECT_EQ(MetricOutputName("Calibration"), "calibration");
  EXPECT_EQ(MetricOutputName("FlipRate"), "flip_rate");
  EXPECT_EQ(MetricOutputName("MaxAbsPredictionDiff"), "max_abs_prediction_diff");
  EXPECT_EQ(MetricOutputName("MeanAbsPredictionDiff"), "mean_abs_prediction_diff");
  // Generic mapping for names outside the list.
  EXPECT_EQ(MetricOutputName("MeanSquaredError"), "mean_squared_error");
  EXPECT_EQ(MetricOutputName("AUCCurve2D"), "auc_curve2_d");
}

TEST(MetricNames, SupportedListAndPlots) {
  const auto& names = SupportedMetricClassNames();
  EXPECT_EQ(names.size(), 21u);
  for (const std::string& n : names) EXPECT_TRUE(IsSupportedMetricClassName(n)) << n;
  EXPECT_TRUE(IsSupportedMetricClassName("F1"));
  EXPECT_FALSE(IsSupportedMetricClassName("f1_score"));
  EXPECT_TRUE(IsPlotMetricClassName("MultiClassConfusionMatrixPlot"));
  EXPECT_TRUE(IsPlotMetricClassName("ConfusionMatrixAtThresholds"));
  EXPECT_TRUE(IsPlotMetricClassName("CalibrationPlot"));
  EXPECT_FALSE(IsPlotMetricClassName("Calibration"));
  MetricConfig named;
  named.set_class_name("AUC");
  named.set_config("\"name\": \"auc_roc\", \"num_thresholds\": 100");
  auto n = MetricConfigOutputName(named);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, "auc_roc");
}

TEST(ReadEvalConfig, ReadsFileAndReportsIoErrors) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string path = tmp.Join("eval_config.pbtxt");
  ASSERT_TRUE(WriteFileAtomic(path, kGuideConfig).ok());
  auto r = ReadEvalConfig(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->model_specs(0).label_key(), "image_class");

  FaultEnv env;
  env.FailNth(FaultEnv::Op::kRead, 1);
  auto failed = ReadEvalConfig(path, &env);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("injected"));

  auto missing = ReadEvalConfig(tmp.Join("nope.pbtxt"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nope.pbtxt"));

  ASSERT_TRUE(WriteFileAtomic(path, "model_specs { model_type: \"x\" }").ok());
  auto bad = ReadEvalConfig(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr(path + ": model_specs[0]"));
}

}  // namespace
}  // namespace edgepipe::eval
