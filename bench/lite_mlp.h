// The TFLite benchmarks' MNIST MLP (784-64-64-10, ReLU, logits), built by
// our converter from a seeded random Keras-style model, and its quantized
// variants from our quantizer. Header-only, bench-only.
//
// Thread safety: BuildMlpModels is a pure function; MlpModels() builds once
// (function-local static) and is then read-only.
#ifndef EDGEPIPE_BENCH_LITE_MLP_H_
#define EDGEPIPE_BENCH_LITE_MLP_H_

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/lite/converter.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/quantizer.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::bench {

struct MlpModels {
  std::string float32;  // converter output, float io
  std::string int8;     // full integer, int8 input and output
  std::string float16;  // float16 weights + DEQUANTIZE
  std::string dynamic;  // dynamic-range (hybrid) int8 weights
};

// Random images in [0, 1), `n` values.
inline std::vector<float> RandomPixels(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

inline Result<MlpModels> BuildMlpModels(uint64_t seed) {
  namespace L = nn::layers;
  ASSIGN_OR_RETURN(nn::SymbolicTensor x, nn::Input({784}, "image_floats"));
  ASSIGN_OR_RETURN(nn::SymbolicTensor h, nn::Apply(L::Dense(64, {.activation = "relu"}), {x}));
  ASSIGN_OR_RETURN(h, nn::Apply(L::Dense(64, {.activation = "relu"}), {h}));
  ASSIGN_OR_RETURN(nn::SymbolicTensor out, nn::Apply(L::Dense(10, {.name = "logits"}), {h}));
  ASSIGN_OR_RETURN(nn::Model m, nn::Model::Create({x}, {out}, "mnist_mlp", seed));
  ASSIGN_OR_RETURN(lite::Conversion c,
                   lite::ConvertModel(
                       m, model::TensorSignature("serving_default",
                                                 {{"image_floats", DType::kFloat32, {-1, 784}}})));
  MlpModels r;
  r.float32 = std::move(c.tflite);
  int sample = 0;
  lite::RepresentativeDataset data = [&](std::map<std::string, Array>* in) -> Result<bool> {
    if (sample == 64) return false;
    const std::vector<float> px = RandomPixels(784, static_cast<uint32_t>(1000 + sample++));
    ASSIGN_OR_RETURN((*in)["image_floats"],
                     Array::FromVector<float>({1, 784}, std::span<const float>(px)));
    return true;
  };
  ASSIGN_OR_RETURN(r.int8,
                   lite::QuantizeModel(r.float32,
                                       {.mode = lite::QuantizationMode::kFullInteger,
                                        .inference_input_type = lite::InferenceType::kInt8,
                                        .inference_output_type = lite::InferenceType::kInt8},
                                       &data));
  ASSIGN_OR_RETURN(r.float16, lite::QuantizeModel(
                                  r.float32, {.mode = lite::QuantizationMode::kFloat16}, nullptr));
  ASSIGN_OR_RETURN(
      r.dynamic,
      lite::QuantizeModel(r.float32, {.mode = lite::QuantizationMode::kDynamicRange}, nullptr));
  return r;
}

// Built once; exits with a message when the converter or quantizer fails
// (a benchmark setup error, not user input).
inline const MlpModels& Mlp() {
  static const MlpModels* models = [] {
    auto r = BuildMlpModels(42);
    if (!r.ok()) {
      std::fprintf(stderr, "building the MLP models: %s\n", r.status().ToString().c_str());
      std::exit(1);
    }
    return new MlpModels(std::move(*r));
  }();
  return *models;
}

// An allocated interpreter for `tflite` with input 0 resized to `batch` rows
// and filled with deterministic values (pixels; int8 inputs get the pixels
// quantized with the input's scale and zero point).
inline Result<std::unique_ptr<lite::Interpreter>> MakeInterpreter(const std::string& tflite,
                                                                  int batch) {
  ASSIGN_OR_RETURN(std::unique_ptr<lite::Model> model, lite::Model::FromBytes(tflite, "mlp"));
  ASSIGN_OR_RETURN(std::unique_ptr<lite::Interpreter> in,
                   lite::Interpreter::Create(std::shared_ptr<const lite::Model>(std::move(model)),
                                             lite::BuiltinOpResolver()));
  std::vector<int32_t> shape = in->input(0).shape;
  shape[0] = batch;
  RETURN_IF_ERROR(in->ResizeInput(0, shape));
  RETURN_IF_ERROR(in->AllocateTensors());
  const lite::Tensor& t = in->input(0);
  const std::vector<float> px = RandomPixels(static_cast<size_t>(t.num_elements()), 7);
  ASSIGN_OR_RETURN(std::span<uint8_t> raw, in->mutable_input_data(0));
  if (t.type == tflite::TensorType::FLOAT32) {
    std::memcpy(raw.data(), px.data(), raw.size());
  } else if (t.type == tflite::TensorType::INT8) {
    for (size_t i = 0; i < px.size(); ++i) {
      const long q = std::lround(px[i] / t.scale()) + t.zero_point();
      raw[i] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(q, -128L, 127L)));
    }
  } else {
    return Status::InvalidArgument("MakeInterpreter: input type " +
                                   std::to_string(static_cast<int>(t.type)) + " not supported");
  }
  return in;
}

}  // namespace edgepipe::bench

#endif  // EDGEPIPE_BENCH_LITE_MLP_H_
