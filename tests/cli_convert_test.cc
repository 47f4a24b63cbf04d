// End-to-end tests of `edgepipe convert`: a native saved model (the guide's
// MNIST MLP) becomes <out>/tflite, the validation report is printed, and
// errors give exit codes 1 (bad input) and 2 (usage).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "edgepipe/core/npy.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"
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

  // A TFRecord file (gzip when the name ends in .gz) of `n` tf.Examples as
  // ExampleGen writes them: image_floats (784 floats in [0, 1)) and
  // image_class; `floats` overrides the image's value count.
  std::string WriteExamples(const std::string& name, int n, int floats = 784) {
    const std::string path = (dir_ / name).string();
    auto w = edgepipe::data::TFRecordWriter::Open(path);
    EXPECT_TRUE(w.ok()) << w.status();
    std::mt19937 rng(static_cast<uint32_t>(n));
    std::uniform_real_distribution<float> d(0.0f, 1.0f);
    for (int i = 0; i < n; ++i) {
      edgepipe::tf::Example ex;
      std::vector<float> image(static_cast<size_t>(floats));
      for (float& v : image) v = d(rng);
      const int64_t label = i % 10;
      edgepipe::data::SetFloats(&ex, "image_floats", image);
      edgepipe::data::SetInt64s(&ex, "image_class", std::span<const int64_t>(&label, 1));
      EXPECT_TRUE((*w)->Write(edgepipe::data::SerializeDeterministic(ex)).ok());
    }
    EXPECT_TRUE((*w)->Close().ok());
    return path;
  }

  // A float32 .npy of shape `shape`, uniform in [0, 1).
  std::string WriteNpy(const std::string& name, std::vector<int64_t> shape) {
    const std::string path = (dir_ / name).string();
    auto a = edgepipe::Array::Zeros(edgepipe::DType::kFloat32, std::move(shape));
    EXPECT_TRUE(a.ok());
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> d(0.0f, 1.0f);
    for (float& v : a->data<float>()) v = d(rng);
    EXPECT_TRUE(edgepipe::WriteNpy(path, *a).ok());
    return path;
  }

  fs::path dir_;
  std::string serving_, src_;
};

// Types of the tensors of subgraph 0 that have constant data (weights).
std::vector<tflite::TensorType> WeightTypes(const edgepipe::lite::Model& m) {
  std::vector<tflite::TensorType> types;
  const auto* ts = m.subgraph(0).tensors();
  for (flatbuffers::uoffset_t t = 0; ts && t < ts->size(); ++t) {
    if (!m.TensorData(0, static_cast<int>(t)).empty()) types.push_back(ts->Get(t)->type());
  }
  return types;
}

TEST_F(CliConvertTest, Int8CalibratesOnExampleGenTFRecords) {
  const std::string gz = WriteExamples("train.tfrecord.gz", 40);
  CliRun r = Edgepipe("convert " + src_ + " " + serving_ + " --quantize int8 --calibration-data " +
                      gz + " --calibration-steps 20");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("calibrating on 20 rows"));
  // The calibration rows are also the validation inputs.
  EXPECT_THAT(r.out, HasSubstr("validation: 20 samples"));
  auto model = edgepipe::lite::Model::Load(serving_ + "/tflite");
  ASSERT_TRUE(model.ok()) << model.status();
  int int8_weights = 0;
  for (tflite::TensorType t : WeightTypes(**model)) {
    EXPECT_NE(t, tflite::TensorType::FLOAT32);
    int8_weights += t == tflite::TensorType::INT8;
  }
  EXPECT_EQ(int8_weights, 3);

  // Uncompressed, two files, steps 0 (= all rows): 40 + 7.
  const std::string plain = WriteExamples("more.tfrecord", 7);
  CliRun all =
      Edgepipe("convert " + src_ + " " + (dir_ / "all").string() +
               " --quantize int8 --input-type int8 --output-type int8 --calibration-steps 0" +
               " --calibration-data " + gz + " " + plain);
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_THAT(all.err, HasSubstr("calibrating on 47 rows"));
  EXPECT_TRUE(fs::exists(dir_ / "all" / "tflite"));
}

TEST_F(CliConvertTest, Int8CalibratesOnNpy) {
  const std::string npy = WriteNpy("rows.npy", {12, 784});
  CliRun named = Edgepipe("convert " + src_ + " " + serving_ +
                          " --quantize int8 --calibration-data image_floats=" + npy);
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_THAT(named.err, HasSubstr("calibrating on 12 rows"));
  EXPECT_THAT(named.out, HasSubstr("validation: 12 samples"));
  // A single-input signature takes the file alone.
  CliRun plain = Edgepipe("convert " + src_ + " " + (dir_ / "b").string() +
                          " --quantize int8 --calibration-steps 5 --calibration-data " + npy);
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.err, HasSubstr("calibrating on 5 rows"));
}

TEST_F(CliConvertTest, CalibrationDataErrorsNameTheFileAndTheRule) {
  auto run = [&](const std::string& args) {
    return Edgepipe("convert " + src_ + " " + serving_ + " " + args);
  };
  const std::string short_rows = WriteExamples("short.tfrecord", 3, 10);
  CliRun r = run("--quantize int8 --calibration-data " + short_rows);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(short_rows + ": record 0: feature \"image_floats\" has 10 values; "
                                            "input \"image_floats\" needs 784"));

  const std::string bad_shape = WriteNpy("bad.npy", {4, 28, 28});
  r = run("--quantize int8 --calibration-data " + bad_shape);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(bad_shape + ": shape [4, 28, 28]"));
  EXPECT_THAT(r.err, HasSubstr("[N, 784]"));

  const std::string good = WriteNpy("good.npy", {4, 784});
  r = run("--quantize int8 --calibration-data pixels=" + good);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("\"pixels\" is not a signature input (inputs: image_floats)"));

  r = run("--quantize int8 --calibration-data " + good + " " + short_rows);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not both"));

  r = run("--quantize dynamic --calibration-data " + good);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--quantize int8 only"));

  const std::string empty = WriteExamples("empty.tfrecord", 0);
  r = run("--quantize int8 --calibration-data " + empty);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(empty + ": no rows"));

  r = run("--quantize int8 --calibration-data " + (dir_ / "missing.tfrecord").string());
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("missing.tfrecord"));

  // Not a TFRecord: a .npy file under another name is read as one.
  const std::string not_records = (dir_ / "not_records.tfrecord").string();
  fs::copy_file(good, not_records);
  r = run("--quantize int8 --calibration-data " + not_records);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(not_records + ": record 0"));

  EXPECT_EQ(run("--quantize int8 --calibration-data " + good + " --calibration-steps -1").exit_code,
            2);
  EXPECT_FALSE(fs::exists(serving_ + "/tflite"));
  CliRun help = Edgepipe("convert --help");
  EXPECT_THAT(help.out, HasSubstr("--calibration-data"));
  EXPECT_THAT(help.out, HasSubstr("--calibration-steps"));
}

// The written files' sizes follow issue 4: int8 weights make the guide's
// MLP (54,912 weights, ~215 KiB of float32) about 1/4 of the float file,
// float16 about 1/2; the graph and int32 biases add a little.
TEST_F(CliConvertTest, WrittenModelSizesFollowTheQuantization) {
  const std::string npy = WriteNpy("rows.npy", {8, 784});
  std::map<std::string, double> size;
  for (const std::string mode : {"none", "float16", "dynamic", "int8"}) {
    const std::string out = (dir_ / mode).string();
    CliRun r = Edgepipe("convert " + src_ + " " + out + " --quantize " + mode +
                        (mode == "int8" ? " --calibration-data " + npy : ""));
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    size[mode] = static_cast<double>(fs::file_size(out + "/tflite"));
    std::string written = "(";
    written += std::to_string(fs::file_size(out + "/tflite"));
    written += " bytes)";
    EXPECT_THAT(r.out, HasSubstr(written));
  }
  EXPECT_GT(size["none"], 54912 * 4);
  EXPECT_LT(size["none"], 54912 * 4 * 1.05);
  const double f16 = size["float16"] / size["none"];
  const double dyn = size["dynamic"] / size["none"];
  const double int8 = size["int8"] / size["none"];
  std::printf("float %.0f bytes; float16 %.3f, dynamic %.3f, int8 %.3f of it\n", size["none"], f16,
              dyn, int8);
  EXPECT_GT(f16, 0.48);
  EXPECT_LT(f16, 0.55);
  EXPECT_GT(dyn, 0.24);
  EXPECT_LT(dyn, 0.30);
  EXPECT_GT(int8, 0.24);
  EXPECT_LT(int8, 0.30);
}

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
