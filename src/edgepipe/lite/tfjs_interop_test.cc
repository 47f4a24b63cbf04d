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

// A .npy file of int16 values (Array has no int16 dtype).
Status WriteInt16Npy(const std::string& path, const std::vector<int32_t>& shape,
                     const std::vector<int16_t>& values) {
  std::string shape_text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    shape_text += std::to_string(shape[i]) + (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
    if (i + 1 < shape.size()) shape_text += " ";
  }
  shape_text += ")";
  std::string header = "{'descr': '<i2', 'fortran_order': False, 'shape': " + shape_text + ", }";
  header += std::string((64 - (10 + header.size() + 1) % 64) % 64, ' ') + "\n";
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  for (int16_t v : values) {
    const auto u = static_cast<uint16_t>(v);
    bytes += static_cast<char>(u & 0xff);
    bytes += static_cast<char>(u >> 8);
  }
  return WriteFileAtomic(path, bytes);
}

// The first operator of `bytes` our BuiltinOpResolver has no kernel for
// ("SVDF"), or "" when it has them all.
std::string FirstMissingOp(const std::string& bytes) {
  auto m = Model::FromBytes(bytes, "model");
  if (!m.ok()) return "";
  const OpResolver resolver = BuiltinOpResolver();
  const auto* ops = (*m)->subgraph(0).operators();
  for (int o = 0; ops && o < static_cast<int>(ops->size()); ++o) {
    const int32_t code = (*m)->OpCode(0, o);
    if (resolver.Find(code) == nullptr) return BuiltinOperatorName(code);
  }
  return "";
}

constexpr int kSteps = 3;  // invocations of the stateful models

// One model of the batch: its bytes, and per run the inputs (step-major for
// the stateful models) and tfjs-tflite's outputs.
struct Case {
  std::string bytes;
  int steps = 1;
  std::vector<std::vector<Array>> inputs;          // [run][step * inputs + i]
  std::vector<std::vector<int16_t>> int16_inputs;  // [run] (keyword_scrambled)
  std::vector<Result<std::vector<Array>>> theirs;  // [run]
};

nn::Model MakeFashionCnn(uint64_t seed) {
  namespace L = nn::layers;
  auto x = nn::Input({28, 28, 1}, "image");
  auto h = nn::Apply(L::Rescaling(1.0f / 255.0f, 0.0f), {*x});
  h = nn::Apply(L::Conv2D(8, 3, {.activation = "relu"}), {*h});
  h = nn::Apply(L::MaxPooling2D(2), {*h});
  h = nn::Apply(L::Conv2D(16, 3, {.activation = "relu"}), {*h});
  h = nn::Apply(L::MaxPooling2D(2), {*h});
  h = nn::Apply(L::Flatten(), {*h});
  h = nn::Apply(L::Dense(32, {.activation = "relu"}), {*h});
  auto out = nn::Apply(L::Dense(10, {.name = "logits"}), {*h});
  auto m = nn::Model::Create({*x}, {*out}, "fashion_cnn", seed);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(*m);
}

Result<std::string> Convert(const nn::Model& m) {
  const auto names = m.input_names();
  const auto shapes = m.input_shapes();
  ASSIGN_OR_RETURN(
      Conversion c,
      ConvertModel(
          m, model::TensorSignature("serving_default", {{names[0], DType::kFloat32, shapes[0]}})));
  return c.tflite;
}

// (d) Hand-computed models. fc_float: y = W x + b with W = [[1, 2, 3],
// [-1, 0.5, 2]], b = [0.25, -1] (every product and sum exact in float);
// transpose_int8: [2, 3] -> [3, 2].
Result<std::string> HandFc() {
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 3});
  int w = b.AddConstant("w", TT::FLOAT32, {2, 3}, std::vector<float>{1, 2, 3, -1, 0.5f, 2});
  int bias = b.AddConstant("b", TT::FLOAT32, {2}, std::vector<float>{0.25f, -1});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 2});
  b.AddOperator(tflite::BuiltinOperator::FULLY_CONNECTED, {x, w, bias}, {y}, FullyConnectedOpts());
  b.AddOutput("y", y);
  return b.Finish();
}

Result<std::string> HandTranspose() {
  ModelBuilder b;
  int x = b.AddInput("x", TT::INT8, {2, 3}, QuantParams{{0.5f}, {0}, 0});
  int perm = b.AddConstant("perm", TT::INT32, {2}, std::vector<int32_t>{1, 0});
  int y = b.AddTensor("y", TT::INT8, {3, 2}, QuantParams{{0.5f}, {0}, 0});
  b.AddOperator(tflite::BuiltinOperator::TRANSPOSE, {x, perm}, {y}, TransposeOpts());
  b.AddOutput("y", y);
  return b.Finish();
}

Array Floats(std::vector<int64_t> shape, std::vector<float> v) {
  Array a = *Array::Zeros(DType::kFloat32, std::move(shape));
  std::copy(v.begin(), v.end(), a.data<float>().begin());
  return a;
}

Array Int8s(std::vector<int64_t> shape, std::vector<int8_t> v) {
  Array a = *Array::Zeros(DType::kInt8, std::move(shape));
  std::copy(v.begin(), v.end(), a.data<int8_t>().begin());
  return a;
}

// Every model of this file, run in tfjs-tflite by one Node process (its
// start-up costs seconds) the first time a test asks.
std::map<std::string, Case>& Batch() {
  static auto* batch = [] {
    auto* cases = new std::map<std::string, Case>();
    static TempDir dir;
    std::mt19937 rng(4321);
    // Adds `name` with `runs` random inputs for the inputs of `specs` or,
    // when empty, of the model as our interpreter sees it.
    const auto add_random = [&](const std::string& name, Result<std::string> bytes, int runs,
                                float lo, float hi, std::vector<Tensor> specs = {}) {
      EXPECT_TRUE(bytes.ok()) << name << ": " << bytes.status();
      if (!bytes.ok()) return;
      Case& c = (*cases)[name];
      c.bytes = std::move(*bytes);
      if (specs.empty()) {
        auto in = OursFor(c.bytes, name);
        EXPECT_TRUE(in.ok()) << name << ": " << in.status();
        if (!in.ok()) return;
        for (int i = 0; i < (*in)->num_inputs(); ++i) specs.push_back((*in)->input(i));
      }
      for (int run = 0; run < runs; ++run) {
        std::vector<Array> in;
        for (const Tensor& t : specs) in.push_back(RandomInput(t, rng, lo, hi));
        c.inputs.push_back(std::move(in));
      }
    };
    // (a) Fixtures.
    const int mobilenet_runs = kSanitized ? 1 : 2;
    for (const auto& [file, runs] :
         {std::pair<std::string, int>{"hello_world_float.tflite", 4},
          {"hello_world_int8.tflite", 4},
          {"micro_speech_quantized.tflite", 4},
          {"mobilenet_v2_quantized_1x3x224x224.tflite", mobilenet_runs}}) {
      add_random(file, ReadFileToString(Fixture(file)), runs, -3.0f, 3.0f);
    }
    // (b) Stateful fixtures: kSteps invocations per run; step 1 repeats
    // step 0's input (the state, not the input, makes them differ).
    // (Our interpreter may not load it: its input is given.)
    Tensor lstm_input;
    lstm_input.shape = {1, 28, 28};
    add_random("trained_lstm.tflite", ReadFileToString(Fixture("trained_lstm.tflite")), 2, 0.0f,
               1.0f, {lstm_input});
    {
      Case& c = (*cases)["trained_lstm.tflite"];
      c.steps = kSteps;
      for (auto& run : c.inputs) {
        std::vector<Array> steps = {run[0], run[0]};
        for (int s = 2; s < kSteps; ++s) {
          steps.push_back(testing::RandomFloats({1, 28, 28}, rng));
        }
        run = std::move(steps);
      }
    }
    {
      auto bytes = ReadFileToString(Fixture("keyword_scrambled.tflite"));
      EXPECT_TRUE(bytes.ok()) << bytes.status();
      Case& c = (*cases)["keyword_scrambled.tflite"];
      c.bytes = bytes.ok() ? *bytes : "";
      c.steps = kSteps;
      std::uniform_int_distribution<int> d(-32768, 32767);
      for (int run = 0; run < 2; ++run) {
        std::vector<int16_t> v(static_cast<size_t>(96 * kSteps));
        for (int16_t& x : v) x = static_cast<int16_t>(d(rng));
        c.int16_inputs.push_back(std::move(v));
      }
    }
    // (c) The converter's MNIST MLP and Fashion-MNIST-shaped CNN, each
    // quantization mode.
    nn::Sequential mlp = model::testing::MakeMlp(11);
    nn::Model cnn = MakeFashionCnn(12);
    using Mode = QuantizationMode;
    using IT = InferenceType;
    for (const auto& [model_name, model, lo, hi] :
         {std::tuple<std::string, const nn::Model*, float, float>{"mlp", &mlp, -0.5f, 0.5f},
          {"fashion_cnn", &cnn, 0.0f, 255.0f}}) {
      auto float_bytes = Convert(*model);
      EXPECT_TRUE(float_bytes.ok()) << model_name << ": " << float_bytes.status();
      if (!float_bytes.ok()) continue;
      add_random(model_name + "_float", *float_bytes, 2, lo, hi);
      const std::vector<int64_t> shape =
          model_name == "mlp" ? std::vector<int64_t>{1, 784} : std::vector<int64_t>{1, 28, 28, 1};
      const std::string input = model->input_names()[0];
      for (const auto& [suffix, options] :
           {std::pair<std::string, QuantizeOptions>{
                "dynamic_range", {.mode = Mode::kDynamicRange, .min_weight_elements = 64}},
            {"float16", {.mode = Mode::kFloat16}},
            {"int8_io_float", {.mode = Mode::kFullInteger}},
            {"int8_io_int8",
             {.mode = Mode::kFullInteger,
             .inference_input_type = IT::kInt8,
             .inference_output_type = IT::kInt8}},
            {"int8_io_uint8",
             {.mode = Mode::kFullInteger,
             .inference_input_type = IT::kUInt8,
             .inference_output_type = IT::kUInt8}}}) {
        auto data_rng = std::make_shared<std::mt19937>(7);
        auto left = std::make_shared<int>(16);
        const float l = lo, h = hi;
        RepresentativeDataset data = [=](std::map<std::string, Array>* in) -> Result<bool> {
          if ((*left)-- <= 0) return false;
          (*in)[input] = testing::RandomFloats(shape, *data_rng, l, h);
          return true;
        };
        add_random(model_name + "_" + suffix, QuantizeModel(*float_bytes, options, &data), 2, lo,
                   hi);
      }
    }
    // (d) Hand-computed.
    add_random("hand_fc_float", HandFc(), 0, 0, 0);
    (*cases)["hand_fc_float"].inputs = {{Floats({1, 3}, {1.5f, -2.0f, 0.5f})}};
    add_random("hand_transpose_int8", HandTranspose(), 0, 0, 0);
    (*cases)["hand_transpose_int8"].inputs = {{Int8s({2, 3}, {1, -2, 3, -4, 5, -128})}};

    // One job per run.
    std::vector<InteropJob> jobs;
    std::vector<std::string> job_case;
    for (auto& [name, c] : *cases) {
      const std::string path = dir.Join(name);
      EXPECT_TRUE(WriteFileAtomic(path, c.bytes).ok());
      for (const auto& in : c.inputs) {
        jobs.push_back(InteropJob{path, in, c.steps, {}});
        job_case.push_back(name);
      }
      for (size_t run = 0; run < c.int16_inputs.size(); ++run) {
        InteropJob job{path, {}, c.steps, {}};
        for (int s = 0; s < c.steps; ++s) {
          const std::string file =
              dir.Join(name + "_int16_" + std::to_string(run) + "_" + std::to_string(s) + ".npy");
          const auto& v = c.int16_inputs[run];
          EXPECT_TRUE(
              WriteInt16Npy(file, {1, 96},
                            std::vector<int16_t>(v.begin() + 96 * s, v.begin() + 96 * (s + 1)))
                  .ok());
          job.input_files.push_back(file);
        }
        jobs.push_back(std::move(job));
        job_case.push_back(name);
      }
    }
    auto theirs = testing::RunTfjsTfliteJobs(jobs, dir);
    for (size_t j = 0; j < jobs.size(); ++j) {
      Case& c = (*cases)[job_case[j]];
      if (!theirs.ok()) {
        c.theirs.push_back(theirs.status());
      } else {
        c.theirs.push_back(std::move((*theirs)[j]));
      }
    }
    return cases;
  }();
  return *batch;
}

const Case& Get(const std::string& name) {
  static const Case empty;
  auto it = Batch().find(name);
  EXPECT_NE(it, Batch().end()) << name;
  return it == Batch().end() ? empty : it->second;
}

// Runs `name`'s inputs in our interpreter (a fresh one per run; the steps
// of a run in the same one) and compares with tfjs-tflite.
void CompareWithOurs(const std::string& name) {
  const Case& c = Get(name);
  ASSERT_FALSE(c.theirs.empty()) << name << ": no tfjs-tflite runs";
  ASSERT_EQ(c.theirs.size(), c.inputs.size());
  for (size_t run = 0; run < c.inputs.size(); ++run) {
    ASSERT_TRUE(c.theirs[run].ok()) << name << " run " << run << ": " << c.theirs[run].status();
    auto in = OursFor(c.bytes, name);
    ASSERT_TRUE(in.ok()) << in.status();
    const size_t ni = static_cast<size_t>((*in)->num_inputs());
    const size_t no = static_cast<size_t>((*in)->num_outputs());
    ASSERT_EQ(c.theirs[run]->size(), no * static_cast<size_t>(c.steps)) << name;
    for (int s = 0; s < c.steps; ++s) {
      const auto first = c.inputs[run].begin() + static_cast<std::ptrdiff_t>(ni) * s;
      auto ours =
          InvokeOurs(**in, std::vector<Array>(first, first + static_cast<std::ptrdiff_t>(ni)));
      ASSERT_TRUE(ours.ok()) << ours.status();
      for (size_t k = 0; k < no; ++k) {
        ExpectSame((*ours)[k], (*c.theirs[run])[static_cast<size_t>(s) * no + k],
                   name + " run " + std::to_string(run) + " step " + std::to_string(s) +
                       " output " + std::to_string(k));
      }
    }
  }
}

// (a) Fixtures both runtimes run.
TEST(TfjsTfliteInterop, HelloWorldFloat) { CompareWithOurs("hello_world_float.tflite"); }
TEST(TfjsTfliteInterop, HelloWorldInt8) { CompareWithOurs("hello_world_int8.tflite"); }
TEST(TfjsTfliteInterop, MicroSpeech) { CompareWithOurs("micro_speech_quantized.tflite"); }
TEST(TfjsTfliteInterop, MobileNetV2) {
  CompareWithOurs("mobilenet_v2_quantized_1x3x224x224.tflite");
}

// (b) Stateful models: tfjs-tflite runs them (checked always), ours when our
// resolver has their ops.
TEST(TfjsTfliteInterop, TrainedLstmStateful) {
  const Case& c = Get("trained_lstm.tflite");
  ASSERT_EQ(c.theirs.size(), 2u);
  for (const auto& r : c.theirs) {
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->size(), static_cast<size_t>(kSteps));
    for (const Array& probs : *r) {
      ASSERT_EQ(probs.dtype(), DType::kFloat32);
      ASSERT_EQ(probs.shape(), (std::vector<int64_t>{1, 10}));
      double sum = 0;
      for (float p : probs.data<float>()) {
        EXPECT_GE(p, 0.0f);
        sum += p;
      }
      EXPECT_NEAR(sum, 1.0, 1e-4) << "softmax output";
    }
    // Steps 0 and 1 had the same input: only the carried LSTM state can
    // make them differ (proves the steps ran in one interpreter).
    const auto p0 = (*r)[0].data<float>();
    const auto p1 = (*r)[1].data<float>();
    EXPECT_FALSE(std::equal(p0.begin(), p0.end(), p1.begin())) << "no state carried over";
  }
  const std::string missing = FirstMissingOp(c.bytes);
  if (!missing.empty()) {
    GTEST_SKIP() << "our interpreter has no " << missing
                 << " kernel yet; tfjs-tflite's outputs were checked only as probabilities";
  }
  CompareWithOurs("trained_lstm.tflite");
}

TEST(TfjsTfliteInterop, KeywordScrambledStateful) {
  const Case& c = Get("keyword_scrambled.tflite");
  ASSERT_EQ(c.theirs.size(), c.int16_inputs.size());
  for (const auto& r : c.theirs) {
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->size(), static_cast<size_t>(kSteps));
    for (const Array& out : *r) {
      EXPECT_EQ(out.dtype(), DType::kInt32);
      EXPECT_EQ(out.shape(), (std::vector<int64_t>{1, 2}));
    }
  }
  const std::string missing = FirstMissingOp(c.bytes);
  if (!missing.empty()) {
    GTEST_SKIP() << "our interpreter has no " << missing
                 << " kernel yet; tfjs-tflite's outputs were checked only for shape and dtype";
  }
  for (size_t run = 0; run < c.int16_inputs.size(); ++run) {
    auto in = OursFor(c.bytes, "keyword_scrambled");
    ASSERT_TRUE(in.ok()) << in.status();
    for (int s = 0; s < kSteps; ++s) {
      auto dst = (*in)->mutable_input_data(0);
      ASSERT_TRUE(dst.ok()) << dst.status();
      ASSERT_EQ(dst->size(), 96 * sizeof(int16_t));
      std::memcpy(dst->data(), c.int16_inputs[run].data() + 96 * s, dst->size());
      ASSERT_TRUE((*in)->Invoke().ok());
      auto ours = (*in)->GetOutput(0);
      ASSERT_TRUE(ours.ok()) << ours.status();
      ExpectSame(*ours, (*c.theirs[run])[static_cast<size_t>(s)],
                 "keyword_scrambled run " + std::to_string(run) + " step " + std::to_string(s));
    }
  }
}

// (c) Converter + quantizer outputs.
class ConvertedInTfjs : public ::testing::TestWithParam<std::string> {};
TEST_P(ConvertedInTfjs, SameOutputs) { CompareWithOurs(GetParam()); }
INSTANTIATE_TEST_SUITE_P(All, ConvertedInTfjs,
                         ::testing::Values("mlp_float", "mlp_dynamic_range", "mlp_float16",
                                           "mlp_int8_io_float", "mlp_int8_io_int8",
                                           "mlp_int8_io_uint8", "fashion_cnn_float",
                                           "fashion_cnn_dynamic_range", "fashion_cnn_float16",
                                           "fashion_cnn_int8_io_float", "fashion_cnn_int8_io_int8",
                                           "fashion_cnn_int8_io_uint8"),
                         [](const auto& p) { return p.param; });

// The int8/uint8 I/O files really have 8-bit I/O (else (c) proves less).
TEST(TfjsTfliteInterop, IntegerIoFilesHaveIntegerTensors) {
  for (const std::string name : {"mlp_int8_io_int8", "fashion_cnn_int8_io_int8"}) {
    const Case& c = Get(name);
    ASSERT_FALSE(c.inputs.empty()) << name;
    EXPECT_EQ(c.inputs[0][0].dtype(), DType::kInt8) << name;
    ASSERT_TRUE(!c.theirs.empty() && c.theirs[0].ok()) << name;
    EXPECT_EQ((*c.theirs[0])[0].dtype(), DType::kInt8) << name;
  }
  for (const std::string name : {"mlp_int8_io_uint8", "fashion_cnn_int8_io_uint8"}) {
    const Case& c = Get(name);
    ASSERT_FALSE(c.inputs.empty()) << name;
    EXPECT_EQ(c.inputs[0][0].dtype(), DType::kUInt8) << name;
    ASSERT_TRUE(!c.theirs.empty() && c.theirs[0].ok()) << name;
    EXPECT_EQ((*c.theirs[0])[0].dtype(), DType::kUInt8) << name;
  }
}

// (d) Hand-computed answers, in both runtimes.
TEST(TfjsTfliteInterop, HandComputedFullyConnected) {
  const Case& c = Get("hand_fc_float");
  ASSERT_EQ(c.theirs.size(), 1u);
  ASSERT_TRUE(c.theirs[0].ok()) << c.theirs[0].status();
  // x = [1.5, -2, 0.5]: y0 = 1.5 - 4 + 1.5 + 0.25 = -0.75;
  // y1 = -1.5 - 1 + 1 - 1 = -2.5.
  const Array want = Floats({1, 2}, {-0.75f, -2.5f});
  ExpectSame(want, (*c.theirs[0])[0], "hand_fc_float: hand vs tfjs-tflite");
  CompareWithOurs("hand_fc_float");
}

TEST(TfjsTfliteInterop, HandComputedTransposeInt8) {
  const Case& c = Get("hand_transpose_int8");
  ASSERT_EQ(c.theirs.size(), 1u);
  ASSERT_TRUE(c.theirs[0].ok()) << c.theirs[0].status();
  // [[1, -2, 3], [-4, 5, -128]] transposed.
  const Array want = Int8s({3, 2}, {1, -4, -2, 5, 3, -128});
  ExpectSame(want, (*c.theirs[0])[0], "hand_transpose_int8: hand vs tfjs-tflite");
  CompareWithOurs("hand_transpose_int8");
}

}  // namespace
}  // namespace edgepipe::lite
