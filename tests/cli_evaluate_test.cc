// End-to-end tests of `edgepipe evaluate`: a small native model and its
// TFLite rewrite (eval/eval_testing.h) evaluated on TFRecord examples; the
// output folder, the printed table and validation, exit codes 0 (passed),
// 3 (a threshold failed), 1 (bad input) and 2 (usage).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/eval_testing.h"
#include "edgepipe/eval/writers.h"

namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Two models on the features "x", label "label", slices overall and by
// "group"; `accuracy_bound` is the lower bound of the accuracy threshold.
std::string TwoModelConfig(double accuracy_bound) {
  return R"pb(
           model_specs { name: "native" label_key: "label" }
           model_specs { name: "lite" model_type: "tf_lite" label_key: "label" }
           slicing_specs {}
           slicing_specs { feature_keys: "group" }
           metrics_specs { metrics { class_name: "ExampleCount" }
                           metrics { class_name: "SparseCategoricalAccuracy"
                                     threshold { value_threshold { lower_bound { value:)pb" +
         std::to_string(accuracy_bound) + R"pb(}
                                               } }
      }
      metrics { class_name: "MultiClassConfusionMatrixPlot" }
    }
  )pb";
}

class CliEvaluateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new edgepipe::TempDir();
    models_ = new edgepipe::eval::testing::Models(
        edgepipe::eval::testing::MakeModels(tmp_->Join("models")));
    edgepipe::eval::testing::WriteExamples(tmp_->Join("examples/data.tfrecord"), 0, 120);
  }
  static void TearDownTestSuite() {
    delete models_;
    delete tmp_;
    models_ = nullptr;
    tmp_ = nullptr;
  }

  void SetUp() override {
    dir_ = tmp_->Join(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_TRUE(edgepipe::Env::Default()->CreateDirs(dir_).ok());
  }

  std::string WriteConfig(const std::string& name, const std::string& text) {
    const std::string path = edgepipe::JoinPath(dir_, name);
    EXPECT_TRUE(edgepipe::WriteFileAtomic(path, text).ok());
    return path;
  }

  std::string Examples() const { return tmp_->Join("examples/data.tfrecord"); }
  std::string TwoModels() const {
    return "--model native=" + models_->native + " --model lite=" + models_->lite_float;
  }

  CliRun Edgepipe(const std::string& args) {
    const std::string out = edgepipe::JoinPath(dir_, "stdout");
    const std::string err = edgepipe::JoinPath(dir_, "stderr");
    const std::string cmd = std::string(EDGEPIPE_CLI_PATH) + " " + args + " >" + out + " 2>" + err;
    const int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = edgepipe::ReadFileToString(out).value_or("");
    r.err = edgepipe::ReadFileToString(err).value_or("");
    return r;
  }

  static inline edgepipe::TempDir* tmp_ = nullptr;
  static inline edgepipe::eval::testing::Models* models_ = nullptr;
  std::string dir_;
};

// The table cell the CLI prints for `v` (4 significant digits).
std::string Printed(double v) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.4g", v);
  return buf;
}

TEST_F(CliEvaluateTest, PassingThresholdExits0AndWritesEverything) {
  const std::string cfg = WriteConfig("eval_config.pbtxt", TwoModelConfig(0.0));
  const std::string out = edgepipe::JoinPath(dir_, "out");
  CliRun r = Edgepipe("evaluate --eval-config " + cfg + " " + TwoModels() + " --examples " +
                      Examples() + " --out " + out + " --batch-size 32");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  for (const char* file : {"metrics.json", "plots.json", "validations.json", "eval_config.pbtxt",
                           "report.html", "BLESSED"}) {
    EXPECT_TRUE(edgepipe::Env::Default()->Exists(edgepipe::JoinPath(out, file))) << file;
  }
  EXPECT_FALSE(edgepipe::Env::Default()->Exists(edgepipe::JoinPath(out, "NOT_BLESSED")));
  EXPECT_THAT(r.out, HasSubstr("evaluated 120 examples with 2 models"));
  EXPECT_THAT(r.out, HasSubstr("validation: passed"));
  EXPECT_THAT(r.out, HasSubstr("Overall (120 examples)"));
  EXPECT_THAT(r.out, HasSubstr("group:a"));  // few slices: each is printed
  EXPECT_THAT(r.out, HasSubstr("flip_rate"));
  EXPECT_THAT(r.err, HasSubstr("evaluate: 2 models on"));

  // The printed numbers are the written ones.
  auto written = edgepipe::eval::ReadEvalResult(out);
  ASSERT_TRUE(written.ok()) << written.status();
  ASSERT_FALSE(written->slices.empty());
  const edgepipe::eval::SliceResult& overall = written->slices[0];
  ASSERT_TRUE(overall.slice.overall());
  auto acc = overall.metrics.find({"sparse_categorical_accuracy", "native", "", false});
  auto lite_acc = overall.metrics.find({"sparse_categorical_accuracy", "lite", "", false});
  ASSERT_NE(acc, overall.metrics.end());
  ASSERT_NE(lite_acc, overall.metrics.end());
  EXPECT_GT(acc->second.value, 0.0);
  EXPECT_THAT(
      r.out, ::testing::ContainsRegex("sparse_categorical_accuracy +" + Printed(acc->second.value) +
                                      " +" + Printed(lite_acc->second.value) + "\n"));
  // The float rewrite agrees with the native model on every example.
  const edgepipe::eval::MetricValue* flip = nullptr;
  for (const auto& [key, value] : overall.metrics) {
    if (key.name == "flip_rate" && key.model_name == "lite") flip = &value;
  }
  ASSERT_NE(flip, nullptr);
  EXPECT_EQ(flip->value, 0.0);

  auto report = edgepipe::ReadFileToString(edgepipe::JoinPath(out, "report.html"));
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(*report, HasSubstr("validation passed"));
  EXPECT_THAT(*report, HasSubstr("<svg class=\"chart heatmap\""));
}

TEST_F(CliEvaluateTest, FailingThresholdExits3AndIsNotBlessed) {
  const std::string cfg = WriteConfig("eval_config.pbtxt", TwoModelConfig(0.999));
  const std::string out = edgepipe::JoinPath(dir_, "out");
  // A previous blessing in the folder is replaced.
  ASSERT_TRUE(edgepipe::eval::WriteBlessing(true, out).ok());
  CliRun r = Edgepipe("evaluate --eval-config " + cfg + " " + TwoModels() + " --examples " +
                      Examples() + " --out " + out);
  ASSERT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("validation: FAILED"));
  EXPECT_THAT(r.out, HasSubstr("sparse_categorical_accuracy"));
  EXPECT_THAT(r.out, HasSubstr("0.999"));
  EXPECT_THAT(r.err, Not(HasSubstr("error")));
  EXPECT_TRUE(edgepipe::Env::Default()->Exists(edgepipe::JoinPath(out, "NOT_BLESSED")));
  EXPECT_FALSE(edgepipe::Env::Default()->Exists(edgepipe::JoinPath(out, "BLESSED")));
  auto report = edgepipe::ReadFileToString(edgepipe::JoinPath(out, "report.html"));
  ASSERT_TRUE(report.ok());
  EXPECT_THAT(*report, HasSubstr("validation failed"));
}

TEST_F(CliEvaluateTest, OneUnnamedModelSpecTakesOneModel) {
  const std::string cfg = WriteConfig("one.pbtxt", R"pb(
    model_specs { label_key: "label" model_type: "tf_lite" }
    metrics_specs { metrics { class_name: "SparseCategoricalAccuracy" } }
  )pb");
  const std::string out = edgepipe::JoinPath(dir_, "out");
  CliRun r = Edgepipe("evaluate --eval-config " + cfg + " --model " + models_->lite_int8 +
                      " --examples " + Examples() + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("evaluated 120 examples with 1 model "));
  EXPECT_THAT(r.out, HasSubstr("tf_lite"));
  EXPECT_TRUE(edgepipe::Env::Default()->Exists(edgepipe::JoinPath(out, "BLESSED")));

  CliRun two = Edgepipe("evaluate --eval-config " + cfg + " " + TwoModels() + " --examples " +
                        Examples() + " --out " + out);
  EXPECT_EQ(two.exit_code, 1);
  EXPECT_THAT(two.err, HasSubstr("give one --model, not 2"));
}

TEST_F(CliEvaluateTest, BadInputExits1WithAClearMessage) {
  const std::string good = WriteConfig("good.pbtxt", TwoModelConfig(0.0));
  const std::string out = edgepipe::JoinPath(dir_, "out");
  const std::string rest = " --examples " + Examples() + " --out " + out;

  const std::string unknown_field =
      WriteConfig("bad.pbtxt",
                  "model_specs { name: \"native\" label_key: \"label\" }\n"
                  "slicing_spec {}\n");
  CliRun bad = Edgepipe("evaluate --eval-config " + unknown_field + " " + TwoModels() + rest);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("bad.pbtxt:2:"));
  EXPECT_THAT(bad.err, HasSubstr("slicing_spec"));

  CliRun unknown_model = Edgepipe("evaluate --eval-config " + good + " " + TwoModels() +
                                  " --model other=" + models_->native + rest);
  EXPECT_EQ(unknown_model.exit_code, 1);
  EXPECT_THAT(unknown_model.err, HasSubstr("no model_specs named \"other\""));

  CliRun bare = Edgepipe("evaluate --eval-config " + good + " --model " + models_->native + rest);
  EXPECT_EQ(bare.exit_code, 1);
  EXPECT_THAT(bare.err, HasSubstr("expected NAME=DIR"));

  CliRun baseline =
      Edgepipe("evaluate --eval-config " + good + " " + TwoModels() + " --baseline nope" + rest);
  EXPECT_EQ(baseline.exit_code, 1);
  EXPECT_THAT(baseline.err, HasSubstr("--baseline \"nope\""));

  CliRun no_examples = Edgepipe("evaluate --eval-config " + good + " " + TwoModels() +
                                " --examples " + dir_ + "/none.tfrecord --out " + out);
  EXPECT_EQ(no_examples.exit_code, 1);
  EXPECT_THAT(no_examples.err, HasSubstr("none.tfrecord"));
  EXPECT_FALSE(edgepipe::Env::Default()->Exists(edgepipe::JoinPath(out, "report.html")));
}

TEST_F(CliEvaluateTest, UsageErrorsExit2) {
  CliRun help = Edgepipe("evaluate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--eval-config"));
  EXPECT_THAT(help.out, HasSubstr("--baseline"));

  const std::string cfg = WriteConfig("c.pbtxt", TwoModelConfig(0.0));
  EXPECT_EQ(
      Edgepipe("evaluate --eval-config " + cfg + " " + TwoModels() + " --examples " + Examples())
          .exit_code,
      2);  // no --out
  EXPECT_EQ(Edgepipe("evaluate --eval-config " + cfg + " " + TwoModels() + " --examples " +
                     Examples() + " --out " + dir_ + " --batch-size 0")
                .exit_code,
            2);
}

TEST_F(CliEvaluateTest, BaselineFlagEnablesChangeThresholds) {
  const std::string cfg = WriteConfig("change.pbtxt", R"pb(
    model_specs { name: "native" label_key: "label" }
    model_specs { name: "lite" model_type: "tf_lite" label_key: "label" }
    metrics_specs {
      metrics {
        class_name: "SparseCategoricalAccuracy"
        threshold {
          change_threshold {
            direction: HIGHER_IS_BETTER
            absolute { value: -0.0001 }
          }
        }
      }
    }
  )pb");
  const std::string out = edgepipe::JoinPath(dir_, "out");
  const std::string args = "evaluate --eval-config " + cfg + " " + TwoModels() + " --examples " +
                           Examples() + " --out " + out;
  // Without a baseline the change threshold is skipped, and said so.
  CliRun stamp = Edgepipe(args);
  ASSERT_EQ(stamp.exit_code, 0) << stamp.out << stamp.err;
  EXPECT_THAT(stamp.out, HasSubstr("note: "));
  EXPECT_THAT(stamp.out, HasSubstr("baseline"));
  // With one, it is checked: the float rewrite matches its source exactly.
  CliRun checked = Edgepipe(args + " --baseline native");
  ASSERT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  EXPECT_THAT(checked.out, HasSubstr("native: native,"));
  EXPECT_THAT(checked.out, HasSubstr("(baseline)"));
  EXPECT_THAT(checked.out, HasSubstr("validation: passed"));
}

}  // namespace
