// QUANTIZE (float -> int8/uint8/int16: round(x / scale) + zero_point,
// clamped; or requantization int8/uint8 -> int8/uint8 and, as TFLite,
// int16 -> int8/int16/int32) and DEQUANTIZE
// (int8/uint8 -> float: scale * (q - zero_point)). Per-tensor only.
#include <algorithm>
#include <cmath>
#include <limits>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

struct QuantState : KernelState {
  int32_t mult = 0;
  int shift = 0;
  // Arithmetic::kLiteRt, int8 -> int8 or uint8 -> uint8 with a scale ratio
  // XNNPACK accepts ([2^-8, 2^7]): XNNPACK's convert, out = (bias + x *
  // xnn_mult) >> 8 with xnn_mult = lrintf(256 * (in_scale / out_scale)) and
  // bias = (out_zp << 8) - xnn_mult * in_zp + 128. 0 when unused.
  int32_t xnn_mult = 0;
  int32_t xnn_bias = 0;
};

Status PrepareQuantize(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 1, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(in, "input", {T::FLOAT32, T::INT8, T::UINT8, T::INT16}));
  if (in->type == T::INT16) {
    RETURN_IF_ERROR(ctx.CheckType(out, "output", {T::INT8, T::INT16, T::INT32}));
  } else if (in->type == T::FLOAT32) {
    RETURN_IF_ERROR(ctx.CheckType(out, "output", {T::INT8, T::UINT8, T::INT16}));
  } else {
    RETURN_IF_ERROR(ctx.CheckType(out, "output", {T::INT8, T::UINT8}));
  }
  if (in->type == T::INT16 && out->type == T::INT16 &&
      (in->zero_point() != 0 || out->zero_point() != 0)) {
    return ctx.Error("int16 -> int16 needs zero points 0 (are {}, {})", in->zero_point(),
                     out->zero_point());
  }
  RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *out, "output"));
  auto s = std::make_unique<QuantState>();
  if (in->type != T::FLOAT32) {
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *in, "input"));
    QuantizeMultiplier(static_cast<double>(in->scale()) / static_cast<double>(out->scale()),
                       &s->mult, &s->shift);
    const float ratio = in->scale() / out->scale();
    if (ctx.arithmetic() == Arithmetic::kLiteRt && in->type == out->type && ratio >= 0x1.0p-8f &&
        ratio <= 0x1.0p+7f) {
      s->xnn_mult = static_cast<int32_t>(std::lrint(256.0f * ratio));
      s->xnn_bias = (out->zero_point() << 8) - s->xnn_mult * in->zero_point() + 0x80;
    }
  }
  RETURN_IF_ERROR(ctx.SetShape(out, in->shape));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

template <typename Out>
void QuantizeFloat(const float* x, Out* y, int64_t n, float scale, int32_t zp) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = static_cast<int32_t>(std::round(x[i] / scale)) + zp;
    y[i] = static_cast<Out>(
        std::clamp<int32_t>(v, std::numeric_limits<Out>::min(), std::numeric_limits<Out>::max()));
  }
}

template <typename In, typename Out>
void Requantize(const In* x, Out* y, int64_t n, int32_t in_zp, int32_t out_zp, int32_t mult,
                int shift) {
  for (int64_t i = 0; i < n; ++i) {
    // In 64 bits: zero points from a file may be anything, and Out may be
    // int32 (TFLite's int32 arithmetic would wrap; the conversion does too).
    const int32_t centered = static_cast<int32_t>(int64_t{x[i]} - in_zp);
    const int64_t v = int64_t{MultiplyByQuantizedMultiplier(centered, mult, shift)} + out_zp;
    y[i] = static_cast<Out>(
        std::clamp<int64_t>(v, std::numeric_limits<Out>::min(), std::numeric_limits<Out>::max()));
  }
}

template <typename T>
void RequantizeXnn(const T* x, T* y, int64_t n, int32_t mult, int32_t bias) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = (bias + static_cast<int32_t>(x[i]) * mult) >> 8;  // arithmetic shift
    y[i] = static_cast<T>(
        std::clamp<int32_t>(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
  }
}

template <typename In>
void RequantizeTo(const QuantState& s, const Tensor* in, Tensor* out, int64_t n) {
  if (s.xnn_mult != 0) {
    RequantizeXnn(in->as<In>(), out->as<In>(), n, s.xnn_mult, s.xnn_bias);
    return;
  }
  const int32_t in_zp = in->zero_point();
  const int32_t out_zp = out->zero_point();
  switch (out->type) {
    case tflite::TensorType::INT8:
      Requantize(in->as<In>(), out->as<int8_t>(), n, in_zp, out_zp, s.mult, s.shift);
      break;
    case tflite::TensorType::INT16:
      Requantize(in->as<In>(), out->as<int16_t>(), n, in_zp, out_zp, s.mult, s.shift);
      break;
    case tflite::TensorType::INT32:
      Requantize(in->as<In>(), out->as<int32_t>(), n, in_zp, out_zp, s.mult, s.shift);
      break;
    default:
      Requantize(in->as<In>(), out->as<uint8_t>(), n, in_zp, out_zp, s.mult, s.shift);
      break;
  }
}

Status EvalQuantize(KernelContext& ctx) {
  const QuantState& s = *ctx.state<QuantState>();
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  const int64_t n = in->num_elements();
  if (in->type == tflite::TensorType::FLOAT32) {
    if (out->type == tflite::TensorType::INT8) {
      QuantizeFloat(in->as<float>(), out->as<int8_t>(), n, out->scale(), out->zero_point());
    } else if (out->type == tflite::TensorType::INT16) {
      QuantizeFloat(in->as<float>(), out->as<int16_t>(), n, out->scale(), out->zero_point());
    } else {
      QuantizeFloat(in->as<float>(), out->as<uint8_t>(), n, out->scale(), out->zero_point());
    }
  } else if (in->type == tflite::TensorType::INT8) {
    RequantizeTo<int8_t>(s, in, out, n);
  } else if (in->type == tflite::TensorType::INT16) {
    RequantizeTo<int16_t>(s, in, out, n);
  } else {
    RequantizeTo<uint8_t>(s, in, out, n);
  }
  return Status::Ok();
}

Status PrepareDequantize(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 1, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(in, "input", {T::INT8, T::UINT8}));
  RETURN_IF_ERROR(ctx.CheckType(out, "output", {T::FLOAT32}));
  RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *in, "input"));
  return ctx.SetShape(out, in->shape);
}

template <typename In>
void Dequantize(const In* x, float* y, int64_t n, float scale, int32_t zp) {
  for (int64_t i = 0; i < n; ++i)
    y[i] = scale * static_cast<float>(static_cast<int32_t>(x[i]) - zp);
}

Status EvalDequantize(KernelContext& ctx) {
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  if (in->type == tflite::TensorType::INT8) {
    Dequantize(in->as<int8_t>(), out->as<float>(), in->num_elements(), in->scale(),
               in->zero_point());
  } else {
    Dequantize(in->as<uint8_t>(), out->as<float>(), in->num_elements(), in->scale(),
               in->zero_point());
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterQuantize() { return {PrepareQuantize, EvalQuantize}; }
KernelRegistration RegisterDequantize() { return {PrepareDequantize, EvalDequantize}; }

}  // namespace edgepipe::lite
