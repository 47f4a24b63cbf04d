#include "edgepipe/components/pusher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe::components {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class PusherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A model as the Trainer writes it: Format-Serving/{model files, tflite/}.
    std::string serving = JoinPath(model_, "Format-Serving");
    ASSERT_TRUE(Env::Default()->CreateDirs(JoinPath(serving, "tflite")).ok());
    ASSERT_TRUE(WriteFileAtomic(JoinPath(serving, "model.json"), "{\"layers\": []}").ok());
    ASSERT_TRUE(WriteFileAtomic(JoinPath(serving, "tflite/model.tflite"), kTflite).ok());
    ASSERT_TRUE(Env::Default()->CreateDirs(blessing_).ok());
  }

  void Bless() { ASSERT_TRUE(WriteFileAtomic(JoinPath(blessing_, "BLESSED"), "").ok()); }

  pipeline::ExecutionContext Context(bool with_blessing, pipeline::Properties blessing_props = {},
                                     pipeline::Params params = {}) {
    pipeline::ArtifactMap inputs = {
        {"model", {testing::MakeArtifact(pipeline::artifact_type::kModel, model_)}}};
    if (with_blessing) {
      inputs["model_blessing"] = {testing::MakeArtifact(pipeline::artifact_type::kModelBlessing,
                                                        blessing_, std::move(blessing_props))};
    }
    if (!params.contains("push_destination")) params["push_destination"] = dest_;
    return testing::MakeContext(
        PusherSpec(), std::move(inputs),
        {{"pushed_model", {testing::MakeArtifact(pipeline::artifact_type::kPushedModel, out_)}}},
        std::move(params));
  }

  std::vector<std::string> DestEntries() {
    if (!Env::Default()->IsDirectory(dest_)) return {};
    return *Env::Default()->ListDir(dest_);
  }

  static constexpr char kTflite[] = "TFL3 model bytes \x01\x02";
  TempDir tmp_;
  std::string model_ = tmp_.Join("Trainer/model/3");
  std::string blessing_ = tmp_.Join("Evaluator/blessing/4");
  std::string dest_ = tmp_.Join("serving");
  std::string out_ = tmp_.Join("Pusher/pushed_model/5");
};

TEST_F(PusherTest, BlessedModelIsCopiedToVersionFolder) {
  Bless();
  auto ctx = Context(true, {}, {{"versioning", std::string("execution_id")}});
  Status s = MakePusherExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  std::string version_dir = JoinPath(dest_, "7");  // the context's execution id
  EXPECT_THAT(DestEntries(), ElementsAre("7"));
  auto tflite = ReadFileToString(JoinPath(version_dir, "tflite/model.tflite"));
  ASSERT_TRUE(tflite.ok()) << tflite.status();
  EXPECT_EQ(*tflite, kTflite);
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(version_dir, "model.json")));
  const auto& props = ctx.outputs["pushed_model"][0].properties;
  EXPECT_EQ(std::get<int64_t>(props.at("pushed")), 1);
  EXPECT_EQ(std::get<std::string>(props.at("pushed_destination")), version_dir);
  EXPECT_EQ(*ReadFileToString(JoinPath(out_, "PUSHED")), version_dir + "\n");
}

TEST_F(PusherTest, BlessedByPropertyAndTimestampVersion) {
  auto ctx = Context(true, {{"blessed", int64_t{1}}});
  int64_t before = static_cast<int64_t>(std::time(nullptr));
  Status s = MakePusherExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  auto entries = DestEntries();
  ASSERT_EQ(entries.size(), 1u);
  int64_t version = std::stoll(entries[0]);
  EXPECT_GE(version, before);
  EXPECT_LE(version, before + 60);
}

TEST_F(PusherTest, NotBlessedPushesNothingAndSaysWhy) {
  ASSERT_TRUE(WriteFileAtomic(JoinPath(blessing_, "NOT_BLESSED"), "").ok());
  auto ctx = Context(true, {{"blessed", int64_t{0}}});
  Status s = MakePusherExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(DestEntries(), IsEmpty());
  const auto& props = ctx.outputs["pushed_model"][0].properties;
  EXPECT_EQ(std::get<int64_t>(props.at("pushed")), 0);
  EXPECT_FALSE(props.contains("pushed_destination"));
  auto reason = ReadFileToString(JoinPath(out_, "NOT_PUSHED"));
  ASSERT_TRUE(reason.ok());
  EXPECT_THAT(*reason, HasSubstr("not blessed"));
  EXPECT_THAT(*reason, HasSubstr("NOT_BLESSED"));
  EXPECT_THAT(*reason, HasSubstr("blessed = 0"));
}

TEST_F(PusherTest, NoBlessingInputPushes) {
  auto ctx = Context(false, {}, {{"versioning", std::string("execution_id")}});
  Status s = MakePusherExecutor()->Do(ctx);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(DestEntries(), ElementsAre("7"));
}

TEST_F(PusherTest, ExistingVersionIsAnErrorAndLeavesItAlone) {
  ASSERT_TRUE(Env::Default()->CreateDirs(JoinPath(dest_, "7")).ok());
  auto ctx = Context(false, {}, {{"versioning", std::string("execution_id")}});
  Status s = MakePusherExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists);
  EXPECT_THAT(s.message(), HasSubstr(JoinPath(dest_, "7")));
  EXPECT_THAT(DestEntries(), ElementsAre("7"));
}

TEST_F(PusherTest, FailedCopyLeavesNothingAtDestination) {
  FaultEnv env;
  env.FailNth(FaultEnv::Op::kRename, 1);
  PusherOptions options;
  options.model = model_;
  options.push_destination = dest_;
  options.version = "1";
  auto r = RunPusher(options, &env);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("injected"));
  EXPECT_THAT(DestEntries(), IsEmpty());
}

TEST_F(PusherTest, MissingModelFolderNamesFolder) {
  ASSERT_TRUE(Env::Default()->RemoveAll(model_).ok());
  auto ctx = Context(false);
  Status s = MakePusherExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("input \"model\""));
  EXPECT_THAT(s.message(), HasSubstr(model_));
}

TEST_F(PusherTest, WrongParamTypeNamesParam) {
  auto ctx = Context(false, {}, {{"push_destination", int64_t{3}}});
  Status s = MakePusherExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("parameter \"push_destination\" is int 3, expected string"));
}

TEST_F(PusherTest, UnknownVersioningIsAnError) {
  auto ctx = Context(false, {}, {{"versioning", std::string("semver")}});
  Status s = MakePusherExecutor()->Do(ctx);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("\"semver\""));
}

TEST(PusherDslTest, NodeWiresInputsAndParams) {
  pipeline::ComponentSpec spec;
  spec.type = "Trainer";
  spec.outputs = {{"model", "Model", false}};
  pipeline::Node trainer(spec, nullptr, {}, {});
  pipeline::Node pusher = Pusher(trainer.outputs()["model"], std::nullopt, "/srv/models");
  EXPECT_EQ(pusher.id(), "Pusher");
  EXPECT_EQ(pusher.data()->inputs.at("model").type, "Model");
  EXPECT_FALSE(pusher.data()->inputs.contains("model_blessing"));
  EXPECT_EQ(std::get<std::string>(pusher.data()->params.at("push_destination")), "/srv/models");
}

}  // namespace
}  // namespace edgepipe::components
