#include <algorithm>
#include <cmath>
#include <limits>

#include "edgepipe/lite/kernel.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {

Tensor* KernelContext::input(int i) const {
  return i >= 0 && i < num_inputs() ? inputs[static_cast<size_t>(i)] : nullptr;
}

Status KernelContext::CheckArity(int min_inputs, int max_inputs, int outputs_expected) const {
  if (num_inputs() < min_inputs || num_inputs() > max_inputs) {
    return Error("has {} inputs, expected {} to {}", num_inputs(), min_inputs, max_inputs);
  }
  if (num_outputs() != outputs_expected) {
    return Error("has {} outputs, expected {}", num_outputs(), outputs_expected);
  }
  return Status::Ok();
}

Status KernelContext::CheckType(const Tensor* t, std::string_view what,
                                std::initializer_list<tflite::TensorType> types) const {
  if (t == nullptr) return Error("{} is missing", what);
  for (auto type : types) {
    if (t->type == type) return Status::Ok();
  }
  std::string allowed;
  for (auto type : types) allowed += (allowed.empty() ? "" : ", ") + TensorTypeName(type);
  return Unsupported("{} \"{}\" has type {}; supported: {}", what, t->name, TensorTypeName(t->type),
                     allowed);
}

Status KernelContext::SetShape(Tensor* t, std::vector<int32_t> shape) const {
  int64_t n = 1;
  for (int32_t d : shape) {
    if (d < 0) return Error("output \"{}\" would get negative dimension {}", t->name, d);
    n *= d;
    if (n > std::numeric_limits<int32_t>::max()) {
      return Error("output \"{}\" shape overflows", t->name);
    }
  }
  if (t->is_const) return Error("output \"{}\" is a constant tensor", t->name);
  t->shape = std::move(shape);
  t->bytes = static_cast<size_t>(n) * TensorTypeSize(t->type);
  return Status::Ok();
}

Status FloatActivationRange(const KernelContext& ctx, tflite::ActivationFunctionType act,
                            float* min, float* max) {
  using A = tflite::ActivationFunctionType;
  *min = -std::numeric_limits<float>::infinity();
  *max = std::numeric_limits<float>::infinity();
  switch (act) {
    case A::NONE:
      return Status::Ok();
    case A::RELU:
      *min = 0;
      return Status::Ok();
    case A::RELU6:
      *min = 0;
      *max = 6;
      return Status::Ok();
    case A::RELU_N1_TO_1:
      *min = -1;
      *max = 1;
      return Status::Ok();
    default:
      return ctx.Unsupported("fused activation {} is not supported", static_cast<int>(act));
  }
}

Status QuantizedActivationRange(const KernelContext& ctx, tflite::ActivationFunctionType act,
                                const Tensor& output, int32_t* min, int32_t* max) {
  using A = tflite::ActivationFunctionType;
  int32_t qmin = 0;
  int32_t qmax = 0;
  switch (output.type) {
    case tflite::TensorType::INT8:
      qmin = -128;
      qmax = 127;
      break;
    case tflite::TensorType::UINT8:
      qmin = 0;
      qmax = 255;
      break;
    case tflite::TensorType::INT16:
      qmin = -32768;
      qmax = 32767;
      break;
    default:
      return ctx.Unsupported("quantized output type {}", TensorTypeName(output.type));
  }
  const float scale = output.scale();
  const int32_t zp = output.zero_point();
  const auto quantize = [&](float f) { return zp + static_cast<int32_t>(std::round(f / scale)); };
  switch (act) {
    case A::NONE:
      *min = qmin;
      *max = qmax;
      return Status::Ok();
    case A::RELU:
      *min = std::max(qmin, quantize(0.0f));
      *max = qmax;
      return Status::Ok();
    case A::RELU6:
      *min = std::max(qmin, quantize(0.0f));
      *max = std::min(qmax, quantize(6.0f));
      return Status::Ok();
    case A::RELU_N1_TO_1:
      *min = std::max(qmin, quantize(-1.0f));
      *max = std::min(qmax, quantize(1.0f));
      return Status::Ok();
    default:
      return ctx.Unsupported("fused activation {} is not supported", static_cast<int>(act));
  }
}

Status CheckPerTensorQuant(const KernelContext& ctx, const Tensor& t, std::string_view what) {
  if (t.quant->empty()) return ctx.Error("{} \"{}\" has no quantization", what, t.name);
  if (!t.quant->per_tensor()) {
    return ctx.Unsupported("{} \"{}\" must be quantized per tensor, has {} scales", what, t.name,
                           t.quant->scale.size());
  }
  if (!(t.scale() > 0)) {
    return ctx.Error("{} \"{}\" quantization scale {} must be positive", what, t.name, t.scale());
  }
  return Status::Ok();
}

Padding1D ComputePadding(tflite::Padding padding, int in, int filter, int stride, int dilation) {
  const int effective = (filter - 1) * dilation + 1;
  Padding1D p;
  p.out = padding == tflite::Padding::SAME ? (in + stride - 1) / stride
                                           : (in - effective + stride) / stride;
  const int total = std::max(0, (p.out - 1) * stride + effective - in);
  p.before = total / 2;
  return p;
}

std::vector<int64_t> BroadcastStrides(std::span<const int32_t> in_shape,
                                      std::span<const int32_t> out_shape) {
  const size_t rank = out_shape.size();
  std::vector<int64_t> strides(rank, 0);
  int64_t stride = 1;
  for (size_t i = 0; i < in_shape.size(); ++i) {
    const size_t in_axis = in_shape.size() - 1 - i;
    const size_t out_axis = rank - 1 - i;
    strides[out_axis] = in_shape[in_axis] == 1 ? 0 : stride;
    stride *= in_shape[in_axis];
  }
  return strides;
}

}  // namespace edgepipe::lite

namespace edgepipe::lite {

Status PrepareConvQuant(const KernelContext& ctx, const Tensor& input, const Tensor& filter,
                        const Tensor* bias, const Tensor& output, int channels,
                        int filter_channel_axis, tflite::ActivationFunctionType act, ConvQuant* q) {
  RETURN_IF_ERROR(CheckPerTensorQuant(ctx, input, "input"));
  RETURN_IF_ERROR(CheckPerTensorQuant(ctx, output, "output"));
  const QuantParams& fq = *filter.quant;
  if (fq.empty()) return ctx.Error("filter \"{}\" has no quantization", filter.name);
  const bool per_channel = fq.scale.size() > 1;
  if (per_channel) {
    if (fq.axis != filter_channel_axis || static_cast<int>(fq.scale.size()) != channels) {
      return ctx.Error(
          "filter \"{}\" per-channel quantization: {} scales on axis {}, expected {} "
          "on axis {}",
          filter.name, fq.scale.size(), fq.axis, channels, filter_channel_axis);
    }
  }
  for (size_t c = 0; c < fq.zero_point.size(); ++c) {
    if (filter.type == tflite::TensorType::INT8 && fq.zero_point[c] != 0) {
      return ctx.Error("int8 filter \"{}\" zero_point[{}] = {} must be 0", filter.name, c,
                       fq.zero_point[c]);
    }
  }
  if (bias != nullptr) {
    if (bias->type != tflite::TensorType::INT32) {
      return ctx.Unsupported("bias \"{}\" has type {}, quantized ops need int32", bias->name,
                             TensorTypeName(bias->type));
    }
    if (bias->num_elements() != channels) {
      return ctx.Error("bias \"{}\" has {} elements, expected {}", bias->name, bias->num_elements(),
                       channels);
    }
  }
  q->multiplier.resize(static_cast<size_t>(channels));
  q->shift.resize(static_cast<size_t>(channels));
  const double input_scale = static_cast<double>(input.scale());
  const double output_scale = static_cast<double>(output.scale());
  for (int c = 0; c < channels; ++c) {
    const double filter_scale =
        static_cast<double>(fq.scale[per_channel ? static_cast<size_t>(c) : 0]);
    const double real = input_scale * filter_scale / output_scale;
    QuantizeMultiplier(real, &q->multiplier[static_cast<size_t>(c)],
                       &q->shift[static_cast<size_t>(c)]);
  }
  q->fp32_scale.clear();
  if (ctx.arithmetic() == Arithmetic::kLiteRt) {
    for (int c = 0; c < channels; ++c) {
      q->fp32_scale.push_back(Fp32RequantScale(
          input.scale(), fq.scale[per_channel ? static_cast<size_t>(c) : 0], output.scale()));
    }
  }
  q->input_offset = -input.zero_point();
  q->filter_offset = -fq.zero_point[0];
  q->output_offset = output.zero_point();
  return QuantizedActivationRange(ctx, act, output, &q->act_min, &q->act_max);
}

int32_t ConvQuant::Requantize(int32_t acc, size_t c) const {
  const int32_t v = fp32_scale.empty() ? MultiplyByQuantizedMultiplier(acc, multiplier[c], shift[c])
                                       : RequantizeFp32(acc, fp32_scale[c]);
  // In 64 bits: v may be near the int32 limits for extreme (fuzzed) scales.
  return static_cast<int32_t>(std::clamp<int64_t>(int64_t{v} + output_offset, act_min, act_max));
}

}  // namespace edgepipe::lite
