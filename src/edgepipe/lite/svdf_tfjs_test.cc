// Exactness of the int8 SVDF kernel against TensorFlow.js's TFLite runtime
// (TFLite's own C++ kernels in WASM), layer by layer. The whole
// keyword_scrambled model saturates (its scrambled weights drive every
// layer to the int8 limits and the softmax to 1/2, 1/2), so its end-to-end
// comparison in tfjs_interop_test says little about SVDF; here each of its
// seven SVDF layers (the fixture's own weights, quantization and rank; the
// output scale x256 so that outputs spread over int8) runs alone on inputs
// near the zero point, four steps in one interpreter, and every int8 output
// must equal tfjs-tflite's. Needs Node and npm ci.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/tfjs_runner_testing.h"

namespace edgepipe::lite {
namespace {

using TT = tflite::TensorType;

constexpr int kSteps = 4;
constexpr float kOutputScaleFactor = 256;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

// The fixture's SVDF layers (from `edgepipe lite inspect`): layer k reads
// tensors first..first+4 (input, weights_feature, weights_time, bias,
// state) and writes tensor out.
struct Layer {
  int first;
  int out;
};
constexpr Layer kLayers[] = {{0, 5}, {8, 13}, {16, 21}, {24, 29}, {32, 37}, {37, 42}, {42, 47}};

// One SVDF layer of the fixture as a one-op model (its weights, quantization
// and rank = filters / units; activation RELU, as int8 SVDF requires).
Result<std::string> SingleSvdf(const Interpreter& fixture, Layer l) {
  const auto& t = fixture.tensors();
  ModelBuilder b;
  std::vector<int32_t> ins;
  for (int k = 0; k < 5; ++k) {
    const Tensor& ft = t[static_cast<size_t>(l.first + k)];
    if (k == 0) {
      ins.push_back(b.AddInput("x", ft.type, ft.shape, *ft.quant));
    } else if (k == 4) {
      ins.push_back(b.AddVariable("state", ft.type, ft.shape, *ft.quant));
    } else {
      ins.push_back(b.AddConstant(fmt::format("w{}", k), ft.type, ft.shape,
                                  std::span<const uint8_t>(ft.data, ft.bytes), *ft.quant));
    }
  }
  const Tensor& fo = t[static_cast<size_t>(l.out)];
  // The fixture's output scales saturate almost every output (its weights
  // are scrambled); a coarser output scale spreads them over int8, with the
  // same feature/state arithmetic.
  QuantParams out_quant = *fo.quant;
  out_quant.scale[0] *= kOutputScaleFactor;
  const int y = b.AddTensor("y", fo.type, fo.shape, out_quant);
  const int rank = t[static_cast<size_t>(l.first + 1)].dim(0) / fo.dim(1);
  b.AddOperator(tflite::BuiltinOperator::SVDF, ins, {y},
                SvdfOpts(rank, tflite::ActivationFunctionType::RELU));
  b.AddOutput("y", y);
  return b.Finish();
}

TEST(SvdfTfjsTest, EachKeywordScrambledSvdfLayerIsBitExact) {
  auto model = Model::Load(Fixture("keyword_scrambled.tflite"));
  ASSERT_TRUE(model.ok()) << model.status();
  TempDir dir;
  std::mt19937 rng(7);
  std::vector<testing::InteropJob> jobs;
  std::vector<std::string> bytes;
  auto fixture = Interpreter::Create(std::move(*model), BuiltinOpResolver());
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  for (const Layer& l : kLayers) {
    const int op = l.out;
    auto b = SingleSvdf(**fixture, l);
    ASSERT_TRUE(b.ok()) << b.status();
    const std::string path = dir.Join("svdf_" + std::to_string(op) + ".tflite");
    ASSERT_TRUE(WriteFileAtomic(path, *b).ok());
    const Tensor& x = (*fixture)->tensors()[static_cast<size_t>(l.first)];
    const int n = x.dim(1);
    const int zp = x.zero_point();
    // Near the zero point: real inputs in a small range, so that the
    // layer's outputs spread over the int8 range instead of saturating.
    std::uniform_int_distribution<int> d(zp, std::min(127, zp + 24));
    testing::InteropJob job{path, {}, kSteps, {}};
    for (int s = 0; s < kSteps; ++s) {
      Array a = *Array::Zeros(DType::kInt8, {1, n});
      for (int8_t& v : a.data<int8_t>()) v = static_cast<int8_t>(d(rng));
      job.inputs.push_back(std::move(a));
    }
    jobs.push_back(std::move(job));
    bytes.push_back(*b);
  }
  ASSERT_EQ(jobs.size(), 7u);
  auto theirs = testing::RunTfjsTfliteJobs(jobs, dir);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  int compared = 0;
  int unsaturated = 0;
  for (size_t j = 0; j < jobs.size(); ++j) {
    SCOPED_TRACE(jobs[j].model);
    ASSERT_TRUE((*theirs)[j].ok()) << (*theirs)[j].status();
    ASSERT_EQ((*theirs)[j]->size(), static_cast<size_t>(kSteps));
    auto m = Model::FromBytes(bytes[j], "svdf");
    ASSERT_TRUE(m.ok());
    auto in = Interpreter::Create(std::move(*m), BuiltinOpResolver());
    ASSERT_TRUE(in.ok()) << in.status();
    ASSERT_TRUE((*in)->AllocateTensors().ok());
    for (int s = 0; s < kSteps; ++s) {
      ASSERT_TRUE((*in)->SetInput(0, jobs[j].inputs[static_cast<size_t>(s)]).ok());
      ASSERT_TRUE((*in)->Invoke().ok());
      auto ours = (*in)->GetOutput(0);
      ASSERT_TRUE(ours.ok()) << ours.status();
      const Array& ref = (*(*theirs)[j])[static_cast<size_t>(s)];
      ASSERT_EQ(ref.dtype(), DType::kInt8);
      ASSERT_EQ(ours->shape(), ref.shape());
      const auto a = ours->data<int8_t>();
      const auto r = ref.data<int8_t>();
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i], r[i]) << "step " << s << " unit " << i;
        ++compared;
        unsaturated += r[i] != -128 && r[i] != 127;
      }
    }
  }
  // The comparison means something only if outputs are not all at a limit.
  EXPECT_GT(unsaturated, compared / 4) << unsaturated << " of " << compared;
  std::fprintf(stderr, "compared %d SVDF outputs, %d not saturated\n", compared, unsaturated);
}

}  // namespace
}  // namespace edgepipe::lite
