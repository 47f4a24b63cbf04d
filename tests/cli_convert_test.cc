// End-to-end tests of `edgepipe convert`: a native saved model (the guide's
// MNIST MLP) becomes <out>/tflite, the validation report is printed, and
// errors give exit codes 1 (bad input) and 2 (usage).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/test_models.h"

namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class CliConvertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cli_convert_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    serving_ = (dir_ / "serving").string();
    src_ = serving_ + "/temp";
    edgepipe::nn::Sequential mlp = edgepipe::model::testing::MakeMlp(21);
    std::vector<edgepipe::model::Signature> sigs = {edgepipe::model::TensorSignature(
        "serving_default", {{"image_floats", edgepipe::DType::kFloat32, {-1, 784}}})};
    edgepipe::Status s = edgepipe::model::Save(mlp, src_, sigs);
    ASSERT_TRUE(s.ok()) << s;
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun Edgepipe(const std::string& args) {
    std::string cmd = std::string(EDGEPIPE_CLI_PATH) + " " + args + " >" +
                      (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(dir_ / "stdout");
    r.err = Slurp(dir_ / "stderr");
    return r;
  }

  fs::path dir_;
  std::string serving_, src_;
};

TEST_F(CliConvertTest, ConvertsTheGuideMlpAndPrintsTheReport) {
  CliRun r = Edgepipe("convert " + src_ + " " + serving_);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("wrote " + serving_ + "/tflite ("));
  EXPECT_THAT(r.out, HasSubstr("validation: 8 samples: max |diff|"));
  EXPECT_THAT(r.out, HasSubstr("top-1 agreement 8/8 (100.0%)"));
  // The file loads and runs in our interpreter.
  auto model = edgepipe::lite::Model::Load(serving_ + "/tflite");
  ASSERT_TRUE(model.ok()) << model.status();
  std::shared_ptr<const edgepipe::lite::Model> shared(std::move(*model));
  auto interp = edgepipe::lite::Interpreter::Create(shared, edgepipe::lite::BuiltinOpResolver());
  ASSERT_TRUE(interp.ok()) << interp.status();
  EXPECT_EQ((*interp)->FindInput("serving_default_image_floats:0"), 0);

  CliRun named = Edgepipe("convert " + src_ + " " + (dir_ / "out").string() +
                          " --filename mlp.tflite --samples 3 --seed 5");
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_THAT(named.out, HasSubstr("validation: 3 samples"));
  EXPECT_TRUE(fs::exists(dir_ / "out" / "mlp.tflite"));
}

TEST_F(CliConvertTest, ErrorsAndUsage) {
  CliRun help = Edgepipe("convert --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("--quantize"));

  EXPECT_EQ(Edgepipe("convert " + src_).exit_code, 2);
  EXPECT_EQ(Edgepipe("convert " + src_ + " " + serving_ + " --quantize int4").exit_code, 2);

  CliRun same = Edgepipe("convert " + src_ + " " + src_ + "/");
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_THAT(same.err, HasSubstr("same folder"));

  CliRun int8 = Edgepipe("convert " + src_ + " " + serving_ + " --quantize int8");
  EXPECT_EQ(int8.exit_code, 1);
  EXPECT_THAT(int8.err, HasSubstr("representative dataset"));

  // Quantized rewrites work from the CLI; they are reported, not held to
  // the float tolerance.
  const std::string dyn_dir = (dir_ / "dynamic").string();
  CliRun dynamic = Edgepipe("convert " + src_ + " " + dyn_dir + " --quantize dynamic");
  EXPECT_EQ(dynamic.exit_code, 0) << dynamic.err;
  EXPECT_THAT(dynamic.out, HasSubstr("validation:"));
  EXPECT_TRUE(fs::exists(dyn_dir + "/tflite"));

  CliRun sig = Edgepipe("convert " + src_ + " " + serving_ + " --signature other");
  EXPECT_EQ(sig.exit_code, 1);
  EXPECT_THAT(sig.err, HasSubstr("\"other\""));

  CliRun missing = Edgepipe("convert " + (dir_ / "nothing").string() + " " + serving_);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("nothing"));
  EXPECT_FALSE(fs::exists(serving_ + "/tflite"));
}

}  // namespace
