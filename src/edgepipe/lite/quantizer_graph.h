// Internal to the quantizer (quantizer*.cc): an editable copy of subgraph 0
// of a TFLite model, read from a verified Model and written back with
// ModelBuilder, plus the weight-quantization arithmetic shared by the modes.
// Not a public API; not thread-safe.
#ifndef EDGEPIPE_LITE_QUANTIZER_GRAPH_H_
#define EDGEPIPE_LITE_QUANTIZER_GRAPH_H_

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/quantizer.h"

namespace edgepipe::lite::quantizer {

struct GraphTensor {
  std::string name;
  tflite::TensorType type = tflite::TensorType::FLOAT32;
  std::vector<int32_t> shape;
  QuantParams quant;
  bool constant = false;
  std::vector<uint8_t> data;  // little-endian elements when `constant`

  int64_t num_elements() const;
};

// An operator. Options of the ops the quantizer knows are kept as their
// fields (so that modes may change them) and written by `options`.
struct GraphOp {
  tflite::BuiltinOperator op = tflite::BuiltinOperator::ADD;
  int version = 1;
  std::vector<int32_t> inputs;
  std::vector<int32_t> outputs;
  OpOptions options;
  // The operator this one was read from (its options), or null for ops the
  // quantizer inserted. Valid while the source Model lives.
  const tflite::Operator* source = nullptr;
};

struct Graph {
  std::string signature_key = "serving_default";
  std::vector<GraphTensor> tensors;
  std::vector<GraphOp> ops;
  // Signature name -> tensor index, in signature order.
  std::vector<std::pair<std::string, int>> inputs;
  std::vector<std::pair<std::string, int>> outputs;

  GraphTensor& tensor(int t) { return tensors[static_cast<size_t>(t)]; }
  const GraphTensor& tensor(int t) const { return tensors[static_cast<size_t>(t)]; }
  int AddTensor(GraphTensor t) {
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
  }
  // Values of float32 constant `t`.
  std::vector<float> FloatData(int t) const;
  // Number of ops reading tensor `t`.
  int Consumers(int t) const;
};

// Copies subgraph 0 of `model` (signature 0 names the inputs and outputs;
// without signatures the tensor names are used). Fails with Unimplemented
// naming the operator when its options are of a kind the quantizer cannot
// copy.
Result<Graph> ReadGraph(const Model& model);

// Serializes `graph` (graph inputs get ModelBuilder's
// "<signature_key>_<name>:0" tensor names).
Result<std::string> WriteGraph(const Graph& graph);

// Drops tensors that no op, graph input or graph output refers to (weights
// replaced by quantized copies) and renumbers the rest.
void RemoveUnusedTensors(Graph* graph);

// The modes (quantizer.cc, quantizer_full_integer.cc), rewriting `graph`
// (read from a float model) in place.
Status QuantizeDynamicRange(Graph* graph, const QuantizeOptions& options);
Status QuantizeFloat16(Graph* graph);
Status QuantizeFullInteger(Graph* graph, const QuantizeOptions& options,
                           RepresentativeDataset& data);

// FULLY_CONNECTED options with TFLite's asymmetric_quantize_inputs flag.
OpOptions FullyConnectedOptions(tflite::ActivationFunctionType act, bool keep_num_dims,
                                bool asymmetric_quantize_inputs);
// ---- weight quantization (TFLite's post-training quantizer conventions) ----

// Symmetric int8 per channel along `axis`: scale[c] = max|w_c| / 127 (1 for
// an all-zero channel), q = clamp(round(w * (1 / scale[c])), -127, 127).
// With `axis` < 0, one scale for the whole tensor. Zero points are 0.
void QuantizeSymmetric(const std::vector<float>& w, const std::vector<int32_t>& shape, int axis,
                       std::vector<int8_t>* q, QuantParams* params);

// int32 bias: q[c] = round(b[c] / scale[c]) with scale[c] = input_scale *
// weight_scale[c] (weight_scale per tensor or per channel), saturated.
void QuantizeBias(const std::vector<float>& b, float input_scale,
                  const std::vector<float>& weight_scale, std::vector<int32_t>* q,
                  QuantParams* params);

// Asymmetric int8 activation params for the calibrated range [min, max]
// widened to include 0: scale = (max - min) / 255, zero point from min
// rounded and clamped to [-128, 127] (TFLite's
// GetAsymmetricQuantizationParams). An empty range [0, 0] gets scale 1.
QuantParams ActivationParams(float min, float max);

template <typename T>
std::vector<uint8_t> Bytes(const std::vector<T>& v) {
  std::vector<uint8_t> out(v.size() * sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), v.data(), out.size());
  return out;
}

}  // namespace edgepipe::lite::quantizer

#endif  // EDGEPIPE_LITE_QUANTIZER_GRAPH_H_
