// The installed edgepipe, as a user's Trainer module sees it (ctest label
// `install`): `cmake --install` of this build into a temp prefix, then
//  - the out-of-tree project tests/module_fixture/ (find_package(edgepipe),
//    edgepipe::edgepipe) is configured and built, and its module trains
//    through the Trainer executor;
//  - the Trainer builds a module .cc itself against the prefix (and reuses
//    the build the second time);
//  - a module that does not compile fails with the compiler's message.
// Module builds use this build's CXX flags (sanitizers) and ccache if found.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "edgepipe/components/trainer.h"
#include "edgepipe/components/trainer_testing.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/model/json_util.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/pipeline/module.h"

// Modules loaded here bind to this program's copy of edgepipe (pipeline/module.h).
EDGEPIPE_ALLOW_MODULE_GLOBALS()

namespace edgepipe {
namespace {

using components::kServingModelDirName;
using pipeline::Artifact;
using ::testing::HasSubstr;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// Runs a shell command with its output in `log`; returns "" on success, or
// the exit status and the log's end.
std::string Sh(const std::string& command, const std::string& log) {
  const int rc = std::system((command + " > " + Quote(log) + " 2>&1").c_str());
  if (rc == 0) return "";
  std::string text = ReadFileToString(log).value_or("");
  if (text.size() > 4000) text.erase(0, text.size() - 4000);
  std::string message = command;
  message.append("\nfailed (").append(std::to_string(rc)).append("):\n").append(text);
  return message;
}

std::vector<std::string> ModuleCMakeArgs() {
  std::vector<std::string> args = {"-DCMAKE_CXX_FLAGS=" + std::string(EDGEPIPE_CXX_FLAGS)};
  if (std::system("command -v ccache > /dev/null 2>&1") == 0) {
    args.push_back("-DCMAKE_CXX_COMPILER_LAUNCHER=ccache");
  }
  return args;
}

class InstallTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    prefix_dir_ = new TempDir();
    install_error_ = new std::string(Sh(std::string(EDGEPIPE_CMAKE_COMMAND) + " --install " +
                                            Quote(EDGEPIPE_BINARY_DIR) + " --prefix " +
                                            Quote(prefix_dir_->Join("prefix")),
                                        prefix_dir_->Join("install.log")));
  }
  static void TearDownTestSuite() {
    delete prefix_dir_;
    delete install_error_;
  }

  void SetUp() override {
    ASSERT_EQ(*install_error_, "");
    examples_ = tmp_.Join("examples");
    ASSERT_EQ(components::trainer_testing::WriteSyntheticExamples(examples_, 200, 50),
              Status::Ok());
  }

  static std::string Prefix() { return prefix_dir_->Join("prefix"); }

  // A Trainer execution on the synthetic examples into a fresh output `name`.
  Status Train(const std::string& module_file, const std::string& name,
               const components::TrainerOptions& options) {
    pipeline::ExecutionContext ctx;
    ctx.component_id = "Trainer";
    ctx.inputs["examples"] = {Artifact{1, "Examples", examples_, {}}};
    model_ = tmp_.Join(name + "/model");
    model_run_ = tmp_.Join(name + "/model_run");
    EXPECT_EQ(Env::Default()->CreateDirs(model_), Status::Ok());
    EXPECT_EQ(Env::Default()->CreateDirs(model_run_), Status::Ok());
    ctx.outputs["model"] = {Artifact{0, "Model", model_, {}}};
    ctx.outputs["model_run"] = {Artifact{0, "ModelRun", model_run_, {}}};
    ctx.params = {{"module_file", module_file},
                  {"train_steps", int64_t{30}},
                  {"eval_steps", int64_t{0}},
                  {"custom_config", std::string("{\"batch_size\": 20}")}};
    components::TrainerExecutor executor(options);
    return executor.Do(ctx);
  }

  components::TrainerOptions SourceBuildOptions() {
    components::TrainerOptions options;
    options.build.prefix_path = {Prefix()};
    options.build.cmake_args = ModuleCMakeArgs();
    options.build.cmake = EDGEPIPE_CMAKE_COMMAND;
    options.build.build_root = tmp_.Join("module_builds");
    return options;
  }

  static TempDir* prefix_dir_;
  static std::string* install_error_;
  TempDir tmp_;
  std::string examples_, model_, model_run_;
};
TempDir* InstallTest::prefix_dir_ = nullptr;
std::string* InstallTest::install_error_ = nullptr;

TEST_F(InstallTest, InstalledTreeHasHeadersLibrariesAndPackageConfig) {
  Env* env = Env::Default();
  const std::string inc = JoinPath(Prefix(), "include/edgepipe");
  for (const char* header :
       {"components/fn_args.h", "components/trainer.h", "core/status.h", "nn/model.h",
        "lite/rewriter.h", "pipeline/module.h", "data/example.pb.h", "eval/eval_config.pb.h",
        "lite/tflite_schema_generated.h"}) {
    EXPECT_TRUE(env->Exists(JoinPath(inc, header))) << header;
  }
  EXPECT_FALSE(env->Exists(JoinPath(inc, "core/testing/temp_dir.h")));  // test-only
  EXPECT_FALSE(env->Exists(JoinPath(inc, "components/trainer_testing.h")));
  EXPECT_TRUE(env->Exists(JoinPath(Prefix(), "lib/libedgepipe_core.a")));
  EXPECT_TRUE(env->Exists(JoinPath(Prefix(), "lib/libedgepipe_components.a")));
  EXPECT_TRUE(env->Exists(JoinPath(Prefix(), "lib/cmake/edgepipe/edgepipeConfig.cmake")));
  EXPECT_TRUE(env->Exists(JoinPath(Prefix(), "lib/cmake/edgepipe/edgepipeTargets.cmake")));
  EXPECT_TRUE(env->Exists(JoinPath(Prefix(), "bin/edgepipe")));
}

TEST_F(InstallTest, OutOfTreeModuleBuildsWithFindPackageAndTrainsThroughTheTrainer) {
  const std::string build = tmp_.Join("fixture_build");
  std::string configure = std::string(EDGEPIPE_CMAKE_COMMAND) + " -S " +
                          Quote(std::string(EDGEPIPE_SOURCE_DIR) + "/tests/module_fixture") +
                          " -B " + Quote(build) + " -DCMAKE_BUILD_TYPE=Release" +
                          " -DCMAKE_PREFIX_PATH=" + Quote(Prefix());
  for (const std::string& arg : ModuleCMakeArgs()) configure.append(" ").append(Quote(arg));
  ASSERT_EQ(Sh(configure, tmp_.Join("configure.log")), "");
  ASSERT_EQ(Sh(std::string(EDGEPIPE_CMAKE_COMMAND) + " --build " + Quote(build) +
                   " --target mnist_lite_module -j 2",
               tmp_.Join("build.log")),
            "");
  const std::string library = JoinPath(build, "mnist_lite_module.so");
  ASSERT_TRUE(Env::Default()->Exists(library));

  ASSERT_EQ(Train(library, "lite", {}), Status::Ok());
  Result<std::string> tflite = ReadFileToString(JoinPath(model_, "Format-Serving/tflite"));
  ASSERT_TRUE(tflite.ok()) << tflite.status();
  EXPECT_EQ(tflite->substr(4, 4), "TFL3");
  Result<std::string> log = ReadFileToString(JoinPath(model_run_, components::kTrainingLogName));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(model::Json::parse(*log)["steps"], 30);
}

TEST_F(InstallTest, TrainerBuildsASourceModuleAgainstTheInstallOnceAndReusesIt) {
  const std::string source = std::string(EDGEPIPE_SOURCE_DIR) + "/examples/mnist/mnist_module.cc";
  const components::TrainerOptions options = SourceBuildOptions();
  ASSERT_EQ(Train(source, "first", options), Status::Ok());
  Result<model::LoadedModel> loaded = model::Load(JoinPath(model_, kServingModelDirName));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_NE(loaded->FindSignature("serving_default"), nullptr);
  Result<std::string> trainer_log =
      ReadFileToString(JoinPath(model_run_, components::kTrainerLogName));
  ASSERT_TRUE(trainer_log.ok()) << trainer_log.status();
  const std::string library = model::Json::parse(*trainer_log)["library"].get<std::string>();
  EXPECT_THAT(library, HasSubstr(options.build.build_root));
  const auto built_at = std::filesystem::last_write_time(library);

  // Unchanged content: no rebuild, the same library.
  ASSERT_EQ(Train(source, "second", options), Status::Ok());
  trainer_log = ReadFileToString(JoinPath(model_run_, components::kTrainerLogName));
  ASSERT_TRUE(trainer_log.ok());
  EXPECT_EQ(model::Json::parse(*trainer_log)["library"].get<std::string>(), library);
  EXPECT_EQ(std::filesystem::last_write_time(library), built_at);
  Result<std::vector<std::string>> builds = Env::Default()->ListDir(options.build.build_root);
  ASSERT_TRUE(builds.ok());
  EXPECT_EQ(builds->size(), 1u);
}

TEST_F(InstallTest, ModuleThatDoesNotCompileFailsWithTheCompilersErrors) {
  const std::string source = tmp_.Join("bad_module.cc");
  ASSERT_EQ(WriteFileAtomic(source,
                            "#include \"edgepipe/components/fn_args.h\"\n"
                            "edgepipe::Status RunFn(const edgepipe::components::FnArgs&) {\n"
                            "  return undefined_helper_function();\n"
                            "}\n"
                            "EDGEPIPE_RUN_FN(RunFn)\n"),
            Status::Ok());
  Status s = Train(source, "bad", SourceBuildOptions());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("Trainer"));
  EXPECT_THAT(s.message(), HasSubstr("bad_module.cc: module does not build"));
  EXPECT_THAT(s.message(), HasSubstr("undefined_helper_function"));  // the compiler's error
  EXPECT_THAT(s.message(), HasSubstr("bad_module.cc:3"));            // with its line
}

}  // namespace
}  // namespace edgepipe
