// Model runners: the native model and its float and int8 TFLite rewrites on
// the same inputs (against the model's own Predict), TFLite input-name
// matching, the missing-feature message, batching, artifact layouts and
// bad prediction keys.
#include "edgepipe/eval/model_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/eval_testing.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature_runner.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;

ModelSpec Spec(const std::string& name, const std::string& type) {
  ModelSpec s;
  s.set_name(name);
  s.set_model_type(type);
  s.set_label_key("label");
  return s;
}

// Examples [0, n) parsed as the runners want them: "x" float32 [n, 4].
data::Batch Inputs(int64_t n) {
  data::Batch b;
  b.size = n;
  auto a = Array::Zeros(DType::kFloat32, {n, testing::kFeatures});
  EXPECT_TRUE(a.ok());
  for (int64_t i = 0; i < n; ++i) {
    const std::vector<float> x = testing::FeaturesOf(i);
    std::copy(x.begin(), x.end(), a->data<float>().begin() + i * testing::kFeatures);
  }
  b.arrays.emplace("x", std::move(*a));
  return b;
}

std::vector<float> Predict(ModelRunner& r, const data::Batch& b) {
  std::vector<float> out;
  Status s = r.Run({.size = b.size, .serialized = {}, .features = &b}, &out);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

int Argmax(const std::vector<float>& p, int64_t row, int k) {
  int best = 0;
  for (int c = 1; c < k; ++c) {
    if (p[static_cast<size_t>(row * k + c)] > p[static_cast<size_t>(row * k + best)]) best = c;
  }
  return best;
}

class ModelRunnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tmp_ = new TempDir();
    models_ = new testing::Models(testing::MakeModels(tmp_->path()));
  }
  static void TearDownTestSuite() {
    delete models_;
    delete tmp_;
  }
  static TempDir* tmp_;
  static testing::Models* models_;
};
TempDir* ModelRunnerTest::tmp_ = nullptr;
testing::Models* ModelRunnerTest::models_ = nullptr;

TEST_F(ModelRunnerTest, NativeFloatAndInt8AgreeWithThePredictOfTheModel) {
  const int64_t n = 40;
  const data::Batch in = Inputs(n);
  // Reference: the saved model's own Predict.
  auto loaded = model::Load(models_->native);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto ref_t = loaded->model->Predict(in.arrays.at("x"), 16);
  ASSERT_TRUE(ref_t.ok()) << ref_t.status();
  const Array ref_a = ref_t->ToArray();
  const std::vector<float> ref(ref_a.data<float>().begin(), ref_a.data<float>().end());
  ASSERT_EQ(ref.size(), static_cast<size_t>(n * testing::kClasses));

  auto native = OpenModel(Spec("full", "tf_keras"), models_->native);
  auto lite = OpenModel(Spec("lite", "tf_lite"), models_->lite_float);
  auto int8 = OpenModel(Spec("int8", "tf_lite"), models_->lite_int8);
  ASSERT_TRUE(native.ok()) << native.status();
  ASSERT_TRUE(lite.ok()) << lite.status();
  ASSERT_TRUE(int8.ok()) << int8.status();
  for (auto* r : {native->get(), lite->get(), int8->get()}) {
    EXPECT_EQ(r->num_outputs(), testing::kClasses);
    ASSERT_EQ(r->input_features().size(), 1u);
    EXPECT_EQ(r->input_features()[0].name, "x");
    EXPECT_EQ(r->input_features()[0].shape, std::vector<int64_t>{testing::kFeatures});
  }
  EXPECT_EQ((*native)->info().model_type, "native");
  EXPECT_EQ((*lite)->info().model_type, "tf_lite");
  EXPECT_GT((*native)->info().size_bytes, 0);
  EXPECT_GT((*int8)->info().size_bytes, 0);

  const std::vector<float> pn = Predict(**native, in);
  const std::vector<float> pf = Predict(**lite, in);
  const std::vector<float> pq = Predict(**int8, in);
  ASSERT_EQ(pn.size(), ref.size());
  ASSERT_EQ(pf.size(), ref.size());
  ASSERT_EQ(pq.size(), ref.size());
  double max_ref = 0, max_q = 0;
  int agree = 0;
  for (size_t j = 0; j < ref.size(); ++j) {
    EXPECT_NEAR(pn[j], ref[j], 1e-6) << j;
    EXPECT_NEAR(pf[j], ref[j], 1e-4) << j;
    max_ref = std::max(max_ref, std::fabs(double{ref[j]}));
    max_q = std::max(max_q, std::fabs(double{pq[j]} - ref[j]));
  }
  for (int64_t i = 0; i < n; ++i) {
    agree += Argmax(pq, i, testing::kClasses) == Argmax(ref, i, testing::kClasses);
  }
  // int8: dequantized outputs close to float (a few output steps), not equal.
  EXPECT_GT(max_q, 0.0);
  EXPECT_LT(max_q, 0.1 * max_ref + 0.05);
  EXPECT_GE(agree, n - 4);
  // One call only: the warm-up is the latency.
  EXPECT_EQ((*lite)->info().latency_batch, n);
  EXPECT_GT((*lite)->info().latency_ms, 0.0);
}

// The native runner feeds kTensors models directly (not through
// SignatureRunner::Run): bit-identical to SignatureRunner, including the
// row ranges of a chunk larger than the batch (16 + 16 + 8).
TEST_F(ModelRunnerTest, NativeDirectFeedEqualsTheSignatureRunner) {
  const int64_t n = 40;
  const data::Batch in = Inputs(n);
  auto loaded = model::Load(models_->native);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  auto sig = model::SignatureRunner::Create(*loaded, "serving_default");
  ASSERT_TRUE(sig.ok()) << sig.status();
  std::vector<float> want;
  for (int64_t begin = 0; begin < n; begin += 16) {
    const int64_t rows = std::min<int64_t>(16, n - begin);
    auto part = Array::Uninitialized(DType::kFloat32, {rows, testing::kFeatures});
    ASSERT_TRUE(part.ok());
    std::copy_n(in.arrays.at("x").data<float>().begin() + begin * testing::kFeatures,
                rows * testing::kFeatures, part->data<float>().begin());
    model::NamedArrays inputs;
    inputs.emplace("x", std::move(*part));
    auto out = sig->Run(inputs);
    ASSERT_TRUE(out.ok()) << out.status();
    const Array& a = out->begin()->second;
    want.insert(want.end(), a.data<float>().begin(), a.data<float>().end());
  }
  auto native = OpenModel(Spec("full", "tf_keras"), models_->native, {.batch_size = 16});
  ASSERT_TRUE(native.ok()) << native.status();
  EXPECT_EQ(Predict(**native, in), want);
  // A feature of the wrong width is an error naming the input, not a crash.
  data::Batch wrong;
  wrong.size = 2;
  auto w = Array::Zeros(DType::kFloat32, {2, testing::kFeatures + 1});
  ASSERT_TRUE(w.ok());
  wrong.arrays.emplace("x", std::move(*w));
  std::vector<float> out;
  Status s = (*native)->Run({.size = 2, .serialized = {}, .features = &wrong}, &out);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("input \"x\""));
}

TEST_F(ModelRunnerTest, LatencyLeavesOutTheWarmUpCall) {
  for (const std::string& path : {models_->native, models_->lite_int8}) {
    const std::string type = path == models_->native ? "native" : "tf_lite";
    auto r = OpenModel(Spec("m", type), path, {.batch_size = 8});
    ASSERT_TRUE(r.ok()) << r.status();
    Predict(**r, Inputs(3));  // warm-up: a batch of 3
    EXPECT_EQ((*r)->info().latency_batch, 3) << path;
    Predict(**r, Inputs(8));
    Predict(**r, Inputs(8));
    EXPECT_EQ((*r)->info().latency_batch, 8) << path;  // the batch of 3 left out
    EXPECT_GT((*r)->info().latency_ms, 0.0) << path;
  }
}

TEST_F(ModelRunnerTest, SmallBatchesGiveTheSameAsOneBatch) {
  const data::Batch in = Inputs(10);
  for (const std::string& path : {models_->native, models_->lite_int8}) {
    const std::string type = path == models_->native ? "native" : "tf_lite";
    auto whole = OpenModel(Spec("m", type), path);
    auto small = OpenModel(Spec("m", type), path, {.batch_size = 4});
    ASSERT_TRUE(whole.ok() && small.ok());
    EXPECT_EQ(Predict(**whole, in), Predict(**small, in)) << path;
    // Calls of 4, 4, 2; the first is a warm-up, left out of the latency.
    EXPECT_EQ((*small)->info().latency_batch, (4 + 2) / 2);
    auto clone = (*small)->Clone();
    ASSERT_TRUE(clone.ok()) << clone.status();
    EXPECT_EQ(Predict(**clone, in), Predict(**whole, in));
  }
}

TEST_F(ModelRunnerTest, TfliteInputsMatchFeaturesWithoutPrefixAndSuffix) {
  EXPECT_EQ(FeatureNameOfInput("serving_default_image_floats:0"), "image_floats");
  EXPECT_EQ(FeatureNameOfInput("serving_default_x:12"), "x");
  EXPECT_EQ(FeatureNameOfInput("x"), "x");
  EXPECT_EQ(FeatureNameOfInput("a:b"), "a:b");  // not a numeric suffix
  EXPECT_EQ(FeatureNameOfInput("my_serving_default_x"), "my_serving_default_x");
  auto lite = OpenModel(Spec("lite", "tf_lite"), models_->lite_float);
  ASSERT_TRUE(lite.ok());
  ASSERT_EQ((*lite)->input_names().size(), 1u);
  EXPECT_EQ(FeatureNameOfInput((*lite)->input_names()[0]), "x");
}

TEST(QuantizeValueTest, RoundsHalfAwayFromZeroThenAddsTheZeroPointAndClamps) {
  EXPECT_EQ(QuantizeValue(0.25f, 0.5f, 0, -128, 127), 1);    // 0.5 -> 1
  EXPECT_EQ(QuantizeValue(-0.25f, 0.5f, 0, -128, 127), -1);  // -0.5 -> -1 (truncation: 0)
  EXPECT_EQ(QuantizeValue(-0.25f, 0.5f, 3, -128, 127), 2);   // round, then + zero point
  EXPECT_EQ(QuantizeValue(0.74f, 0.5f, 0, -128, 127), 1);    // 1.48 -> 1
  EXPECT_EQ(QuantizeValue(0.76f, 0.5f, 0, -128, 127), 2);    // 1.52 -> 2 (truncation: 1)
  EXPECT_EQ(QuantizeValue(1000.0f, 0.5f, 0, -128, 127), 127);
  EXPECT_EQ(QuantizeValue(-1e30f, 0.5f, -5, -128, 127), -128);
  EXPECT_EQ(QuantizeValue(10.0f, 0.1f, 0, 0, 255), 100);
}

TEST_F(ModelRunnerTest, MissingFeatureNamesTheInputsAndTheAvailableFeatures) {
  auto lite = OpenModel(Spec("lite", "tf_lite"), models_->lite_int8);
  ASSERT_TRUE(lite.ok());
  const std::vector<std::string> have = {"label", "pixels"};
  Status s = (*lite)->CheckFeatures(have);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("model \"lite\""));
  EXPECT_THAT(s.message(), HasSubstr("needs feature \"x\""));
  EXPECT_THAT(s.message(), HasSubstr("model inputs: " + (*lite)->input_names()[0]));
  EXPECT_THAT(s.message(), HasSubstr("available features: label, pixels"));
  const std::vector<std::string> ok = {"label", "x"};
  EXPECT_TRUE((*lite)->CheckFeatures(ok).ok());
  auto native = OpenModel(Spec("full", ""), models_->native);
  ASSERT_TRUE(native.ok());
  EXPECT_THAT((*native)->CheckFeatures(have).message(), HasSubstr("needs feature \"x\""));
}

TEST_F(ModelRunnerTest, FindsTheTfliteFileInATrainerArtifactOrByPath) {
  const std::string artifact = tmp_->Join("artifact");
  ASSERT_TRUE(Env::Default()->CreateDirs(JoinPath(artifact, "Format-Serving")).ok());
  auto bytes = ReadFileToString(JoinPath(models_->lite_float, "tflite"));
  ASSERT_TRUE(bytes.ok());
  ASSERT_TRUE(WriteFileAtomic(JoinPath(artifact, "Format-Serving/model.tflite"), *bytes).ok());
  auto by_artifact = OpenModel(Spec("a", "tf_lite"), artifact, {.tflite_filename = "model.tflite"});
  ASSERT_TRUE(by_artifact.ok()) << by_artifact.status();
  EXPECT_EQ((*by_artifact)->info().path, JoinPath(artifact, "Format-Serving/model.tflite"));
  auto by_file = OpenModel(Spec("a", "tf_lite"), JoinPath(artifact, "Format-Serving/model.tflite"));
  ASSERT_TRUE(by_file.ok()) << by_file.status();
  EXPECT_EQ((*by_file)->info().size_bytes, static_cast<int64_t>(bytes->size()));

  auto missing = OpenModel(Spec("a", "tf_lite"), artifact);  // default name "tflite"
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("Format-Serving/tflite"));
}

TEST_F(ModelRunnerTest, BadSpecsAreErrors) {
  ModelSpec key = Spec("k", "tf_lite");
  key.set_prediction_key("probabilities");
  auto lite = OpenModel(key, models_->lite_float);
  EXPECT_EQ(lite.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(lite.status().message(), HasSubstr("prediction_key \"probabilities\""));
  EXPECT_THAT(lite.status().message(), HasSubstr("outputs:"));
  ModelSpec nkey = Spec("k", "native");
  nkey.set_prediction_key("nope");
  EXPECT_THAT(OpenModel(nkey, models_->native).status().message(), HasSubstr("outputs:"));
  auto type = OpenModel(Spec("t", "tf_js"), models_->native);
  EXPECT_THAT(type.status().message(), HasSubstr("model_type \"tf_js\""));
  ModelSpec sig = Spec("s", "native");
  sig.set_signature_name("serving_examples");
  EXPECT_THAT(OpenModel(sig, models_->native).status().message(), HasSubstr("serving_examples"));
  EXPECT_FALSE(OpenModel(Spec("m", "native"), tmp_->Join("nowhere")).ok());
}

}  // namespace
}  // namespace edgepipe::eval
