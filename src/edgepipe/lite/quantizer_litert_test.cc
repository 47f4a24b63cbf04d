// Proof against Google's LiteRT: every file the quantizer writes for the
// MNIST MLP and the small CNN (dynamic range, float16, full integer with
// float / int8 / uint8 I/O) runs in LiteRT (tests/interop/run_litert.mjs,
// one Node process for all of them) and gives our interpreter's outputs on
// the same random inputs: integer outputs equal, float outputs within 1e-5
// relative (our interpreter in Arithmetic::kLiteRt, XNNPACK's requantization).
// A few single-op models cover kernel paths the quantized models do not.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "edgepipe/core/file.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/litert_runner_testing.h"
#include "edgepipe/lite/quantizer.h"
#include "edgepipe/lite/quantizer_testing.h"

namespace edgepipe::lite {
namespace {

using Mode = QuantizationMode;
using IT = InferenceType;

constexpr int kRuns = 3;  // random inputs per file

struct Case {
  std::string name;
  std::string bytes;
};

OpOptions FullyConnectedOptionsFor(bool asymmetric) {
  return OpOptions{
      tflite::BuiltinOptions::FullyConnectedOptions, [=](flatbuffers::FlatBufferBuilder& b) {
        return tflite::CreateFullyConnectedOptions(
                   b, tflite::ActivationFunctionType::NONE,
                   tflite::FullyConnectedOptionsWeightsFormat::DEFAULT, false, asymmetric)
            .Union();
      }};
}

// A random input for graph input `t`: float in [0, 1), or int8/uint8 over
// the whole range.
Array RandomInputFor(const Tensor& t, std::mt19937& rng) {
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  if (t.type == tflite::TensorType::FLOAT32) return testing::RandomFloats(shape, rng);
  std::uniform_int_distribution<int> d(0, 255);
  if (t.type == tflite::TensorType::UINT8) {
    Array a = *Array::Zeros(DType::kUInt8, shape);
    for (uint8_t& v : a.data<uint8_t>()) v = static_cast<uint8_t>(d(rng));
    return a;
  }
  Array a = *Array::Zeros(DType::kInt8, shape);
  for (int8_t& v : a.data<int8_t>()) v = static_cast<int8_t>(d(rng) - 128);
  return a;
}

struct Outcome {
  std::vector<std::vector<Array>> ours;            // [run][output]
  std::vector<Result<std::vector<Array>>> theirs;  // [run]
};

// Kernels the quantizer's own files do not reach: int8 -> int8 QUANTIZE
// (requantization) over many values, hybrid FULLY_CONNECTED with symmetric
// input quantization, and hybrid CONV_2D / DEPTHWISE_CONV_2D with batch 2
// (one input quantization per image), strides and VALID padding.
std::vector<Case> HandBuiltCases() {
  using TT = tflite::TensorType;
  using Op = tflite::BuiltinOperator;
  using tflite::Padding;
  std::vector<Case> cases;
  std::mt19937 rng(99);
  const auto int8_weights = [&](size_t n) {
    std::uniform_int_distribution<int> d(-127, 127);
    std::vector<int8_t> v(n);
    for (int8_t& x : v) x = static_cast<int8_t>(d(rng));
    return v;
  };
  const auto channel_scales = [](int n, int axis) {
    QuantParams q;
    q.axis = axis;
    for (int c = 0; c < n; ++c) {
      q.scale.push_back(0.002f + 0.0007f * static_cast<float>(c));
      q.zero_point.push_back(0);
    }
    return q;
  };
  {
    ModelBuilder b;
    int x = b.AddInput("x", TT::INT8, {4, 64}, QuantParams{{0.0213f}, {-7}, 0});
    int y = b.AddTensor("y", TT::INT8, {4, 64}, QuantParams{{0.0371f}, {5}, 0});
    b.AddOperator(Op::QUANTIZE, {x}, {y}, QuantizeOpts());
    b.AddOutput("y", y);
    cases.push_back({"requantize_i8", *b.Finish()});
  }
  {
    ModelBuilder b;
    int x = b.AddInput("x", TT::FLOAT32, {3, 40});
    int w =
        b.AddConstant("w", TT::INT8, {7, 40}, int8_weights(280), QuantParams{{0.0123f}, {0}, 0});
    int bias = b.AddConstant("b", TT::FLOAT32, {7}, testing::Uniform(7, 0.5f, rng));
    int y = b.AddTensor("y", TT::FLOAT32, {3, 7});
    b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y},
                  FullyConnectedOptionsFor(/*asymmetric=*/false));
    b.AddOutput("y", y);
    cases.push_back({"hybrid_fc_symmetric", *b.Finish()});
  }
  {
    ModelBuilder b;
    int x = b.AddInput("x", TT::FLOAT32, {2, 7, 6, 3});
    int w = b.AddConstant("w", TT::INT8, {5, 3, 3, 3}, int8_weights(135), channel_scales(5, 0));
    int bias = b.AddConstant("b", TT::FLOAT32, {5}, testing::Uniform(5, 0.5f, rng));
    int y = b.AddTensor("y", TT::FLOAT32, {2, 3, 2, 5});
    b.AddOperator(Op::CONV_2D, {x, w, bias}, {y},
                  Conv2DOpts(Padding::VALID, 2, 2, tflite::ActivationFunctionType::RELU));
    b.AddOutput("y", y);
    cases.push_back({"hybrid_conv_batch2", *b.Finish()});
  }
  {
    ModelBuilder b;
    int x = b.AddInput("x", TT::FLOAT32, {2, 6, 6, 3});
    int w = b.AddConstant("w", TT::INT8, {1, 3, 3, 6}, int8_weights(54), channel_scales(6, 3));
    int bias = b.AddConstant("b", TT::FLOAT32, {6}, testing::Uniform(6, 0.5f, rng));
    int y = b.AddTensor("y", TT::FLOAT32, {2, 3, 3, 6});
    b.AddOperator(Op::DEPTHWISE_CONV_2D, {x, w, bias}, {y},
                  DepthwiseConv2DOpts(Padding::SAME, 2, 2, 2));
    b.AddOutput("y", y);
    cases.push_back({"hybrid_dw_batch2", *b.Finish()});
  }
  return cases;
}

std::vector<Case> Cases() {
  std::vector<Case> cases;
  const auto add = [&](const std::string& name, const Result<std::string>& f, QuantizeOptions o,
                       RepresentativeDataset data) {
    EXPECT_TRUE(f.ok());
    if (!f.ok()) return;
    auto q = QuantizeModel(*f, o, &data);
    EXPECT_TRUE(q.ok()) << name << ": " << q.status().ToString();
    if (q.ok()) cases.push_back({name, *q});
  };
  const auto mlp = testing::BuildMlp(11);
  const auto cnn = testing::BuildCnn(12);
  const auto mlp_data = [] { return testing::RandomDataset("image_floats", {1, 784}, 16, 3); };
  const auto cnn_data = [] { return testing::RandomDataset("image", {1, 8, 8, 4}, 16, 3); };
  for (auto& c : HandBuiltCases()) cases.push_back(std::move(c));
  add("mlp_dynamic_range", mlp, {.mode = Mode::kDynamicRange}, nullptr);
  add("mlp_float16", mlp, {.mode = Mode::kFloat16}, nullptr);
  add("cnn_dynamic_range", cnn, {.mode = Mode::kDynamicRange, .min_weight_elements = 100}, nullptr);
  add("cnn_float16", cnn, {.mode = Mode::kFloat16}, nullptr);
  for (const auto& [io, type] : {std::pair{"float", IT::kFloat32}, std::pair{"int8", IT::kInt8},
                                 std::pair{"uint8", IT::kUInt8}}) {
    const QuantizeOptions o{
        .mode = Mode::kFullInteger, .inference_input_type = type, .inference_output_type = type};
    add(std::string("mlp_int8_io_") + io, mlp, o, mlp_data());
    add(std::string("cnn_int8_io_") + io, cnn, o, cnn_data());
  }
  return cases;
}

const std::map<std::string, Outcome>& Results() {
  static const auto* results = [] {
    auto* r = new std::map<std::string, Outcome>();
    static TempDir dir;
    std::vector<testing::LiteRtJob> jobs;
    std::vector<std::string> job_case;
    std::mt19937 rng(2024);
    for (const Case& c : Cases()) {
      Outcome& out = (*r)[c.name];
      const std::string path = dir.Join(c.name + ".tflite");
      EXPECT_TRUE(WriteFileAtomic(path, c.bytes).ok());
      auto model = Model::FromBytes(c.bytes, c.name);
      EXPECT_TRUE(model.ok()) << model.status().ToString();
      if (!model.ok()) continue;
      auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*model)),
                                    BuiltinOpResolver(), {.arithmetic = Arithmetic::kLiteRt});
      EXPECT_TRUE(in.ok()) << in.status().ToString();
      if (!in.ok()) continue;
      EXPECT_TRUE((*in)->AllocateTensors().ok());
      for (int run = 0; run < kRuns; ++run) {
        testing::LiteRtJob job{path, {}};
        for (int i = 0; i < (*in)->num_inputs(); ++i) {
          job.inputs.push_back(RandomInputFor((*in)->input(i), rng));
          EXPECT_TRUE((*in)->SetInput(i, job.inputs.back()).ok());
        }
        EXPECT_TRUE((*in)->Invoke().ok());
        std::vector<Array> outs;
        for (int k = 0; k < (*in)->num_outputs(); ++k) outs.push_back(*(*in)->GetOutput(k));
        out.ours.push_back(std::move(outs));
        jobs.push_back(std::move(job));
        job_case.push_back(c.name);
      }
    }
    auto theirs = testing::RunLiteRtJobs(jobs, dir);
    for (size_t j = 0; j < jobs.size(); ++j) {
      Outcome& out = (*r)[job_case[j]];
      if (!theirs.ok()) {
        out.theirs.push_back(theirs.status());
      } else {
        out.theirs.push_back(std::move((*theirs)[j]));
      }
    }
    return r;
  }();
  return *results;
}

// Integer outputs equal; float within 1e-5 relative (absolute near 0).
void ExpectSame(const Array& ours, const Array& ref, const std::string& what) {
  ASSERT_EQ(ours.dtype(), ref.dtype()) << what;
  ASSERT_EQ(ours.shape(), ref.shape()) << what;
  int bad = 0;
  std::string first;
  const auto note = [&](size_t i, double x, double y) {
    if (bad++ < 4)
      first += " [" + std::to_string(i) + "] " + std::to_string(x) + " vs " + std::to_string(y);
  };
  if (ref.dtype() == DType::kFloat32) {
    const auto x = ours.data<float>();
    const auto y = ref.data<float>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (!(std::fabs(x[i] - y[i]) <= 1e-5f * std::max(1.0f, std::fabs(y[i])))) note(i, x[i], y[i]);
    }
  } else if (ref.dtype() == DType::kInt8) {
    const auto x = ours.data<int8_t>();
    const auto y = ref.data<int8_t>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] != y[i]) note(i, x[i], y[i]);
    }
  } else {
    ASSERT_EQ(ref.dtype(), DType::kUInt8) << what;
    const auto x = ours.data<uint8_t>();
    const auto y = ref.data<uint8_t>();
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i] != y[i]) note(i, x[i], y[i]);
    }
  }
  EXPECT_EQ(bad, 0) << what << ":" << first;
}

class QuantizedInLiteRt : public ::testing::TestWithParam<std::string> {};

TEST_P(QuantizedInLiteRt, SameOutputs) {
  const auto it = Results().find(GetParam());
  ASSERT_NE(it, Results().end());
  const Outcome& o = it->second;
  ASSERT_EQ(o.ours.size(), static_cast<size_t>(kRuns));
  ASSERT_EQ(o.theirs.size(), static_cast<size_t>(kRuns));
  for (int run = 0; run < kRuns; ++run) {
    const auto& theirs = o.theirs[static_cast<size_t>(run)];
    ASSERT_TRUE(theirs.ok()) << GetParam() << ": " << theirs.status().ToString();
    ASSERT_EQ(theirs->size(), o.ours[static_cast<size_t>(run)].size());
    for (size_t k = 0; k < theirs->size(); ++k) {
      ExpectSame(o.ours[static_cast<size_t>(run)][k], (*theirs)[k],
                 GetParam() + " run " + std::to_string(run) + " output " + std::to_string(k));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, QuantizedInLiteRt,
                         ::testing::Values("requantize_i8", "hybrid_fc_symmetric",
                                           "hybrid_conv_batch2", "hybrid_dw_batch2",
                                           "mlp_dynamic_range", "mlp_float16", "cnn_dynamic_range",
                                           "cnn_float16", "mlp_int8_io_float", "cnn_int8_io_float",
                                           "mlp_int8_io_int8", "cnn_int8_io_int8",
                                           "mlp_int8_io_uint8", "cnn_int8_io_uint8"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace edgepipe::lite
