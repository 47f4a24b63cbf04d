// The Evaluator component on the eval layer's small classifier: models as
// Trainer outputs (<uri>/Format-Serving), the eval split of an Examples
// artifact; thresholds that pass bless, thresholds that fail do not; a
// baseline model; several files of one model (model_files) in one pass;
// parameter and input errors.
#include "edgepipe/components/evaluator_component.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <utility>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/pusher.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/config.h"
#include "edgepipe/eval/eval_testing.h"
#include "edgepipe/eval/evaluator.h"
#include "edgepipe/eval/writers.h"

namespace edgepipe::components {
namespace {

using ::testing::HasSubstr;
using testing::MakeArtifact;
using testing::MakeContext;
namespace at = pipeline::artifact_type;

constexpr int64_t kEvalExamples = 60;

std::string LiteConfig(double lower_bound) {
  return R"pb(
           model_specs { model_type: "tf_lite" label_key: "label" }
           metrics_specs { metrics { class_name: "SparseCategoricalAccuracy"
                                     threshold { value_threshold { lower_bound { value:)pb" +
         std::to_string(lower_bound) + R"pb(}
                                            } }
      }
    }
  )pb";
}

class EvaluatorComponentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    eval::testing::Models models = eval::testing::MakeModels(tmp_->Join("src"));
    native_ = new std::string(tmp_->Join("Trainer/model/1"));
    lite_ = new std::string(tmp_->Join("Trainer.lite/model/2"));
    ASSERT_TRUE(CopyTreeAtomic(models.native, JoinPath(*native_, "Format-Serving")).ok());
    ASSERT_TRUE(CopyTreeAtomic(models.lite_float, JoinPath(*lite_, "Format-Serving")).ok());
    examples_ = new std::string(tmp_->Join("ExampleGen/examples/3"));
    eval::testing::WriteExamples(JoinPath(*examples_, "Split-eval/data-00.gz"), 0, kEvalExamples);
    eval::testing::WriteExamples(JoinPath(*examples_, "Split-train/data-00.gz"), 500, 7);
    // Reference: the engine called directly on the same model and split.
    auto config = eval::ParseEvalConfig(LiteConfig(0), "ref");
    ASSERT_TRUE(config.ok()) << config.status();
    auto r = eval::Evaluate(*config, {{"", models.lite_float}}, JoinPath(*examples_, "Split-eval"),
                            {.progress = false});
    ASSERT_TRUE(r.ok()) << r.status();
    reference_accuracy_ = r->slices.at(0).metrics.begin()->second.value;
    for (const auto& [key, value] : r->slices.at(0).metrics) {
      if (key.name == "sparse_categorical_accuracy") reference_accuracy_ = value.value;
    }
  }
  static void TearDownTestSuite() {
    delete native_;
    delete lite_;
    delete examples_;
    delete tmp_;
  }

  pipeline::ExecutionContext Context(const std::string& name, pipeline::Params params,
                                     bool with_baseline = false) {
    pipeline::ArtifactMap inputs{{"examples", {MakeArtifact(at::kExamples, *examples_)}},
                                 {"model", {MakeArtifact(at::kModel, *lite_)}}};
    if (with_baseline) inputs["baseline_model"] = {MakeArtifact(at::kModel, *native_)};
    pipeline::ArtifactMap outputs{
        {"evaluation", {MakeArtifact(at::kModelEvaluation, tmp_->Join(name + "/evaluation"))}},
        {"blessing", {MakeArtifact(at::kModelBlessing, tmp_->Join(name + "/blessing"))}}};
    return MakeContext(EvaluatorSpec(), std::move(inputs), std::move(outputs), std::move(params));
  }

  static TempDir* tmp_;
  static std::string* native_;
  static std::string* lite_;
  static std::string* examples_;
  static double reference_accuracy_;
};

TempDir* EvaluatorComponentTest::tmp_ = nullptr;
std::string* EvaluatorComponentTest::native_ = nullptr;
std::string* EvaluatorComponentTest::lite_ = nullptr;
std::string* EvaluatorComponentTest::examples_ = nullptr;
double EvaluatorComponentTest::reference_accuracy_ = 0;

TEST_F(EvaluatorComponentTest, PassingThresholdBlessesAndWritesEvaluation) {
  ASSERT_FALSE(std::isnan(reference_accuracy_));
  ASSERT_GT(reference_accuracy_, 0.05);
  auto c = Context("pass", {{"eval_config", LiteConfig(reference_accuracy_ - 0.01)}});
  Status s = MakeEvaluatorExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  const pipeline::Artifact& blessing = c.outputs["blessing"][0];
  EXPECT_EQ(std::get<int64_t>(blessing.properties.at("blessed")), 1);
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(blessing.uri, "BLESSED")));
  EXPECT_FALSE(Env::Default()->Exists(JoinPath(blessing.uri, "NOT_BLESSED")));
  const std::string eval_dir = c.outputs["evaluation"][0].uri;
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(eval_dir, "report.html")));
  auto result = eval::ReadEvalResult(eval_dir);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_examples, kEvalExamples);  // the eval split only
  ASSERT_EQ(result->models.size(), 1u);
  EXPECT_EQ(result->models[0].model_type, "tf_lite");
  bool found = false;
  for (const auto& [key, value] : result->slices.at(0).metrics) {
    if (key.name != "sparse_categorical_accuracy") continue;
    found = true;
    EXPECT_NEAR(value.value, reference_accuracy_, 1e-9);
  }
  EXPECT_TRUE(found);
}

TEST_F(EvaluatorComponentTest, FailingThresholdDoesNotBless) {
  auto c = Context("fail", {{"eval_config", LiteConfig(reference_accuracy_ + 0.01)}});
  Status s = MakeEvaluatorExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  const pipeline::Artifact& blessing = c.outputs["blessing"][0];
  EXPECT_EQ(std::get<int64_t>(blessing.properties.at("blessed")), 0);
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(blessing.uri, "NOT_BLESSED")));
  EXPECT_FALSE(Env::Default()->Exists(JoinPath(blessing.uri, "BLESSED")));
  auto result = eval::ReadEvalResult(c.outputs["evaluation"][0].uri);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->validation.ok);
  EXPECT_FALSE(result->validation.failures.empty());
}

TEST_F(EvaluatorComponentTest, ConfigFileAndTrainSplit) {
  const std::string path = tmp_->Join("eval_config.pbtxt");
  ASSERT_TRUE(WriteFileAtomic(path, LiteConfig(0.0)).ok());
  auto c = Context("file", {{"eval_config_file", path}, {"example_splits", "[\"train\"]"}});
  Status s = MakeEvaluatorExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  auto result = eval::ReadEvalResult(c.outputs["evaluation"][0].uri);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_examples, 7);
}

TEST_F(EvaluatorComponentTest, BaselineModel) {
  const std::string config = R"pb(
    model_specs { name: "candidate" model_type: "tf_lite" label_key: "label" }
    model_specs { name: "baseline" label_key: "label" is_baseline: true }
    metrics_specs { metrics { class_name: "SparseCategoricalAccuracy" } }
  )pb";
  auto c = Context("baseline", {{"eval_config", config}}, /*with_baseline=*/true);
  Status s = MakeEvaluatorExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  auto result = eval::ReadEvalResult(c.outputs["evaluation"][0].uri);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->models.size(), 2u);
  EXPECT_EQ(result->models[0].name, "candidate");
  EXPECT_EQ(result->models[1].name, "baseline");
  EXPECT_TRUE(result->models[1].is_baseline);

  // A baseline spec without the input, and the input without a spec.
  auto missing = Context("baseline2", {{"eval_config", config}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(missing).message(),
              HasSubstr("input \"baseline_model\" is not given"));
  auto extra = Context("baseline3", {{"eval_config", LiteConfig(0)}}, true);
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(extra).message(),
              HasSubstr("no ModelSpec with is_baseline"));
}

TEST_F(EvaluatorComponentTest, ParameterErrors) {
  auto neither = Context("e1", {});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(neither).message(), HasSubstr("got neither"));
  auto both = Context("e2", {{"eval_config", LiteConfig(0)}, {"eval_config_file", "/x.pbtxt"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(both).message(), HasSubstr("got both"));
  auto syntax = Context("e3", {{"eval_config", "model_specs { bogus: 1 }"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(syntax).message(), HasSubstr("bogus"));
  auto splits =
      Context("e4", {{"eval_config", LiteConfig(0)}, {"example_splits", "[\"train\",\"eval\"]"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(splits).message(),
              HasSubstr("exactly one split is supported"));
  auto no_split = Context("e5", {{"eval_config", LiteConfig(0)}, {"example_splits", "[\"x\"]"}});
  EXPECT_FALSE(MakeEvaluatorExecutor()->Do(no_split).ok());
}

TEST_F(EvaluatorComponentTest, SeveralFilesOfOneModelInOnePass) {
  // One Model artifact whose Format-Serving holds the native model and two
  // TFLite files (the float and the int8 rewrite of the same network).
  eval::testing::Models models = eval::testing::MakeModels(tmp_->Join("multi_src"));
  const std::string uri = tmp_->Join("Trainer.multi/model/4");
  const std::string serving = JoinPath(uri, "Format-Serving");
  ASSERT_TRUE(CopyTreeAtomic(models.native, serving).ok());
  for (const auto& [from, to] :
       {std::pair{models.lite_float, "float.tflite"}, std::pair{models.lite_int8, "int8.tflite"}}) {
    Result<std::string> bytes = ReadFileToString(JoinPath(from, "tflite"));
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    ASSERT_TRUE(WriteFileAtomic(JoinPath(serving, to), *bytes).ok());
  }
  const std::string config = R"pb(
    model_specs { name: "native" label_key: "label" }
    model_specs { name: "float" model_type: "tf_lite" label_key: "label" }
    model_specs { name: "int8" model_type: "tf_lite" label_key: "label" }
    metrics_specs { metrics { class_name: "SparseCategoricalAccuracy" } }
  )pb";
  const std::string files = R"({"float":"float.tflite","int8":"int8.tflite"})";
  pipeline::ArtifactMap inputs{{"examples", {MakeArtifact(at::kExamples, *examples_)}},
                               {"model", {MakeArtifact(at::kModel, uri)}}};
  auto make = [&](const std::string& name, pipeline::Params params) {
    pipeline::ArtifactMap outputs{
        {"evaluation", {MakeArtifact(at::kModelEvaluation, tmp_->Join(name + "/evaluation"))}},
        {"blessing", {MakeArtifact(at::kModelBlessing, tmp_->Join(name + "/blessing"))}}};
    return MakeContext(EvaluatorSpec(), inputs, std::move(outputs), std::move(params));
  };
  auto c = make("multi", {{"eval_config", config}, {"model_files", files}});
  Status s = MakeEvaluatorExecutor()->Do(c);
  ASSERT_TRUE(s.ok()) << s;
  auto result = eval::ReadEvalResult(c.outputs["evaluation"][0].uri);
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_EQ(result->models.size(), 3u);
  EXPECT_EQ(result->models[0].model_type, "native");
  EXPECT_EQ(result->models[1].path, JoinPath(serving, "float.tflite"));
  EXPECT_EQ(result->models[2].path, JoinPath(serving, "int8.tflite"));
  // Each model's size is its own file's.
  for (int i : {1, 2}) {
    Result<std::string> bytes = ReadFileToString(result->models[i].path);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(result->models[i].size_bytes, static_cast<int64_t>(bytes->size()));
  }
  EXPECT_NE(result->models[1].size_bytes, result->models[2].size_bytes);
  // The float rewrite agrees with the native model.
  std::map<std::string, double> flip, accuracy;
  for (const auto& [key, value] : result->slices.at(0).metrics) {
    if (key.name == "flip_rate") flip[key.model_name] = value.value;
    if (key.name == "sparse_categorical_accuracy") accuracy[key.model_name] = value.value;
  }
  ASSERT_EQ(flip.count("float"), 1u);
  ASSERT_EQ(flip.count("int8"), 1u);
  EXPECT_EQ(flip.count("native"), 0u);  // the reference
  EXPECT_EQ(flip["float"], 0.0);
  EXPECT_NEAR(accuracy["float"], accuracy["native"], 1e-9);
  EXPECT_NEAR(accuracy["float"], reference_accuracy_, 1e-9);

  // A file name that leaves the folder, a name without a spec, bad JSON.
  auto escape = make("multi2", {{"eval_config", config}, {"model_files", R"({"int8":"../x"})"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(escape).message(), HasSubstr("plain name"));
  auto unknown = make("multi3", {{"eval_config", config}, {"model_files", R"({"int4":"a"})"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(unknown).message(),
              HasSubstr("\"int4\" is not the name of a candidate ModelSpec"));
  auto bad = make("multi4", {{"eval_config", config}, {"model_files", "[1]"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(bad).message(), HasSubstr("not a JSON object"));
  // A missing file is an error naming it.
  auto missing =
      make("multi5", {{"eval_config", config},
                      {"model_files", R"({"float":"float.tflite","int8":"none.tflite"})"}});
  EXPECT_THAT(MakeEvaluatorExecutor()->Do(missing).message(), HasSubstr("none.tflite"));
}

TEST_F(EvaluatorComponentTest, DslNode) {
  pipeline::Node gen = pipeline::Node(EvaluatorSpec(), MakeEvaluatorExecutor, {}, {});
  pipeline::Node node = Evaluator({.examples = gen.outputs()["evaluation"],
                                   .model = gen.outputs()["evaluation"],
                                   .eval_config = LiteConfig(0.5),
                                   .model_files = {{"int8", "model_int8.tflite"}}});
  node.WithId("Evaluator.mnist_lite");
  EXPECT_EQ(node.id(), "Evaluator.mnist_lite");
  EXPECT_EQ(node.spec().type, "Evaluator");
  EXPECT_EQ(node.data()->inputs.count("baseline_model"), 0u);
  EXPECT_EQ(node.outputs()["blessing"].type, at::kModelBlessing);
  EXPECT_EQ(std::get<std::string>(node.data()->params.at("model_files")),
            R"({"int8":"model_int8.tflite"})");
  EXPECT_TRUE(pipeline::ValidateParams(node.spec(), node.data()->params, node.id()).ok());
}

}  // namespace
}  // namespace edgepipe::components
