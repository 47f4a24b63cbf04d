// SOFTMAX over the last axis. float: exp((x - max) * beta) / sum.
// int8/uint8: TFLite's reference fixed-point algorithm: differences to the
// row max scaled into Q5.26, exp in Q0.31, sum in Q12.19, reciprocal, and
// outputs with scale 1/256 and zero point -128 (int8) or 0 (uint8); int8
// input may also give an int16 output (scale 1/65536, zero point -32768,
// as TFLite's reference: the same algorithm with 16 output bits).
#include <algorithm>
#include <cmath>
#include <limits>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

constexpr int kScaledDiffIntegerBits = 5;
constexpr int kAccumulationIntegerBits = 12;

struct SoftmaxState : KernelState {
  float beta = 1;
  int rows = 0;
  int depth = 0;
  int32_t input_multiplier = 0;
  int input_left_shift = 0;
  int diff_min = 0;
};

Status Prepare(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 1, 1));
  Tensor* input = ctx.input(0);
  Tensor* output = ctx.output(0);
  auto s = std::make_unique<SoftmaxState>();
  if (const auto* o = ctx.op() ? ctx.op()->builtin_options_as_SoftmaxOptions() : nullptr) {
    s->beta = o->beta();
  }
  if (input->rank() < 1) return ctx.Error("input must have rank >= 1");
  s->depth = input->dim(-1);
  s->rows = s->depth > 0 ? static_cast<int>(input->num_elements() / s->depth) : 0;
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(input, "input", {T::FLOAT32, T::INT8, T::UINT8}));
  const bool int8_to_int16 = input->type == T::INT8 && output->type == T::INT16;
  if (output->type != input->type && !int8_to_int16) {
    return ctx.Unsupported("output type {} differs from input type {}",
                           TensorTypeName(output->type), TensorTypeName(input->type));
  }
  if (input->type != T::FLOAT32) {
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *input, "input"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *output, "output"));
    if (int8_to_int16) {
      // TFLite's rule: zero point -32768, scale 1/65536 within 0.1%.
      constexpr float kScale = 1.0f / 65536;
      if (std::fabs(output->scale() - kScale) > 0.001f * kScale || output->zero_point() != -32768) {
        return ctx.Error(
            "int16 output quantization must be scale 1/65536 (within 0.1%), zero point -32768 "
            "(is {}, {})",
            output->scale(), output->zero_point());
      }
    }
    const int32_t want_zp = input->type == T::INT8 ? -128 : 0;
    if (!int8_to_int16 && (output->scale() != 1.0f / 256 || output->zero_point() != want_zp)) {
      return ctx.Error("output quantization must be scale 1/256, zero point {} (is {}, {})",
                       want_zp, output->scale(), output->zero_point());
    }
    PreprocessSoftmaxScaling(static_cast<double>(s->beta), static_cast<double>(input->scale()),
                             kScaledDiffIntegerBits, &s->input_multiplier, &s->input_left_shift);
    s->diff_min = -CalculateInputRadius(kScaledDiffIntegerBits, s->input_left_shift);
  }
  RETURN_IF_ERROR(ctx.SetShape(output, input->shape));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

void EvalFloat(const SoftmaxState& s, const float* in, float* out) {
  for (int r = 0; r < s.rows; ++r) {
    const float* x = in + static_cast<size_t>(r) * s.depth;
    float* y = out + static_cast<size_t>(r) * s.depth;
    const float max = *std::max_element(x, x + s.depth);
    float sum = 0;
    for (int c = 0; c < s.depth; ++c) {
      y[c] = std::exp((x[c] - max) * s.beta);
      sum += y[c];
    }
    for (int c = 0; c < s.depth; ++c) y[c] /= sum;
  }
}

template <typename T, typename Out = T>
void EvalQuant(const SoftmaxState& s, const T* in, Out* out) {
  for (int r = 0; r < s.rows; ++r) {
    const T* x = in + static_cast<size_t>(r) * s.depth;
    Out* y = out + static_cast<size_t>(r) * s.depth;
    const int32_t max = *std::max_element(x, x + s.depth);
    const auto scaled_diff = [&](int32_t diff) {
      // MultiplyByQuantizedMultiplierGreaterThanOne: a left shift then SRDHM.
      return SaturatingRoundingDoublingHighMul(
          static_cast<int32_t>(static_cast<uint32_t>(diff) << s.input_left_shift),
          s.input_multiplier);
    };
    int32_t sum_of_exps = 0;  // Q12.19
    for (int c = 0; c < s.depth; ++c) {
      const int32_t diff = static_cast<int32_t>(x[c]) - max;
      if (diff >= s.diff_min) {
        const int32_t e = ExpOnNegativeValues(scaled_diff(diff), kScaledDiffIntegerBits);
        sum_of_exps += SaturatingRoundingMultiplyByPOT(e, -kAccumulationIntegerBits);
      }
    }
    int num_bits_over_unit = 0;
    const int32_t shifted_scale =
        GetReciprocal(sum_of_exps, kAccumulationIntegerBits, &num_bits_over_unit);
    constexpr int kOutputBits = 8 * sizeof(Out);
    for (int c = 0; c < s.depth; ++c) {
      const int32_t diff = static_cast<int32_t>(x[c]) - max;
      int32_t v = std::numeric_limits<Out>::min();
      if (diff >= s.diff_min) {
        const int32_t e = ExpOnNegativeValues(scaled_diff(diff), kScaledDiffIntegerBits);
        const int32_t unsat =
            RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted_scale, e),
                                num_bits_over_unit + 31 - kOutputBits);
        v = std::clamp<int32_t>(unsat + std::numeric_limits<Out>::min(),
                                std::numeric_limits<Out>::min(), std::numeric_limits<Out>::max());
      }
      y[c] = static_cast<Out>(v);
    }
  }
}

Status Eval(KernelContext& ctx) {
  const SoftmaxState& s = *ctx.state<SoftmaxState>();
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  switch (in->type) {
    case tflite::TensorType::FLOAT32:
      EvalFloat(s, in->as<float>(), out->as<float>());
      break;
    case tflite::TensorType::INT8:
      if (out->type == tflite::TensorType::INT16) {
        EvalQuant(s, in->as<int8_t>(), out->as<int16_t>());
      } else {
        EvalQuant(s, in->as<int8_t>(), out->as<int8_t>());
      }
      break;
    default:
      EvalQuant(s, in->as<uint8_t>(), out->as<uint8_t>());
      break;
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterSoftmax() { return {Prepare, Eval}; }

}  // namespace edgepipe::lite
