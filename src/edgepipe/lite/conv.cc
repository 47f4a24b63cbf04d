// CONV_2D and DEPTHWISE_CONV_2D, NHWC.
// CONV_2D:   input [N,H,W,C], filter [O,KH,KW,C], bias [O] -> [N,OH,OW,O].
// DEPTHWISE: input [N,H,W,C], filter [1,KH,KW,C*M], bias [C*M] -> [N,OH,OW,C*M];
//            output channel oc = c * M + m reads input channel c.
// Float CONV_2D runs ConvFloatFast (conv_float.h) on AVX2+FMA CPUs (within
// the float contract of fully_connected_float.h: 1e-5 relative), int8/uint8
// CONV_2D ConvQuantFast (conv_quant.h, bit-identical to the reference).
#include <algorithm>

#include "edgepipe/lite/conv_float.h"
#include "edgepipe/lite/conv_quant.h"
#include "edgepipe/lite/fully_connected_fast.h"
#include "edgepipe/lite/fully_connected_float.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

struct ConvState : KernelState, ConvGeometry {
  bool depthwise = false;
  float fmin = 0, fmax = 0;
  ConvQuant q;
  // Quantized CONV_2D with a constant filter: FcFilterRowSums of the filter
  // as [out_c, k_h * k_w * in_c] for ConvQuantFast; empty otherwise (Eval
  // then runs the reference loop).
  std::vector<int32_t> row_sums;
  // With row_sums on an AVX2 CPU: the packed filter and the input scratch
  // of FullyConnectedQuantPacked (Eval writes the scratch: one Invoke at a
  // time per interpreter).
  FcPackedFilter packed;
  std::vector<int16_t> scratch;
  // With row_sums, a constant bias and a VNNI CPU: the int8 GEMM core's
  // packed weights and scratch (gemm_int8.h), used instead of `packed`.
  GemmInt8Weights gemm;
  GemmInt8Scratch gemm_scratch;
  // Float CONV_2D on an AVX2 CPU: the filter packed by ConvPackFloatFilter
  // (at Prepare when constant and finite, else per Eval into the same
  // buffer), whether `fpacked` holds the constant filter, and the im2col
  // scratch of ConvFloatFast (Eval writes both: one Invoke at a time per
  // interpreter).
  std::vector<float> fpacked;
  bool fpacked_const = false;
  bool fpack_per_eval = false;  // the filter is not a constant
  std::vector<float> fcols;
};

Status PrepareCommon(KernelContext& ctx, bool depthwise) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 3, 1));
  Tensor* input = ctx.input(0);
  Tensor* filter = ctx.input(1);
  Tensor* bias = ctx.input(2);
  Tensor* output = ctx.output(0);
  auto s = std::make_unique<ConvState>();
  s->depthwise = depthwise;
  tflite::Padding padding = tflite::Padding::SAME;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
  if (depthwise) {
    const auto* o = ctx.op() ? ctx.op()->builtin_options_as_DepthwiseConv2DOptions() : nullptr;
    if (!o) return ctx.Error("missing DepthwiseConv2DOptions");
    padding = o->padding();
    s->stride_h = o->stride_h();
    s->stride_w = o->stride_w();
    s->dil_h = o->dilation_h_factor();
    s->dil_w = o->dilation_w_factor();
    act = o->fused_activation_function();
  } else {
    const auto* o = ctx.op() ? ctx.op()->builtin_options_as_Conv2DOptions() : nullptr;
    if (!o) return ctx.Error("missing Conv2DOptions");
    padding = o->padding();
    s->stride_h = o->stride_h();
    s->stride_w = o->stride_w();
    s->dil_h = o->dilation_h_factor();
    s->dil_w = o->dilation_w_factor();
    act = o->fused_activation_function();
  }
  if (s->stride_h < 1 || s->stride_w < 1 || s->dil_h < 1 || s->dil_w < 1) {
    return ctx.Error("strides ({}, {}) and dilations ({}, {}) must be >= 1", s->stride_h,
                     s->stride_w, s->dil_h, s->dil_w);
  }
  if (input->rank() != 4 || filter->rank() != 4) {
    return ctx.Error("input \"{}\" and filter \"{}\" must be rank 4 (are {} and {})", input->name,
                     filter->name, input->rank(), filter->rank());
  }
  s->batches = input->dim(0);
  s->in_h = input->dim(1);
  s->in_w = input->dim(2);
  s->in_c = input->dim(3);
  s->k_h = filter->dim(1);
  s->k_w = filter->dim(2);
  if (depthwise) {
    if (filter->dim(0) != 1)
      return ctx.Error("depthwise filter dim 0 is {}, must be 1", filter->dim(0));
    s->out_c = filter->dim(3);
    if (s->in_c <= 0 || s->out_c % s->in_c != 0) {
      return ctx.Error("filter channels {} are not a multiple of input channels {}", s->out_c,
                       s->in_c);
    }
    s->multiplier = s->out_c / s->in_c;
  } else {
    s->out_c = filter->dim(0);
    if (filter->dim(3) != s->in_c) {
      return ctx.Unsupported("filter depth {} != input depth {} (grouped convolution)",
                             filter->dim(3), s->in_c);
    }
  }
  if (s->k_h < 1 || s->k_w < 1) return ctx.Error("empty filter");
  // A PAD the interpreter folded in (KernelContext::folded_pad): the op's
  // padding is computed on the padded size; the folded rows and columns are
  // out-of-image taps, which hold the zero point as SAME padding does.
  const KernelContext::FoldedPad& fp = ctx.folded_pad;
  const Padding1D ph =
      ComputePadding(padding, s->in_h + fp.top + fp.bottom, s->k_h, s->stride_h, s->dil_h);
  const Padding1D pw =
      ComputePadding(padding, s->in_w + fp.left + fp.right, s->k_w, s->stride_w, s->dil_w);
  if (ph.out < 1 || pw.out < 1) return ctx.Error("output would be empty ({}x{})", ph.out, pw.out);
  s->out_h = ph.out;
  s->out_w = pw.out;
  s->pad_h = ph.before + fp.top;
  s->pad_w = pw.before + fp.left;
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(input, "input", {T::FLOAT32, T::INT8, T::UINT8}));
  if (output->type != input->type || filter->type != input->type) {
    return ctx.Unsupported("input {}, filter {}, output {}: mixed types are not supported",
                           TensorTypeName(input->type), TensorTypeName(filter->type),
                           TensorTypeName(output->type));
  }
  if (bias && bias->num_elements() != s->out_c) {
    return ctx.Error("bias \"{}\" has {} elements, expected {}", bias->name, bias->num_elements(),
                     s->out_c);
  }
  if ((fp.top | fp.bottom | fp.left | fp.right) != 0 && input->type == T::FLOAT32) {
    return ctx.Error("a folded PAD needs an int8/uint8 input");
  }
  if (input->type == T::FLOAT32) {
    if (bias && bias->type != T::FLOAT32) return ctx.Error("float bias must be float32");
    RETURN_IF_ERROR(FloatActivationRange(ctx, act, &s->fmin, &s->fmax));
    if (!depthwise && FullyConnectedFloatHasAvx2() && filter->is_const && filter->data != nullptr) {
      s->fpacked_const = ConvPackFloatFilter(*s, filter->as<float>(), &s->fpacked);
    }
    s->fpack_per_eval = !filter->is_const;
  } else {
    RETURN_IF_ERROR(PrepareConvQuant(ctx, *input, *filter, bias, *output, s->out_c,
                                     depthwise ? 3 : 0, act, &s->q));
    if (!depthwise && filter->is_const && filter->data != nullptr) {
      const int depth = s->k_h * s->k_w * s->in_c;
      s->row_sums = input->type == T::INT8
                        ? FcFilterRowSums(filter->as<int8_t>(), s->out_c, depth)
                        : FcFilterRowSums(filter->as<uint8_t>(), s->out_c, depth);
      const bool bias_const = bias == nullptr || (bias->is_const && bias->data != nullptr);
      if (GemmInt8HasVnni() && bias_const) {
        const int32_t* b = bias ? bias->as<int32_t>() : nullptr;
        s->gemm = input->type == T::INT8
                      ? GemmInt8Pack(s->q, filter->as<int8_t>(), s->out_c, depth, b)
                      : GemmInt8Pack(s->q, filter->as<uint8_t>(), s->out_c, depth, b);
      } else if (FullyConnectedQuantPackedAvailable()) {
        s->packed =
            input->type == T::INT8
                ? FcPackQuantFilter(filter->as<int8_t>(), s->out_c, depth, s->q.filter_offset)
                : FcPackQuantFilter(filter->as<uint8_t>(), s->out_c, depth, s->q.filter_offset);
      }
    }
  }
  RETURN_IF_ERROR(ctx.SetShape(output, {s->batches, s->out_h, s->out_w, s->out_c}));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

// One kernel for both ops and all types: Acc accumulates products of
// (input + input_offset) and (filter + filter_offset); Finish maps an
// accumulator of output channel oc to the stored value.
template <typename T, typename Acc, typename Finish>
void Convolve(const ConvState& s, const T* input, const T* filter, T* output, Acc in_off,
              Acc filter_off, Finish finish) {
  for (int b = 0; b < s.batches; ++b) {
    for (int oy = 0; oy < s.out_h; ++oy) {
      for (int ox = 0; ox < s.out_w; ++ox) {
        T* out = output + ((static_cast<size_t>(b) * s.out_h + oy) * s.out_w + ox) * s.out_c;
        for (int oc = 0; oc < s.out_c; ++oc) {
          Acc acc = 0;
          for (int ky = 0; ky < s.k_h; ++ky) {
            const int iy = oy * s.stride_h - s.pad_h + ky * s.dil_h;
            if (iy < 0 || iy >= s.in_h) continue;
            for (int kx = 0; kx < s.k_w; ++kx) {
              const int ix = ox * s.stride_w - s.pad_w + kx * s.dil_w;
              if (ix < 0 || ix >= s.in_w) continue;
              const T* in = input + ((static_cast<size_t>(b) * s.in_h + iy) * s.in_w + ix) * s.in_c;
              if (s.depthwise) {
                const Acc w =
                    static_cast<Acc>(filter[(static_cast<size_t>(ky) * s.k_w + kx) * s.out_c + oc]);
                acc += (w + filter_off) * (static_cast<Acc>(in[oc / s.multiplier]) + in_off);
              } else {
                const T* w =
                    filter + ((static_cast<size_t>(oc) * s.k_h + ky) * s.k_w + kx) * s.in_c;
                for (int ic = 0; ic < s.in_c; ++ic) {
                  acc +=
                      (static_cast<Acc>(w[ic]) + filter_off) * (static_cast<Acc>(in[ic]) + in_off);
                }
              }
            }
          }
          out[oc] = finish(acc, oc);
        }
      }
    }
  }
}

template <typename T>
void EvalQuant(ConvState& s, const Tensor* input, const Tensor* filter, const Tensor* bias,
               Tensor* output) {
  const int32_t* b = bias ? bias->as<int32_t>() : nullptr;
  const ConvGeometry& g = s;
  if (s.depthwise) {
    DepthwiseQuantFast(s.q, g, input->as<T>(), filter->as<T>(), b, output->as<T>());
  } else if (!s.row_sums.empty()) {
    ConvQuantFast(s.q, g, input->as<T>(), filter->as<T>(), s.row_sums.data(), b, output->as<T>(),
                  s.packed.data.empty() ? nullptr : &s.packed, &s.scratch,
                  s.gemm.data.empty() ? nullptr : &s.gemm, &s.gemm_scratch);
  } else {
    ConvQuantReference(s.q, g, false, input->as<T>(), filter->as<T>(), b, output->as<T>());
  }
}

Status Eval(KernelContext& ctx) {
  ConvState& s = *ctx.state<ConvState>();
  const Tensor* input = ctx.input(0);
  const Tensor* filter = ctx.input(1);
  const Tensor* bias = ctx.input(2);
  Tensor* output = ctx.output(0);
  switch (input->type) {
    case tflite::TensorType::FLOAT32: {
      const float* b = bias ? bias->as<float>() : nullptr;
      if (!s.depthwise && FullyConnectedFloatHasAvx2()) {
        const ConvGeometry& g = s;
        if (s.fpacked_const ||
            (s.fpack_per_eval && ConvPackFloatFilter(g, filter->as<float>(), &s.fpacked))) {
          ConvFloatFast(g, input->as<float>(), s.fpacked.data(), b, s.fmin, s.fmax,
                        output->as<float>(), &s.fcols);
          return Status::Ok();
        }
      }
      Convolve<float, float>(
          s, input->as<float>(), filter->as<float>(), output->as<float>(), 0.0f, 0.0f,
          [&](float acc, int oc) { return std::clamp(acc + (b ? b[oc] : 0.0f), s.fmin, s.fmax); });
      return Status::Ok();
    }
    case tflite::TensorType::INT8:
      EvalQuant<int8_t>(s, input, filter, bias, output);
      return Status::Ok();
    case tflite::TensorType::UINT8:
      EvalQuant<uint8_t>(s, input, filter, bias, output);
      return Status::Ok();
    default:
      return ctx.Unsupported("type {}", TensorTypeName(input->type));
  }
}

Status PrepareConv(KernelContext& ctx) { return PrepareCommon(ctx, false); }
Status PrepareDepthwise(KernelContext& ctx) { return PrepareCommon(ctx, true); }

}  // namespace

KernelRegistration RegisterConv2D() { return {PrepareConv, Eval, true}; }
KernelRegistration RegisterDepthwiseConv2D() { return {PrepareDepthwise, Eval, true}; }

}  // namespace edgepipe::lite
