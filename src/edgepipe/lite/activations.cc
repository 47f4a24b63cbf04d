// RELU, RELU6, LOGISTIC, TANH.
// float: elementwise. int8/uint8 RELU and RELU6: requantize x to the output
// scale (s_in / s_out) then clamp to the activation's quantized range, as
// TFLite's reference ReluX. Quantized LOGISTIC and TANH are not done yet.
#include <algorithm>
#include <cmath>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

enum class Act { kRelu, kRelu6, kLogistic, kTanh };

struct ActState : KernelState {
  int32_t mult = 0;
  int shift = 0;
  int32_t in_zp = 0, out_zp = 0, qmin = 0, qmax = 0;
};

template <Act A>
Status Prepare(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 1, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(in, "input", {T::FLOAT32, T::INT8, T::UINT8}));
  if (out->type != in->type) return ctx.Unsupported("output type differs from input type");
  auto s = std::make_unique<ActState>();
  if (in->type != T::FLOAT32) {
    if (A == Act::kLogistic || A == Act::kTanh) {
      return ctx.Unsupported("quantized {} is not implemented", TensorTypeName(in->type));
    }
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *in, "input"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *out, "output"));
    QuantizeMultiplier(static_cast<double>(in->scale()) / static_cast<double>(out->scale()),
                       &s->mult, &s->shift);
    s->in_zp = in->zero_point();
    s->out_zp = out->zero_point();
    RETURN_IF_ERROR(QuantizedActivationRange(ctx,
                                             A == Act::kRelu
                                                 ? tflite::ActivationFunctionType::RELU
                                                 : tflite::ActivationFunctionType::RELU6,
                                             *out, &s->qmin, &s->qmax));
  }
  RETURN_IF_ERROR(ctx.SetShape(out, in->shape));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

template <typename T>
void EvalQuant(const ActState& s, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = s.out_zp + MultiplyByQuantizedMultiplier(static_cast<int32_t>(x[i]) - s.in_zp,
                                                               s.mult, s.shift);
    y[i] = static_cast<T>(std::clamp(v, s.qmin, s.qmax));
  }
}

template <Act A>
Status Eval(KernelContext& ctx) {
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  const int64_t n = in->num_elements();
  if (in->type == tflite::TensorType::FLOAT32) {
    const float* x = in->as<float>();
    float* y = out->as<float>();
    for (int64_t i = 0; i < n; ++i) {
      switch (A) {
        case Act::kRelu:
          y[i] = std::max(0.0f, x[i]);
          break;
        case Act::kRelu6:
          y[i] = std::clamp(x[i], 0.0f, 6.0f);
          break;
        case Act::kLogistic:
          y[i] = 1.0f / (1.0f + std::exp(-x[i]));
          break;
        case Act::kTanh:
          y[i] = std::tanh(x[i]);
          break;
      }
    }
  } else if (in->type == tflite::TensorType::INT8) {
    EvalQuant(*ctx.state<ActState>(), in->as<int8_t>(), out->as<int8_t>(), n);
  } else {
    EvalQuant(*ctx.state<ActState>(), in->as<uint8_t>(), out->as<uint8_t>(), n);
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterRelu() { return {Prepare<Act::kRelu>, Eval<Act::kRelu>}; }
KernelRegistration RegisterRelu6() { return {Prepare<Act::kRelu6>, Eval<Act::kRelu6>}; }
KernelRegistration RegisterLogistic() { return {Prepare<Act::kLogistic>, Eval<Act::kLogistic>}; }
KernelRegistration RegisterTanh() { return {Prepare<Act::kTanh>, Eval<Act::kTanh>}; }

}  // namespace edgepipe::lite
