// kill -9 of a process running a pipeline, during an executor and during
// metadata writes; then a rerun must complete and the store be consistent.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "edgepipe/pipeline/fake_components_testing.h"
#include "edgepipe/pipeline/metadata_store.h"
#include "edgepipe/pipeline/runner.h"

namespace edgepipe::pipeline {
namespace {

namespace fs = std::filesystem;
using testing::Concat;
using ::testing::HasSubstr;

class RunnerKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("runner_kill_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    root_ = (dir_ / "root").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Forks a child that runs `body` and never returns into the test.
  template <typename F>
  pid_t Fork(F body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      body();
      ::_exit(0);
    }
    return pid;
  }

  static void Kill(pid_t pid) {
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child ended before it was killed, status " << status;
  }

  static RunOptions Quiet(bool disable_cache = false) {
    RunOptions o;
    o.log = nullptr;
    o.disable_cache = disable_cache;
    o.max_parallelism = 2;
    return o;
  }

  // After a completed rerun: no staging folders, no unfinished executions,
  // no PENDING artifacts, every LIVE artifact's folder exists.
  void ExpectConsistent() {
    auto opened = MetadataStore::Open(root_ + "/metadata.sqlite", {.create_if_missing = false});
    ASSERT_TRUE(opened.ok()) << opened.status();
    MetadataStore& store = **opened;
    EXPECT_TRUE(store.CheckConsistency().ok()) << store.CheckConsistency();
    EXPECT_TRUE(store.GetUnfinishedExecutions()->empty());
    auto artifacts = store.GetArtifacts();
    ASSERT_TRUE(artifacts.ok()) << artifacts.status();
    const std::vector<ArtifactRecord> records = std::move(artifacts).value();
    for (const ArtifactRecord& r : records) {
      EXPECT_NE(r.state, ArtifactState::kPending) << r.artifact.uri;
      if (r.state == ArtifactState::kLive) {
        EXPECT_TRUE(fs::is_directory(r.artifact.uri)) << r.artifact.uri;
      } else {
        EXPECT_FALSE(fs::exists(r.artifact.uri)) << r.artifact.uri;
      }
    }
    for (const auto& entry : fs::recursive_directory_iterator(root_)) {
      EXPECT_EQ(entry.path().string().find(".tmp"), std::string::npos) << entry.path();
    }
  }

  fs::path dir_;
  std::string root_;
};

TEST_F(RunnerKillTest, KillDuringAnExecutorThenRerunCompletes) {
  const std::string hold = (dir_ / "hold").string();
  const std::string marker = (dir_ / "marker").string();
  ASSERT_TRUE(WriteFileAtomic(hold, "").ok());
  auto make = [&] {
    Node a = Concat("A", {}, {{"suffix", std::string("a")}});
    Node b = Concat("Trainer", {a.outputs()["out"]},
                    {{"suffix", std::string("b")}, {"hold_file", hold}, {"marker", marker}});
    Node c = Concat("C", {b.outputs()["out"]}, {{"suffix", std::string("c")}});
    return Pipeline{"kill", root_, {a, b, c}, true, ""};
  };
  const pid_t child = Fork([&] { RunPipeline(make(), Quiet()).status().IgnoreError(); });
  for (int i = 0; i < 2000 && !fs::exists(marker); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(marker)) << "the Trainer never started";
  Kill(child);

  int64_t killed_execution = 0;
  {
    // The store opens; the Trainer is left RUNNING with a staging folder.
    auto store = MetadataStore::Open(root_ + "/metadata.sqlite", {.create_if_missing = false});
    ASSERT_TRUE(store.ok()) << store.status();
    EXPECT_TRUE((*store)->CheckConsistency().ok());
    auto unfinished = (*store)->GetUnfinishedExecutions();
    ASSERT_EQ(unfinished->size(), 1u);
    EXPECT_EQ((*unfinished)[0].component_id, "Trainer");
    EXPECT_EQ((*unfinished)[0].pid, child);
    killed_execution = (*unfinished)[0].id;
    EXPECT_TRUE(
        fs::is_directory(root_ + "/Trainer/out/" + std::to_string(killed_execution) + ".tmp"));
    EXPECT_FALSE(fs::exists(root_ + "/Trainer/out/" + std::to_string(killed_execution)));
  }

  fs::remove(hold);
  auto rerun = RunPipeline(make(), Quiet());
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  ASSERT_TRUE(rerun->status().ok()) << rerun->status();
  EXPECT_EQ(rerun->Find("A")->status, NodeStatus::kCached);
  EXPECT_EQ(rerun->Find("Trainer")->status, NodeStatus::kRan);
  EXPECT_EQ(rerun->Find("C")->status, NodeStatus::kRan);
  auto data = ReadFileToString(JoinPath(rerun->Find("C")->outputs.at("out")[0].uri, "data.txt"));
  EXPECT_EQ(data.value_or(""), "abc");
  ExpectConsistent();
  auto store = MetadataStore::Open(root_ + "/metadata.sqlite");
  auto killed = (*store)->GetExecution(killed_execution);
  EXPECT_EQ(killed->state, ExecutionState::kFailed);
  EXPECT_THAT(killed->error, HasSubstr("abandoned"));
}

TEST_F(RunnerKillTest, KillDuringMetadataWritesThenRerunCompletes) {
  auto make = [&] {
    Node a = Concat("A", {}, {{"suffix", std::string("a")}});
    Node b = Concat("B", {a.outputs()["out"]}, {{"suffix", std::string("b")}});
    Node c = Concat("C", {a.outputs()["out"]}, {{"suffix", std::string("c")}});
    Node d = Concat("D", {b.outputs()["out"], c.outputs()["out"]}, {});
    return Pipeline{"writes", root_, {a, b, c, d}, true, ""};
  };
  // The child reruns the (fast) pipeline without cache, endlessly: nearly all
  // of its time is metadata writes and folder renames.
  const int delays_ms[] = {5, 60, 150, 260, 410};
  for (int delay : delays_ms) {
    SCOPED_TRACE("killed after " + std::to_string(delay) + " ms");
    const pid_t child = Fork([&] {
      while (true) RunPipeline(make(), Quiet(/*disable_cache=*/true)).status().IgnoreError();
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    Kill(child);
    if (fs::exists(root_ + "/metadata.sqlite")) {
      auto store = MetadataStore::Open(root_ + "/metadata.sqlite");
      ASSERT_TRUE(store.ok()) << store.status();
      EXPECT_TRUE((*store)->CheckConsistency().ok()) << (*store)->CheckConsistency();
    }
    auto rerun = RunPipeline(make(), Quiet());
    ASSERT_TRUE(rerun.ok()) << rerun.status();
    ASSERT_TRUE(rerun->status().ok()) << rerun->status();
    auto data = ReadFileToString(JoinPath(rerun->Find("D")->outputs.at("out")[0].uri, "data.txt"));
    EXPECT_EQ(data.value_or(""), "abac");
    ExpectConsistent();
  }
}

}  // namespace
}  // namespace edgepipe::pipeline
