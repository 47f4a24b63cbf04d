// examples/fashion_mnist end to end (ctest label "slow"): `edgepipe run` of
// the pipeline library on a small subset of Debian's Fashion-MNIST (the first
// 2,000 train and 500 t10k images, written as IDX files in a temp folder)
// with few train steps, then checks the metadata store and the one
// Evaluator's output: 8 executions; five models (native + float32,
// dynamic-range, float16, int8 TFLite) evaluated in one pass; the int8 file
// about 1/4 and the float16 file about 1/2 of the float32 file; the float
// rewrite agrees with the native model; every accuracy above a floor that an
// untrained or broken model fails; the Pusher follows the blessing; `edgepipe
// compare` prints the five-model table. The Evaluator's multi-model part runs
// under ASan in components/evaluator_component_test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/writers.h"
#include "edgepipe/pipeline/metadata_store.h"
#include "tests/fashion_mnist_data.h"

namespace edgepipe {
namespace {

using pipeline::ExecutionRecord;
using pipeline::ExecutionState;
using ::testing::HasSubstr;

constexpr int kComponents = 8;
constexpr int64_t kTrainImages = 2000;
constexpr int64_t kTestImages = 500;

struct ShellRun {
  int exit_code = -1;
  std::string output;
};

ShellRun Shell(const std::string& cmd, const std::string& out_file) {
  ShellRun r;
  const int status = std::system((cmd + " > " + out_file + " 2>&1").c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

// Copies the header and the first `count` records of a gzip IDX file into an
// uncompressed IDX file with the count patched in.
Status WriteIdxPrefix(const std::string& from, const std::string& to, int64_t count) {
  ASSIGN_OR_RETURN(std::string bytes, testing::ReadWholeFile(from));
  if (bytes.size() < 8) return Status::DataLoss(from + ": truncated");
  const int rank = static_cast<uint8_t>(bytes[3]);
  const size_t header = 4 + 4 * static_cast<size_t>(rank);
  size_t record = 1;
  for (int i = 1; i < rank; ++i) record *= testing::BigEndian32(bytes, 4 + 4 * size_t(i));
  const size_t size = header + record * static_cast<size_t>(count);
  if (bytes.size() < size) return Status::DataLoss(from + ": fewer records than asked");
  std::string out = bytes.substr(0, size);
  for (int b = 0; b < 4; ++b) out[4 + b] = static_cast<char>((count >> (8 * (3 - b))) & 0xff);
  return WriteFileAtomic(to, out);
}

TEST(ExamplesFashionMnistTest, FiveModelsInOneEvaluation) {
  TempDir tmp;
  const std::string data = tmp.Join("data");
  const std::string src = testing::kFashionMnistDir;
  ASSERT_TRUE(Env::Default()->CreateDirs(data).ok());
  for (const auto& [prefix, count] :
       {std::pair<std::string, int64_t>{"train", kTrainImages}, {"t10k", kTestImages}}) {
    for (const char* part : {"-images-idx3-ubyte", "-labels-idx1-ubyte"}) {
      Status s = WriteIdxPrefix(src + prefix + part + ".gz", JoinPath(data, prefix + part), count);
      ASSERT_TRUE(s.ok()) << s;
    }
  }
  const std::string root = tmp.Join("pipeline");
  const std::string cli = EDGEPIPE_CLI_PATH;
  const std::string run = "EDGEPIPE_FMNIST_TRAIN_STEPS=150 EDGEPIPE_FMNIST_DATA=" + data +
                          " EDGEPIPE_FMNIST_SERVING=" + tmp.Join("serving") + " " + cli + " run " +
                          EDGEPIPE_FMNIST_PIPELINE_SO + " --root " + root;
  ShellRun first = Shell(run, tmp.Join("run.log"));
  ASSERT_EQ(first.exit_code, 0) << first.output;

  auto store = pipeline::MetadataStore::Open(JoinPath(root, "metadata.sqlite"),
                                             {.create_if_missing = false});
  ASSERT_TRUE(store.ok()) << store.status();
  auto execs = (*store)->GetExecutions();
  ASSERT_TRUE(execs.ok()) << execs.status();
  ASSERT_EQ(execs->size(), static_cast<size_t>(kComponents)) << first.output;
  std::map<std::string, ExecutionRecord> by_id;
  for (const ExecutionRecord& e : *execs) {
    EXPECT_EQ(e.state, ExecutionState::kComplete) << e.component_id << ": " << e.error;
    by_id[e.component_id] = e;
  }
  ASSERT_EQ(by_id.count("Evaluator"), 1u);
  ASSERT_EQ(by_id.count("Pusher"), 1u);
  auto uri = [&](const std::string& u) {
    return !u.empty() && u[0] == '/' ? u : JoinPath(root, u);
  };

  auto ev = (*store)->GetExecutionArtifacts(by_id["Evaluator"].id, pipeline::EventType::kOutput);
  ASSERT_TRUE(ev.ok()) << ev.status();
  ASSERT_EQ((*ev)["evaluation"].size(), 1u);
  auto result = eval::ReadEvalResult(uri((*ev)["evaluation"][0].uri));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->num_examples, kTestImages);  // the t10k split kept as eval

  // Five models in one evaluation, native first.
  ASSERT_EQ(result->models.size(), 5u);
  std::map<std::string, const eval::ModelInfo*> models;
  for (const eval::ModelInfo& m : result->models) models[m.name] = &m;
  EXPECT_EQ(result->models[0].name, "native");
  EXPECT_EQ(result->models[0].model_type, "native");
  for (const char* name : {"float32", "dynamic_range", "float16", "int8"}) {
    ASSERT_EQ(models.count(name), 1u) << name;
    EXPECT_EQ(models[name]->model_type, "tf_lite") << name;
    EXPECT_THAT(models[name]->path, HasSubstr(std::string("model_") + name + ".tflite"));
    Result<std::string> bytes = ReadFileToString(models[name]->path);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    EXPECT_EQ(models[name]->size_bytes, static_cast<int64_t>(bytes->size())) << name;
    EXPECT_GT(models[name]->latency_ms, 0) << name;
  }
  // Weights dominate the files: int8 ~1/4, float16 ~1/2, dynamic-range ~1/4.
  const double float_size = static_cast<double>(models["float32"]->size_bytes);
  EXPECT_GT(float_size, 4 * 34826 * 0.95);  // 34,826 float parameters
  const double int8_ratio = models["int8"]->size_bytes / float_size;
  const double f16_ratio = models["float16"]->size_bytes / float_size;
  const double dyn_ratio = models["dynamic_range"]->size_bytes / float_size;
  EXPECT_GT(int8_ratio, 0.2);
  EXPECT_LT(int8_ratio, 0.35);
  EXPECT_GT(f16_ratio, 0.45);
  EXPECT_LT(f16_ratio, 0.6);
  EXPECT_GT(dyn_ratio, 0.2);
  EXPECT_LT(dyn_ratio, 0.35);

  std::map<std::string, std::map<std::string, double>> metric;  // model -> name -> value
  for (const auto& [key, value] : result->slices.at(0).metrics) {
    metric[key.model_name][key.name] = value.value;
  }
  // The float rewrite agrees with the native model; the quantized ones
  // almost; a broken rewrite (or a lost Transform) would flip most labels.
  ASSERT_EQ(metric["float32"].count("flip_rate"), 1u);
  EXPECT_LE(metric["float32"]["flip_rate"], 0.002);
  EXPECT_LE(metric["float32"]["max_abs_prediction_diff"], 1e-3);
  EXPECT_LE(metric["float16"]["flip_rate"], 0.01);
  EXPECT_LE(metric["dynamic_range"]["flip_rate"], 0.03);
  EXPECT_LE(metric["int8"]["flip_rate"], 0.05);
  // 150 steps on 2,000 images: ~0.7; an untrained model scores ~0.1.
  for (const char* name : {"native", "float32", "dynamic_range", "float16", "int8"}) {
    ASSERT_EQ(metric[name].count("sparse_categorical_accuracy"), 1u) << name;
    EXPECT_GE(metric[name]["sparse_categorical_accuracy"], 0.55) << name;
    EXPECT_LE(metric[name]["sparse_categorical_accuracy"], 1.0) << name;
  }

  // The Pusher pushes exactly when the Evaluator blessed.
  const int64_t blessed = std::get<int64_t>((*ev)["blessing"][0].properties.at("blessed"));
  EXPECT_EQ(blessed, result->validation.ok ? 1 : 0);
  auto pushed = (*store)->GetExecutionArtifacts(by_id["Pusher"].id, pipeline::EventType::kOutput);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  ASSERT_EQ((*pushed)["pushed_model"].size(), 1u);
  EXPECT_EQ(std::get<int64_t>((*pushed)["pushed_model"][0].properties.at("pushed")), blessed);

  // The five-model table.
  ShellRun compare =
      Shell(cli + " compare --root " + root + " --evaluators Evaluator", tmp.Join("compare.log"));
  ASSERT_EQ(compare.exit_code, 0) << compare.output;
  for (const char* name : {"native", "float32", "dynamic_range", "float16", "int8", "flip rate"}) {
    EXPECT_THAT(compare.output, HasSubstr(name));
  }
}

}  // namespace
}  // namespace edgepipe
