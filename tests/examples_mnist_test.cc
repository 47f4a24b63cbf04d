// examples/mnist end to end (ctest label "slow"): `edgepipe run` of the
// pipeline library into a temp root with fewer train steps, then checks the
// metadata store: 11 executions, both models blessed with accuracy >= 0.8 on
// the eval split, both pushed; `edgepipe compare` prints the side-by-side
// table; a rerun is fully cached.
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

namespace edgepipe {
namespace {

using pipeline::ExecutionRecord;
using pipeline::ExecutionState;
using ::testing::HasSubstr;

constexpr int kComponents = 11;

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

std::vector<ExecutionRecord> Executions(const std::string& root) {
  auto store = pipeline::MetadataStore::Open(JoinPath(root, "metadata.sqlite"),
                                             {.create_if_missing = false});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return {};
  auto all = (*store)->GetExecutions();
  EXPECT_TRUE(all.ok()) << all.status();
  return all.ok() ? *all : std::vector<ExecutionRecord>{};
}

pipeline::ArtifactMap Outputs(const std::string& root, int64_t execution_id) {
  auto store = pipeline::MetadataStore::Open(JoinPath(root, "metadata.sqlite"),
                                             {.create_if_missing = false});
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return {};
  auto out = (*store)->GetExecutionArtifacts(execution_id, pipeline::EventType::kOutput);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? *out : pipeline::ArtifactMap{};
}

std::string Uri(const std::string& root, const std::string& uri) {
  return !uri.empty() && uri[0] == '/' ? uri : JoinPath(root, uri);
}

TEST(ExamplesMnistTest, RunsBlessesPushesAndCaches) {
  TempDir tmp;
  const std::string root = tmp.Join("pipeline");
  const std::string cli = EDGEPIPE_CLI_PATH;
  const std::string run =
      "EDGEPIPE_MNIST_TRAIN_STEPS=1000 EDGEPIPE_MNIST_SERVING=" + tmp.Join("serving") + " " + cli +
      " run " + EDGEPIPE_MNIST_PIPELINE_SO + " --root " + root;
  ShellRun first = Shell(run, tmp.Join("run1.log"));
  ASSERT_EQ(first.exit_code, 0) << first.output;

  std::vector<ExecutionRecord> execs = Executions(root);
  ASSERT_EQ(execs.size(), static_cast<size_t>(kComponents)) << first.output;
  std::map<std::string, ExecutionRecord> by_id;
  for (const ExecutionRecord& e : execs) {
    EXPECT_EQ(e.state, ExecutionState::kComplete) << e.component_id << ": " << e.error;
    by_id[e.component_id] = e;
  }
  for (const char* id : {"ExampleGen", "StatisticsGen", "SchemaGen", "ExampleValidator",
                         "Transform", "Trainer.mnist", "Trainer.mnist_lite", "Evaluator.mnist",
                         "Evaluator.mnist_lite", "Pusher.mnist", "Pusher.mnist_lite"}) {
    EXPECT_EQ(by_id.count(id), 1u) << id;
  }

  for (const std::string model : {"mnist", "mnist_lite"}) {
    pipeline::ArtifactMap ev = Outputs(root, by_id["Evaluator." + model].id);
    ASSERT_EQ(ev["blessing"].size(), 1u) << model;
    EXPECT_EQ(std::get<int64_t>(ev["blessing"][0].properties.at("blessed")), 1) << model;
    auto result = eval::ReadEvalResult(Uri(root, ev["evaluation"][0].uri));
    ASSERT_TRUE(result.ok()) << result.status();
    EXPECT_GT(result->num_examples, 2000) << model;  // a third of 10,000 digits
    EXPECT_EQ(result->models.at(0).model_type, model == "mnist" ? "native" : "tf_lite");
    double accuracy = -1;
    for (const auto& [key, value] : result->slices.at(0).metrics) {
      if (key.name == "sparse_categorical_accuracy") accuracy = value.value;
    }
    EXPECT_GE(accuracy, 0.8) << model;
    EXPECT_LE(accuracy, 1.0) << model;
    EXPECT_TRUE(
        Env::Default()->Exists(JoinPath(Uri(root, ev["evaluation"][0].uri), "report.html")));

    pipeline::ArtifactMap pushed = Outputs(root, by_id["Pusher." + model].id);
    ASSERT_EQ(pushed["pushed_model"].size(), 1u) << model;
    const pipeline::Properties& p = pushed["pushed_model"][0].properties;
    EXPECT_EQ(std::get<int64_t>(p.at("pushed")), 1) << model;
    const std::string dest = std::get<std::string>(p.at("pushed_destination"));
    EXPECT_THAT(dest, HasSubstr(tmp.Join("serving/" + model)));
    EXPECT_TRUE(Env::Default()->IsDirectory(dest)) << dest;
    if (model == "mnist_lite") {
      EXPECT_TRUE(Env::Default()->Exists(JoinPath(dest, "tflite")));
    }
  }

  // The side-by-side table comes from the store and one extra evaluation.
  ShellRun compare = Shell(cli + " compare --root " + root, tmp.Join("compare.log"));
  ASSERT_EQ(compare.exit_code, 0) << compare.output;
  EXPECT_THAT(compare.output, HasSubstr("Evaluator.mnist_lite"));
  EXPECT_THAT(compare.output, HasSubstr("flip rate"));
  EXPECT_THAT(compare.output, HasSubstr("report.html"));

  // A rerun changes nothing: every component is cached.
  ShellRun second = Shell(run, tmp.Join("run2.log"));
  ASSERT_EQ(second.exit_code, 0) << second.output;
  execs = Executions(root);
  ASSERT_EQ(execs.size(), static_cast<size_t>(2 * kComponents));
  int cached = 0;
  for (const ExecutionRecord& e : execs) {
    if (e.id > by_id["Pusher.mnist_lite"].id && e.id > by_id["Pusher.mnist"].id) {
      EXPECT_EQ(e.state, ExecutionState::kCached) << e.component_id;
      cached += e.state == ExecutionState::kCached ? 1 : 0;
    }
  }
  EXPECT_EQ(cached, kComponents);
}

}  // namespace
}  // namespace edgepipe
