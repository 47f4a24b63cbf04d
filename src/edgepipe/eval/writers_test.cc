#include "edgepipe/eval/writers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

EvalResult SampleResult() {
  EvalResult r;
  ModelInfo full{"full", "native", "/m/full", 123456, 1.25, 256, false};
  ModelInfo lite{"lite", "tf_lite", "/m/full/tflite", 31337, 0.5, 256, false};
  ModelInfo base{"base", "native", "/m/old", 120000, 1.5, 256, true};
  r.models = {full, lite, base};

  SliceResult overall;
  overall.example_count = 1000;
  overall.metrics[{"sparse_categorical_accuracy", "full", "", false}] = {
      0.9125, ConfidenceInterval{0.9, 0.925, 0.00625}};
  overall.metrics[{"sparse_categorical_accuracy", "lite", "", false}] = {0.91, std::nullopt};
  overall.metrics[{"sparse_categorical_accuracy", "base", "", false}] = {0.85, std::nullopt};
  overall.metrics[{"sparse_categorical_accuracy", "full", "", true}] = {0.0625, std::nullopt};
  overall.metrics[{"precision", "full", "", false}] = {0.75, std::nullopt};
  overall.metrics[{"precision", "full", "class:0", false}] = {kNaN, std::nullopt};
  overall.metrics[{"precision", "full", "class:1", false}] = {0.5, std::nullopt};
  overall.metrics[{"recall", "full", "top_k:2", false}] = {0.25, std::nullopt};
  overall.metrics[{"flip_rate", "lite", "", false}] = {0.001, std::nullopt};
  Plots p;
  p.multi_class_confusion = ConfusionMatrix{2, {5, 1, 2, 7.5}};
  p.confusion_at_thresholds = {{0.5, 3, 1, 4, 2, 0.75, 0.6}, {0.9, 0, 0, 5, 5, kNaN, 0}};
  p.calibration = {{0, 0.5, 10, 2, 2.5}, {0.5, 1, 4, 3, 3.25}};
  overall.plots["full"] = p;
  overall.plots["lite"] = Plots{};
  r.slices.push_back(overall);

  SliceResult island;
  island.slice.features = {{"island", "Biscoe"}, {"sex", "male"}};
  island.example_count = 42;
  island.metrics[{"sparse_categorical_accuracy", "full", "", false}] = {1.0 / 3, std::nullopt};
  r.slices.push_back(island);

  r.validation.ok = false;
  ValidationFailure f;
  f.slice = island.slice;
  f.metric = {"sparse_categorical_accuracy", "lite", "", true};
  f.threshold = "change HIGHER_IS_BETTER: absolute: -0.01";
  f.value = -0.02;
  f.message = "sparse_categorical_accuracy of model \"lite\" fell";
  r.validation.failures.push_back(f);
  ValidationFailure missing;
  missing.slice.features = {{"island", "Dream"}};
  missing.metric = {"accuracy", "full", "", false};
  missing.threshold = "lower_bound: 0.5";
  missing.value = kNaN;
  missing.message = "no results";
  r.validation.failures.push_back(missing);
  r.validation.notes = {"a note", "another"};
  r.validation.missing_slices = {missing.slice};
  r.eval_config_text = "model_specs {\n  name: \"full\"\n}\n";
  r.num_examples = 1000;
  r.seconds = 0.125;
  return r;
}

bool SameDouble(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

void ExpectSameMetrics(const MetricMap& a, const MetricMap& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [key, value] : a) {
    auto it = b.find(key);
    ASSERT_NE(it, b.end()) << key.name << " " << key.model_name << " " << key.sub_key;
    EXPECT_TRUE(SameDouble(value.value, it->second.value)) << key.name << " " << key.sub_key;
    ASSERT_EQ(value.ci.has_value(), it->second.ci.has_value()) << key.name;
    if (value.ci) {
      EXPECT_EQ(value.ci->lower, it->second.ci->lower);
      EXPECT_EQ(value.ci->upper, it->second.ci->upper);
      EXPECT_EQ(value.ci->std_error, it->second.ci->std_error);
    }
  }
}

void ExpectSamePlots(const Plots& a, const Plots& b) {
  ASSERT_EQ(a.multi_class_confusion.has_value(), b.multi_class_confusion.has_value());
  if (a.multi_class_confusion) {
    EXPECT_EQ(a.multi_class_confusion->num_classes, b.multi_class_confusion->num_classes);
    EXPECT_EQ(a.multi_class_confusion->counts, b.multi_class_confusion->counts);
  }
  ASSERT_EQ(a.confusion_at_thresholds.size(), b.confusion_at_thresholds.size());
  for (size_t i = 0; i < a.confusion_at_thresholds.size(); ++i) {
    const auto& x = a.confusion_at_thresholds[i];
    const auto& y = b.confusion_at_thresholds[i];
    EXPECT_EQ(x.threshold, y.threshold);
    EXPECT_EQ(x.tp, y.tp);
    EXPECT_EQ(x.fp, y.fp);
    EXPECT_EQ(x.tn, y.tn);
    EXPECT_EQ(x.fn, y.fn);
    EXPECT_TRUE(SameDouble(x.precision, y.precision));
    EXPECT_TRUE(SameDouble(x.recall, y.recall));
  }
  ASSERT_EQ(a.calibration.size(), b.calibration.size());
  for (size_t i = 0; i < a.calibration.size(); ++i) {
    EXPECT_EQ(a.calibration[i].lower, b.calibration[i].lower);
    EXPECT_EQ(a.calibration[i].upper, b.calibration[i].upper);
    EXPECT_EQ(a.calibration[i].weight, b.calibration[i].weight);
    EXPECT_EQ(a.calibration[i].sum_label, b.calibration[i].sum_label);
    EXPECT_EQ(a.calibration[i].sum_prediction, b.calibration[i].sum_prediction);
  }
}

TEST(WriteEvalResult, RoundTrip) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string dir = tmp.Join("eval/out");
  const EvalResult in = SampleResult();
  Status s = WriteEvalResult(in, dir);
  ASSERT_TRUE(s.ok()) << s;
  auto names = Env::Default()->ListDir(dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"eval_config.pbtxt", "metrics.json", "plots.json",
                                              "validations.json"}));

  auto out = ReadEvalResult(dir);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->num_examples, in.num_examples);
  EXPECT_EQ(out->seconds, in.seconds);
  EXPECT_EQ(out->eval_config_text, in.eval_config_text);
  ASSERT_EQ(out->models.size(), in.models.size());
  for (size_t i = 0; i < in.models.size(); ++i) {
    EXPECT_EQ(out->models[i].name, in.models[i].name);
    EXPECT_EQ(out->models[i].model_type, in.models[i].model_type);
    EXPECT_EQ(out->models[i].path, in.models[i].path);
    EXPECT_EQ(out->models[i].size_bytes, in.models[i].size_bytes);
    EXPECT_EQ(out->models[i].latency_ms, in.models[i].latency_ms);
    EXPECT_EQ(out->models[i].latency_batch, in.models[i].latency_batch);
    EXPECT_EQ(out->models[i].is_baseline, in.models[i].is_baseline);
  }
  ASSERT_EQ(out->slices.size(), in.slices.size());
  for (size_t i = 0; i < in.slices.size(); ++i) {
    SCOPED_TRACE(in.slices[i].slice.ToString());
    EXPECT_EQ(out->slices[i].slice, in.slices[i].slice);
    EXPECT_EQ(out->slices[i].example_count, in.slices[i].example_count);
    ExpectSameMetrics(in.slices[i].metrics, out->slices[i].metrics);
    ASSERT_EQ(out->slices[i].plots.size(), in.slices[i].plots.size());
    for (const auto& [model, plots] : in.slices[i].plots) {
      ASSERT_TRUE(out->slices[i].plots.count(model)) << model;
      ExpectSamePlots(plots, out->slices[i].plots.at(model));
    }
  }
  const ValidationResult& v = out->validation;
  EXPECT_EQ(v.ok, in.validation.ok);
  ASSERT_EQ(v.failures.size(), 2u);
  EXPECT_EQ(v.failures[0].slice, in.validation.failures[0].slice);
  EXPECT_EQ(v.failures[0].metric, in.validation.failures[0].metric);
  EXPECT_EQ(v.failures[0].threshold, in.validation.failures[0].threshold);
  EXPECT_EQ(v.failures[0].value, -0.02);
  EXPECT_EQ(v.failures[0].message, in.validation.failures[0].message);
  EXPECT_TRUE(std::isnan(v.failures[1].value));
  EXPECT_EQ(v.notes, in.validation.notes);
  EXPECT_EQ(v.missing_slices, in.validation.missing_slices);
}

TEST(WriteEvalResult, JsonSchemaIsReadableAndNaNIsNull) {
  const EvalResult in = SampleResult();
  const nlohmann::json m = MetricsToJson(in);
  EXPECT_EQ(m["format_version"], kEvalOutputFormatVersion);
  const auto& overall = m["slices"][0];
  EXPECT_EQ(overall["slice"], "Overall");
  EXPECT_TRUE(overall["slice_key"].empty());
  const auto& full = overall["models"]["full"];
  EXPECT_EQ(full["metrics"]["sparse_categorical_accuracy"]["value"], 0.9125);
  EXPECT_EQ(full["metrics"]["sparse_categorical_accuracy"]["ci"]["lower"], 0.9);
  EXPECT_EQ(full["diff"]["sparse_categorical_accuracy"]["value"], 0.0625);
  EXPECT_EQ(full["metrics"]["precision"]["value"], 0.75);
  EXPECT_TRUE(full["metrics"]["precision"]["sub_keys"]["class:0"]["value"].is_null());
  EXPECT_FALSE(full["metrics"]["recall"].contains("value"));
  EXPECT_EQ(full["metrics"]["recall"]["sub_keys"]["top_k:2"]["value"], 0.25);
  EXPECT_EQ(m["slices"][1]["slice"], "island:Biscoe;sex:male");
  EXPECT_EQ(m["slices"][1]["slice_key"][1][0], "sex");
  EXPECT_EQ(m["slices"][1]["slice_key"][1][1], "male");
  // The baseline's metrics are there too, and models keep config order.
  EXPECT_EQ(overall["models"]["base"]["metrics"]["sparse_categorical_accuracy"]["value"], 0.85);
  EXPECT_EQ(m["models"][2]["name"], "base");
  EXPECT_EQ(m["models"][2]["is_baseline"], true);

  const nlohmann::json p = PlotsToJson(in);
  ASSERT_EQ(p["slices"].size(), 1u);  // the second slice has no plots
  const auto& cm = p["slices"][0]["models"]["full"]["multi_class_confusion_matrix"];
  EXPECT_EQ(cm["num_classes"], 2);
  EXPECT_EQ(cm["counts"][1][1], 7.5);  // row = label, column = prediction
  EXPECT_EQ(cm["counts"][0][1], 1);
  EXPECT_TRUE(
      p["slices"][0]["models"]["full"]["confusion_matrix_at_thresholds"][1]["precision"].is_null());

  const nlohmann::json v = ValidationToJson(in.validation);
  EXPECT_EQ(v["ok"], false);
  EXPECT_EQ(v["failures"][0]["model"], "lite");
  EXPECT_EQ(v["failures"][0]["is_diff"], true);
  EXPECT_TRUE(v["failures"][1]["value"].is_null());
  EXPECT_EQ(v["missing_slices"][0]["slice"], "island:Dream");
  // The dumped text is strict JSON (no NaN token).
  EXPECT_EQ(m.dump().find("NaN"), std::string::npos);
  EXPECT_FALSE(nlohmann::json::parse(m.dump(), nullptr, false).is_discarded());
}

TEST(WriteEvalResult, FailureAtAnyStepLeavesNoFile) {
  const EvalResult in = SampleResult();
  for (FaultEnv::Op op : {FaultEnv::Op::kOpenForWrite, FaultEnv::Op::kAppend, FaultEnv::Op::kSync,
                          FaultEnv::Op::kRename}) {
    for (int n = 1; n <= 8; ++n) {
      // n > 4: the folder holds an earlier run's files, which go too.
      const bool earlier_run = n > 4;
      SCOPED_TRACE(std::string(FaultEnv::OpName(op)) + " #" + std::to_string(n));
      TempDir tmp;
      if (earlier_run) {
        ASSERT_TRUE(WriteEvalResult(in, tmp.path()).ok());
      }
      FaultEnv env;
      env.FailNth(op, earlier_run ? n - 4 : n);
      Status s = WriteEvalResult(in, tmp.path(), &env);
      ASSERT_FALSE(s.ok());
      EXPECT_THAT(s.message(), HasSubstr("injected"));
      auto names = Env::Default()->ListDir(tmp.path());
      ASSERT_TRUE(names.ok());
      EXPECT_TRUE(names->empty()) << (*names)[0];
    }
  }
  // A full disk part-way through the second file.
  TempDir tmp;
  FaultEnv env;
  env.SetWriteByteLimit(MetricsToJson(in).dump(2).size() + 10);
  EXPECT_FALSE(WriteEvalResult(in, tmp.path(), &env).ok());
  auto names = Env::Default()->ListDir(tmp.path());
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
}

TEST(WriteBlessing, ExactlyOneFile) {
  TempDir tmp;
  Env* env = Env::Default();
  const std::string dir = tmp.Join("blessing");
  ASSERT_TRUE(WriteBlessing(true, dir).ok());
  EXPECT_TRUE(env->Exists(JoinPath(dir, "BLESSED")));
  EXPECT_FALSE(env->Exists(JoinPath(dir, "NOT_BLESSED")));
  ASSERT_TRUE(WriteBlessing(false, dir).ok());
  EXPECT_FALSE(env->Exists(JoinPath(dir, "BLESSED")));
  EXPECT_TRUE(env->Exists(JoinPath(dir, "NOT_BLESSED")));
  ASSERT_TRUE(WriteBlessing(true, dir).ok());
  EXPECT_TRUE(env->Exists(JoinPath(dir, "BLESSED")));
  EXPECT_FALSE(env->Exists(JoinPath(dir, "NOT_BLESSED")));
  auto names = env->ListDir(dir);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 1u);

  // A failed write never leaves a stale BLESSED behind.
  FaultEnv fault;
  fault.FailNth(FaultEnv::Op::kRename, 1);
  EXPECT_FALSE(WriteBlessing(false, dir, &fault).ok());
  EXPECT_FALSE(env->Exists(JoinPath(dir, "BLESSED")));
  auto after = env->ListDir(dir);
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after->empty());
}

TEST(ReadEvalResult, ErrorsNameFileAndPath) {
  TempDir tmp;
  auto missing = ReadEvalResult(tmp.Join("none"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("metrics.json"));

  ASSERT_TRUE(WriteEvalResult(SampleResult(), tmp.path()).ok());
  const std::string metrics = tmp.Join("metrics.json");
  ASSERT_TRUE(WriteFileAtomic(metrics, "{\"format_version\": 1, \"num_examples\": ").ok());
  auto truncated = ReadEvalResult(tmp.path());
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(truncated.status().message(), HasSubstr("metrics.json: not valid JSON"));

  nlohmann::json doc = MetricsToJson(SampleResult());
  doc["slices"][1]["models"]["full"]["metrics"]["sparse_categorical_accuracy"]["value"] = "high";
  ASSERT_TRUE(WriteFileAtomic(metrics, doc.dump()).ok());
  auto typed = ReadEvalResult(tmp.path());
  ASSERT_FALSE(typed.ok());
  EXPECT_THAT(typed.status().message(),
              HasSubstr("$.slices[1].models[\"full\"].metrics.sparse_categorical_accuracy.value: "
                        "must be a number or null"));

  doc = MetricsToJson(SampleResult());
  doc["format_version"] = 99;
  ASSERT_TRUE(WriteFileAtomic(metrics, doc.dump()).ok());
  auto version = ReadEvalResult(tmp.path());
  ASSERT_FALSE(version.ok());
  EXPECT_THAT(version.status().message(), HasSubstr("format_version must be 1"));

  ASSERT_TRUE(WriteEvalResult(SampleResult(), tmp.path()).ok());
  FaultEnv env;
  env.FailNth(FaultEnv::Op::kRead, 2);
  auto io = ReadEvalResult(tmp.path(), &env);
  ASSERT_FALSE(io.ok());
  EXPECT_THAT(io.status().message(), HasSubstr("injected"));
}

}  // namespace
}  // namespace edgepipe::eval
