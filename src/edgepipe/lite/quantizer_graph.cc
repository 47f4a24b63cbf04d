#include "edgepipe/lite/quantizer_graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace edgepipe::lite::quantizer {

namespace fb = flatbuffers;
using tflite::ActivationFunctionType;
using tflite::BuiltinOperator;
using tflite::BuiltinOptions;

int64_t GraphTensor::num_elements() const {
  int64_t n = 1;
  for (int32_t d : shape) n *= d;
  return n;
}

std::vector<float> Graph::FloatData(int t) const {
  const GraphTensor& g = tensor(t);
  std::vector<float> v(g.data.size() / sizeof(float));
  if (!v.empty()) std::memcpy(v.data(), g.data.data(), v.size() * sizeof(float));
  return v;
}

int Graph::Consumers(int t) const {
  int n = 0;
  for (const GraphOp& op : ops)
    n += static_cast<int>(std::count(op.inputs.begin(), op.inputs.end(), t));
  return n;
}

OpOptions FullyConnectedOptions(ActivationFunctionType act, bool keep_num_dims,
                                bool asymmetric_quantize_inputs) {
  return OpOptions{BuiltinOptions::FullyConnectedOptions, [=](fb::FlatBufferBuilder& b) {
                     return tflite::CreateFullyConnectedOptions(
                                b, act, tflite::FullyConnectedOptionsWeightsFormat::DEFAULT,
                                keep_num_dims, asymmetric_quantize_inputs)
                         .Union();
                   }};
}

namespace {

// The options of `op` re-expressed with ModelBuilder's helpers.
Result<OpOptions> CopyOptions(const tflite::Operator& op, int index, const std::string& name) {
  using T = BuiltinOptions;
  if (op.builtin_options_type() == T::NONE) return OpOptions{};
  if (const auto* o = op.builtin_options_as_FullyConnectedOptions()) {
    if (o->weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT) {
      return Status::Unimplemented(
          fmt::format("operator {} ({}): shuffled weights are not supported", index, name));
    }
    return FullyConnectedOptions(o->fused_activation_function(), o->keep_num_dims(),
                                 o->asymmetric_quantize_inputs());
  }
  if (const auto* o = op.builtin_options_as_Conv2DOptions()) {
    return Conv2DOpts(o->padding(), o->stride_w(), o->stride_h(), o->fused_activation_function(),
                      o->dilation_w_factor(), o->dilation_h_factor());
  }
  if (const auto* o = op.builtin_options_as_DepthwiseConv2DOptions()) {
    return DepthwiseConv2DOpts(o->padding(), o->stride_w(), o->stride_h(), o->depth_multiplier(),
                               o->fused_activation_function(), o->dilation_w_factor(),
                               o->dilation_h_factor());
  }
  if (const auto* o = op.builtin_options_as_Pool2DOptions()) {
    return Pool2DOpts(o->padding(), o->stride_w(), o->stride_h(), o->filter_width(),
                      o->filter_height(), o->fused_activation_function());
  }
  if (const auto* o = op.builtin_options_as_SoftmaxOptions()) return SoftmaxOpts(o->beta());
  if (const auto* o = op.builtin_options_as_ConcatenationOptions()) {
    return ConcatenationOpts(o->axis(), o->fused_activation_function());
  }
  if (const auto* o = op.builtin_options_as_AddOptions()) {
    return AddOpts(o->fused_activation_function());
  }
  if (const auto* o = op.builtin_options_as_SubOptions()) {
    return SubOpts(o->fused_activation_function());
  }
  if (const auto* o = op.builtin_options_as_MulOptions()) {
    return MulOpts(o->fused_activation_function());
  }
  if (const auto* o = op.builtin_options_as_ReducerOptions()) return ReducerOpts(o->keep_dims());
  if (const auto* o = op.builtin_options_as_ReshapeOptions()) {
    if (o->new_shape() == nullptr) {
      return OpOptions{T::ReshapeOptions, [](fb::FlatBufferBuilder& b) {
                         return tflite::CreateReshapeOptions(b).Union();
                       }};
    }
    return ReshapeOpts(std::vector<int32_t>(o->new_shape()->begin(), o->new_shape()->end()));
  }
  switch (op.builtin_options_type()) {
    case T::PadOptions:
      return PadOpts();
    case T::TransposeOptions:
      return TransposeOpts();
    case T::QuantizeOptions:
      return QuantizeOpts();
    case T::DequantizeOptions:
      return DequantizeOpts();
    default:
      return Status::Unimplemented(
          fmt::format("operator {} ({}): options of type {} cannot be copied by the quantizer",
                      index, name, static_cast<int>(op.builtin_options_type())));
  }
}

}  // namespace

Result<Graph> ReadGraph(const Model& model) {
  Graph g;
  const tflite::Model& m = model.fb();
  if (m.subgraphs() && m.subgraphs()->size() > 1) {
    return Status::Unimplemented(fmt::format("{}: {} subgraphs; the quantizer handles one",
                                             model.name(), m.subgraphs()->size()));
  }
  const tflite::SubGraph& sg = model.subgraph(0);
  const int num_tensors = sg.tensors() ? static_cast<int>(sg.tensors()->size()) : 0;
  for (int t = 0; t < num_tensors; ++t) {
    const tflite::Tensor& ft = *sg.tensors()->Get(static_cast<fb::uoffset_t>(t));
    GraphTensor gt;
    gt.name = ft.name() ? ft.name()->str() : fmt::format("tensor_{}", t);
    gt.type = ft.type();
    if (ft.shape()) gt.shape.assign(ft.shape()->begin(), ft.shape()->end());
    gt.quant = model.TensorQuant(0, t);
    const auto data = model.TensorData(0, t);
    gt.constant = !data.empty();
    gt.data.assign(data.begin(), data.end());
    g.tensors.push_back(std::move(gt));
  }
  const int num_ops = sg.operators() ? static_cast<int>(sg.operators()->size()) : 0;
  for (int o = 0; o < num_ops; ++o) {
    const tflite::Operator& op = *sg.operators()->Get(static_cast<fb::uoffset_t>(o));
    const int32_t code = model.OpCode(0, o);
    const std::string name = BuiltinOperatorName(code);
    if (code == static_cast<int32_t>(BuiltinOperator::CUSTOM)) {
      return Status::Unimplemented(fmt::format(
          "{}: operator {} is a custom op; the quantizer cannot rewrite it", model.name(), o));
    }
    GraphOp gop;
    gop.op = static_cast<BuiltinOperator>(code);
    gop.version = m.operator_codes()->Get(op.opcode_index())->version();
    if (op.inputs()) gop.inputs.assign(op.inputs()->begin(), op.inputs()->end());
    if (op.outputs()) gop.outputs.assign(op.outputs()->begin(), op.outputs()->end());
    ASSIGN_OR_RETURN(gop.options, CopyOptions(op, o, name));
    gop.source = &op;
    g.ops.push_back(std::move(gop));
  }
  // Signature names (signature 0 of subgraph 0), else tensor names.
  const tflite::SignatureDef* sig = nullptr;
  if (m.signature_defs() && m.signature_defs()->size() > 0) sig = m.signature_defs()->Get(0);
  if (sig && sig->signature_key()) g.signature_key = sig->signature_key()->str();
  const auto names = [&](const fb::Vector<int32_t>* idx,
                         const fb::Vector<fb::Offset<tflite::TensorMap>>* maps,
                         std::vector<std::pair<std::string, int>>* out) {
    if (!idx) return;
    for (int32_t t : *idx) {
      std::string name = g.tensor(t).name;
      if (maps) {
        for (const tflite::TensorMap* tm : *maps) {
          if (static_cast<int32_t>(tm->tensor_index()) == t && tm->name()) name = tm->name()->str();
        }
      }
      out->emplace_back(name, t);
    }
  };
  names(sg.inputs(), sig ? sig->inputs() : nullptr, &g.inputs);
  names(sg.outputs(), sig ? sig->outputs() : nullptr, &g.outputs);
  return g;
}

void RemoveUnusedTensors(Graph* g) {
  std::vector<bool> used(g->tensors.size(), false);
  const auto mark = [&](int t) {
    if (t >= 0) used[static_cast<size_t>(t)] = true;
  };
  for (const GraphOp& op : g->ops) {
    for (int t : op.inputs) mark(t);
    for (int t : op.outputs) mark(t);
  }
  for (const auto& p : g->inputs) mark(p.second);
  for (const auto& p : g->outputs) mark(p.second);
  std::vector<int> remap(g->tensors.size(), -1);
  std::vector<GraphTensor> kept;
  for (size_t t = 0; t < g->tensors.size(); ++t) {
    if (!used[t]) continue;
    remap[t] = static_cast<int>(kept.size());
    kept.push_back(std::move(g->tensors[t]));
  }
  g->tensors = std::move(kept);
  const auto fix = [&](int t) { return t < 0 ? t : remap[static_cast<size_t>(t)]; };
  for (GraphOp& op : g->ops) {
    for (int& t : op.inputs) t = fix(t);
    for (int& t : op.outputs) t = fix(t);
  }
  for (auto& p : g->inputs) p.second = fix(p.second);
  for (auto& p : g->outputs) p.second = fix(p.second);
}

Result<std::string> WriteGraph(const Graph& g) {
  ModelBuilder b(g.signature_key);
  for (int t = 0; t < static_cast<int>(g.tensors.size()); ++t) {
    const GraphTensor& gt = g.tensor(t);
    const auto in = std::find_if(g.inputs.begin(), g.inputs.end(),
                                 [t](const auto& p) { return p.second == t; });
    if (in != g.inputs.end()) {
      b.AddInput(in->first, gt.type, gt.shape, gt.quant);
    } else if (gt.constant) {
      b.AddConstant(gt.name, gt.type, gt.shape, std::span<const uint8_t>(gt.data), gt.quant);
    } else {
      b.AddTensor(gt.name, gt.type, gt.shape, gt.quant);
    }
  }
  for (const GraphOp& op : g.ops)
    b.AddOperator(op.op, op.inputs, op.outputs, op.options, op.version);
  for (const auto& [name, t] : g.outputs) b.AddOutput(name, t);
  return b.Finish();
}

void QuantizeSymmetric(const std::vector<float>& w, const std::vector<int32_t>& shape, int axis,
                       std::vector<int8_t>* q, QuantParams* params) {
  // View w as [outer, channels, inner] around `axis`.
  size_t outer = 1, channels = 1, inner = 1;
  for (int i = 0; i < static_cast<int>(shape.size()); ++i) {
    const size_t d = static_cast<size_t>(shape[static_cast<size_t>(i)]);
    if (axis < 0 || i == axis) {
      (axis < 0 ? inner : channels) *= d;
    } else {
      (i < axis ? outer : inner) *= d;
    }
  }
  std::vector<float> max_abs(channels, 0.0f);
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      for (size_t i = 0; i < inner; ++i) {
        max_abs[c] = std::max(max_abs[c], std::abs(w[(o * channels + c) * inner + i]));
      }
    }
  }
  params->scale.assign(channels, 1.0f);
  params->zero_point.assign(channels, 0);
  params->axis = axis < 0 ? 0 : axis;
  std::vector<float> inv(channels, 1.0f);
  for (size_t c = 0; c < channels; ++c) {
    if (max_abs[c] > 0) {
      params->scale[c] = max_abs[c] / 127.0f;
      inv[c] = 1.0f / params->scale[c];
    }
  }
  q->resize(w.size());
  for (size_t o = 0; o < outer; ++o) {
    for (size_t c = 0; c < channels; ++c) {
      for (size_t i = 0; i < inner; ++i) {
        const size_t k = (o * channels + c) * inner + i;
        const int32_t v = static_cast<int32_t>(std::round(w[k] * inv[c]));
        (*q)[k] = static_cast<int8_t>(std::clamp(v, -127, 127));
      }
    }
  }
}

void QuantizeBias(const std::vector<float>& b, float input_scale,
                  const std::vector<float>& weight_scale, std::vector<int32_t>* q,
                  QuantParams* params) {
  params->scale.clear();
  params->zero_point.assign(weight_scale.size(), 0);
  params->axis = 0;
  for (float ws : weight_scale) params->scale.push_back(input_scale * ws);
  q->resize(b.size());
  constexpr double kMax = std::numeric_limits<int32_t>::max();
  for (size_t c = 0; c < b.size(); ++c) {
    const float s = params->scale[weight_scale.size() == 1 ? 0 : c];
    const double v = std::round(static_cast<double>(b[c]) / static_cast<double>(s));
    (*q)[c] = static_cast<int32_t>(std::clamp(v, -kMax, kMax));
  }
}

QuantParams ActivationParams(float min, float max) {
  constexpr float kQMin = -128.0f;
  constexpr float kQMax = 127.0f;
  min = std::min(min, 0.0f);
  max = std::max(max, 0.0f);
  float scale = (max - min) / (kQMax - kQMin);
  float zp_from_min = kQMin;
  if (scale > 0) {
    zp_from_min = kQMin - min / scale;
  } else {
    scale = 1.0f;
  }
  int32_t zp = 0;
  if (zp_from_min < kQMin) {
    zp = -128;
  } else if (zp_from_min > kQMax) {
    zp = 127;
  } else {
    zp = static_cast<int32_t>(std::round(zp_from_min));
  }
  return QuantParams{{scale}, {zp}, 0};
}

}  // namespace edgepipe::lite::quantizer
