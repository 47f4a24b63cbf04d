#include "edgepipe/pipeline/metadata_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

namespace edgepipe::pipeline {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("metadata_store_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "sub" / "metadata.sqlite").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<MetadataStore> OpenOrDie() {
    auto store = MetadataStore::Open(path_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  // Runs SQL on the store file directly (as another tool would).
  void RawSql(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(MetadataStoreTest, RoundTripSurvivesReopen) {
  int64_t art = 0, exe = 0, run = 0, pipe = 0;
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    Artifact a;
    a.type = "Examples";
    a.uri = "/root/ExampleGen/examples/1";
    a.properties = {{"count", int64_t{10000}},
                    {"ratio", 0.25},
                    {"split_names", std::string("[\"train\",\"eval\"]")},
                    {"negative", int64_t{-7}}};
    ASSERT_TRUE(store->PutArtifact(a, ArtifactState::kPending).ok());  // id 1
    auto id = store->PutArtifact(a, ArtifactState::kLive);
    ASSERT_TRUE(id.ok()) << id.status();
    art = *id;
    ExecutionRecord e;
    e.component_id = "Trainer.mnist_lite";
    e.component_type = "Trainer";
    e.parameters = {
        {"train_steps", int64_t{5000}}, {"module_file", std::string("m.so")}, {"lr", 0.0015}};
    e.state = ExecutionState::kComplete;
    e.start_time_ms = 1000;
    e.end_time_ms = 2500;
    e.cache_key = "abc";
    e.error = "";
    e.pid = 42;
    auto eid = store->PutExecution(e);
    ASSERT_TRUE(eid.ok()) << eid.status();
    exe = *eid;
    ASSERT_TRUE(store->PutEvent({0, art, exe, EventType::kOutput, "model", 0, 0}).ok());
    auto p = store->PutContext(kPipelineContext, "mnist");
    ASSERT_TRUE(p.ok());
    pipe = *p;
    auto r = store->PutContext(kRunContext, "run-1", pipe);
    ASSERT_TRUE(r.ok());
    run = *r;
    // Get-or-create: the same name gives the same id.
    EXPECT_EQ(*store->PutContext(kPipelineContext, "mnist"), pipe);
    ASSERT_TRUE(store->Associate(run, exe).ok());
    ASSERT_TRUE(store->Attribute(run, art).ok());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  auto a = store->GetArtifact(art);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->artifact.type, "Examples");
  EXPECT_EQ(a->artifact.uri, "/root/ExampleGen/examples/1");
  EXPECT_EQ(a->state, ArtifactState::kLive);
  EXPECT_EQ(std::get<int64_t>(a->artifact.properties.at("count")), 10000);
  EXPECT_EQ(std::get<int64_t>(a->artifact.properties.at("negative")), -7);
  EXPECT_DOUBLE_EQ(std::get<double>(a->artifact.properties.at("ratio")), 0.25);
  EXPECT_EQ(std::get<std::string>(a->artifact.properties.at("split_names")),
            "[\"train\",\"eval\"]");
  auto e = store->GetExecution(exe);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->component_id, "Trainer.mnist_lite");
  EXPECT_EQ(e->component_type, "Trainer");
  EXPECT_EQ(e->state, ExecutionState::kComplete);
  EXPECT_EQ(e->start_time_ms, 1000);
  EXPECT_EQ(e->end_time_ms, 2500);
  EXPECT_EQ(e->cache_key, "abc");
  EXPECT_EQ(e->pid, 42);
  EXPECT_EQ(std::get<int64_t>(e->parameters.at("train_steps")), 5000);
  EXPECT_DOUBLE_EQ(std::get<double>(e->parameters.at("lr")), 0.0015);
  EXPECT_EQ(std::get<std::string>(e->parameters.at("module_file")), "m.so");

  auto by_type = store->GetArtifacts("Examples");
  ASSERT_TRUE(by_type.ok());
  EXPECT_EQ(by_type->size(), 2u);
  EXPECT_TRUE(store->GetArtifacts("Model")->empty());
  EXPECT_EQ(store->GetArtifacts()->size(), 2u);

  auto runs = store->GetContexts(kRunContext);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 1u);
  EXPECT_EQ((*runs)[0].name, "run-1");
  EXPECT_EQ((*runs)[0].parent_id, pipe);
  auto in_run = store->GetExecutionsByContext(run);
  ASSERT_TRUE(in_run.ok());
  ASSERT_EQ(in_run->size(), 1u);
  EXPECT_EQ((*in_run)[0].id, exe);

  auto producer = store->GetProducer(art);
  ASSERT_TRUE(producer.ok()) << producer.status();
  EXPECT_EQ(producer->id, exe);
  auto outs = store->GetExecutionArtifacts(exe, EventType::kOutput);
  ASSERT_TRUE(outs.ok());
  ASSERT_EQ(outs->count("model"), 1u);
  EXPECT_EQ(outs->at("model")[0].id, art);
  EXPECT_TRUE(store->GetConsumers(art)->empty());
  EXPECT_TRUE(store->CheckConsistency().ok()) << store->CheckConsistency();

  EXPECT_EQ(store->GetArtifact(999).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store->GetExecution(999).status().code(), StatusCode::kNotFound);
}

TEST_F(MetadataStoreTest, UpdatesAndCacheKeyQueryNewestFirst) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  ExecutionRecord e;
  e.component_id = "A";
  e.component_type = "Concat";
  e.cache_key = "k";
  e.state = ExecutionState::kComplete;
  const int64_t first = *store->PutExecution(e);
  const int64_t second = *store->PutExecution(e);
  e.state = ExecutionState::kRunning;
  const int64_t running = *store->PutExecution(e);
  auto hits = store->GetCompleteExecutionsByCacheKey("k");
  ASSERT_TRUE(hits.ok());
  ASSERT_EQ(hits->size(), 2u);
  EXPECT_EQ((*hits)[0].id, second);
  EXPECT_EQ((*hits)[1].id, first);
  EXPECT_TRUE(store->GetCompleteExecutionsByCacheKey("other")->empty());
  auto unfinished = store->GetUnfinishedExecutions();
  ASSERT_EQ(unfinished->size(), 1u);
  EXPECT_EQ((*unfinished)[0].id, running);

  ExecutionRecord done = *store->GetExecution(running);
  done.state = ExecutionState::kFailed;
  done.error = "boom";
  done.end_time_ms = 77;
  ASSERT_TRUE(store->UpdateExecution(done).ok());
  EXPECT_EQ(store->GetExecution(running)->error, "boom");
  EXPECT_TRUE(store->GetUnfinishedExecutions()->empty());
  done.id = 12345;
  EXPECT_EQ(store->UpdateExecution(done).code(), StatusCode::kNotFound);

  Artifact a{0, "Model", "/x", {{"k", int64_t{1}}}};
  a.id = *store->PutArtifact(a, ArtifactState::kPending);
  a.properties = {{"blessed", int64_t{1}}};
  a.uri = "/y";
  ASSERT_TRUE(store->UpdateArtifact(a, ArtifactState::kLive).ok());
  auto got = store->GetArtifact(a.id);
  EXPECT_EQ(got->artifact.uri, "/y");
  EXPECT_EQ(got->state, ArtifactState::kLive);
  EXPECT_EQ(got->artifact.properties.size(), 1u);
  EXPECT_EQ(got->artifact.properties.count("k"), 0u);
  // A LIVE artifact without an output event breaks an invariant.
  Status check = store->CheckConsistency();
  EXPECT_EQ(check.code(), StatusCode::kDataLoss);
  EXPECT_THAT(check.message(), HasSubstr("LIVE artifacts without an output event"));
}

TEST_F(MetadataStoreTest, TransactionRollsBackEverythingOnError) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  Status s = store->Transaction([&]() -> Status {
    Artifact a{0, "Examples", "/a", {{"p", int64_t{1}}}};
    auto id = store->PutArtifact(a, ArtifactState::kLive);
    if (!id.ok()) return id.status();
    // A nested transaction joins the outer one.
    Status inner = store->Transaction(
        [&]() -> Status { return store->PutContext(kRunContext, "r").status(); });
    if (!inner.ok()) return inner;
    return Status::Internal("abort on purpose");
  });
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_TRUE(store->GetArtifacts()->empty());
  EXPECT_TRUE(store->GetContexts(kRunContext)->empty());
  // A committed transaction keeps both writes.
  ASSERT_TRUE(store
                  ->Transaction([&]() -> Status {
                    Artifact a{0, "Examples", "/b", {}};
                    RETURN_IF_ERROR(store->PutArtifact(a, ArtifactState::kLive).status());
                    return store->PutContext(kRunContext, "r2").status();
                  })
                  .ok());
  EXPECT_EQ(store->GetArtifacts()->size(), 1u);
  EXPECT_EQ(store->GetContexts(kRunContext)->size(), 1u);
  // The store stays usable after a rollback (no transaction left open).
  EXPECT_TRUE(store->PutContext(kRunContext, "r3").ok());
}

TEST_F(MetadataStoreTest, NewerSchemaVersionIsRefusedNamingTheFile) {
  { ASSERT_NE(OpenOrDie(), nullptr); }
  RawSql("UPDATE schema_version SET version = " + std::to_string(kMetadataSchemaVersion + 1));
  auto store = MetadataStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_THAT(
      store.status().message(),
      HasSubstr("schema version " + std::to_string(kMetadataSchemaVersion + 1) + " is newer"));
}

TEST_F(MetadataStoreTest, FileThatIsNotAStoreIsRefused) {
  fs::create_directories(fs::path(path_).parent_path());
  ASSERT_TRUE(WriteFileAtomic(path_, std::string(4096, 'x') + "not sqlite at all").ok());
  auto store = MetadataStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_THAT(store.status().message(), HasSubstr("not an edgepipe metadata store"));
  // The file is left alone.
  EXPECT_EQ(fs::file_size(path_), 4096u + 17u);
}

TEST_F(MetadataStoreTest, SqliteFileOfAnotherApplicationIsRefused) {
  fs::create_directories(fs::path(path_).parent_path());
  RawSql("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada');");
  auto store = MetadataStore::Open(path_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr(path_ + ": not an edgepipe metadata store"));
}

TEST_F(MetadataStoreTest, MissingFileIsNotFoundWithoutCreate) {
  auto store = MetadataStore::Open(path_, {.create_if_missing = false});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(store.status().message(), HasSubstr(path_));
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(MetadataStoreTest, EmptyFileBecomesAStore) {
  fs::create_directories(fs::path(path_).parent_path());
  ASSERT_TRUE(WriteFileAtomic(path_, "").ok());
  auto store = MetadataStore::Open(path_);
  ASSERT_TRUE(store.ok()) << store.status();
  EXPECT_TRUE((*store)->CheckConsistency().ok());
}

}  // namespace
}  // namespace edgepipe::pipeline
