// Test-only: the float models the quantizer tests quantize, built with
// ModelBuilder from seeded random weights, and small helpers to run a model
// in our interpreter. Only test binaries include this.
#ifndef EDGEPIPE_LITE_QUANTIZER_TESTING_H_
#define EDGEPIPE_LITE_QUANTIZER_TESTING_H_

#include <cmath>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/quantizer.h"

namespace edgepipe::lite::testing {

inline std::vector<float> Uniform(size_t n, float limit, std::mt19937& rng) {
  std::uniform_real_distribution<float> d(-limit, limit);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Glorot-uniform weights for a layer with fan_in/fan_out.
inline std::vector<float> Glorot(size_t n, int fan_in, int fan_out, std::mt19937& rng) {
  return Uniform(n, std::sqrt(6.0f / static_cast<float>(fan_in + fan_out)), rng);
}

// The MNIST MLP of the TFX guide: image_floats [1, 784] -> FC 64 relu -> FC
// 64 relu -> FC 10 (logits, signature output "logits").
inline Result<std::string> BuildMlp(uint32_t seed) {
  using TT = tflite::TensorType;
  using Act = tflite::ActivationFunctionType;
  std::mt19937 rng(seed);
  ModelBuilder b;
  int x = b.AddInput("image_floats", TT::FLOAT32, {1, 784});
  const int dims[] = {784, 64, 64, 10};
  for (int l = 0; l < 3; ++l) {
    const int in = dims[l], out = dims[l + 1];
    const std::string name = "dense_" + std::to_string(l);
    int w = b.AddConstant(name + "/kernel", TT::FLOAT32, {out, in},
                          Glorot(static_cast<size_t>(in * out), in, out, rng));
    int bias = b.AddConstant(name + "/bias", TT::FLOAT32, {out},
                             Uniform(static_cast<size_t>(out), 0.1f, rng));
    int y = b.AddTensor(name + "/out", TT::FLOAT32, {1, out});
    b.AddOperator(tflite::BuiltinOperator::FULLY_CONNECTED, {x, w, bias}, {y},
                  FullyConnectedOpts(l < 2 ? Act::RELU : Act::NONE));
    x = y;
  }
  b.AddOutput("logits", x);
  return b.Finish();
}

// A small CNN with every op the quantizer's full-integer mode treats
// specially: image [1, 8, 8, 4] -> CONV 3x3x16 relu -> DEPTHWISE 3x3 relu6;
// MAX_POOL(depthwise) + AVERAGE_POOL(conv) -> ADD; CONCATENATION(add, max
// pool) -> RESHAPE [1, 512] -> FC 10 -> SOFTMAX ("probs"); also the logits
// ("logits").
inline Result<std::string> BuildCnn(uint32_t seed) {
  using TT = tflite::TensorType;
  using Act = tflite::ActivationFunctionType;
  using Op = tflite::BuiltinOperator;
  using tflite::Padding;
  std::mt19937 rng(seed);
  ModelBuilder b;
  int x = b.AddInput("image", TT::FLOAT32, {1, 8, 8, 4});
  int cw = b.AddConstant("conv/kernel", TT::FLOAT32, {16, 3, 3, 4}, Glorot(576, 36, 144, rng));
  int cb = b.AddConstant("conv/bias", TT::FLOAT32, {16}, Uniform(16, 0.1f, rng));
  int c = b.AddTensor("conv/out", TT::FLOAT32, {1, 8, 8, 16});
  b.AddOperator(Op::CONV_2D, {x, cw, cb}, {c}, Conv2DOpts(Padding::SAME, 1, 1, Act::RELU));
  int dw = b.AddConstant("dw/kernel", TT::FLOAT32, {1, 3, 3, 16}, Uniform(144, 0.6f, rng));
  int db = b.AddConstant("dw/bias", TT::FLOAT32, {16}, Uniform(16, 0.1f, rng));
  int d = b.AddTensor("dw/out", TT::FLOAT32, {1, 8, 8, 16});
  b.AddOperator(Op::DEPTHWISE_CONV_2D, {c, dw, db}, {d},
                DepthwiseConv2DOpts(Padding::SAME, 1, 1, 1, Act::RELU6));
  int m = b.AddTensor("max_pool", TT::FLOAT32, {1, 4, 4, 16});
  b.AddOperator(Op::MAX_POOL_2D, {d}, {m}, Pool2DOpts(Padding::VALID, 2, 2, 2, 2));
  int a = b.AddTensor("avg_pool", TT::FLOAT32, {1, 4, 4, 16});
  b.AddOperator(Op::AVERAGE_POOL_2D, {c}, {a}, Pool2DOpts(Padding::VALID, 2, 2, 2, 2));
  int s = b.AddTensor("add", TT::FLOAT32, {1, 4, 4, 16});
  b.AddOperator(Op::ADD, {m, a}, {s}, AddOpts());
  int cat = b.AddTensor("concat", TT::FLOAT32, {1, 4, 4, 32});
  b.AddOperator(Op::CONCATENATION, {s, m}, {cat}, ConcatenationOpts(3));
  int shape = b.AddConstant("shape", TT::INT32, {2}, std::vector<int32_t>{1, 512});
  int flat = b.AddTensor("flatten", TT::FLOAT32, {1, 512});
  b.AddOperator(Op::RESHAPE, {cat, shape}, {flat}, ReshapeOpts({1, 512}));
  int fw = b.AddConstant("fc/kernel", TT::FLOAT32, {10, 512}, Glorot(5120, 512, 10, rng));
  int fb = b.AddConstant("fc/bias", TT::FLOAT32, {10}, Uniform(10, 0.1f, rng));
  int logits = b.AddTensor("logits", TT::FLOAT32, {1, 10});
  b.AddOperator(Op::FULLY_CONNECTED, {flat, fw, fb}, {logits}, FullyConnectedOpts());
  int probs = b.AddTensor("probs", TT::FLOAT32, {1, 10});
  b.AddOperator(Op::SOFTMAX, {logits}, {probs}, SoftmaxOpts(1.0f));
  b.AddOutput("logits", logits);
  b.AddOutput("probs", probs);
  return b.Finish();
}

// A float input of `shape`: uniform in [lo, hi].
inline Array RandomFloats(std::vector<int64_t> shape, std::mt19937& rng, float lo = 0.0f,
                          float hi = 1.0f) {
  Array a = *Array::Zeros(DType::kFloat32, std::move(shape));
  std::uniform_real_distribution<float> d(lo, hi);
  for (float& v : a.data<float>()) v = d(rng);
  return a;
}

// A dataset of `n` random samples for input `name` of `shape`, seeded.
inline RepresentativeDataset RandomDataset(std::string name, std::vector<int64_t> shape, int n,
                                           uint32_t seed) {
  auto rng = std::make_shared<std::mt19937>(seed);
  auto left = std::make_shared<int>(n);
  return [=](std::map<std::string, Array>* in) -> Result<bool> {
    if ((*left)-- <= 0) return false;
    (*in)[name] = RandomFloats(shape, *rng);
    return true;
  };
}

// Runs `bytes` on `inputs` (graph input order) in our interpreter.
inline Result<std::vector<Array>> RunOurs(const std::string& bytes,
                                          const std::vector<Array>& inputs,
                                          Arithmetic arithmetic = Arithmetic::kReference) {
  ASSIGN_OR_RETURN(auto model, Model::FromBytes(bytes, "model"));
  ASSIGN_OR_RETURN(auto in, Interpreter::Create(std::shared_ptr<const Model>(std::move(model)),
                                                BuiltinOpResolver(), {.arithmetic = arithmetic}));
  RETURN_IF_ERROR(in->AllocateTensors());
  for (int i = 0; i < in->num_inputs(); ++i) {
    RETURN_IF_ERROR(in->SetInput(i, inputs[static_cast<size_t>(i)]));
  }
  RETURN_IF_ERROR(in->Invoke());
  std::vector<Array> outs;
  for (int k = 0; k < in->num_outputs(); ++k) {
    ASSIGN_OR_RETURN(Array o, in->GetOutput(k));
    outs.push_back(std::move(o));
  }
  return outs;
}

// Float view of an output: float32 as is; int8/uint8 dequantized with
// (scale, zero_point).
inline std::vector<float> AsFloat(const Array& a, float scale = 1.0f, int32_t zp = 0) {
  std::vector<float> v;
  if (a.dtype() == DType::kFloat32) {
    for (float x : a.data<float>()) v.push_back(x);
  } else if (a.dtype() == DType::kInt8) {
    for (int8_t x : a.data<int8_t>()) v.push_back(scale * static_cast<float>(x - zp));
  } else if (a.dtype() == DType::kUInt8) {
    for (uint8_t x : a.data<uint8_t>()) v.push_back(scale * static_cast<float>(x - zp));
  }
  return v;
}

}  // namespace edgepipe::lite::testing

#endif  // EDGEPIPE_LITE_QUANTIZER_TESTING_H_
