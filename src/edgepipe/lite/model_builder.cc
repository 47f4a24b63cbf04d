#include "edgepipe/lite/model_builder.h"

#include <utility>

namespace edgepipe::lite {

namespace fb = flatbuffers;
using tflite::ActivationFunctionType;
using tflite::BuiltinOptions;

namespace {

template <typename Fn>
OpOptions Make(BuiltinOptions type, Fn fn) {
  return OpOptions{type, [fn](fb::FlatBufferBuilder& b) { return fn(b).Union(); }};
}

}  // namespace

OpOptions AddOpts(ActivationFunctionType act) {
  return Make(BuiltinOptions::AddOptions,
              [act](fb::FlatBufferBuilder& b) { return tflite::CreateAddOptions(b, act); });
}
OpOptions SubOpts(ActivationFunctionType act) {
  return Make(BuiltinOptions::SubOptions,
              [act](fb::FlatBufferBuilder& b) { return tflite::CreateSubOptions(b, act); });
}
OpOptions MulOpts(ActivationFunctionType act) {
  return Make(BuiltinOptions::MulOptions,
              [act](fb::FlatBufferBuilder& b) { return tflite::CreateMulOptions(b, act); });
}
OpOptions Conv2DOpts(tflite::Padding padding, int stride_w, int stride_h,
                     ActivationFunctionType act, int dilation_w, int dilation_h) {
  return Make(BuiltinOptions::Conv2DOptions, [=](fb::FlatBufferBuilder& b) {
    return tflite::CreateConv2DOptions(b, padding, stride_w, stride_h, act, dilation_w, dilation_h);
  });
}
OpOptions DepthwiseConv2DOpts(tflite::Padding padding, int stride_w, int stride_h,
                              int depth_multiplier, ActivationFunctionType act, int dilation_w,
                              int dilation_h) {
  return Make(BuiltinOptions::DepthwiseConv2DOptions, [=](fb::FlatBufferBuilder& b) {
    return tflite::CreateDepthwiseConv2DOptions(b, padding, stride_w, stride_h, depth_multiplier,
                                                act, dilation_w, dilation_h);
  });
}
OpOptions Pool2DOpts(tflite::Padding padding, int stride_w, int stride_h, int filter_w,
                     int filter_h, ActivationFunctionType act) {
  return Make(BuiltinOptions::Pool2DOptions, [=](fb::FlatBufferBuilder& b) {
    return tflite::CreatePool2DOptions(b, padding, stride_w, stride_h, filter_w, filter_h, act);
  });
}
OpOptions FullyConnectedOpts(ActivationFunctionType act, bool keep_num_dims) {
  return Make(BuiltinOptions::FullyConnectedOptions, [=](fb::FlatBufferBuilder& b) {
    return tflite::CreateFullyConnectedOptions(
        b, act, tflite::FullyConnectedOptionsWeightsFormat::DEFAULT, keep_num_dims);
  });
}
OpOptions SoftmaxOpts(float beta) {
  return Make(BuiltinOptions::SoftmaxOptions,
              [=](fb::FlatBufferBuilder& b) { return tflite::CreateSoftmaxOptions(b, beta); });
}
OpOptions SvdfOpts(int rank, ActivationFunctionType act) {
  return Make(BuiltinOptions::SVDFOptions,
              [=](fb::FlatBufferBuilder& b) { return tflite::CreateSVDFOptions(b, rank, act); });
}
OpOptions UnidirectionalSequenceLstmOpts(ActivationFunctionType act, float cell_clip,
                                         float proj_clip, bool time_major) {
  return Make(BuiltinOptions::UnidirectionalSequenceLSTMOptions, [=](fb::FlatBufferBuilder& b) {
    return tflite::CreateUnidirectionalSequenceLSTMOptions(b, act, cell_clip, proj_clip,
                                                           time_major);
  });
}
OpOptions ConcatenationOpts(int axis, ActivationFunctionType act) {
  return Make(BuiltinOptions::ConcatenationOptions, [=](fb::FlatBufferBuilder& b) {
    return tflite::CreateConcatenationOptions(b, axis, act);
  });
}
OpOptions ReducerOpts(bool keep_dims) {
  return Make(BuiltinOptions::ReducerOptions,
              [=](fb::FlatBufferBuilder& b) { return tflite::CreateReducerOptions(b, keep_dims); });
}
OpOptions ReshapeOpts(std::vector<int32_t> new_shape) {
  return Make(BuiltinOptions::ReshapeOptions, [new_shape](fb::FlatBufferBuilder& b) {
    return tflite::CreateReshapeOptions(b, b.CreateVector(new_shape));
  });
}
OpOptions PadOpts() {
  return Make(BuiltinOptions::PadOptions,
              [](fb::FlatBufferBuilder& b) { return tflite::CreatePadOptions(b); });
}
OpOptions TransposeOpts() {
  return Make(BuiltinOptions::TransposeOptions,
              [](fb::FlatBufferBuilder& b) { return tflite::CreateTransposeOptions(b); });
}
OpOptions QuantizeOpts() {
  return Make(BuiltinOptions::QuantizeOptions,
              [](fb::FlatBufferBuilder& b) { return tflite::CreateQuantizeOptions(b); });
}
OpOptions DequantizeOpts() {
  return Make(BuiltinOptions::DequantizeOptions,
              [](fb::FlatBufferBuilder& b) { return tflite::CreateDequantizeOptions(b); });
}

int ModelBuilder::AddTensor(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                            QuantParams quant) {
  tensors_.push_back({std::move(name), type, std::move(shape), std::move(quant), false, {}});
  return num_tensors() - 1;
}

int ModelBuilder::AddVariable(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                              QuantParams quant) {
  const int t = AddTensor(std::move(name), type, std::move(shape), std::move(quant));
  tensors_.back().variable = true;
  return t;
}

int ModelBuilder::AddConstant(std::string name, tflite::TensorType type, std::vector<int32_t> shape,
                              std::span<const uint8_t> data, QuantParams quant) {
  tensors_.push_back({std::move(name), type, std::move(shape), std::move(quant), true,
                      std::vector<uint8_t>(data.begin(), data.end())});
  return num_tensors() - 1;
}

int ModelBuilder::AddInput(const std::string& name, tflite::TensorType type,
                           std::vector<int32_t> shape, QuantParams quant) {
  const int t =
      AddTensor(signature_key_ + "_" + name + ":0", type, std::move(shape), std::move(quant));
  inputs_.emplace_back(name, t);
  return t;
}

void ModelBuilder::AddOutput(const std::string& name, int tensor) {
  outputs_.emplace_back(name, tensor);
}

void ModelBuilder::SetShapeSignature(int tensor, std::vector<int32_t> shape_signature) {
  if (tensor >= 0 && tensor < num_tensors()) {
    tensors_[static_cast<size_t>(tensor)].shape_signature = std::move(shape_signature);
  }
}

void ModelBuilder::AddOperator(tflite::BuiltinOperator op, std::vector<int32_t> inputs,
                               std::vector<int32_t> outputs, OpOptions options, int version) {
  ops_.push_back({op, version, std::move(inputs), std::move(outputs), std::move(options)});
}

Result<std::string> ModelBuilder::Finish() const {
  const int n = num_tensors();
  auto in_range = [n](int t) { return t >= 0 && t < n; };
  // Checks first, so that nothing half-written escapes.
  for (int t = 0; t < n; ++t) {
    const TensorEntry& e = tensors_[static_cast<size_t>(t)];
    if (!e.constant) continue;
    int64_t count = 1;
    for (int32_t d : e.shape) {
      if (d < 0) {
        return Status::InvalidArgument("model builder: constant tensor " + std::to_string(t) +
                                       " '" + e.name + "': negative dimension");
      }
      count *= d;
    }
    const size_t want = static_cast<size_t>(count) * TensorTypeSize(e.type);
    if (TensorTypeSize(e.type) == 0 || e.data.size() != want) {
      return Status::InvalidArgument("model builder: constant tensor " + std::to_string(t) + " '" +
                                     e.name + "': " + std::to_string(e.data.size()) +
                                     " data bytes, shape x element size is " +
                                     std::to_string(want));
    }
  }
  for (int t = 0; t < n; ++t) {
    const TensorEntry& e = tensors_[static_cast<size_t>(t)];
    if (!e.shape_signature.empty() && e.shape_signature.size() != e.shape.size()) {
      return Status::InvalidArgument("model builder: tensor " + std::to_string(t) + " '" + e.name +
                                     "': shape_signature has rank " +
                                     std::to_string(e.shape_signature.size()) +
                                     ", shape has rank " + std::to_string(e.shape.size()));
    }
  }
  for (size_t o = 0; o < ops_.size(); ++o) {
    for (int32_t t : ops_[o].inputs) {
      if (t != -1 && !in_range(t)) {
        return Status::InvalidArgument("model builder: operator " + std::to_string(o) +
                                       " input tensor " + std::to_string(t) + " out of range [0, " +
                                       std::to_string(n) + ")");
      }
    }
    for (int32_t t : ops_[o].outputs) {
      if (!in_range(t)) {
        return Status::InvalidArgument("model builder: operator " + std::to_string(o) +
                                       " output tensor " + std::to_string(t) +
                                       " out of range [0, " + std::to_string(n) + ")");
      }
    }
  }
  for (const auto* io : {&inputs_, &outputs_}) {
    for (const auto& [name, t] : *io) {
      if (!in_range(t)) {
        return Status::InvalidArgument("model builder: signature tensor '" + name + "' index " +
                                       std::to_string(t) + " out of range");
      }
    }
  }

  fb::FlatBufferBuilder b(1024);
  // Buffers: 0 is the empty sentinel; one per constant tensor.
  std::vector<fb::Offset<tflite::Buffer>> buffers = {tflite::CreateBuffer(b)};
  std::vector<uint32_t> buffer_of(static_cast<size_t>(n), 0);
  for (int t = 0; t < n; ++t) {
    const TensorEntry& e = tensors_[static_cast<size_t>(t)];
    if (!e.constant) continue;
    b.ForceVectorAlignment(e.data.size(), 1, 16);
    auto data = b.CreateVector(e.data);
    buffer_of[static_cast<size_t>(t)] = static_cast<uint32_t>(buffers.size());
    buffers.push_back(tflite::CreateBuffer(b, data));
  }
  std::vector<fb::Offset<tflite::Tensor>> tensors;
  for (int t = 0; t < n; ++t) {
    const TensorEntry& e = tensors_[static_cast<size_t>(t)];
    fb::Offset<tflite::QuantizationParameters> q = 0;
    if (!e.quant.empty()) {
      std::vector<int64_t> zp(e.quant.zero_point.begin(), e.quant.zero_point.end());
      q = tflite::CreateQuantizationParameters(b, 0, 0, b.CreateVector(e.quant.scale),
                                               b.CreateVector(zp),
                                               tflite::QuantizationDetails::NONE, 0, e.quant.axis);
    }
    fb::Offset<fb::Vector<int32_t>> signature = 0;
    if (!e.shape_signature.empty()) signature = b.CreateVector(e.shape_signature);
    tensors.push_back(tflite::CreateTensor(b, b.CreateVector(e.shape), e.type,
                                           buffer_of[static_cast<size_t>(t)],
                                           b.CreateString(e.name), q, e.variable, 0, signature));
  }
  // Operator codes, one per distinct (op, version), in first-use order.
  std::vector<std::pair<tflite::BuiltinOperator, int>> codes;
  std::vector<fb::Offset<tflite::Operator>> ops;
  for (const OpEntry& op : ops_) {
    const std::pair<tflite::BuiltinOperator, int> key{op.op, op.version};
    size_t idx = 0;
    while (idx < codes.size() && codes[idx] != key) ++idx;
    if (idx == codes.size()) codes.push_back(key);
    fb::Offset<void> options = op.options.write ? op.options.write(b) : 0;
    ops.push_back(tflite::CreateOperator(b, static_cast<uint32_t>(idx), b.CreateVector(op.inputs),
                                         b.CreateVector(op.outputs), op.options.type, options));
  }
  std::vector<fb::Offset<tflite::OperatorCode>> opcodes;
  for (const auto& [op, version] : codes) {
    const int32_t code = static_cast<int32_t>(op);
    // Codes above 127 put PLACEHOLDER_FOR_GREATER_OP_CODES (127) in the
    // deprecated byte field.
    const int8_t deprecated = static_cast<int8_t>(code < 127 ? code : 127);
    opcodes.push_back(tflite::CreateOperatorCode(b, deprecated, 0, version, op));
  }
  std::vector<int32_t> in_idx, out_idx;
  std::vector<fb::Offset<tflite::TensorMap>> in_map, out_map;
  for (const auto& [name, t] : inputs_) {
    in_idx.push_back(t);
    in_map.push_back(tflite::CreateTensorMap(b, b.CreateString(name), static_cast<uint32_t>(t)));
  }
  for (const auto& [name, t] : outputs_) {
    out_idx.push_back(t);
    out_map.push_back(tflite::CreateTensorMap(b, b.CreateString(name), static_cast<uint32_t>(t)));
  }
  auto subgraph =
      tflite::CreateSubGraph(b, b.CreateVector(tensors), b.CreateVector(in_idx),
                             b.CreateVector(out_idx), b.CreateVector(ops), b.CreateString("main"));
  auto signature = tflite::CreateSignatureDef(b, b.CreateVector(in_map), b.CreateVector(out_map),
                                              b.CreateString(signature_key_), 0);
  std::vector<fb::Offset<tflite::SubGraph>> subgraphs = {subgraph};
  std::vector<fb::Offset<tflite::SignatureDef>> signatures = {signature};
  auto model = tflite::CreateModel(b, 3, b.CreateVector(opcodes), b.CreateVector(subgraphs),
                                   b.CreateString("edgepipe"), b.CreateVector(buffers), 0, 0,
                                   b.CreateVector(signatures));
  tflite::FinishModelBuffer(b, model);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

}  // namespace edgepipe::lite
