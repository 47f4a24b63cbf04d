#include "edgepipe/components/trainer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

#include "edgepipe/components/trainer_testing.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/model/json_util.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature_runner.h"
#include "edgepipe/pipeline/module.h"

// Modules loaded here bind to this program's copy of edgepipe (pipeline/module.h).
EDGEPIPE_ALLOW_MODULE_GLOBALS()

namespace edgepipe::components {
namespace {

using model::Json;
using pipeline::Artifact;
using pipeline::ExecutionContext;
using ::testing::HasSubstr;

std::string TestModule(const std::string& name) {
  return std::string(EDGEPIPE_TEST_MODULE_DIR) + "/" + name + ".so";
}

Json ReadJson(const std::string& path) {
  Result<std::string> text = ReadFileToString(path);
  if (!text.ok()) return Json();
  return Json::parse(*text, nullptr, false);
}

// A Trainer execution on synthetic examples, as the runner would set it up:
// output folders exist and are empty.
class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(tmp_.path().empty());
    examples_ = tmp_.Join("ExampleGen/examples/1");
    ASSERT_EQ(trainer_testing::WriteSyntheticExamples(examples_, 400, 100), Status::Ok());
    ctx_.component_id = "Trainer";
    ctx_.execution_id = 7;
    ctx_.pipeline_root = tmp_.path();
    ctx_.inputs["examples"] = {
        Artifact{1, "Examples", examples_, {{"split_names", std::string("[\"train\",\"eval\"]")}}}};
    model_ = tmp_.Join("Trainer/model/7");
    model_run_ = tmp_.Join("Trainer/model_run/7");
    ASSERT_EQ(Env::Default()->CreateDirs(model_), Status::Ok());
    ASSERT_EQ(Env::Default()->CreateDirs(model_run_), Status::Ok());
    ctx_.outputs["model"] = {Artifact{0, "Model", model_, {}}};
    ctx_.outputs["model_run"] = {Artifact{0, "ModelRun", model_run_, {}}};
    ctx_.params = {{"train_steps", int64_t{80}},
                   {"eval_steps", int64_t{0}},
                   {"custom_config", std::string("{}")}};
  }

  Status Run(const std::string& module_file) {
    ctx_.params["module_file"] = module_file;
    TrainerOptions options;
    options.build.build_root = tmp_.Join("module_builds");
    TrainerExecutor executor(options);
    return executor.Do(ctx_);
  }

  std::string Serving() const { return JoinPath(model_, kServingModelDirName); }

  TempDir tmp_;
  std::string examples_, model_, model_run_;
  ExecutionContext ctx_;
};

TEST_F(TrainerTest, SpecAndDslNode) {
  const pipeline::ComponentSpec& spec = TrainerSpec();
  EXPECT_EQ(spec.type, "Trainer");
  ASSERT_EQ(spec.params.size(), 4u);
  EXPECT_EQ(spec.params[0].name, "module_file");
  EXPECT_TRUE(spec.params[0].is_file);
  EXPECT_TRUE(spec.params[0].required);
  ASSERT_EQ(spec.inputs.size(), 3u);
  EXPECT_FALSE(spec.inputs[0].optional);
  EXPECT_TRUE(spec.inputs[1].optional);
  EXPECT_TRUE(spec.inputs[2].optional);
  ASSERT_EQ(spec.outputs.size(), 2u);
  EXPECT_EQ(spec.outputs[0].type, "Model");
  EXPECT_EQ(spec.outputs[1].type, "ModelRun");

  pipeline::Channel examples{nullptr, "examples", "Examples"};
  pipeline::Node node = Trainer({.examples = examples,
                                 .module_file = "m.cc",
                                 .train_steps = 5000,
                                 .custom_config = "{\"batch_size\": 40}"});
  node.WithId("Trainer.mnist");
  EXPECT_EQ(node.id(), "Trainer.mnist");
  const pipeline::NodeData& data = *node.data();
  EXPECT_EQ(std::get<std::string>(data.params.at("module_file")), "m.cc");
  EXPECT_EQ(std::get<int64_t>(data.params.at("train_steps")), 5000);
  EXPECT_EQ(std::get<int64_t>(data.params.at("eval_steps")), 0);
  EXPECT_EQ(data.inputs.size(), 1u);
  EXPECT_EQ(node.outputs()["model"].type, "Model");
  ASSERT_NE(data.make_executor, nullptr);
  EXPECT_NE(data.make_executor(), nullptr);
}

TEST_F(TrainerTest, RunFnGetsFnArgsFromTheContext) {
  const std::string schema = tmp_.Join("SchemaGen/schema/2");
  const std::string transform = tmp_.Join("Transform/transform_graph/3");
  ASSERT_EQ(Env::Default()->CreateDirs(schema), Status::Ok());
  ASSERT_EQ(Env::Default()->CreateDirs(transform), Status::Ok());
  ASSERT_EQ(WriteFileAtomic(JoinPath(schema, "schema.pbtxt"), "feature {}\n"), Status::Ok());
  ctx_.inputs["schema"] = {Artifact{2, "Schema", schema, {}}};
  ctx_.inputs["transform_graph"] = {Artifact{3, "TransformGraph", transform, {}}};
  ctx_.params["train_steps"] = int64_t{12};
  ctx_.params["eval_steps"] = int64_t{3};
  ctx_.params["custom_config"] = std::string("{\"batch_size\": 8}");

  ASSERT_EQ(Run(TestModule("run_fn_echo")), Status::Ok());
  Json args = ReadJson(JoinPath(Serving(), "args.json"));
  ASSERT_TRUE(args.is_object());
  EXPECT_EQ(args["train_files"], Json::array({JoinPath(examples_, "Split-train/*")}));
  EXPECT_EQ(args["eval_files"], Json::array({JoinPath(examples_, "Split-eval/*")}));
  EXPECT_EQ(args["train_steps"], 12);
  EXPECT_EQ(args["eval_steps"], 3);
  EXPECT_EQ(args["schema_path"], JoinPath(schema, "schema.pbtxt"));
  EXPECT_EQ(args["transform_output"], transform);
  EXPECT_EQ(args["serving_model_dir"], Serving());
  EXPECT_EQ(args["model_run_dir"], model_run_);
  EXPECT_EQ(args["custom_config"], "{\"batch_size\": 8}");
  // The logs: run_fn's and the executor's.
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(model_run_, kTrainingLogName)));
  Json log = ReadJson(JoinPath(model_run_, kTrainerLogName));
  ASSERT_TRUE(log.is_object());
  EXPECT_EQ(log["module_file"], TestModule("run_fn_echo"));
  EXPECT_EQ(log["train_steps"], 12);
}

TEST_F(TrainerTest, NativeMnistModuleTrainsAndSavesAnExampleSignature) {
  ASSERT_EQ(Run(TestModule("mnist_module")), Status::Ok());
  Result<model::LoadedModel> loaded = model::Load(Serving());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const model::Signature* sig = loaded->FindSignature("serving_default");
  ASSERT_NE(sig, nullptr);
  EXPECT_EQ(sig->kind, model::SignatureKind::kExamples);
  EXPECT_EQ(loaded->model->CountParams(), 784 * 64 + 64 + 64 * 64 + 64 + 64 * 10 + 10);

  // The served model classifies held-out synthetic digits (after 80 steps).
  std::vector<std::string> serialized;
  for (int64_t i = 1000; i < 1100; ++i) serialized.push_back(trainer_testing::SyntheticDigit(i));
  Result<model::SignatureRunner> runner =
      model::SignatureRunner::Create(*loaded, "serving_default");
  ASSERT_TRUE(runner.ok()) << runner.status();
  Result<model::NamedArrays> out = runner->Run(serialized);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  const Array& logits = out->begin()->second;
  ASSERT_EQ(logits.shape(), (std::vector<int64_t>{100, 10}));
  std::span<const float> p = logits.data<float>();
  int correct = 0;
  for (int64_t i = 0; i < 100; ++i) {
    int best = 0;
    for (int c = 1; c < 10; ++c) best = p[i * 10 + c] > p[i * 10 + best] ? c : best;
    correct += best == (1000 + i) % 10;
  }
  EXPECT_GE(correct, 90);

  Json log = ReadJson(JoinPath(model_run_, kTrainingLogName));
  ASSERT_TRUE(log.is_object());
  EXPECT_EQ(log["steps"], 80);
  ASSERT_TRUE(log["eval"].contains("sparse_categorical_accuracy"));
  EXPECT_GE(log["eval"]["sparse_categorical_accuracy"].get<double>(), 0.9);
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(model_run_, kTrainerLogName)));
}

TEST_F(TrainerTest, LiteMnistModuleWritesTheTfliteModel) {
  ASSERT_EQ(Run(TestModule("mnist_lite_module")), Status::Ok());
  const std::string tflite = JoinPath(Serving(), "tflite");
  Result<std::string> bytes = ReadFileToString(tflite);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_GT(bytes->size(), 8u);
  EXPECT_EQ(bytes->substr(4, 4), "TFL3");
  EXPECT_GT(bytes->size(), (784u * 64u) * 4u);  // float weights
  Result<std::unique_ptr<lite::Model>> m = lite::Model::Load(tflite);
  EXPECT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE(Env::Default()->Exists(JoinPath(Serving(), "temp")));  // removed, as in the guide
  Json log = ReadJson(JoinPath(model_run_, kTrainingLogName));
  EXPECT_EQ(log["steps"], 80);
}

TEST_F(TrainerTest, RunFnErrorsNameTheModuleFile) {
  Status s = Run(TestModule("run_fn_error"));
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Trainer module_file " + TestModule("run_fn_error")));
  EXPECT_THAT(s.message(), HasSubstr("run_fn failed"));
  EXPECT_THAT(s.message(), HasSubstr("feature \"pixels\" not found in " + examples_));

  s = Run(TestModule("run_fn_throw"));
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_THAT(s.message(), HasSubstr("run_fn_throw.so"));
  EXPECT_THAT(s.message(), HasSubstr("boom from run_fn"));

  s = Run(TestModule("run_fn_empty"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("wrote nothing to " + Serving()));
}

TEST_F(TrainerTest, ModulesThatCannotBeLoaded) {
  Status s = Run(TestModule("test_module_good"));  // a library without EDGEPIPE_RUN_FN
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("Trainer"));
  EXPECT_THAT(s.message(), HasSubstr("test_module_good.so: module has no run_fn"));

  s = Run(TestModule("run_fn_wrong_abi"));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("run_fn_wrong_abi.so"));
  EXPECT_THAT(s.message(), HasSubstr("ABI version 999"));

  s = Run(tmp_.Join("missing_module.so"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("missing_module.so"));

  const std::string text = tmp_.Join("module.txt");
  ASSERT_EQ(WriteFileAtomic(text, "hello"), Status::Ok());
  s = Run(text);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("module.txt: module file must be a shared library"));

  const std::string fake = tmp_.Join("fake.so");
  ASSERT_EQ(WriteFileAtomic(fake, "not ELF"), Status::Ok());
  s = Run(fake);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("fake.so: cannot load module"));
}

TEST_F(TrainerTest, SourceModuleWithoutAnInstalledEdgepipeSaysHowToInstall) {
  const std::string source = tmp_.Join("my_module.cc");
  ASSERT_EQ(WriteFileAtomic(source, "int x;\n"), Status::Ok());
  ctx_.params["module_file"] = source;
  TrainerOptions options;
  options.build.build_root = tmp_.Join("module_builds");
  options.build.prefix_path = {tmp_.Join("empty_prefix")};
  options.build.cmake_args = {"-DCMAKE_DISABLE_FIND_PACKAGE_edgepipe=ON"};
  TrainerExecutor executor(options);
  Status s = executor.Do(ctx_);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("Trainer"));
  EXPECT_THAT(s.message(), HasSubstr("my_module.cc: cannot configure the module build"));
  EXPECT_THAT(s.message(), HasSubstr("cmake --install"));
  EXPECT_THAT(s.message(), HasSubstr("edgepipe"));  // from cmake's log
  // The failed build is kept for inspection.
  Result<std::vector<std::string>> builds = Env::Default()->ListDir(tmp_.Join("module_builds"));
  ASSERT_TRUE(builds.ok());
  ASSERT_EQ(builds->size(), 1u);
  EXPECT_THAT((*builds)[0], HasSubstr(".failed"));
}

TEST_F(TrainerTest, BadInputsAndParameters) {
  const std::string module = TestModule("run_fn_echo");
  ctx_.inputs["examples"][0].uri = tmp_.Join("nowhere");
  Status s = Run(module);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("Trainer: input examples folder " + tmp_.Join("nowhere")));

  ctx_.inputs["examples"][0].uri = examples_;
  ctx_.inputs["examples"][0].properties["split_names"] = std::string("[\"train\"]");
  s = Run(module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("no split \"eval\""));
  ctx_.inputs["examples"][0].properties.erase("split_names");

  ctx_.params["custom_config"] = std::string("{not json");
  s = Run(module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("custom_config '{not json' is not valid JSON"));
  ctx_.params["custom_config"] = std::string("[1]");
  s = Run(module);
  EXPECT_THAT(s.message(), HasSubstr("must be a JSON object"));
  ctx_.params["custom_config"] = std::string("{}");

  ctx_.params["train_steps"] = int64_t{0};
  s = Run(module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("train_steps 0 must be >= 1"));
  ctx_.params["train_steps"] = std::string("many");
  s = Run(module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("train_steps must be an int"));
  ctx_.params["train_steps"] = int64_t{5};

  ctx_.outputs.erase("model_run");
  s = Run(module);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("no output \"model_run\""));
}

}  // namespace
}  // namespace edgepipe::components
