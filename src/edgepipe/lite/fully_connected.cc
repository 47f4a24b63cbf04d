// FULLY_CONNECTED: output[b, o] = act(sum_d input[b, d] * filter[o, d] + bias[o]).
// input [..., D] is read as [batches, D]; filter [O, D]; bias [O] optional.
#include <algorithm>

#include "edgepipe/lite/fully_connected_fast.h"
#include "edgepipe/lite/fully_connected_float.h"
#include "edgepipe/lite/fully_connected_packed.h"
#include "edgepipe/lite/gemm_int8.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

struct FcState : KernelState {
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
  int batches = 0;
  int depth = 0;
  int units = 0;
  float fmin = 0, fmax = 0;
  ConvQuant q;
  // Quantized with a constant filter: sum of each filter row (see
  // fully_connected_fast.h); empty otherwise (Eval then runs the reference
  // loop, which needs no precomputation).
  std::vector<int32_t> row_sums;
  // Float with a constant filter: the filter packed for the fast loop
  // (fully_connected_float.h); empty otherwise (reference loop).
  std::vector<float> packed;
  // Float with a non-constant filter: packed per Eval (reused buffer).
  std::vector<float> packed_scratch;
  // Quantized with a constant filter on an AVX2 CPU: the packed filter and
  // the input scratch of FullyConnectedQuantPacked (Eval writes the
  // scratch: one Invoke at a time per interpreter).
  FcPackedFilter packed_q;
  std::vector<int16_t> scratch;
  // Quantized with a constant filter and bias on a VNNI CPU: the int8 GEMM
  // core's packed weights and its scratch (gemm_int8.h); used instead of
  // packed_q (same outputs).
  GemmInt8Weights gemm;
  GemmInt8Scratch gemm_scratch;
};

Status Prepare(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 3, 1));
  Tensor* input = ctx.input(0);
  Tensor* filter = ctx.input(1);
  Tensor* bias = ctx.input(2);
  Tensor* output = ctx.output(0);
  auto s = std::make_unique<FcState>();
  const auto* opts = ctx.op() ? ctx.op()->builtin_options_as_FullyConnectedOptions() : nullptr;
  bool keep_num_dims = false;
  if (opts) {
    s->act = opts->fused_activation_function();
    keep_num_dims = opts->keep_num_dims();
    if (opts->weights_format() != tflite::FullyConnectedOptionsWeightsFormat::DEFAULT) {
      return ctx.Unsupported("shuffled weights format");
    }
  }
  if (filter->rank() != 2)
    return ctx.Error("filter \"{}\" must be rank 2, is rank {}", filter->name, filter->rank());
  s->units = filter->dim(0);
  s->depth = filter->dim(1);
  if (s->depth <= 0 || input->rank() < 1 || input->num_elements() % s->depth != 0) {
    return ctx.Error("input \"{}\" with {} elements is not a multiple of filter depth {}",
                     input->name, input->num_elements(), s->depth);
  }
  s->batches = static_cast<int>(input->num_elements() / s->depth);
  if (bias && bias->num_elements() != s->units) {
    return ctx.Error("bias \"{}\" has {} elements, expected {}", bias->name, bias->num_elements(),
                     s->units);
  }
  std::vector<int32_t> out_shape;
  if (keep_num_dims) {
    out_shape = input->shape;
    out_shape.back() = s->units;
  } else {
    out_shape = {s->batches, s->units};
  }
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(input, "input", {T::FLOAT32, T::INT8, T::UINT8}));
  if (output->type != input->type || filter->type != input->type) {
    return ctx.Unsupported(
        "input {}, filter {}, output {}: hybrid or mixed types are not supported",
        TensorTypeName(input->type), TensorTypeName(filter->type), TensorTypeName(output->type));
  }
  if (input->type == T::FLOAT32) {
    if (bias && bias->type != T::FLOAT32) return ctx.Error("float bias must be float32");
    RETURN_IF_ERROR(FloatActivationRange(ctx, s->act, &s->fmin, &s->fmax));
    if (filter->is_const && filter->data != nullptr) {
      s->packed = FcPackFloatFilter(filter->as<float>(), s->units, s->depth);
    }
  } else {
    RETURN_IF_ERROR(
        PrepareConvQuant(ctx, *input, *filter, bias, *output, s->units, 0, s->act, &s->q));
    if (filter->is_const && filter->data != nullptr) {
      s->row_sums = input->type == T::INT8
                        ? FcFilterRowSums(filter->as<int8_t>(), s->units, s->depth)
                        : FcFilterRowSums(filter->as<uint8_t>(), s->units, s->depth);
      const bool bias_const = bias == nullptr || (bias->is_const && bias->data != nullptr);
      if (GemmInt8HasVnni() && bias_const) {
        const int32_t* b = bias ? bias->as<int32_t>() : nullptr;
        s->gemm = input->type == T::INT8
                      ? GemmInt8Pack(s->q, filter->as<int8_t>(), s->units, s->depth, b)
                      : GemmInt8Pack(s->q, filter->as<uint8_t>(), s->units, s->depth, b);
      } else if (FullyConnectedQuantPackedAvailable()) {
        s->packed_q =
            input->type == T::INT8
                ? FcPackQuantFilter(filter->as<int8_t>(), s->units, s->depth, s->q.filter_offset)
                : FcPackQuantFilter(filter->as<uint8_t>(), s->units, s->depth, s->q.filter_offset);
      }
    }
  }
  RETURN_IF_ERROR(ctx.SetShape(output, std::move(out_shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

void EvalFloat(FcState& s, const float* input, const float* filter, const float* bias,
               float* output) {
  const FcShape shape{s.batches, s.depth, s.units};
  if (!s.packed.empty()) {
    FullyConnectedFloatFast(shape, input, s.packed.data(), bias, s.fmin, s.fmax, output);
  } else if (FullyConnectedFloatHasAvx2()) {
    // A filter computed at run time (e.g. DEQUANTIZE of float16 weights):
    // packing it costs one pass over the filter, less than the reference
    // loop's scalar pass; same float contract (fully_connected_float.h).
    FcPackFloatFilterInto(filter, s.units, s.depth, &s.packed_scratch);
    FullyConnectedFloatFast(shape, input, s.packed_scratch.data(), bias, s.fmin, s.fmax, output);
  } else {
    FullyConnectedFloatReference(shape, input, filter, bias, s.fmin, s.fmax, output);
  }
}

template <typename T>
void EvalQuant(FcState& s, const T* input, const T* filter, const int32_t* bias, T* output) {
  const FcShape shape{s.batches, s.depth, s.units};
  if (!s.gemm.data.empty()) {
    GemmInt8(s.q, s.gemm, s.batches, input, output, &s.gemm_scratch);
  } else if (!s.packed_q.data.empty()) {
    FullyConnectedQuantPacked(s.q, shape, input, s.packed_q, bias, output, &s.scratch);
  } else if (s.row_sums.empty()) {
    FullyConnectedQuantReference(s.q, shape, input, filter, bias, output);
  } else {
    FullyConnectedQuantFast(s.q, shape, input, filter, s.row_sums.data(), bias, output);
  }
}

Status Eval(KernelContext& ctx) {
  FcState& s = *ctx.state<FcState>();
  const Tensor* input = ctx.input(0);
  const Tensor* filter = ctx.input(1);
  const Tensor* bias = ctx.input(2);
  Tensor* output = ctx.output(0);
  switch (input->type) {
    case tflite::TensorType::FLOAT32:
      EvalFloat(s, input->as<float>(), filter->as<float>(), bias ? bias->as<float>() : nullptr,
                output->as<float>());
      return Status::Ok();
    case tflite::TensorType::INT8:
      EvalQuant(s, input->as<int8_t>(), filter->as<int8_t>(), bias ? bias->as<int32_t>() : nullptr,
                output->as<int8_t>());
      return Status::Ok();
    case tflite::TensorType::UINT8:
      EvalQuant(s, input->as<uint8_t>(), filter->as<uint8_t>(),
                bias ? bias->as<int32_t>() : nullptr, output->as<uint8_t>());
      return Status::Ok();
    default:
      return ctx.Unsupported("type {}", TensorTypeName(input->type));
  }
}

}  // namespace

KernelRegistration RegisterFullyConnected() { return {Prepare, Eval}; }

}  // namespace edgepipe::lite
