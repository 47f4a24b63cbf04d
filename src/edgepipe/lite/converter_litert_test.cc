// Proof against Google's runtime: the converter's MNIST MLP and small CNN
// (float32) run in LiteRT (tests/interop/run_litert.mjs) with our
// interpreter's outputs, within 1e-5 relative, on several random inputs.
// LiteRT runs the file's static shape (batch 1).
#include <gtest/gtest.h>

#include <cmath>

#include "edgepipe/core/file.h"
#include "edgepipe/lite/converter.h"
#include "edgepipe/lite/converter_testing.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/litert_runner_testing.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/model/test_models.h"

namespace edgepipe::lite {
namespace {

struct Case {
  std::string name;
  std::string tflite;
  std::vector<int64_t> input_shape;  // batch 1
  const nn::Model* model;
};

Conversion Convert(const nn::Model& m) {
  const auto names = m.input_names();
  const auto shapes = m.input_shapes();
  auto c = ConvertModel(
      m, model::TensorSignature("serving_default", {{names[0], DType::kFloat32, shapes[0]}}));
  EXPECT_TRUE(c.ok()) << c.status();
  return c.ok() ? std::move(*c) : Conversion{};
}

// Ours on one batch-1 input.
Result<Array> RunOurs(const std::string& bytes, const Array& x) {
  ASSIGN_OR_RETURN(std::unique_ptr<Model> m, Model::FromBytes(bytes, "converted"));
  std::shared_ptr<const Model> shared(std::move(m));
  ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> in,
                   Interpreter::Create(shared, BuiltinOpResolver()));
  RETURN_IF_ERROR(in->AllocateTensors());
  RETURN_IF_ERROR(in->SetInput(0, x));
  RETURN_IF_ERROR(in->Invoke());
  return in->GetOutput(0);
}

TEST(ConverterLiteRtTest, MlpAndCnnMatchLiteRt) {
  TempDir tmp;
  nn::Sequential mlp = model::testing::MakeMlp(11);
  nn::Model cnn = testing::MakeCnn(12);
  testing::RandomizeBatchNorms(cnn, 13);
  std::vector<Case> cases = {{"mlp", Convert(mlp).tflite, {1, 784}, &mlp},
                             {"cnn", Convert(cnn).tflite, {1, 12, 12, 1}, &cnn}};
  std::vector<testing::LiteRtJob> jobs;
  std::vector<Array> ours, native;
  for (const Case& c : cases) {
    ASSERT_FALSE(c.tflite.empty()) << c.name;
    const std::string path = tmp.Join(c.name + ".tflite");
    ASSERT_TRUE(WriteFileAtomic(path, c.tflite).ok());
    for (uint32_t seed = 1; seed <= 4; ++seed) {
      Array x = model::testing::RandomArray(c.input_shape, seed);
      // The CNN takes raw pixels (Rescaling 1/255 is in the file).
      if (c.name == "cnn") {
        for (float& v : x.data<float>()) v = (v + 1.0f) * 127.5f;
      }
      auto o = RunOurs(c.tflite, x);
      ASSERT_TRUE(o.ok()) << o.status();
      ours.push_back(std::move(*o));
      native.push_back(model::testing::CallModel(*c.model, {x}).at(0));
      jobs.push_back({path, {x}});
    }
  }
  auto results = testing::RunLiteRtJobs(jobs, tmp);
  ASSERT_TRUE(results.ok()) << results.status();
  ASSERT_EQ(results->size(), jobs.size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    const auto& r = (*results)[j];
    ASSERT_TRUE(r.ok()) << jobs[j].model << ": " << r.status();
    ASSERT_EQ(r->size(), 1u);
    const Array& theirs = (*r)[0];
    ASSERT_EQ(theirs.shape(), ours[j].shape()) << jobs[j].model;
    // LiteRT against ours, and (so that a harness feeding both runtimes the
    // same wrong bytes cannot pass) against the native model.
    for (const Array* other : {&ours[j], &native[j]}) {
      ASSERT_EQ(other->shape(), theirs.shape());
      double scale = 1.0, worst = 0.0;
      for (size_t i = 0; i < theirs.data<float>().size(); ++i) {
        scale = std::max(scale, std::fabs(static_cast<double>(theirs.data<float>()[i])));
        worst = std::max(worst, std::fabs(static_cast<double>(theirs.data<float>()[i]) -
                                          static_cast<double>(other->data<float>()[i])));
      }
      EXPECT_LE(worst, 1e-5 * scale)
          << jobs[j].model << " job " << j << (other == &ours[j] ? " vs ours" : " vs native");
    }
  }
}

}  // namespace
}  // namespace edgepipe::lite
