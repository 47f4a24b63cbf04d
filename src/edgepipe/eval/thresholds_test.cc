#include "edgepipe/eval/thresholds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "edgepipe/eval/config.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;

EvalConfig Config(std::string_view text) {
  auto r = ParseEvalConfig(text, "test");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : EvalConfig();
}

SliceKey Key(std::vector<std::pair<std::string, std::string>> f) { return SliceKey{std::move(f)}; }

// A slice with `metric` = values[i] for models[i].
SliceResult Slice(SliceKey key, const std::string& metric,
                  const std::vector<std::pair<std::string, double>>& values) {
  SliceResult s;
  s.slice = std::move(key);
  s.example_count = 100;
  for (const auto& [model, v] : values) s.metrics[MetricKey{metric, model, "", false}].value = v;
  return s;
}

std::vector<ModelInfo> Models(std::vector<std::string> names, const std::string& baseline = "") {
  std::vector<ModelInfo> out;
  for (auto& n : names) {
    ModelInfo m;
    m.name = n;
    m.model_type = "native";
    m.is_baseline = !baseline.empty() && n == baseline;
    out.push_back(m);
  }
  return out;
}

ValidationResult Check(const EvalConfig& c, const std::vector<SliceResult>& slices,
                       const std::vector<ModelInfo>& models) {
  auto r = Validate(c, slices, models);
  EXPECT_TRUE(r.ok()) << r.status();
  if (r.ok()) return *r;
  ValidationResult failed;
  failed.ok = false;
  return failed;
}

constexpr char kValueConfig[] = R"pb(
  metrics_specs {
    metrics {
      class_name: "SparseCategoricalAccuracy"
      threshold {
        value_threshold {
          lower_bound { value: 0.8 }
          upper_bound { value: 0.99 }
        }
      }
    }
  }
)pb";

TEST(Validate, ValueThresholdInclusiveBounds) {
  const EvalConfig c = Config(kValueConfig);
  for (double v : {0.8, 0.9, 0.99}) {
    auto r = Check(c, {Slice(Key({}), "sparse_categorical_accuracy", {{"", v}})}, Models({""}));
    EXPECT_TRUE(r.ok) << v;
    EXPECT_TRUE(r.failures.empty());
  }
}

TEST(Validate, ValueThresholdBelowLowerBoundFails) {
  const EvalConfig c = Config(kValueConfig);
  auto r = Check(c, {Slice(Key({}), "sparse_categorical_accuracy", {{"", 0.75}})}, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  const ValidationFailure& f = r.failures[0];
  EXPECT_TRUE(f.slice.overall());
  EXPECT_EQ(f.metric.name, "sparse_categorical_accuracy");
  EXPECT_EQ(f.threshold, "lower_bound: 0.8, upper_bound: 0.99");
  EXPECT_DOUBLE_EQ(f.value, 0.75);
  EXPECT_THAT(f.message, HasSubstr("is 0.75, below lower_bound 0.8"));
  EXPECT_THAT(f.message, HasSubstr("Overall"));
}

TEST(Validate, ValueThresholdAboveUpperBoundFails) {
  const EvalConfig c = Config(kValueConfig);
  auto r = Check(c, {Slice(Key({}), "sparse_categorical_accuracy", {{"", 0.995}})}, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_THAT(r.failures[0].message, HasSubstr("above upper_bound 0.99"));
}

TEST(Validate, NaNFailsEveryThreshold) {
  const EvalConfig c = Config(kValueConfig);
  auto r = Check(c,
                 {Slice(Key({}), "sparse_categorical_accuracy",
                        {{"", std::numeric_limits<double>::quiet_NaN()}})},
                 Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_TRUE(std::isnan(r.failures[0].value));
  EXPECT_THAT(r.failures[0].message, HasSubstr("NaN"));
}

TEST(Validate, EverySubKeyIsChecked) {
  const EvalConfig c = Config(
      "metrics_specs { metrics { class_name: \"Precision\" config: '\"top_k\": 1' "
      "threshold { value_threshold { lower_bound { value: 0.5 } } } } }");
  SliceResult s;
  s.metrics[MetricKey{"precision", "", "class:0", false}].value = 0.9;
  s.metrics[MetricKey{"precision", "", "class:1", false}].value = 0.4;
  auto r = Check(c, {s}, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].metric.sub_key, "class:1");
  EXPECT_THAT(r.failures[0].message, HasSubstr("precision (class:1)"));
}

constexpr char kChangeConfig[] = R"pb(
  model_specs { name: "candidate" }
  model_specs { name: "baseline" is_baseline: true }
  metrics_specs {
    metrics {
      class_name: "SparseCategoricalAccuracy"
      threshold {
        change_threshold {
          direction: HIGHER_IS_BETTER
          absolute { value: -0.01 }
          relative { value: -0.02 }
        }
      }
    }
    metrics {
      class_name: "SparseCategoricalCrossentropy"
      threshold {
        change_threshold {
          direction: LOWER_IS_BETTER
          absolute { value: 0.05 }
        }
      }
    }
  }
)pb";

std::vector<SliceResult> ChangeSlices(double acc_c, double acc_b, double loss_c, double loss_b) {
  SliceResult s =
      Slice(Key({}), "sparse_categorical_accuracy", {{"candidate", acc_c}, {"baseline", acc_b}});
  s.metrics[MetricKey{"sparse_categorical_crossentropy", "candidate", "", false}].value = loss_c;
  s.metrics[MetricKey{"sparse_categorical_crossentropy", "baseline", "", false}].value = loss_b;
  return {s};
}

TEST(Validate, ChangeThresholdsPassWithinBounds) {
  const EvalConfig c = Config(kChangeConfig);
  const auto models = Models({"candidate", "baseline"}, "baseline");
  // Accuracy 0.90 -> 0.895: change -0.005 >= -0.01, relative -0.0056 >= -0.02.
  // Loss 0.30 -> 0.35: change 0.05 <= 0.05 (inclusive).
  auto r = Check(c, ChangeSlices(0.895, 0.90, 0.35, 0.30), models);
  EXPECT_TRUE(r.ok);
  EXPECT_TRUE(r.failures.empty());
  EXPECT_TRUE(r.notes.empty());
}

TEST(Validate, HigherIsBetterAbsoluteFails) {
  const EvalConfig c = Config(kChangeConfig);
  const auto models = Models({"candidate", "baseline"}, "baseline");
  // change -0.015 < -0.01; relative -0.01667 >= -0.02 still passes.
  auto r = Check(c, ChangeSlices(0.885, 0.90, 0.30, 0.30), models);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  const ValidationFailure& f = r.failures[0];
  EXPECT_EQ(f.metric.name, "sparse_categorical_accuracy");
  EXPECT_EQ(f.metric.model_name, "candidate");
  EXPECT_TRUE(f.metric.is_diff);
  EXPECT_NEAR(f.value, -0.015, 1e-12);
  EXPECT_EQ(f.threshold, "change HIGHER_IS_BETTER: absolute: -0.01, relative: -0.02");
  EXPECT_THAT(f.message, HasSubstr("absolute change must be >= -0.01"));
  EXPECT_THAT(f.message, ::testing::Not(HasSubstr("relative change")));
}

TEST(Validate, HigherIsBetterRelativeFails) {
  const EvalConfig c = Config(R"pb(
    model_specs { name: "candidate" }
    model_specs { name: "baseline" is_baseline: true }
    metrics_specs {
      metrics {
        class_name: "AUC"
        threshold {
          change_threshold {
            direction: HIGHER_IS_BETTER
            relative { value: 0.1 }
          }
        }
      }
    }
  )pb");
  const auto models = Models({"candidate", "baseline"}, "baseline");
  // relative (0.55 - 0.5) / 0.5 = 0.1 passes (inclusive); 0.54 gives 0.08.
  EXPECT_TRUE(
      Check(c, {Slice(Key({}), "auc", {{"candidate", 0.55}, {"baseline", 0.5}})}, models).ok);
  auto r = Check(c, {Slice(Key({}), "auc", {{"candidate", 0.54}, {"baseline", 0.5}})}, models);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_THAT(r.failures[0].message, HasSubstr("relative change 0.08 must be >= 0.1"));
  // A baseline of 0 makes the ratio undefined: it fails.
  auto zero = Check(c, {Slice(Key({}), "auc", {{"candidate", 0.1}, {"baseline", 0}})}, models);
  EXPECT_FALSE(zero.ok);
  ASSERT_EQ(zero.failures.size(), 1u);
  EXPECT_THAT(zero.failures[0].message, HasSubstr("baseline of 0"));
}

TEST(Validate, LowerIsBetterFails) {
  const EvalConfig c = Config(kChangeConfig);
  const auto models = Models({"candidate", "baseline"}, "baseline");
  auto r = Check(c, ChangeSlices(0.90, 0.90, 0.36, 0.30), models);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].metric.name, "sparse_categorical_crossentropy");
  EXPECT_NEAR(r.failures[0].value, 0.06, 1e-12);
  EXPECT_THAT(r.failures[0].message, HasSubstr("LOWER_IS_BETTER"));
  EXPECT_THAT(r.failures[0].message, HasSubstr("absolute change must be <= 0.05"));
}

TEST(Validate, NoBaselineSkipsChangeThresholdsWithANote) {
  const EvalConfig c = Config(R"pb(
    metrics_specs {
      metrics {
        class_name: "AUC"
        threshold {
          value_threshold { lower_bound { value: 0.7 } }
          change_threshold {
            direction: HIGHER_IS_BETTER
            absolute { value: 0.5 }
          }
        }
      }
    }
  )pb");
  auto r = Check(c, {Slice(Key({}), "auc", {{"", 0.75}})}, Models({""}));
  EXPECT_TRUE(r.ok);
  ASSERT_EQ(r.notes.size(), 1u);
  EXPECT_THAT(r.notes[0], HasSubstr("no baseline"));
  // The value threshold is still checked.
  auto bad = Check(c, {Slice(Key({}), "auc", {{"", 0.6}})}, Models({""}));
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.failures.size(), 1u);
}

TEST(Validate, AppliesToNamedModelsOrAllCandidates) {
  const EvalConfig all = Config(R"pb(
    model_specs { name: "full" }
    model_specs { name: "lite" model_type: "tf_lite" }
    model_specs { name: "old" is_baseline: true }
    metrics_specs {
      metrics {
        class_name: "AUC"
        threshold { value_threshold { lower_bound { value: 0.7 } } }
      }
    }
  )pb");
  const auto models = Models({"full", "lite", "old"}, "old");
  const auto slices = std::vector<SliceResult>{
      Slice(Key({}), "auc", {{"full", 0.6}, {"lite", 0.65}, {"old", 0.1}})};
  auto r = Check(all, slices, models);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 2u);  // full and lite; not the baseline
  EXPECT_EQ(r.failures[0].metric.model_name, "full");
  EXPECT_EQ(r.failures[1].metric.model_name, "lite");

  const EvalConfig named = Config(R"pb(
    model_specs { name: "full" }
    model_specs { name: "lite" model_type: "tf_lite" }
    model_specs { name: "old" is_baseline: true }
    metrics_specs {
      model_names: "lite"
      metrics {
        class_name: "AUC"
        threshold { value_threshold { lower_bound { value: 0.7 } } }
      }
    }
  )pb");
  auto n = Check(named, slices, models);
  ASSERT_EQ(n.failures.size(), 1u);
  EXPECT_EQ(n.failures[0].metric.model_name, "lite");
  EXPECT_THAT(n.failures[0].message, HasSubstr("model \"lite\""));
}

TEST(Validate, SpecThresholdsMapAppliesToOverallOnly) {
  const EvalConfig c = Config(R"pb(
    metrics_specs {
      metrics { class_name: "ExampleCount" }
      metrics { class_name: "Accuracy" }
      thresholds {
        key: "accuracy"
        value { value_threshold { lower_bound { value: 0.5 } } }
      }
    }
  )pb");
  std::vector<SliceResult> slices = {Slice(Key({}), "accuracy", {{"", 0.6}}),
                                     Slice(Key({{"sex", "male"}}), "accuracy", {{"", 0.1}})};
  EXPECT_TRUE(Check(c, slices, Models({""})).ok);  // the low slice is not checked
  slices[0].metrics.begin()->second.value = 0.4;
  auto r = Check(c, slices, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_TRUE(r.failures[0].slice.overall());
}

TEST(Validate, PerSliceThresholdsMatchSlices) {
  const EvalConfig c = Config(R"pb(
    metrics_specs {
      metrics {
        class_name: "Accuracy"
        per_slice_thresholds {
          slicing_specs { feature_keys: "island" }
          threshold { value_threshold { lower_bound { value: 0.5 } } }
        }
      }
      metrics { class_name: "ExampleCount" }
      per_slice_thresholds {
        key: "example_count"
        value {
          thresholds {
            slicing_specs { feature_values { key: "sex" value: "1" } }
            threshold { value_threshold { lower_bound { value: 50 } } }
          }
        }
      }
    }
  )pb");
  std::vector<SliceResult> slices = {
      Slice(Key({}), "accuracy", {{"", 0.1}}),  // overall: not named by the specs
      Slice(Key({{"island", "Biscoe"}}), "accuracy", {{"", 0.7}}),
      Slice(Key({{"island", "Dream"}}), "accuracy", {{"", 0.3}}),
      Slice(Key({{"sex", "1.0"}}), "example_count", {{"", 40}}),  // numeric match of "1"
      Slice(Key({{"sex", "2"}}), "example_count", {{"", 10}}),
  };
  auto r = Check(c, slices, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_EQ(r.failures[0].slice.ToString(), "island:Dream");
  EXPECT_EQ(r.failures[0].metric.name, "accuracy");
  EXPECT_DOUBLE_EQ(r.failures[0].value, 0.3);
  EXPECT_EQ(r.failures[1].slice.ToString(), "sex:1.0");
  EXPECT_DOUBLE_EQ(r.failures[1].value, 40);
  EXPECT_TRUE(r.missing_slices.empty());
}

TEST(Validate, PerSliceChangeThreshold) {
  const EvalConfig c = Config(R"pb(
    model_specs { name: "new" }
    model_specs { name: "old" is_baseline: true }
    metrics_specs {
      metrics {
        class_name: "Accuracy"
        per_slice_thresholds {
          slicing_specs { feature_values { key: "island" value: "Dream" } }
          threshold {
            change_threshold {
              direction: HIGHER_IS_BETTER
              absolute { value: 0 }
            }
          }
        }
      }
    }
  )pb");
  const auto models = Models({"new", "old"}, "old");
  std::vector<SliceResult> slices = {
      Slice(Key({{"island", "Biscoe"}}), "accuracy", {{"new", 0.1}, {"old", 0.9}}),
      Slice(Key({{"island", "Dream"}}), "accuracy", {{"new", 0.8}, {"old", 0.7}})};
  EXPECT_TRUE(Check(c, slices, models).ok);
  slices[1].metrics[MetricKey{"accuracy", "new", "", false}].value = 0.6;
  auto r = Check(c, slices, models);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].slice.ToString(), "island:Dream");
}

TEST(Validate, ThresholdOnMissingSliceFails) {
  const EvalConfig c = Config(R"pb(
    metrics_specs {
      metrics {
        class_name: "Accuracy"
        per_slice_thresholds {
          slicing_specs { feature_values { key: "island" value: "Torgersen" } }
          slicing_specs { feature_keys: "sex" }
          threshold { value_threshold { lower_bound { value: 0.5 } } }
        }
      }
    }
  )pb");
  std::vector<SliceResult> slices = {Slice(Key({}), "accuracy", {{"", 0.9}}),
                                     Slice(Key({{"island", "Biscoe"}}), "accuracy", {{"", 0.9}})};
  auto r = Check(c, slices, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.missing_slices.size(), 2u);
  EXPECT_EQ(r.missing_slices[0].ToString(), "island:Torgersen");
  EXPECT_EQ(r.missing_slices[1].ToString(), "sex:*");
  ASSERT_EQ(r.failures.size(), 2u);
  EXPECT_TRUE(std::isnan(r.failures[0].value));
  EXPECT_THAT(r.failures[0].message, HasSubstr("no results"));
  EXPECT_FALSE(r.notes.empty());
}

TEST(Validate, ThresholdOnMetricNotComputedIsAnError) {
  const EvalConfig c = Config(R"pb(
    metrics_specs {
      metrics {
        class_name: "AUC"
        threshold { value_threshold { lower_bound { value: 0.5 } } }
      }
    }
  )pb");
  auto r = Validate(c, {Slice(Key({}), "example_count", {{"", 10}})}, Models({""}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("metrics_specs[0].metrics[0].threshold"));
  EXPECT_THAT(r.status().message(), HasSubstr("\"auc\""));
  EXPECT_THAT(r.status().message(), HasSubstr("not computed"));
  EXPECT_THAT(r.status().message(), HasSubstr("computed metrics: example_count"));
}

TEST(Validate, ChangeThresholdWithoutBaselineValueIsAnError) {
  const EvalConfig c = Config(kChangeConfig);
  SliceResult s =
      Slice(Key({}), "sparse_categorical_accuracy", {{"candidate", 0.9}, {"baseline", 0.9}});
  s.metrics[MetricKey{"sparse_categorical_crossentropy", "candidate", "", false}].value = 0.3;
  auto r = Validate(c, {s}, Models({"candidate", "baseline"}, "baseline"));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("not computed for baseline model \"baseline\""));
}

TEST(Validate, UnknownModelNameIsAnError) {
  const EvalConfig c = Config(R"pb(
    model_specs { name: "a" }
    model_specs { name: "b" }
    metrics_specs {
      model_names: "b"
      metrics { class_name: "AUC" }
    }
  )pb");
  auto r = Validate(c, {}, Models({"a"}));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("\"b\" is not one of the evaluated models"));
}

TEST(Validate, ModelDiffThresholdsSkipTheReferenceModel) {
  const EvalConfig c = Config(R"pb(
    model_specs { name: "full" }
    model_specs { name: "lite" model_type: "tf_lite" }
    metrics_specs {
      metrics {
        class_name: "FlipRate"
        threshold { value_threshold { upper_bound { value: 0.01 } } }
      }
    }
  )pb");
  const auto models = Models({"full", "lite"});
  EXPECT_TRUE(Check(c, {Slice(Key({}), "flip_rate", {{"lite", 0.005}})}, models).ok);
  auto r = Check(c, {Slice(Key({}), "flip_rate", {{"lite", 0.02}})}, models);
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].metric.model_name, "lite");
}

TEST(Validate, SlicesUnderMinSliceSizeAreMissing) {
  const EvalConfig c = Config(R"pb(
    metrics_specs {
      metrics {
        class_name: "Accuracy"
        per_slice_thresholds {
          slicing_specs { feature_keys: "island" }
          threshold { value_threshold { lower_bound { value: 0.5 } } }
        }
      }
    }
    options { min_slice_size { value: 50 } }
  )pb");
  SliceResult small = Slice(Key({{"island", "Dream"}}), "accuracy", {{"", 0.1}});
  small.example_count = 49;
  auto r = Check(c, {small}, Models({""}));
  EXPECT_FALSE(r.ok);
  ASSERT_EQ(r.missing_slices.size(), 1u);
  EXPECT_EQ(r.missing_slices[0].ToString(), "island:*");
  small.example_count = 50;
  auto counted = Check(c, {small}, Models({""}));
  EXPECT_TRUE(counted.missing_slices.empty());
  ASSERT_EQ(counted.failures.size(), 1u);
  EXPECT_DOUBLE_EQ(counted.failures[0].value, 0.1);
}

TEST(Validate, ThresholdsWithoutModelsIsAnError) {
  const EvalConfig c = Config(kValueConfig);
  auto r = Validate(c, {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("no model"));
}

TEST(SliceMatches, ExactFeatureSet) {
  SlicingSpec overall;
  EXPECT_TRUE(SliceMatches(overall, Key({})));
  EXPECT_FALSE(SliceMatches(overall, Key({{"a", "1"}})));
  SlicingSpec keys;
  keys.add_feature_keys("a");
  EXPECT_TRUE(SliceMatches(keys, Key({{"a", "x"}})));
  EXPECT_FALSE(SliceMatches(keys, Key({})));
  EXPECT_FALSE(SliceMatches(keys, Key({{"a", "x"}, {"b", "y"}})));
  SlicingSpec mixed;
  mixed.add_feature_keys("a");
  (*mixed.mutable_feature_values())["b"] = "2";
  EXPECT_TRUE(SliceMatches(mixed, Key({{"a", "x"}, {"b", "2"}})));
  EXPECT_TRUE(SliceMatches(mixed, Key({{"b", "2.0"}, {"a", "x"}})));
  EXPECT_FALSE(SliceMatches(mixed, Key({{"a", "x"}, {"b", "3"}})));
  EXPECT_FALSE(SliceMatches(mixed, Key({{"a", "x"}, {"b", "2x"}})));
  EXPECT_EQ(SlicingSpecToSliceKey(mixed).ToString(), "a:*;b:2");
}

}  // namespace
}  // namespace edgepipe::eval
