// FULLY_CONNECTED with float input/output and int8 weights (TFLite's hybrid
// kernel, as the dynamic-range quantizer writes it). Per batch row b:
//   q[b], s[b], zp[b] = quantize(input[b])   (asymmetric when the op's
//                       asymmetric_quantize_inputs is set, else symmetric;
//                       always asymmetric in Arithmetic::kLiteRt)
//   acc[b, o] = sum_d filter[o, d] * q[b, d] - zp[b] * sum_d filter[o, d]
//   output[b, o] = act(bias[o] + float(acc) * (s[b] * filter_scale[o]))
// filter [O, D] int8, per tensor or per channel (axis 0); bias float [O].
// RegisterFullyConnectedWithHybrid() sends every other type combination to
// the float/int8 kernel of fully_connected.cc.
#include <algorithm>

#include "edgepipe/lite/hybrid_quant.h"
#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

struct HybridFcState : KernelState {
  int batches = 0;
  int depth = 0;
  int units = 0;
  bool asymmetric = false;
  float fmin = 0, fmax = 0;
  std::vector<float> filter_scale;  // 1 (per tensor) or `units` entries
  // Scratch, sized in Prepare so that Eval does not allocate.
  std::vector<int8_t> q;
  std::vector<float> row_scale;
  std::vector<int32_t> row_offset;
  std::vector<int32_t> row_sums;
};

bool IsHybrid(const KernelContext& ctx) {
  const Tensor* input = ctx.input(0);
  const Tensor* filter = ctx.input(1);
  return input && filter && input->type == tflite::TensorType::FLOAT32 &&
         filter->type == tflite::TensorType::INT8;
}

Status PrepareHybrid(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 3, 1));
  Tensor* input = ctx.input(0);
  Tensor* filter = ctx.input(1);
  Tensor* bias = ctx.input(2);
  Tensor* output = ctx.output(0);
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(output, "output", {T::FLOAT32}));
  if (bias) RETURN_IF_ERROR(ctx.CheckType(bias, "bias", {T::FLOAT32}));
  auto s = std::make_unique<HybridFcState>();
  const auto* opts = ctx.op() ? ctx.op()->builtin_options_as_FullyConnectedOptions() : nullptr;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
  bool keep_num_dims = false;
  if (opts) {
    act = opts->fused_activation_function();
    keep_num_dims = opts->keep_num_dims();
    // LiteRT quantizes the input rows asymmetrically whatever the flag says
    // (quantizer_litert_test's hybrid_fc_symmetric shows it); kReference
    // follows the flag as TFLite's reference kernel does.
    s->asymmetric = opts->asymmetric_quantize_inputs() || ctx.arithmetic() == Arithmetic::kLiteRt;
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
  const QuantParams& fq = *filter->quant;
  if (fq.empty()) return ctx.Error("int8 filter \"{}\" has no quantization", filter->name);
  if (!fq.per_tensor() && (static_cast<int>(fq.scale.size()) != s->units || fq.axis != 0)) {
    return ctx.Error("filter \"{}\": {} scales on axis {}, expected 1 or {} on axis 0",
                     filter->name, fq.scale.size(), fq.axis, s->units);
  }
  for (size_t c = 0; c < fq.scale.size(); ++c) {
    if (!(fq.scale[c] > 0)) {
      return ctx.Error("filter \"{}\" scale[{}] = {} must be positive", filter->name, c,
                       fq.scale[c]);
    }
    if (fq.zero_point[c] != 0) {
      return ctx.Error("int8 filter \"{}\" zero_point[{}] = {} must be 0", filter->name, c,
                       fq.zero_point[c]);
    }
  }
  s->filter_scale = fq.scale;
  RETURN_IF_ERROR(FloatActivationRange(ctx, act, &s->fmin, &s->fmax));
  const size_t batches = static_cast<size_t>(s->batches);
  s->q.resize(batches * static_cast<size_t>(s->depth));
  s->row_scale.resize(batches);
  s->row_offset.resize(batches);
  s->row_sums.resize(static_cast<size_t>(s->units));
  std::vector<int32_t> out_shape;
  if (keep_num_dims) {
    out_shape = input->shape;
    out_shape.back() = s->units;
  } else {
    out_shape = {s->batches, s->units};
  }
  RETURN_IF_ERROR(ctx.SetShape(output, std::move(out_shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

Status EvalHybrid(KernelContext& ctx) {
  HybridFcState& s = *ctx.state<HybridFcState>();
  const float* input = ctx.input(0)->as<float>();
  const int8_t* filter = ctx.input(1)->as<int8_t>();
  const Tensor* bias_t = ctx.input(2);
  const float* bias = bias_t ? bias_t->as<float>() : nullptr;
  float* output = ctx.output(0)->as<float>();
  const size_t depth = static_cast<size_t>(s.depth);
  const bool per_channel = s.filter_scale.size() > 1;
  for (int b = 0; b < s.batches; ++b) {
    const size_t at = static_cast<size_t>(b) * depth;
    std::span<const float> x(input + at, depth);
    std::span<int8_t> q(s.q.data() + at, depth);
    if (s.asymmetric) {
      AsymmetricQuantizeFloats(x, q, &s.row_scale[static_cast<size_t>(b)],
                               &s.row_offset[static_cast<size_t>(b)]);
    } else {
      SymmetricQuantizeFloats(x, q, &s.row_scale[static_cast<size_t>(b)]);
      s.row_offset[static_cast<size_t>(b)] = 0;
    }
    if (!per_channel) s.row_scale[static_cast<size_t>(b)] *= s.filter_scale[0];
  }
  for (int o = 0; o < s.units; ++o) {
    int32_t sum = 0;
    const int8_t* w = filter + static_cast<size_t>(o) * depth;
    for (size_t d = 0; d < depth; ++d) sum += w[d];
    s.row_sums[static_cast<size_t>(o)] = sum;
  }
  for (int b = 0; b < s.batches; ++b) {
    const int8_t* q = s.q.data() + static_cast<size_t>(b) * depth;
    const float row_scale = s.row_scale[static_cast<size_t>(b)];
    const int32_t offset = s.row_offset[static_cast<size_t>(b)];
    for (int o = 0; o < s.units; ++o) {
      const int8_t* w = filter + static_cast<size_t>(o) * depth;
      int32_t acc = 0;
      for (size_t d = 0; d < depth; ++d) acc += static_cast<int32_t>(w[d]) * q[d];
      acc -= s.row_sums[static_cast<size_t>(o)] * offset;
      float scale = row_scale;
      if (per_channel) scale *= s.filter_scale[static_cast<size_t>(o)];
      float v = bias ? bias[o] : 0.0f;
      v += static_cast<float>(acc) * scale;
      output[static_cast<size_t>(b) * static_cast<size_t>(s.units) + static_cast<size_t>(o)] =
          std::clamp(v, s.fmin, s.fmax);
    }
  }
  return Status::Ok();
}

Status Prepare(KernelContext& ctx) {
  return IsHybrid(ctx) ? PrepareHybrid(ctx) : RegisterFullyConnected().prepare(ctx);
}

Status Eval(KernelContext& ctx) {
  return IsHybrid(ctx) ? EvalHybrid(ctx) : RegisterFullyConnected().eval(ctx);
}

}  // namespace

KernelRegistration RegisterFullyConnectedWithHybrid() { return {Prepare, Eval}; }

}  // namespace edgepipe::lite
