#include "edgepipe/model/saved_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/core/file.h"
#include "edgepipe/core/sha256.h"
#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/model/test_models.h"
#include "edgepipe/nn/losses.h"
#include "edgepipe/nn/optimizers.h"

namespace edgepipe::model {
namespace {

using testing::BitIdentical;
using testing::CallModel;
using ::testing::HasSubstr;
using testing::RandomArray;

std::vector<Signature> MlpSignatures() {
  return {ExampleSignature("serving_default", {data::FeatureSpec::Float32("image_floats", {784})}),
          TensorSignature("serving_tensors", {{"image_floats", DType::kFloat32, {-1, 784}}})};
}

// Saves the MLP to <tmp>/m and returns the folder.
std::string SaveMlp(const TempDir& tmp) {
  nn::Sequential m = testing::MakeMlp();
  const std::string dir = tmp.Join("m");
  Status s = Save(m, dir, MlpSignatures());
  EXPECT_TRUE(s.ok()) << s;
  return dir;
}

Json ReadJson(const std::string& dir) {
  auto text = ReadFileToString(JoinPath(dir, "saved_model.json"));
  EXPECT_TRUE(text.ok());
  return Json::parse(*text);
}

void WriteJson(const std::string& dir, const Json& j) {
  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir, "saved_model.json"), j.dump(1)).ok());
}

TEST(SavedModelTest, SequentialMlpRoundTripIsBitIdentical) {
  TempDir tmp;
  nn::Sequential m = testing::MakeMlp(7);
  const std::string dir = tmp.Join("mlp");
  ASSERT_TRUE(Save(m, dir, MlpSignatures()).ok());
  auto loaded = Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->format_version, kSavedModelFormatVersion);
  EXPECT_EQ(loaded->model->name(), "mnist_mlp");
  EXPECT_EQ(loaded->model->Summary(), m.Summary());
  EXPECT_EQ(loaded->model->input_names(), std::vector<std::string>{"image_floats"});
  EXPECT_EQ(loaded->output_names, std::vector<std::string>{"dense_2"});
  ASSERT_EQ(loaded->signatures.size(), 2u);
  ASSERT_NE(loaded->FindSignature("serving_default"), nullptr);
  EXPECT_EQ(loaded->FindSignature("serving_default")->kind, SignatureKind::kExamples);
  EXPECT_EQ(loaded->FindSignature("serving_tensors")->inputs[0].shape,
            (std::vector<int64_t>{-1, 784}));

  const Array x = RandomArray({37, 784}, 11);
  auto want = m.Predict(x, 16);
  auto got = loaded->model->Predict(x, 16);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_TRUE(BitIdentical(got->ToArray(), want->ToArray()));
  // A different model gives different outputs: the comparison can fail.
  auto other = testing::MakeMlp(8).Predict(x, 16);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(BitIdentical(other->ToArray(), want->ToArray()));
}

TEST(SavedModelTest, FunctionalTwoInputsWithSkipRoundTripIsBitIdentical) {
  TempDir tmp;
  nn::Model m = testing::MakeTwoInputModel();
  // Non-default moving statistics, so that they must be saved too.
  m.GetLayer("batch_normalization")->FindWeight("moving_mean")->var.mutable_value().Fill(0.25f);
  m.GetLayer("batch_normalization")->FindWeight("moving_variance")->var.mutable_value().Fill(2.f);
  const std::string dir = tmp.Join("two");
  Signature sig = TensorSignature(
      "serving_default", {{"a", DType::kFloat32, {-1, 8}}, {"b", DType::kFloat32, {-1, 4}}});
  ASSERT_TRUE(Save(m, dir, std::vector<Signature>{sig}).ok());
  auto loaded = Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->model->input_names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(loaded->output_names, (std::vector<std::string>{"logits", "probs"}));
  EXPECT_EQ(loaded->model->Summary(), m.Summary());
  EXPECT_EQ(loaded->model->CountParams(), m.CountParams());

  const std::vector<Array> x = {RandomArray({5, 8}, 1), RandomArray({5, 4}, 2)};
  std::vector<Array> want = CallModel(m, x);
  std::vector<Array> got = CallModel(*loaded->model, x);
  ASSERT_EQ(want.size(), 2u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(BitIdentical(got[0], want[0]));
  EXPECT_TRUE(BitIdentical(got[1], want[1]));
}

TEST(SavedModelTest, RoundTripAfterTraining) {
  TempDir tmp;
  nn::Sequential m = testing::MakeMlp(3);
  ASSERT_TRUE(m.Compile(nn::SGD(0.05f, 0.9f), nn::SparseCategoricalCrossentropy(true)).ok());
  const Array x = RandomArray({64, 784}, 5);
  auto y = Array::Zeros(DType::kInt64, {64});
  ASSERT_TRUE(y.ok());
  for (int64_t i = 0; i < 64; ++i) y->data<int64_t>()[static_cast<size_t>(i)] = i % 10;
  auto before = m.Predict(x);
  ASSERT_TRUE(before.ok());
  auto h = m.Fit(x, *y, {.batch_size = 16, .epochs = 2, .seed = 9});
  ASSERT_TRUE(h.ok()) << h.status();
  auto after = m.Predict(x);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(BitIdentical(after->ToArray(), before->ToArray()));  // training changed it

  const std::string dir = tmp.Join("trained");
  ASSERT_TRUE(Save(m, dir, MlpSignatures()).ok());
  auto loaded = Load(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto got = loaded->model->Predict(x);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(BitIdentical(got->ToArray(), after->ToArray()));
}

TEST(SavedModelTest, JsonRecordsFormatGraphAndWeightDigests) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  Json j = ReadJson(dir);
  EXPECT_EQ(j["format"], "edgepipe.saved_model");
  EXPECT_EQ(j["format_version"], 1);
  EXPECT_EQ(j["model"]["class_name"], "Sequential");
  EXPECT_EQ(j["model"]["layers"][1]["class_name"], "Dense");
  EXPECT_EQ(j["model"]["nodes"][1]["inbound"], Json::array({0}));
  const Json& w = j["model"]["layers"][1]["weights"][0];
  EXPECT_EQ(w["name"], "kernel");
  EXPECT_EQ(w["file"], "variables/dense.kernel.npy");
  auto digest = Sha256File(JoinPath(dir, "variables/dense.kernel.npy"));
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(w["sha256"], ToHex(*digest));
  EXPECT_EQ(j["signatures"]["serving_default"]["kind"], "examples");
}

TEST(SavedModelTest, CorruptWeightByteIsDataLoss) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  const std::string path = JoinPath(dir, "variables/dense_1.kernel.npy");
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() / 2] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomic(path, *bytes).ok());
  auto loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr(path));
  EXPECT_THAT(loaded.status().message(), HasSubstr("sha256"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("corrupt"));
}

TEST(SavedModelTest, TruncatedWeightIsDataLoss) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  const std::string path = JoinPath(dir, "variables/dense.bias.npy");
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomic(path, bytes->substr(0, bytes->size() - 10)).ok());
  auto loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(loaded.status().message(), HasSubstr(path));
  EXPECT_THAT(loaded.status().message(), HasSubstr("truncated"));
}

TEST(SavedModelTest, MissingWeightFileIsNotFound) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  const std::string path = JoinPath(dir, "variables/dense_2.kernel.npy");
  ASSERT_TRUE(Env::Default()->RemoveFile(path).ok());
  auto loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(loaded.status().message(), HasSubstr(path + ": weight file is missing"));
}

TEST(SavedModelTest, MissingSavedModelJsonIsNotFound) {
  TempDir tmp;
  auto loaded = Load(tmp.Join("nothing_here"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(loaded.status().message(), HasSubstr("saved_model.json: not found"));
}

TEST(SavedModelTest, NewerFormatVersionIsRejected) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  Json j = ReadJson(dir);
  j["format_version"] = 2;
  WriteJson(dir, j);
  auto loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kUnimplemented);
  EXPECT_THAT(loaded.status().message(), HasSubstr("saved_model.json: format_version 2 is newer"));
}

TEST(SavedModelTest, UnknownLayerClassIsRejected) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  Json j = ReadJson(dir);
  j["model"]["layers"][1]["class_name"] = "FancyDense";
  WriteJson(dir, j);
  auto loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("model.layers[1]: unknown layer class"));
  EXPECT_THAT(loaded.status().message(), HasSubstr("\"FancyDense\""));
}

TEST(SavedModelTest, BadJsonAndEscapingWeightPathAreRejected) {
  TempDir tmp;
  const std::string dir = SaveMlp(tmp);
  Json j = ReadJson(dir);
  j["model"]["layers"][1]["weights"][0]["file"] = "variables/../../etc/passwd";
  WriteJson(dir, j);
  auto loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("must be a plain file name under variables/"));

  ASSERT_TRUE(WriteFileAtomic(JoinPath(dir, "saved_model.json"), "{\"format\": ").ok());
  loaded = Load(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("saved_model.json: not valid JSON"));
}

TEST(SavedModelTest, SaveRejectsSignatureInputTheModelLacks) {
  TempDir tmp;
  nn::Sequential m = testing::MakeMlp();
  const std::string dir = tmp.Join("m");
  Signature sig = TensorSignature("serving_default", {{"pixels", DType::kFloat32, {-1, 784}}});
  Status s = Save(m, dir, std::vector<Signature>{sig});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("signature \"serving_default\": input \"pixels\" is not an "
                                     "input of model \"mnist_mlp\" (inputs: image_floats)"));
  EXPECT_FALSE(Env::Default()->Exists(dir));

  Signature wrong_shape =
      ExampleSignature("serving_default", {data::FeatureSpec::Float32("image_floats", {28})});
  s = Save(m, dir, std::vector<Signature>{wrong_shape});
  EXPECT_THAT(s.message(), HasSubstr("feature \"image_floats\" has shape [28]"));
}

TEST(SavedModelTest, SaveIsAtomicAndRefusesExistingFolder) {
  TempDir tmp;
  nn::Sequential m = testing::MakeMlp();
  const std::string dir = tmp.Join("m");
  FaultEnv env;
  env.FailNth(FaultEnv::Op::kOpenForWrite, 4);  // a weight file in the middle
  Status s = Save(m, dir, MlpSignatures(), {.env = &env});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("injected"));
  EXPECT_FALSE(Env::Default()->Exists(dir));
  auto left = Env::Default()->ListDir(tmp.path());
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << (*left)[0];

  ASSERT_TRUE(Save(m, dir, MlpSignatures()).ok());
  EXPECT_FALSE(Save(m, dir, MlpSignatures()).ok());
  EXPECT_TRUE(Save(m, dir, MlpSignatures(), {.overwrite = true}).ok());
  EXPECT_TRUE(Load(dir).ok());
}

}  // namespace
}  // namespace edgepipe::model
