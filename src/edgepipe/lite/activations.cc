// RELU, RELU6, LOGISTIC, TANH.
// float: elementwise. int8/uint8 RELU and RELU6: requantize x to the output
// scale (s_in / s_out) then clamp to the activation's quantized range, as
// TFLite's reference ReluX. int8/uint8 LOGISTIC and TANH: a 256-entry table
// built in Prepare, as TFLite's kernels (reference and optimized alike) do:
// for every quantized input q, y = f(s_in * (q - zp_in)) in float,
// round(y * (1 / s_out)) + zp_out clamped to the type's range. LOGISTIC
// requires an 8-bit output scale of exactly 1/256 (TFLite's rule); the
// usual output quantization is LOGISTIC 1/256 with zp -128 (int8) or 0
// (uint8) and TANH 1/128 with zp 0 (int8) or 128 (uint8).
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

enum class Act { kRelu, kRelu6, kLogistic, kTanh };

struct ActState : KernelState {
  int32_t mult = 0;
  int shift = 0;
  int32_t in_zp = 0, out_zp = 0, qmin = 0, qmax = 0;
  // LOGISTIC / TANH: output byte per input byte (indexed by the input's bit
  // pattern as uint8).
  std::array<uint8_t, 256> table{};
};

float Logistic(float x) { return 1.0f / (1.0f + std::exp(-x)); }
float Tanh(float x) { return std::tanh(x); }

// Fills s->table for an 8-bit type T (float math, in TFLite's order of
// operations so that the rounding is the same).
template <typename T>
void FillTable(const Tensor& in, const Tensor& out, float (*f)(float), ActState* s) {
  const float in_scale = in.scale();
  const int32_t in_zp = in.zero_point();
  const float inverse_out_scale = 1.0f / out.scale();
  const int32_t out_zp = out.zero_point();
  constexpr int32_t kMin = std::numeric_limits<T>::min();
  constexpr int32_t kMax = std::numeric_limits<T>::max();
  for (int32_t q = kMin; q <= kMax; ++q) {
    const float x = in_scale * static_cast<float>(q - in_zp);
    const float rescaled = std::round(f(x) * inverse_out_scale);
    // Clamped as a float (same result for these whole numbers) so that a
    // huge value from a tiny output scale never overflows the conversion.
    const float v = std::clamp(rescaled + static_cast<float>(out_zp), static_cast<float>(kMin),
                               static_cast<float>(kMax));
    s->table[static_cast<uint8_t>(static_cast<T>(q))] =
        static_cast<uint8_t>(static_cast<T>(static_cast<int32_t>(v)));
  }
}

template <Act A>
Status PrepareTable(KernelContext& ctx, const Tensor& in, const Tensor& out, ActState* s) {
  RETURN_IF_ERROR(CheckPerTensorQuant(ctx, in, "input"));
  RETURN_IF_ERROR(CheckPerTensorQuant(ctx, out, "output"));
  if (!std::isfinite(in.scale()) || !std::isfinite(1.0f / out.scale())) {
    return ctx.Error(
        "quantization scales {} (input) and {} (output) must be finite, as must 1 / "
        "the output scale",
        in.scale(), out.scale());
  }
  if (A == Act::kLogistic && static_cast<double>(out.scale()) != 1.0 / 256.0) {
    return ctx.Error("output scale {} must be 1/256 (0.00390625) for a quantized LOGISTIC",
                     out.scale());
  }
  float (*f)(float) = A == Act::kLogistic ? Logistic : Tanh;
  if (in.type == tflite::TensorType::INT8) {
    FillTable<int8_t>(in, out, f, s);
  } else {
    FillTable<uint8_t>(in, out, f, s);
  }
  return Status::Ok();
}

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
      RETURN_IF_ERROR(PrepareTable<A>(ctx, *in, *out, s.get()));
    } else {
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

// 8-bit table lookup; int8 and uint8 alike, by bytes.
void EvalTable(const ActState& s, const uint8_t* x, uint8_t* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = s.table[x[i]];
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
          y[i] = Logistic(x[i]);
          break;
        case Act::kTanh:
          y[i] = Tanh(x[i]);
          break;
      }
    }
  } else if (A == Act::kLogistic || A == Act::kTanh) {
    EvalTable(*ctx.state<ActState>(), in->as<uint8_t>(), out->as<uint8_t>(), n);
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
