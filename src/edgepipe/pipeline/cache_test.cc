#include "edgepipe/pipeline/cache.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "edgepipe/pipeline/fake_components_testing.h"

namespace edgepipe::pipeline {
namespace {

namespace fs = std::filesystem;
using testing::ConcatSpec;
using ::testing::HasSubstr;

class CacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cache_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    module_ = (dir_ / "module.cc").string();
    ASSERT_TRUE(WriteFileAtomic(module_, "Status RunFn() { return Ok(); }").ok());
    spec_ = ConcatSpec(1);
    params_ = {{"suffix", std::string("x")},
               {"sleep_ms", int64_t{3}},
               {"module", module_},
               {"weight", 0.5}};
    inputs_["in0"] = {Artifact{7, "Examples", "/root/Gen/out/7", {{"bytes", int64_t{12}}}}};
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Key() { return Key(spec_, "Concat.a", params_, inputs_); }
  std::string Key(const ComponentSpec& spec, const std::string& id, const Params& params,
                  const ArtifactMap& inputs) {
    auto key = ComputeCacheKey(spec, id, params, inputs);
    EXPECT_TRUE(key.ok()) << key.status();
    return key.ok() ? *key : "";
  }

  fs::path dir_;
  std::string module_;
  ComponentSpec spec_;
  Params params_;
  ArtifactMap inputs_;
};

TEST_F(CacheTest, KeyIsStableHexSha256) {
  const std::string a = Key();
  EXPECT_EQ(a.size(), 64u);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(Key(), a);
}

TEST_F(CacheTest, KeyChangesWithParameters) {
  const std::string base = Key();
  params_["suffix"] = std::string("y");
  EXPECT_NE(Key(), base);
  params_["suffix"] = std::string("x");
  EXPECT_EQ(Key(), base);
  params_["sleep_ms"] = int64_t{4};
  EXPECT_NE(Key(), base);
  params_["sleep_ms"] = int64_t{3};
  params_["weight"] = 0.5000000001;
  EXPECT_NE(Key(), base);
  params_["weight"] = 0.5;
  // The same number as another type is another parameter value.
  params_["sleep_ms"] = std::string("3");
  EXPECT_NE(Key(), base);
  params_["sleep_ms"] = int64_t{3};
  // A parameter added (e.g. a default filled in) changes the key.
  params_["fail"] = int64_t{0};
  EXPECT_NE(Key(), base);
}

TEST_F(CacheTest, KeyChangesWithComponentAndExecutorVersion) {
  const std::string base = Key();
  EXPECT_NE(Key(spec_, "Concat.b", params_, inputs_), base);
  ComponentSpec v2 = spec_;
  v2.executor_version = "2";
  EXPECT_NE(Key(v2, "Concat.a", params_, inputs_), base);
  ComponentSpec other_type = spec_;
  other_type.type = "Other";
  EXPECT_NE(Key(other_type, "Concat.a", params_, inputs_), base);
}

TEST_F(CacheTest, KeyChangesWithInputArtifacts) {
  const std::string base = Key();
  ArtifactMap in = inputs_;
  in["in0"][0].id = 8;
  EXPECT_NE(Key(spec_, "Concat.a", params_, in), base);
  in = inputs_;
  in["in0"][0].uri = "/root/Gen/out/8";
  EXPECT_NE(Key(spec_, "Concat.a", params_, in), base);
  in = inputs_;
  in["in0"][0].properties["bytes"] = int64_t{13};
  EXPECT_NE(Key(spec_, "Concat.a", params_, in), base);
  in = inputs_;
  in["in1"] = in["in0"];
  EXPECT_NE(Key(spec_, "Concat.a", params_, in), base);
  // Same artifact under another channel key.
  ArtifactMap renamed;
  renamed["other"] = inputs_["in0"];
  EXPECT_NE(Key(spec_, "Concat.a", params_, renamed), base);
}

TEST_F(CacheTest, KeyFollowsModuleFileContentNotItsTimestamp) {
  const std::string base = Key();
  // Rewritten with the same bytes (new mtime, new inode): same key.
  ASSERT_TRUE(WriteFileAtomic(module_, "Status RunFn() { return Ok(); }").ok());
  EXPECT_EQ(Key(), base);
  // Edited: new key, although the parameter (the path) is unchanged.
  ASSERT_TRUE(WriteFileAtomic(module_, "Status RunFn() { return Ok(); }  // v2").ok());
  EXPECT_NE(Key(), base);
  // A non-file string parameter is not read as a file.
  ComponentSpec not_file = spec_;
  for (ParamSpec& p : not_file.params) p.is_file = false;
  const std::string a = Key(not_file, "Concat.a", params_, inputs_);
  ASSERT_TRUE(WriteFileAtomic(module_, "something else").ok());
  EXPECT_EQ(Key(not_file, "Concat.a", params_, inputs_), a);
}

TEST_F(CacheTest, KeyIgnoresInsertionOrderAndUnrelatedThings) {
  const std::string base = Key();
  Params reordered;
  reordered["weight"] = 0.5;
  reordered["module"] = module_;
  reordered["sleep_ms"] = int64_t{3};
  reordered["suffix"] = std::string("x");
  EXPECT_EQ(Key(spec_, "Concat.a", reordered, inputs_), base);
  // Unrelated: another spec parameter's default, another component's spec.
  ComponentSpec other_default = spec_;
  other_default.params[1].default_value = int64_t{1};
  other_default.inputs.push_back({"extra", "Model", true});
  EXPECT_EQ(Key(other_default, "Concat.a", params_, inputs_), base);
}

TEST_F(CacheTest, FolderParameterIsHashedAsItsTree) {
  const fs::path data = dir_ / "data";
  fs::create_directories(data / "sub");
  ASSERT_TRUE(WriteFileAtomic((data / "a.csv").string(), "1,2").ok());
  ASSERT_TRUE(WriteFileAtomic((data / "sub" / "b.csv").string(), "3,4").ok());
  params_["module"] = data.string();
  const std::string base = Key();
  EXPECT_EQ(Key(), base);
  ASSERT_TRUE(WriteFileAtomic((data / "sub" / "b.csv").string(), "3,5").ok());
  EXPECT_NE(Key(), base);
  ASSERT_TRUE(WriteFileAtomic((data / "sub" / "b.csv").string(), "3,4").ok());
  EXPECT_EQ(Key(), base);
  fs::rename(data / "a.csv", data / "c.csv");  // same bytes, another name
  EXPECT_NE(Key(), base);
}

TEST_F(CacheTest, SpecFingerprintIsPartOfTheKeyAndItsErrorsNameTheComponent) {
  const std::string without = Key();
  ComponentSpec spec = spec_;
  std::string fingerprint = "build-id:aa";
  spec.cache_fingerprint = [&fingerprint](const Params& p) -> Result<std::string> {
    // Sees the params it is given.
    if (p.count("suffix") == 0) return Status::InvalidArgument("no suffix");
    if (fingerprint.empty()) return Status::NotFound("no code for \"x\"");
    return fingerprint;
  };
  const std::string a = Key(spec, "Concat.a", params_, inputs_);
  EXPECT_NE(a, without);
  EXPECT_EQ(Key(spec, "Concat.a", params_, inputs_), a);
  fingerprint = "build-id:bb";
  EXPECT_NE(Key(spec, "Concat.a", params_, inputs_), a);
  fingerprint.clear();
  auto failed = ComputeCacheKey(spec, "Concat.a", params_, inputs_);
  EXPECT_EQ(failed.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(failed.status().message(), HasSubstr("Concat.a"));
  EXPECT_THAT(failed.status().message(), HasSubstr("no code for \"x\""));
}

TEST_F(CacheTest, MissingModuleFileIsAnErrorNamingIt) {
  params_["module"] = (dir_ / "gone.cc").string();
  auto key = ComputeCacheKey(spec_, "Trainer.mnist", params_, inputs_);
  ASSERT_FALSE(key.ok());
  EXPECT_THAT(key.status().message(), HasSubstr("Trainer.mnist"));
  EXPECT_THAT(key.status().message(), HasSubstr("\"module\""));
  EXPECT_THAT(key.status().message(), HasSubstr("gone.cc"));
}

TEST_F(CacheTest, LookupNeedsCompleteExecutionWithLiveOutputsOnDisk) {
  auto opened = MetadataStore::Open((dir_ / "m.sqlite").string());
  ASSERT_TRUE(opened.ok()) << opened.status();
  MetadataStore& store = **opened;
  const std::string out_dir = (dir_ / "out").string();
  fs::create_directories(out_dir);

  auto hit = LookupCache(store, "k1");
  ASSERT_TRUE(hit.ok());
  EXPECT_FALSE(hit->has_value());

  ExecutionRecord e;
  e.component_id = "A";
  e.component_type = "Concat";
  e.cache_key = "k1";
  e.state = ExecutionState::kRunning;
  e.id = *store.PutExecution(e);
  Artifact a{0, "Examples", out_dir, {}};
  a.id = *store.PutArtifact(a, ArtifactState::kPending);
  ASSERT_TRUE(store.PutEvent({0, a.id, e.id, EventType::kOutput, "out", 0, 0}).ok());
  // RUNNING: no hit.
  EXPECT_FALSE(LookupCache(store, "k1")->has_value());
  e.state = ExecutionState::kComplete;
  ASSERT_TRUE(store.UpdateExecution(e).ok());
  // COMPLETE but output still PENDING: no hit.
  EXPECT_FALSE(LookupCache(store, "k1")->has_value());
  ASSERT_TRUE(store.UpdateArtifact(a, ArtifactState::kLive).ok());
  hit = LookupCache(store, "k1");
  ASSERT_TRUE(hit.ok());
  ASSERT_TRUE(hit->has_value());
  EXPECT_EQ((*hit)->execution_id, e.id);
  ASSERT_EQ((*hit)->outputs.at("out").size(), 1u);
  EXPECT_EQ((*hit)->outputs.at("out")[0].id, a.id);
  EXPECT_FALSE(LookupCache(store, "k2")->has_value());
  // Folder deleted behind the store's back: no hit.
  fs::remove_all(out_dir);
  EXPECT_FALSE(LookupCache(store, "k1")->has_value());
}

}  // namespace
}  // namespace edgepipe::pipeline
