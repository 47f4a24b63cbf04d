// QuantizeModel: option checks, the float-model check, and the two
// weight-only modes (dynamic range, float16). Full integer is in
// quantizer_full_integer.cc.
#include "edgepipe/lite/quantizer.h"

#include <fmt/format.h>

#include "edgepipe/lite/float16.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/quantizer_graph.h"

namespace edgepipe::lite {

using tflite::BuiltinOperator;
using tflite::TensorType;

std::string_view QuantizationModeName(QuantizationMode mode) {
  switch (mode) {
    case QuantizationMode::kNone:
      return "none";
    case QuantizationMode::kDynamicRange:
      return "dynamic_range";
    case QuantizationMode::kFloat16:
      return "float16";
    case QuantizationMode::kFullInteger:
      return "full_integer";
  }
  return "?";
}

namespace quantizer {

Status QuantizeDynamicRange(Graph* g, const QuantizeOptions& options) {
  for (GraphOp& op : g->ops) {
    int axis = 0;
    switch (op.op) {
      case BuiltinOperator::FULLY_CONNECTED:
        axis = -1;  // per tensor
        break;
      case BuiltinOperator::CONV_2D:
        axis = 0;
        break;
      case BuiltinOperator::DEPTHWISE_CONV_2D:
        axis = 3;
        break;
      default:
        continue;
    }
    if (op.inputs.size() < 2 || op.inputs[1] < 0) continue;
    const int w = op.inputs[1];
    GraphTensor& filter = g->tensor(w);
    if (!filter.constant || filter.type != TensorType::FLOAT32) continue;
    if (filter.num_elements() < options.min_weight_elements) continue;
    // A weight read by several ops stays float: each reader would have to be
    // a hybrid kernel.
    if (g->Consumers(w) != 1) continue;
    // TFLite runs a one-channel hybrid CONV_2D through a different
    // (per-tensor, symmetric) kernel; keep such filters float.
    if (op.op == BuiltinOperator::CONV_2D && (filter.shape.empty() || filter.shape[0] < 2)) {
      continue;
    }
    std::vector<int8_t> q;
    QuantParams params;
    QuantizeSymmetric(g->FloatData(w), filter.shape, axis, &q, &params);
    filter.type = TensorType::INT8;
    filter.data = Bytes(q);
    filter.quant = std::move(params);
    if (op.op == BuiltinOperator::FULLY_CONNECTED) {
      const auto* src = op.source ? op.source->builtin_options_as_FullyConnectedOptions() : nullptr;
      op.options = FullyConnectedOptions(
          src ? src->fused_activation_function() : tflite::ActivationFunctionType::NONE,
          src ? src->keep_num_dims() : false, /*asymmetric_quantize_inputs=*/true);
    }
  }
  return Status::Ok();
}

Status QuantizeFloat16(Graph* g) {
  std::vector<GraphOp> dequantize;
  std::vector<bool> done(g->tensors.size(), false);
  for (const GraphOp& op : g->ops) {
    for (int t : op.inputs) {
      if (t < 0 || done[static_cast<size_t>(t)]) continue;
      GraphTensor& f = g->tensor(t);
      if (!f.constant || f.type != TensorType::FLOAT32) continue;
      done[static_cast<size_t>(t)] = true;
      std::vector<uint16_t> h;
      for (float v : g->FloatData(t)) h.push_back(FloatToFloat16(v));
      GraphTensor half;
      half.name = f.name + "_fp16";
      half.type = TensorType::FLOAT16;
      half.shape = f.shape;
      half.constant = true;
      half.data = Bytes(h);
      // The float tensor becomes the DEQUANTIZE output, so readers are
      // unchanged.
      f.constant = false;
      f.data.clear();
      const int ht = g->AddTensor(std::move(half));
      GraphOp dq;
      dq.op = BuiltinOperator::DEQUANTIZE;
      dq.version = 3;  // TFLite's DEQUANTIZE version for float16 inputs
      dq.inputs = {ht};
      dq.outputs = {t};
      dq.options = DequantizeOpts();
      dequantize.push_back(std::move(dq));
    }
  }
  g->ops.insert(g->ops.begin(), std::make_move_iterator(dequantize.begin()),
                std::make_move_iterator(dequantize.end()));
  return Status::Ok();
}

}  // namespace quantizer

namespace {

std::string_view InferenceTypeName(InferenceType t) {
  switch (t) {
    case InferenceType::kFloat32:
      return "float32";
    case InferenceType::kInt8:
      return "int8";
    case InferenceType::kUInt8:
      return "uint8";
  }
  return "?";
}

// Rejects models that are not float: quantized tensors, or graph inputs
// that are not float32.
Status CheckFloatModel(const Model& m) {
  const tflite::SubGraph& sg = m.subgraph(0);
  const int n = sg.tensors() ? static_cast<int>(sg.tensors()->size()) : 0;
  for (int t = 0; t < n; ++t) {
    const tflite::Tensor& ft = *sg.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
    const std::string name = ft.name() ? ft.name()->str() : "";
    if (!m.TensorQuant(0, t).empty() || ft.type() == TensorType::INT8 ||
        ft.type() == TensorType::UINT8 || ft.type() == TensorType::FLOAT16) {
      return Status::InvalidArgument(fmt::format(
          "{}: tensor {} \"{}\" is {}{}; the quantizer takes float models", m.name(), t, name,
          TensorTypeName(ft.type()), m.TensorQuant(0, t).empty() ? "" : " with quantization"));
    }
  }
  if (sg.inputs()) {
    for (int32_t t : *sg.inputs()) {
      const tflite::Tensor& ft = *sg.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t));
      if (ft.type() != TensorType::FLOAT32) {
        return Status::InvalidArgument(fmt::format("{}: graph input tensor {} is {}, not float32",
                                                   m.name(), t, TensorTypeName(ft.type())));
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> QuantizeModel(std::string_view float_tflite, const QuantizeOptions& options,
                                  RepresentativeDataset* data) {
  const std::string_view mode = QuantizationModeName(options.mode);
  for (const auto& [what, type] :
       {std::pair{"inference_input_type", options.inference_input_type},
        std::pair{"inference_output_type", options.inference_output_type}}) {
    if (type != InferenceType::kFloat32 && options.mode != QuantizationMode::kFullInteger) {
      return Status::InvalidArgument(
          fmt::format("quantizer: {} {} needs full-integer quantization; mode is {}", what,
                      InferenceTypeName(type), mode));
    }
  }
  if (options.mode == QuantizationMode::kNone) return std::string(float_tflite);
  if (options.mode == QuantizationMode::kFullInteger && (data == nullptr || !*data)) {
    return Status::InvalidArgument(
        "quantizer: full-integer quantization needs a representative dataset to calibrate "
        "activation ranges; none was given");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::FromBytes(float_tflite, "float model"));
  RETURN_IF_ERROR(CheckFloatModel(*model));
  ASSIGN_OR_RETURN(quantizer::Graph graph, quantizer::ReadGraph(*model));
  switch (options.mode) {
    case QuantizationMode::kDynamicRange:
      RETURN_IF_ERROR(quantizer::QuantizeDynamicRange(&graph, options));
      break;
    case QuantizationMode::kFloat16:
      RETURN_IF_ERROR(quantizer::QuantizeFloat16(&graph));
      break;
    case QuantizationMode::kFullInteger:
      RETURN_IF_ERROR(quantizer::QuantizeFullInteger(&graph, options, *data));
      break;
    case QuantizationMode::kNone:
      break;
  }
  quantizer::RemoveUnusedTensors(&graph);
  ASSIGN_OR_RETURN(std::string bytes, quantizer::WriteGraph(graph));
  // What we write must load: a failure here is our bug, reported as such.
  auto check = Model::FromBytes(bytes, "quantized model");
  if (!check.ok()) {
    return Status::Internal("quantizer wrote an invalid model: " + check.status().message());
  }
  return bytes;
}

}  // namespace edgepipe::lite
