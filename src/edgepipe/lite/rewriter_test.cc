// The rewriter framework: phase order, RewriteSavedModel's path rules, the
// guide's flow (src = <serving>/temp, dst = <serving>), atomic output under
// injected faults, option errors, and post-rewrite validation failing on a
// file that does not compute what the model computes.
#include "edgepipe/lite/rewriter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/model/test_models.h"

// The checks below walk FlatBuffers accessors of models that Model has
// verified; GCC's -Wnull-dereference cannot see that the optional fields
// exist (the converter writes every one of them).
#pragma GCC diagnostic ignored "-Wnull-dereference"

namespace edgepipe::lite {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Records the phases it runs; fails in phase `fail_at` (0 = none).
class RecordingRewriter : public BaseRewriter {
 public:
  explicit RecordingRewriter(int fail_at) : fail_at_(fail_at) {}
  std::string_view name() const override { return "recorder"; }
  std::vector<std::string> calls;
  RewriterModel seen_original, seen_rewritten;

 protected:
  Status PreRewriteValidation(const RewriterModel& original) override {
    seen_original = original;
    return Step("pre", 1);
  }
  Status Rewrite(const RewriterModel&, const RewriterModel& rewritten) override {
    seen_rewritten = rewritten;
    return Step("rewrite", 2);
  }
  Status PostRewriteValidation(const RewriterModel&) override { return Step("post", 3); }

 private:
  Status Step(const std::string& what, int n) {
    calls.push_back(what);
    return n == fail_at_ ? Status::Internal("boom in " + what) : Status::Ok();
  }
  int fail_at_;
};

// <tmp>/serving/temp holds the MLP's saved model; <tmp>/serving/keep.txt
// another file that must survive.
std::string MakeServingDir(const TempDir& tmp, uint64_t seed = 1) {
  const std::string serving = tmp.Join("serving");
  nn::Sequential mlp = model::testing::MakeMlp(seed);
  Status s = model::Save(mlp, JoinPath(serving, "temp"),
                         std::vector<model::Signature>{model::TensorSignature(
                             "serving_default", {{"image_floats", DType::kFloat32, {-1, 784}}})});
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_TRUE(WriteFileAtomic(JoinPath(serving, "keep.txt"), "keep").ok());
  return serving;
}

TEST(RewriterTest, PhasesRunInOrderAndStopAtTheFirstFailure) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  {
    RecordingRewriter r(0);
    ASSERT_TRUE(RewriteSavedModel(JoinPath(serving, "temp"), serving, r, ModelType::kTFLite).ok());
    EXPECT_THAT(r.calls, ElementsAre("pre", "rewrite", "post"));
    EXPECT_EQ(r.seen_original.type, ModelType::kSavedModel);
    EXPECT_EQ(r.seen_rewritten.type, ModelType::kTFLite);
    EXPECT_EQ(r.seen_rewritten.path, serving);
  }
  for (int fail_at : {1, 2, 3}) {
    RecordingRewriter r(fail_at);
    Status s = r.PerformRewrite({"a", ModelType::kSavedModel}, {"b", ModelType::kTFLite});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(r.calls.size(), static_cast<size_t>(fail_at));
    EXPECT_THAT(s.message(), HasSubstr("rewriter \"recorder\""));
    EXPECT_THAT(s.message(), HasSubstr(fail_at == 1   ? "pre-rewrite validation"
                                       : fail_at == 2 ? "rewrite: boom"
                                                      : "post-rewrite validation"));
  }
}

TEST(RewriterTest, SourceEqualToDestinationOrMissingIsAnError) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  const std::string src = JoinPath(serving, "temp");
  for (const std::string& dst : {src, src + "/", serving + "/./temp", serving + "/x/../temp"}) {
    RecordingRewriter r(0);
    Status s = RewriteSavedModel(src, dst, r, ModelType::kTFLite);
    ASSERT_FALSE(s.ok()) << dst;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("same folder"));
    EXPECT_TRUE(r.calls.empty());
  }
  RecordingRewriter r(0);
  Status s = RewriteSavedModel(tmp.Join("nowhere"), serving, r);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(RewriterTest, GuideFlowWritesTfliteBesideOtherFilesAndReports) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  auto rewriter = CreateRewriter(RewriterType::kTFLiteRewriter, {.name = "tflite_rewriter"});
  ASSERT_NE(rewriter, nullptr);
  EXPECT_EQ(rewriter->name(), "tflite_rewriter");
  Status s = RewriteSavedModel(JoinPath(serving, "temp"), serving, *rewriter, ModelType::kTFLite);
  ASSERT_TRUE(s.ok()) << s;
  auto names = Env::Default()->ListDir(serving);
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("keep.txt", "temp", "tflite"));  // no temp files left
  auto file = Model::Load(JoinPath(serving, "tflite"));
  ASSERT_TRUE(file.ok()) << file.status();
  const ValidationReport* report = rewriter->validation_report();
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->samples, 8);
  EXPECT_LE(report->max_abs_diff, 1e-5 * std::max(1.0, report->max_abs_reference));
  EXPECT_GT(report->max_abs_reference, 0.0);
  EXPECT_EQ(report->top1_compared, 8);
  EXPECT_EQ(report->top1_agree, 8);
  EXPECT_THAT(report->ToString(), HasSubstr("top-1 agreement 8/8"));
}

TEST(RewriterTest, RepresentativeDatasetFeedsValidation) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  TFLiteRewriterOptions o;
  for (uint32_t seed : {1u, 2u}) {
    o.representative_dataset.push_back(
        {{"image_floats", model::testing::RandomArray({3, 784}, seed)}});
  }
  TFLiteRewriter r(o);
  ASSERT_TRUE(RewriteSavedModel(JoinPath(serving, "temp"), tmp.Join("out"), r).ok());
  ASSERT_NE(r.validation_report(), nullptr);
  EXPECT_EQ(r.validation_report()->samples, 6);
}

TEST(RewriterTest, ExampleSignatureConvertsAndValidatesPerFeature) {
  TempDir tmp;
  nn::Sequential mlp = model::testing::MakeMlp(4);
  const std::string src = tmp.Join("temp");
  ASSERT_TRUE(
      model::Save(mlp, src,
                  std::vector<model::Signature>{model::ExampleSignature(
                      "serving_default", {data::FeatureSpec::Float32("image_floats", {28, 28})})})
          .ok());
  TFLiteRewriter r({.validation_samples = 5});
  Status s = RewriteSavedModel(src, tmp.Join("out"), r);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_NE(r.validation_report(), nullptr);
  EXPECT_EQ(r.validation_report()->samples, 5);
  EXPECT_EQ(r.validation_report()->top1_agree, 5);
}

TEST(RewriterTest, OutputIsAtomicUnderInjectedFaults) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  const std::string src = JoinPath(serving, "temp");
  const std::string out = JoinPath(serving, "tflite");
  ASSERT_TRUE(WriteFileAtomic(out, "previous model").ok());
  for (int fault = 0; fault < 3; ++fault) {
    FaultEnv env;
    if (fault == 0) env.FailNth(FaultEnv::Op::kRename, 1);
    if (fault == 1) env.SetWriteByteLimit(100);  // disk full while writing
    if (fault == 2) env.FailNth(FaultEnv::Op::kSync, 1);
    TFLiteRewriter r({.env = &env});
    Status s = RewriteSavedModel(src, serving, r, ModelType::kTFLite, &env);
    ASSERT_FALSE(s.ok()) << fault;
    EXPECT_THAT(s.message(), HasSubstr("rewrite"));
    auto text = ReadFileToString(out);
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, "previous model") << fault;
    auto names = Env::Default()->ListDir(serving);
    ASSERT_TRUE(names.ok());
    EXPECT_THAT(*names, ElementsAre("keep.txt", "temp", "tflite")) << fault;
  }
}

TEST(RewriterTest, OptionErrors) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  const std::string src = JoinPath(serving, "temp");
  auto run = [&](TFLiteRewriterOptions o) {
    TFLiteRewriter r(std::move(o));
    return RewriteSavedModel(src, tmp.Join("out"), r);
  };
  Status s = run({.quantization = Quantization::kFullInteger});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("representative dataset"));
  s = run({.inference_input_type = InferenceType::kInt8});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("int8"));
  s = run({.filename = "a/b"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  s = run({.signature_key = "serving_tensors"});
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("serving_default"));
  EXPECT_FALSE(Env::Default()->Exists(tmp.Join("out")));
}

// Writes the file, then corrupts one bias value of the last operator (the
// logits layer): output 0 moves by exactly 3.
class CorruptingRewriter : public TFLiteRewriter {
 public:
  using TFLiteRewriter::TFLiteRewriter;

 protected:
  Status Rewrite(const RewriterModel& original, const RewriterModel& rewritten) override {
    RETURN_IF_ERROR(TFLiteRewriter::Rewrite(original, rewritten));
    const std::string path = OutputPath(rewritten);
    ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path));
    ASSIGN_OR_RETURN(std::unique_ptr<Model> m, Model::FromBytes(bytes, "x"));
    const auto* ops = m->subgraph(0).operators();
    const int bias = ops->Get(ops->size() - 1)->inputs()->Get(2);
    const size_t offset = static_cast<size_t>(m->TensorData(0, bias).data() - m->file_data());
    float w;
    std::memcpy(&w, bytes.data() + offset, 4);
    w += 3.0f;
    std::memcpy(bytes.data() + offset, &w, 4);
    return WriteFileAtomic(path, bytes);
  }
};

TEST(RewriterTest, ValidationFailsOnACorruptedWeightAndRemovesTheFile) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  CorruptingRewriter r(TFLiteRewriterOptions{});
  Status s = RewriteSavedModel(JoinPath(serving, "temp"), serving, r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("post-rewrite validation"));
  EXPECT_THAT(s.message(), HasSubstr("differs from the native model"));
  ASSERT_NE(r.validation_report(), nullptr);
  EXPECT_NEAR(r.validation_report()->max_abs_diff, 3.0, 1e-3);
  EXPECT_FALSE(Env::Default()->Exists(JoinPath(serving, "tflite")));
  EXPECT_TRUE(Env::Default()->Exists(JoinPath(serving, "keep.txt")));
}

}  // namespace
}  // namespace edgepipe::lite

namespace edgepipe::lite {
namespace {

// Every quantization mode through the rewriter: the file is written, its
// tensors have the mode's types, and the validation report (quantized I/O
// quantized/dequantized with the file's parameters) shows outputs close to
// the native model's.
TEST(RewriterTest, QuantizedRewritesRunAndAreReported) {
  TempDir tmp;
  const std::string serving = MakeServingDir(tmp);
  const std::string src = JoinPath(serving, "temp");
  auto loaded = model::Load(src);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  std::vector<model::NamedArrays> data;
  for (uint64_t seed : {3, 4, 5, 6}) {
    auto batch = RandomSignatureInputs(*loaded->FindSignature("serving_default"), 16, seed);
    ASSERT_TRUE(batch.ok()) << batch.status();
    data.push_back(*batch);
  }
  struct Case {
    Quantization q;
    InferenceType io;
    tflite::TensorType weights, input;
  };
  const Case cases[] = {
      {Quantization::kDynamicRange, InferenceType::kFloat32, tflite::TensorType::INT8,
       tflite::TensorType::FLOAT32},
      {Quantization::kFloat16, InferenceType::kFloat32, tflite::TensorType::FLOAT16,
       tflite::TensorType::FLOAT32},
      {Quantization::kFullInteger, InferenceType::kFloat32, tflite::TensorType::INT8,
       tflite::TensorType::FLOAT32},
      {Quantization::kFullInteger, InferenceType::kInt8, tflite::TensorType::INT8,
       tflite::TensorType::INT8},
      {Quantization::kFullInteger, InferenceType::kUInt8, tflite::TensorType::INT8,
       tflite::TensorType::UINT8},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(QuantizationName(c.q)) + "/" + std::string(InferenceTypeName(c.io)));
    const std::string out = tmp.Join("out_" + std::string(QuantizationName(c.q)) + "_" +
                                     std::string(InferenceTypeName(c.io)));
    TFLiteRewriter r({.quantization = c.q,
                      .inference_input_type = c.io,
                      .inference_output_type = c.io,
                      .representative_dataset = data});
    Status s = RewriteSavedModel(src, out, r);
    ASSERT_TRUE(s.ok()) << s;
    auto m = Model::Load(JoinPath(out, "tflite"));
    ASSERT_TRUE(m.ok()) << m.status();
    const auto* sg = (*m)->fb().subgraphs()->Get(0);
    const auto* in = sg->tensors()->Get(static_cast<uint32_t>(sg->inputs()->Get(0)));
    EXPECT_EQ(in->type(), c.input);
    bool has_weight_type = false;
    for (const auto* t : *sg->tensors()) has_weight_type |= t->type() == c.weights;
    EXPECT_TRUE(has_weight_type);
    const ValidationReport* rep = r.validation_report();
    ASSERT_NE(rep, nullptr);
    EXPECT_EQ(rep->samples, 64);
    // Quantization error of a 784-64-64-10 MLP: a few percent of the
    // outputs' scale at most (the quantizer's own tests bound it per mode).
    EXPECT_LT(rep->max_abs_diff, 0.1 * std::max(1.0, rep->max_abs_reference));
    EXPECT_GE(rep->top1_agreement(), 0.85);
  }
}

}  // namespace
}  // namespace edgepipe::lite
