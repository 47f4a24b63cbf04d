#include "edgepipe/pipeline/runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "edgepipe/pipeline/fake_components_testing.h"
#include "edgepipe/pipeline/metadata_store.h"

namespace edgepipe::pipeline {
namespace {

namespace fs = std::filesystem;
using testing::Concat;
using testing::GlobalTrace;
using ::testing::HasSubstr;

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("runner_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    root_ = (dir_ / "root").string();
    GlobalTrace().Clear();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A -> B -> C, and D <- A: a diamond-free DAG with one independent branch.
  Pipeline Chain(const std::string& b_suffix = "b", int64_t b_fail = 0) {
    Node a = Concat("A", {}, {{"suffix", std::string("a")}});
    Node b = Concat("B", {a.outputs()["out"]}, {{"suffix", b_suffix}, {"fail", b_fail}});
    Node c = Concat("C", {b.outputs()["out"]}, {{"suffix", std::string("c")}});
    Node d = Concat("D", {a.outputs()["out"]}, {{"suffix", std::string("d")}});
    // Listed out of order: the runner orders them.
    return Pipeline{"chain", root_, {c, d, b, a}, true, ""};
  }

  static RunOptions Options(int max_parallelism = 0, bool disable_cache = false,
                            FILE* log = nullptr) {
    RunOptions o;
    o.max_parallelism = max_parallelism;
    o.disable_cache = disable_cache;
    o.log = log;
    return o;
  }

  RunSummary RunOk(const Pipeline& p, RunOptions options = {}) {
    options.log = nullptr;
    auto summary = RunPipeline(p, options);
    EXPECT_TRUE(summary.ok()) << summary.status();
    return summary.ok() ? *summary : RunSummary{};
  }

  std::string Data(const RunSummary& s, const std::string& id) {
    const NodeResult* n = s.Find(id);
    if (n == nullptr || n->outputs.count("out") == 0) return "<none>";
    auto data = ReadFileToString(JoinPath(n->outputs.at("out")[0].uri, "data.txt"));
    return data.ok() ? *data : "<unreadable>";
  }

  std::unique_ptr<MetadataStore> Store() {
    auto store = MetadataStore::Open(root_ + "/metadata.sqlite", {.create_if_missing = false});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  fs::path dir_;
  std::string root_;
};

TEST_F(RunnerTest, RunsInDependencyOrderAndPublishesOutputs) {
  RunSummary s = RunOk(Chain());
  ASSERT_TRUE(s.status().ok()) << s.status();
  ASSERT_EQ(s.nodes.size(), 4u);
  // Topological: A before B and D, B before C.
  auto pos = [&](const std::string& id) {
    for (size_t i = 0; i < s.nodes.size(); ++i) {
      if (s.nodes[i].component_id == id) return static_cast<int>(i);
    }
    return -1;
  };
  EXPECT_LT(pos("A"), pos("B"));
  EXPECT_LT(pos("B"), pos("C"));
  EXPECT_LT(pos("A"), pos("D"));
  auto& t = GlobalTrace();
  EXPECT_LT(t.IndexOf("end:A"), t.IndexOf("start:B"));
  EXPECT_LT(t.IndexOf("end:B"), t.IndexOf("start:C"));
  EXPECT_LT(t.IndexOf("end:A"), t.IndexOf("start:D"));
  EXPECT_EQ(Data(s, "A"), "a");
  EXPECT_EQ(Data(s, "B"), "ab");
  EXPECT_EQ(Data(s, "C"), "abc");
  EXPECT_EQ(Data(s, "D"), "ad");

  auto store = Store();
  ASSERT_NE(store, nullptr);
  for (const NodeResult& n : s.nodes) {
    EXPECT_EQ(n.status, NodeStatus::kRan) << n.component_id;
    const Artifact& out = n.outputs.at("out")[0];
    // The TFX layout: <root>/<component_id>/<output_key>/<execution_id>.
    EXPECT_EQ(out.uri, JoinPath(fs::absolute(root_).string(),
                                n.component_id + "/out/" + std::to_string(n.execution_id)));
    EXPECT_FALSE(fs::exists(out.uri + ".tmp"));
    auto rec = store->GetArtifact(out.id);
    ASSERT_TRUE(rec.ok());
    EXPECT_EQ(rec->state, ArtifactState::kLive);
    EXPECT_EQ(rec->artifact.uri, out.uri);
    // The property the executor set is stored.
    EXPECT_EQ(std::get<int64_t>(rec->artifact.properties.at("bytes")),
              static_cast<int64_t>(Data(s, n.component_id).size()));
    auto e = store->GetExecution(n.execution_id);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->state, ExecutionState::kComplete);
    EXPECT_EQ(e->component_type, "Concat");
    EXPECT_GE(e->end_time_ms, e->start_time_ms);
    EXPECT_EQ(e->cache_key.size(), 64u);
  }
  // Lineage: C's output was produced by C, whose input was B's output.
  const int64_t c_out = s.Find("C")->outputs.at("out")[0].id;
  EXPECT_EQ(store->GetProducer(c_out)->component_id, "C");
  auto c_in = store->GetExecutionArtifacts(s.Find("C")->execution_id, EventType::kInput);
  EXPECT_EQ(c_in->at("in0")[0].id, s.Find("B")->outputs.at("out")[0].id);
  auto a_users = store->GetConsumers(s.Find("A")->outputs.at("out")[0].id);
  ASSERT_EQ(a_users->size(), 2u);
  // Run and pipeline contexts hold the executions.
  auto runs = store->GetContexts(kRunContext);
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].name, s.run_id);
  EXPECT_EQ(store->GetExecutionsByContext((*runs)[0].id)->size(), 4u);
  EXPECT_TRUE(store->CheckConsistency().ok()) << store->CheckConsistency();
}

TEST_F(RunnerTest, IndependentNodesRunInParallel) {
  std::vector<Node> nodes;
  for (int i = 0; i < 3; ++i) {
    nodes.push_back(Concat("S" + std::to_string(i), {}, {{"sleep_ms", int64_t{150}}}));
  }
  RunSummary s = RunOk(Pipeline{"par", root_, nodes, true, ""}, Options(3));
  EXPECT_TRUE(s.status().ok());
  EXPECT_EQ(GlobalTrace().max_running, 3);
  // Bounded by max_parallelism.
  GlobalTrace().Clear();
  RunSummary serial = RunOk(Pipeline{"par", root_, nodes, true, ""}, Options(1, true));
  EXPECT_TRUE(serial.status().ok());
  EXPECT_EQ(GlobalTrace().max_running, 1);
  EXPECT_EQ(GlobalTrace().Count("start:"), 3);
}

TEST_F(RunnerTest, FailureStopsDependentsOthersCompleteAllRecorded) {
  auto summary = RunPipeline(Chain("b", 1), Options());
  ASSERT_TRUE(summary.ok()) << summary.status();
  const RunSummary& s = *summary;
  EXPECT_EQ(s.Find("A")->status, NodeStatus::kRan);
  EXPECT_EQ(s.Find("B")->status, NodeStatus::kFailed);
  EXPECT_EQ(s.Find("C")->status, NodeStatus::kSkipped);
  EXPECT_EQ(s.Find("D")->status, NodeStatus::kRan);
  EXPECT_EQ(Data(s, "D"), "ad");
  EXPECT_EQ(GlobalTrace().Count("start:C"), 0);
  // The error names the component and the executor's message.
  EXPECT_FALSE(s.status().ok());
  EXPECT_THAT(s.status().message(), HasSubstr("B: "));
  EXPECT_THAT(s.status().message(), HasSubstr("told to fail"));
  EXPECT_THAT(s.Find("C")->error.message(), HasSubstr("B did not complete"));

  // Atomic outputs: nothing of B is published, not even its staging folder.
  const fs::path b_out = fs::path(root_) / "B" / "out";
  EXPECT_TRUE(!fs::exists(b_out) || fs::is_empty(b_out));
  auto store = Store();
  ASSERT_NE(store, nullptr);
  auto b = store->GetExecution(s.Find("B")->execution_id);
  EXPECT_EQ(b->state, ExecutionState::kFailed);
  EXPECT_THAT(b->error, HasSubstr("told to fail"));
  auto b_outputs = store->GetExecutionArtifacts(b->id, EventType::kOutput);
  ASSERT_EQ(b_outputs->at("out").size(), 1u);
  EXPECT_EQ(store->GetArtifact(b_outputs->at("out")[0].id)->state, ArtifactState::kAbandoned);
  auto c = store->GetExecution(s.Find("C")->execution_id);
  EXPECT_EQ(c->state, ExecutionState::kCanceled);
  EXPECT_TRUE(store->CheckConsistency().ok()) << store->CheckConsistency();

  // Fixed and rerun: A and D cached, B and C run.
  GlobalTrace().Clear();
  RunSummary fixed = RunOk(Chain("b", 0));
  EXPECT_TRUE(fixed.status().ok());
  EXPECT_EQ(fixed.Find("A")->status, NodeStatus::kCached);
  EXPECT_EQ(fixed.Find("D")->status, NodeStatus::kCached);
  EXPECT_EQ(fixed.Find("B")->status, NodeStatus::kRan);
  EXPECT_EQ(fixed.Find("C")->status, NodeStatus::kRan);
  EXPECT_EQ(Data(fixed, "C"), "abc");
}

TEST_F(RunnerTest, RerunWithNothingChangedIsFullyCached) {
  RunSummary first = RunOk(Chain());
  GlobalTrace().Clear();
  RunSummary second = RunOk(Chain());
  EXPECT_EQ(GlobalTrace().Count("start:"), 0);
  for (const NodeResult& n : second.nodes) {
    EXPECT_EQ(n.status, NodeStatus::kCached) << n.component_id;
    const NodeResult* before = first.Find(n.component_id);
    EXPECT_EQ(n.outputs.at("out")[0].id, before->outputs.at("out")[0].id);
    EXPECT_EQ(n.outputs.at("out")[0].uri, before->outputs.at("out")[0].uri);
  }
  EXPECT_NE(second.run_id, first.run_id);
  auto store = Store();
  auto e = store->GetExecution(second.Find("C")->execution_id);
  EXPECT_EQ(e->state, ExecutionState::kCached);
  EXPECT_EQ(e->cached_from, first.Find("C")->execution_id);
  EXPECT_TRUE(store->CheckConsistency().ok()) << store->CheckConsistency();
  // --no-cache runs everything again.
  RunSummary forced = RunOk(Chain(), Options(0, true));
  EXPECT_EQ(GlobalTrace().Count("start:"), 4);
  for (const NodeResult& n : forced.nodes) EXPECT_EQ(n.status, NodeStatus::kRan);
}

TEST_F(RunnerTest, ChangedParameterRerunsThatNodeAndItsDependentsOnly) {
  RunOk(Chain("b"));
  GlobalTrace().Clear();
  RunSummary s = RunOk(Chain("B2"));
  EXPECT_EQ(s.Find("A")->status, NodeStatus::kCached);
  EXPECT_EQ(s.Find("D")->status, NodeStatus::kCached);
  EXPECT_EQ(s.Find("B")->status, NodeStatus::kRan);
  EXPECT_EQ(s.Find("C")->status, NodeStatus::kRan);
  EXPECT_EQ(GlobalTrace().Count("start:"), 2);
  EXPECT_EQ(Data(s, "C"), "aB2c");
  // Back to the first value: served from the first run's cache.
  GlobalTrace().Clear();
  RunSummary back = RunOk(Chain("b"));
  EXPECT_EQ(GlobalTrace().Count("start:"), 0);
  EXPECT_EQ(Data(back, "C"), "abc");
}

TEST_F(RunnerTest, EditedModuleFileRerunsItsComponent) {
  const std::string module = (dir_ / "module.cc").string();
  ASSERT_TRUE(WriteFileAtomic(module, "v1").ok());
  auto make = [&] {
    Node a = Concat("A", {}, {{"suffix", std::string("a")}});
    Node t = Concat("Trainer", {a.outputs()["out"]}, {{"module", module}});
    return Pipeline{"m", root_, {a, t}, true, ""};
  };
  RunOk(make());
  GlobalTrace().Clear();
  RunOk(make());
  EXPECT_EQ(GlobalTrace().Count("start:"), 0);
  ASSERT_TRUE(WriteFileAtomic(module, "v2").ok());
  RunSummary s = RunOk(make());
  EXPECT_EQ(s.Find("A")->status, NodeStatus::kCached);
  EXPECT_EQ(s.Find("Trainer")->status, NodeStatus::kRan);
}

TEST_F(RunnerTest, DeletedOutputFolderIsNotServedFromCache) {
  RunSummary first = RunOk(Chain());
  fs::remove_all(first.Find("B")->outputs.at("out")[0].uri);
  GlobalTrace().Clear();
  RunSummary s = RunOk(Chain());
  EXPECT_EQ(s.Find("A")->status, NodeStatus::kCached);
  EXPECT_EQ(s.Find("B")->status, NodeStatus::kRan);
  // B's new output is a new artifact, so C reruns too.
  EXPECT_EQ(s.Find("C")->status, NodeStatus::kRan);
  EXPECT_EQ(Data(s, "C"), "abc");
}

TEST_F(RunnerTest, InvalidPipelinesAreRejectedNamingTheComponent) {
  Node a = Concat("A", {}, {});
  Node a2 = Concat("A", {}, {});
  auto s = RunPipeline(Pipeline{"p", root_, {a, a2}, true, ""}, Options());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("component id \"A\" is used twice"));

  Node outside = Concat("Outside", {}, {});
  Node b = Concat("B", {outside.outputs()["out"]}, {});
  Status v = ValidatePipeline(Pipeline{"p", root_, {b}, true, ""});
  EXPECT_THAT(v.message(), HasSubstr("B: input \"in0\" comes from component \"Outside\""));

  Node bad_key = Concat("B", {a.outputs()["nope"]}, {});
  v = ValidatePipeline(Pipeline{"p", root_, {a, bad_key}, true, ""});
  EXPECT_THAT(v.message(), HasSubstr("A has no output \"nope\""));

  ComponentSpec model_spec = testing::ConcatSpec(1);
  model_spec.inputs[0].type = "Model";
  Node wants_model(model_spec, [] { return std::make_unique<testing::ConcatExecutor>(); }, {},
                   {{"in0", a.outputs()["out"]}});
  wants_model.WithId("Evaluator");
  v = ValidatePipeline(Pipeline{"p", root_, {a, wants_model}, true, ""});
  EXPECT_THAT(v.message(), HasSubstr("Evaluator: input \"in0\" must be Model"));
  EXPECT_THAT(v.message(), HasSubstr("is Examples"));

  Node missing_input(testing::ConcatSpec(1),
                     [] { return std::make_unique<testing::ConcatExecutor>(); }, {}, {});
  missing_input.WithId("M");
  v = ValidatePipeline(Pipeline{"p", root_, {missing_input}, true, ""});
  EXPECT_THAT(v.message(), HasSubstr("M: required input \"in0\" (Examples) is not connected"));

  Node wrong_type = Concat("W", {}, {{"sleep_ms", std::string("soon")}});
  v = ValidatePipeline(Pipeline{"p", root_, {wrong_type}, true, ""});
  EXPECT_THAT(v.message(),
              HasSubstr("W: parameter \"sleep_ms\" = \"soon\" is string, must be int"));

  Node unknown = Concat("U", {}, {{"colour", std::string("red")}});
  v = ValidatePipeline(Pipeline{"p", root_, {unknown}, true, ""});
  EXPECT_THAT(v.message(), HasSubstr("U: unknown parameter \"colour\""));

  Node slash = Concat("a/b", {}, {});
  v = ValidatePipeline(Pipeline{"p", root_, {slash}, true, ""});
  EXPECT_THAT(v.message(), HasSubstr("component id \"a/b\""));

  // An int for a double parameter is widened, not refused.
  Node widened = Concat("X", {}, {{"weight", int64_t{2}}});
  EXPECT_TRUE(ValidatePipeline(Pipeline{"p", root_, {widened}, true, ""}).ok());
  // Nothing was written for the invalid pipelines.
  EXPECT_FALSE(fs::exists(root_ + "/metadata.sqlite"));
}

TEST_F(RunnerTest, ProgressAndTimesGoToTheLog) {
  const std::string log_path = (dir_ / "log.txt").string();
  FILE* log = std::fopen(log_path.c_str(), "w");
  ASSERT_NE(log, nullptr);
  auto s = RunPipeline(Chain("b", 1), Options(0, false, log));
  std::fclose(log);
  ASSERT_TRUE(s.ok());
  auto text = ReadFileToString(log_path);
  ASSERT_TRUE(text.ok());
  EXPECT_THAT(*text, HasSubstr("A: running (execution "));
  EXPECT_THAT(*text, HasSubstr("A: 50% halfway"));  // the executor's progress
  EXPECT_THAT(*text, HasSubstr("A: done in "));
  EXPECT_THAT(*text, HasSubstr("B: FAILED after "));
  EXPECT_THAT(*text, HasSubstr("C: skipped (B did not complete)"));
  EXPECT_THAT(*text, HasSubstr("2 ran, 0 cached, 1 failed, 1 skipped"));
}

}  // namespace
}  // namespace edgepipe::pipeline
