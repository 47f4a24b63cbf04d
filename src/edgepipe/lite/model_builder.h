// Writes TFLite flatbuffers: tensors (with shape, type, quantization and
// optional constant data), builtin operators with their options, one
// subgraph, and a SignatureDef named like TensorFlow's converter names it.
//
//   ModelBuilder b;
//   int x = b.AddInput("x", tflite::TensorType::FLOAT32, {1, 4});
//   int y = b.AddTensor("y", tflite::TensorType::FLOAT32, {1, 4});
//   b.AddOperator(tflite::BuiltinOperator::RELU, {x}, {y});
//   b.AddOutput("y", y);
//   Result<std::string> bytes = b.Finish();   // identifier "TFL3"
//
// Graph inputs added with AddInput get the tensor name
// "serving_default_<name>:0"; the signature (key `signature_key`, default
// "serving_default") maps <name> to it. Nothing is checked while building;
// Finish() checks indices and data sizes and returns InvalidArgument naming
// the tensor or operator. The written bytes are meant to pass Model::Load.
// Not thread-safe; a builder may Finish() more than once.
#ifndef EDGEPIPE_LITE_MODEL_BUILDER_H_
#define EDGEPIPE_LITE_MODEL_BUILDER_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/schema.h"

namespace edgepipe::lite {

// A builtin operator's options table: its union type and a function writing
// the table into the builder being finished. Use the helpers below.
struct OpOptions {
  tflite::BuiltinOptions type = tflite::BuiltinOptions::NONE;
  std::function<flatbuffers::Offset<void>(flatbuffers::FlatBufferBuilder&)> write;
};

OpOptions AddOpts(tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE);
OpOptions SubOpts(tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE);
OpOptions MulOpts(tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE);
OpOptions Conv2DOpts(tflite::Padding padding, int stride_w, int stride_h,
                     tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE,
                     int dilation_w = 1, int dilation_h = 1);
OpOptions DepthwiseConv2DOpts(
    tflite::Padding padding, int stride_w, int stride_h, int depth_multiplier,
    tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE, int dilation_w = 1,
    int dilation_h = 1);
OpOptions Pool2DOpts(tflite::Padding padding, int stride_w, int stride_h, int filter_w,
                     int filter_h,
                     tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE);
OpOptions FullyConnectedOpts(
    tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE,
    bool keep_num_dims = false);
OpOptions SoftmaxOpts(float beta);
OpOptions ConcatenationOpts(
    int axis, tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE);
OpOptions ReducerOpts(bool keep_dims);
OpOptions ReshapeOpts(std::vector<int32_t> new_shape);
OpOptions SvdfOpts(int rank,
                   tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE);
// time_major false: input [batch, time, features].
OpOptions UnidirectionalSequenceLstmOpts(
    tflite::ActivationFunctionType act = tflite::ActivationFunctionType::TANH, float cell_clip = 0,
    float proj_clip = 0, bool time_major = false);
// Option tables without fields (PAD, TRANSPOSE, QUANTIZE, DEQUANTIZE).
OpOptions PadOpts();
OpOptions TransposeOpts();
OpOptions QuantizeOpts();
OpOptions DequantizeOpts();

class ModelBuilder {
 public:
  explicit ModelBuilder(std::string signature_key = "serving_default")
      : signature_key_(std::move(signature_key)) {}

  // Adds a tensor without data (an activation); returns its index.
  int AddTensor(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                QuantParams quant = {});
  // Adds a constant tensor whose little-endian element bytes are `data`
  // (size must equal shape x element size; checked by Finish).
  int AddConstant(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                  std::span<const uint8_t> data, QuantParams quant = {});
  // Typed convenience: the bytes of `values` (T matching `type`).
  template <typename T>
  int AddConstant(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                  const std::vector<T>& values, QuantParams quant = {}) {
    std::vector<uint8_t> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    return AddConstant(std::move(name), type, std::move(shape), std::span<const uint8_t>(bytes),
                       std::move(quant));
  }
  // Adds a variable tensor (is_variable, no data): recurrent state that
  // stateful ops (SVDF, LSTM) read and update in place.
  int AddVariable(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                  QuantParams quant = {});
  // Adds a graph input tensor named "<signature_key>_<name>:0" and maps
  // signature input `name` to it; returns its index.
  int AddInput(const std::string& name, tflite::TensorType type, std::vector<int32_t> shape,
               QuantParams quant = {});
  // Marks tensor `tensor` as a graph output, signature output `name`.
  void AddOutput(const std::string& name, int tensor);
  // Appends an operator (run in the order added). Inputs may be -1 for an
  // omitted optional input. `version` is the operator code's version.
  void AddOperator(tflite::BuiltinOperator op, std::vector<int32_t> inputs,
                   std::vector<int32_t> outputs, OpOptions options = {}, int version = 1);
  // Sets tensor `tensor`'s shape_signature (same rank as its shape, -1 for a
  // dimension of any size, as TensorFlow's converter writes a dynamic batch).
  // Without it no shape_signature is written.
  void SetShapeSignature(int tensor, std::vector<int32_t> shape_signature);

  int num_tensors() const { return static_cast<int>(tensors_.size()); }

  // Serializes the model (schema version 3, identifier "TFL3"; buffer 0 is
  // the empty sentinel, constant data 16-byte aligned).
  Result<std::string> Finish() const;

 private:
  struct TensorEntry {
    std::string name;
    tflite::TensorType type;
    std::vector<int32_t> shape;
    QuantParams quant;
    bool constant = false;
    std::vector<uint8_t> data;
    std::vector<int32_t> shape_signature = {};  // empty: not written
    bool variable = false;
  };
  struct OpEntry {
    tflite::BuiltinOperator op;
    int version;
    std::vector<int32_t> inputs;
    std::vector<int32_t> outputs;
    OpOptions options;
  };
  std::string signature_key_;
  std::vector<TensorEntry> tensors_;
  std::vector<OpEntry> ops_;
  std::vector<std::pair<std::string, int>> inputs_;
  std::vector<std::pair<std::string, int>> outputs_;
};

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_MODEL_BUILDER_H_
