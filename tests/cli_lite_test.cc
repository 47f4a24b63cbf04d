// End-to-end tests of `edgepipe lite run|inspect|bench` on the TFLite fixtures
// written by TensorFlow's converter (../shared/fixtures/tflite): outputs equal
// to the in-process interpreter's, the errors users see, exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "edgepipe/core/npy.h"
#include "edgepipe/lite/interpreter.h"

namespace {

namespace fs = std::filesystem;
using edgepipe::Array;
using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

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

// The in-process interpreter's outputs for `inputs` (batch resized to theirs).
std::vector<Array> RunInProcess(const std::string& model, const std::vector<Array>& inputs) {
  auto m = edgepipe::lite::Model::Load(model);
  EXPECT_TRUE(m.ok()) << m.status();
  auto in = edgepipe::lite::Interpreter::Create(
      std::shared_ptr<const edgepipe::lite::Model>(std::move(*m)),
      edgepipe::lite::BuiltinOpResolver());
  EXPECT_TRUE(in.ok()) << in.status();
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::vector<int32_t> shape(inputs[i].shape().begin(), inputs[i].shape().end());
    EXPECT_TRUE((*in)->ResizeInput(static_cast<int>(i), shape).ok());
  }
  EXPECT_TRUE((*in)->AllocateTensors().ok());
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_TRUE((*in)->SetInput(static_cast<int>(i), inputs[i]).ok());
  }
  EXPECT_TRUE((*in)->Invoke().ok());
  std::vector<Array> out;
  for (int i = 0; i < (*in)->num_outputs(); ++i) out.push_back(*(*in)->GetOutput(i));
  return out;
}

class CliLiteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cli_lite_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  CliRun Edgepipe(const std::string& args) {
    std::string cmd = "EDGEPIPE_PROGRESS=0 " + std::string(EDGEPIPE_CLI_PATH) + " " + args + " >" +
                      (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    int status = std::system(cmd.c_str());
    CliRun r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(dir_ / "stdout");
    r.err = Slurp(dir_ / "stderr");
    return r;
  }

  std::string WriteArray(const std::string& name, const Array& a) {
    const std::string path = (dir_ / name).string();
    EXPECT_TRUE(edgepipe::WriteNpy(path, a).ok());
    return path;
  }

  fs::path dir_;
};

TEST_F(CliLiteTest, RunHelloWorldFloatAtBatch3MatchesInterpreterAndSine) {
  const std::vector<float> xs = {0.5f, 1.5f, 3.0f};
  auto x = Array::FromVector<float>({3, 1}, xs);
  ASSERT_TRUE(x.ok());
  const std::string xf = WriteArray("x.npy", *x);
  const std::string out = (dir_ / "out").string();
  // Signature input name.
  CliRun r = Edgepipe("lite run " + Fixture("hello_world_float.tflite") +
                      " --input dense_input=" + xf + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The only output, named by the signature; its file is <name>.npy.
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(out)) files.push_back(e.path());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].extension(), ".npy");
  EXPECT_THAT(r.out, HasSubstr(files[0].filename().stem().string()));
  auto y = edgepipe::ReadNpy(files[0].string());
  ASSERT_TRUE(y.ok()) << y.status();
  ASSERT_EQ(y->shape(), (std::vector<int64_t>{3, 1}));
  const std::vector<Array> want = RunInProcess(Fixture("hello_world_float.tflite"), {*x});
  ASSERT_EQ(want.size(), 1u);
  for (size_t i = 0; i < xs.size(); ++i) {
    EXPECT_EQ(y->data<float>()[i], want[0].data<float>()[i]) << i;
    EXPECT_NEAR(y->data<float>()[i], std::sin(xs[i]), 0.15) << "x=" << xs[i];
  }
  // The tensor name is accepted too, and a rerun replaces the file.
  CliRun again = Edgepipe("lite run " + Fixture("hello_world_float.tflite") +
                          " --input serving_default_dense_input:0=" + xf + " --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.err;
}

TEST_F(CliLiteTest, RunMicroSpeechInt8MatchesInterpreterExactly) {
  std::vector<int8_t> v(1960);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int8_t>((i * 73 + 11) % 256 - 128);
  auto x = Array::FromVector<int8_t>({1, 1960}, v);
  ASSERT_TRUE(x.ok());
  const std::string out = (dir_ / "o").string();
  CliRun r = Edgepipe("lite run " + Fixture("micro_speech_quantized.tflite") +
                      " --input Reshape_1=" + WriteArray("in.npy", *x) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto y = edgepipe::ReadNpy(out + "/labels_softmax.npy");
  ASSERT_TRUE(y.ok()) << y.status() << "\n" << r.out;
  const std::vector<Array> want = RunInProcess(Fixture("micro_speech_quantized.tflite"), {*x});
  ASSERT_EQ(y->dtype(), edgepipe::DType::kInt8);
  ASSERT_EQ(y->shape(), want[0].shape());
  for (int64_t i = 0; i < y->num_elements(); ++i) {
    EXPECT_EQ(y->data<int8_t>()[static_cast<size_t>(i)],
              want[0].data<int8_t>()[static_cast<size_t>(i)]);
  }
}

TEST_F(CliLiteTest, RunErrorsNameTheInputsTypesAndShapes) {
  const std::string model = Fixture("hello_world_float.tflite");
  auto f = Array::FromVector<float>({1, 1}, std::vector<float>{1});
  auto i8 = Array::FromVector<int8_t>({1, 1}, std::vector<int8_t>{1});
  auto wide = Array::FromVector<float>({2, 3}, std::vector<float>(6, 0.0f));
  const std::string ff = WriteArray("f.npy", *f);
  const std::string out = " --out " + (dir_ / "out").string();

  CliRun unknown = Edgepipe("lite run " + model + " --input bogus=" + ff + out);
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("no input \"bogus\""));
  EXPECT_THAT(unknown.err, HasSubstr("\"dense_input\""));  // the model's inputs listed
  EXPECT_THAT(unknown.err, HasSubstr("float32[1, 1]"));

  CliRun dtype =
      Edgepipe("lite run " + model + " --input dense_input=" + WriteArray("i8.npy", *i8) + out);
  EXPECT_EQ(dtype.exit_code, 1);
  EXPECT_THAT(dtype.err, HasSubstr("i8.npy: dtype int8"));
  EXPECT_THAT(dtype.err, HasSubstr("needs float32"));

  CliRun shape =
      Edgepipe("lite run " + model + " --input dense_input=" + WriteArray("wide.npy", *wide) + out);
  EXPECT_EQ(shape.exit_code, 1);
  EXPECT_THAT(shape.err, HasSubstr("wide.npy: shape [2, 3]"));
  EXPECT_THAT(shape.err, HasSubstr("[1, 1]"));

  CliRun twice = Edgepipe("lite run " + model + " --input dense_input=" + ff +
                          " --input dense_input=" + ff + out);
  EXPECT_EQ(twice.exit_code, 1);
  EXPECT_THAT(twice.err, HasSubstr("already given"));

  CliRun sig = Edgepipe("lite run " + model + " --signature nope --input dense_input=" + ff + out);
  EXPECT_EQ(sig.exit_code, 1);
  EXPECT_THAT(sig.err, HasSubstr("no signature \"nope\""));
  EXPECT_THAT(sig.err, HasSubstr("\"serving_default\""));

  CliRun bad_npy = Edgepipe("lite run " + model + " --input dense_input=" + model + out);
  EXPECT_EQ(bad_npy.exit_code, 1);
  EXPECT_THAT(bad_npy.err, HasSubstr("hello_world_float.tflite"));

  CliRun usage = Edgepipe("lite run " + model + " --input dense_input" + out);
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, HasSubstr("NAME=FILE"));

  std::ofstream(dir_ / "junk.tflite") << "definitely not a flatbuffer";
  CliRun junk = Edgepipe("lite inspect " + (dir_ / "junk.tflite").string());
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_THAT(junk.err, HasSubstr("junk.tflite"));
  EXPECT_THAT(junk.err, HasSubstr("TFL3"));

  CliRun missing = Edgepipe("lite bench " + (dir_ / "none.tflite").string());
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("none.tflite: no such file"));

  CliRun help = Edgepipe("lite --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("bench"));
  EXPECT_EQ(Edgepipe("lite").exit_code, 2);
  EXPECT_EQ(Edgepipe("lite bench " + model + " --runs 0").exit_code, 2);
}

TEST_F(CliLiteTest, InspectTextAndJson) {
  const std::string model = Fixture("micro_speech_quantized.tflite");
  CliRun text = Edgepipe("lite inspect " + model);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_THAT(text.out, HasSubstr("DEPTHWISE_CONV_2D"));
  EXPECT_THAT(text.out, HasSubstr("constant buffers"));
  EXPECT_THAT(text.out, HasSubstr("\"labels_softmax\""));
  EXPECT_THAT(text.out, HasSubstr("zero_point"));
  CliRun json = Edgepipe("lite inspect --json " + model);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const auto doc = nlohmann::json::parse(json.out);
  EXPECT_EQ(doc["file_bytes"].get<size_t>(), fs::file_size(model));
  EXPECT_EQ(doc["subgraphs"][0]["operators"].size(), 4u);
  // Models the interpreter cannot run are still described.
  CliRun lstm = Edgepipe("lite inspect " + Fixture("trained_lstm.tflite"));
  ASSERT_EQ(lstm.exit_code, 0) << lstm.err;
  EXPECT_THAT(lstm.out, HasSubstr("UNIDIRECTIONAL_SEQUENCE_LSTM"));
}

// Parses "  <op>  <NAME>  <total ms>  <mean us>  <share>%" rows. (No
// std::regex: GCC 12 warns inside it under the sanitizers.)
struct OpRow {
  int op;
  std::string name;
  double total_ms, share;
};
std::vector<OpRow> OpRows(const std::string& out) {
  std::vector<OpRow> rows;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    OpRow r;
    double mean_us = 0;
    std::string share;
    if (!(fields >> r.op >> r.name >> r.total_ms >> mean_us >> share)) continue;
    if (share.empty() || share.back() != '%') continue;
    r.share = std::stod(share.substr(0, share.size() - 1));
    rows.push_back(r);
  }
  return rows;
}

// The number after `key` in `text` (-1 when absent).
double NumberAfter(const std::string& text, const std::string& key) {
  const size_t at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

TEST_F(CliLiteTest, BenchReportsLatencyArenaAndPerOpTime) {
  CliRun r =
      Edgepipe("lite bench " + Fixture("micro_speech_quantized.tflite") + " --runs 20 --warmup 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double p50 = NumberAfter(r.out, "p50 "), p90 = NumberAfter(r.out, "p90 "),
               p99 = NumberAfter(r.out, "p99 ");
  EXPECT_GT(p50, 0) << r.out;
  EXPECT_LE(p50, p90);
  EXPECT_LE(p90, p99);
  const double arena = NumberAfter(r.out, "arena bytes: "),
               unshared = NumberAfter(r.out, "activations unshared "),
               bound = NumberAfter(r.out, "lower bound of any plan ");
  EXPECT_GT(bound, 0) << r.out;
  EXPECT_GE(arena, bound);
  EXPECT_LE(arena, unshared + 64 * 8);
  const std::vector<OpRow> rows = OpRows(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;
  const std::vector<std::string> names = {"RESHAPE", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
                                          "SOFTMAX"};
  double share = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].op, static_cast<int>(i));
    EXPECT_EQ(rows[i].name, names[i]);
    share += rows[i].share;
  }
  EXPECT_NEAR(share, 100.0, 0.5);
  // The depthwise convolution is the heavy op, the reshape the lightest.
  EXPECT_GT(rows[1].total_ms, rows[0].total_ms);
}

TEST_F(CliLiteTest, BenchBatchAndThreads) {
  CliRun r = Edgepipe("lite bench " + Fixture("hello_world_int8.tflite") +
                      " --runs 30 --warmup 1 --batch 8 --threads 2 --profile-runs 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("int8[8, 1]"));
  EXPECT_THAT(r.out, HasSubstr("batch 8, threads 2, runs 30"));
  EXPECT_THAT(r.out, HasSubstr("inferences/s (2 x 30 runs x batch 8"));
  EXPECT_TRUE(OpRows(r.out).empty());
}

}  // namespace
