// The converter's intermediate form: a float32 TFLite graph held as plain
// values, built from a native model's layer graph (LowerModel), improved by
// passes (FoldBatchNorm, LowerBatchNorm, FuseActivations) and written as a
// .tflite flatbuffer (EmitTflite).
//
//   ASSIGN_OR_RETURN(LiteGraph g, LowerModel(model, signature));
//   RETURN_IF_ERROR(RunStandardPasses(g));          // fold, lower, fuse
//   ASSIGN_OR_RETURN(std::string bytes, EmitTflite(g));
//
// Tensors carry static shapes with batch 1 (as TensorFlow's converter writes
// them) and a flag for a dynamic batch, written as -1 in shape_signature.
// Constant data is float32 (weights) or int32 (shapes, axes). The graph's
// inputs and outputs carry their signature names. A LiteGraph is a plain
// value; functions here are thread-safe on distinct graphs.
#ifndef EDGEPIPE_LITE_LOWERING_H_
#define EDGEPIPE_LITE_LOWERING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/lite/schema.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::lite {

struct LiteTensor {
  std::string name;
  tflite::TensorType type = tflite::TensorType::FLOAT32;
  std::vector<int32_t> shape;  // batch dim (if any) is 1
  bool dynamic_batch = false;  // shape_signature = shape with dim 0 = -1
  bool constant = false;
  std::vector<float> f32;    // constant FLOAT32 data, row-major
  std::vector<int32_t> i32;  // constant INT32 data
};

// A batch-norm that no pass has handled yet: y = x * scale + shift over the
// last axis. FoldBatchNorm / LowerBatchNorm remove every one of these.
inline constexpr tflite::BuiltinOperator kPseudoBatchNorm = tflite::BuiltinOperator::CUSTOM;

struct LiteOp {
  tflite::BuiltinOperator op = tflite::BuiltinOperator::ADD;
  std::vector<int> inputs;  // tensor indices; -1 for an omitted optional input
  std::vector<int> outputs;
  std::string layer;  // the native layer it came from (messages)
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
  // CONV_2D, DEPTHWISE_CONV_2D, pools.
  tflite::Padding padding = tflite::Padding::VALID;
  int stride_h = 1, stride_w = 1, filter_h = 1, filter_w = 1, depth_multiplier = 1;
  int axis = 0;                           // CONCATENATION
  bool keep_num_dims = false;             // FULLY_CONNECTED on rank > 2
  std::vector<int32_t> new_shape;         // RESHAPE
  std::vector<float> bn_scale, bn_shift;  // kPseudoBatchNorm, one per channel
};

struct LiteIo {
  std::string name;  // signature name
  int tensor = -1;
};

struct LiteGraph {
  std::string model_name;
  std::string signature_key = "serving_default";
  std::vector<LiteTensor> tensors;
  std::vector<LiteOp> ops;  // in execution order
  std::vector<LiteIo> inputs, outputs;

  int AddTensor(LiteTensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }
  // Operators that read tensor t.
  int CountConsumers(int t) const;
  bool IsGraphOutput(int t) const;
  // The index of the operator writing t, or -1.
  int Producer(int t) const;
};

// Lowers `model` called through `signature` (validated against the model):
// one or more ops per layer call, Dropout and linear activations as no-ops,
// BatchNormalization as kPseudoBatchNorm. Graph inputs follow the
// signature: kTensors inputs as declared; kExamples feature specs as one
// float32 tensor per dense numeric feature ([1, ...spec shape], reshaped to
// the model input when it differs; int64 features are fed as float32, like
// the native runner). String features and unsupported layers or
// configurations fail with Unimplemented / InvalidArgument naming the layer
// (class and name) and the rule. Outputs are named by model::OutputNames.
Result<LiteGraph> LowerModel(const nn::Model& model, const model::Signature& signature);

// Folds every kPseudoBatchNorm whose input is written by a CONV_2D,
// DEPTHWISE_CONV_2D or FULLY_CONNECTED without a fused activation and read by
// nothing else into that op's filter and bias. Returns the number folded.
int FoldBatchNorm(LiteGraph& g);
// Replaces every remaining kPseudoBatchNorm with MUL + ADD by per-channel
// constants. Returns the number lowered.
int LowerBatchNorm(LiteGraph& g);
// Moves each RELU / RELU6 into the fused_activation_function of the op
// writing its input (CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, ADD, MUL)
// when that op has none and its output is read by nothing else. Returns the
// number fused.
int FuseActivations(LiteGraph& g);

// What the standard passes did.
struct PassStats {
  int batch_norms_folded = 0;
  int batch_norms_lowered = 0;
  int activations_fused = 0;
};
// FoldBatchNorm, LowerBatchNorm, FuseActivations, in that order.
PassStats RunStandardPasses(LiteGraph& g);

// Writes the graph as a .tflite flatbuffer: live tensors only; graph inputs
// named "<signature_key>_<name>:0", outputs "StatefulPartitionedCall:<i>" in
// the graph's output order; one SignatureDef mapping the signature names.
// Fails (Internal) if a pseudo op is left, naming its layer.
Result<std::string> EmitTflite(const LiteGraph& g);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_LOWERING_H_
