// CONV_2D and DEPTHWISE_CONV_2D with float input/output and int8 per-channel
// weights (TFLite's hybrid per-channel kernels). Per batch b the whole input
// image is quantized asymmetrically (q[b], s[b], zp[b], see hybrid_quant.h);
// for output channel oc the int32 sum of filter * (q - zp[b]) over the
// in-bounds taps (padding contributes nothing) is scaled back:
//   CONV_2D:   out = act(float(acc) * filter_scale[oc] * s[b] + bias[oc])
//   DEPTHWISE: out = act(float(acc) * (filter_scale[oc] * s[b]) + bias[oc])
// (the two TFLite kernels associate the product differently; kept as is).
// Filters: CONV [O,KH,KW,C] scales on axis 0, O > 1; DEPTHWISE
// [1,KH,KW,C*M] scales on axis 3. Bias float. Other type combinations go to
// the kernels of conv.cc.
//
// CONV_2D fast loop (EvalHybridConvFast): the same integer accumulators,
// per output pixel across all output channels at once (the filter stored
// transposed as int32 [k_h * k_w * in_c, out_c] at Prepare, or per Eval when
// not constant; an AVX2 build of the loop when the CPU has it), skipping the
// same out-of-bounds taps; integer sums are order-free and the float
// epilogue is the same expression, so outputs are bit-identical.
#include <algorithm>

#include "edgepipe/lite/hybrid_quant.h"
#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

struct HybridConvState : KernelState {
  bool depthwise = false;
  int batches = 0, in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int k_h = 0, k_w = 0;
  int stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int pad_h = 0, pad_w = 0;
  int multiplier = 1;
  float fmin = 0, fmax = 0;
  std::vector<float> filter_scale;
  std::vector<int8_t> q;  // scratch: the quantized input
  std::vector<float> batch_scale;
  std::vector<int32_t> batch_offset;
  // CONV_2D: the filter as int32 [k_h * k_w * in_c, out_c] (transposed),
  // filled at Prepare when constant (else per Eval), and out_c int32
  // accumulators (Eval writes both: one Invoke at a time per interpreter).
  std::vector<int32_t> filter_t;
  bool filter_t_const = false;
  std::vector<int32_t> acc;
};

// filter [out_c, depth] -> filter_t [depth, out_c].
void TransposeFilter(const int8_t* filter, int out_c, int depth, std::vector<int32_t>* out) {
  out->resize(static_cast<size_t>(out_c) * depth);
  for (int oc = 0; oc < out_c; ++oc) {
    for (int d = 0; d < depth; ++d) {
      (*out)[static_cast<size_t>(d) * out_c + oc] = filter[static_cast<size_t>(oc) * depth + d];
    }
  }
}

// acc[o] += x * w[o] for o < n (int32; the products |x| <= 255, |w| <= 128).
inline void AccumulateRow(int32_t* acc, int32_t x, const int32_t* w, int n) {
  for (int o = 0; o < n; ++o) acc[o] += x * w[o];
}
#if defined(__x86_64__) && defined(__GNUC__)
__attribute__((target("avx2"))) void AccumulateRowAvx2(int32_t* acc, int32_t x, const int32_t* w,
                                                       int n) {
  AccumulateRow(acc, x, w, n);
}
bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

bool IsHybrid(const KernelContext& ctx) {
  const Tensor* input = ctx.input(0);
  const Tensor* filter = ctx.input(1);
  return input && filter && input->type == tflite::TensorType::FLOAT32 &&
         filter->type == tflite::TensorType::INT8;
}

Status PrepareHybrid(KernelContext& ctx, bool depthwise) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 3, 1));
  Tensor* input = ctx.input(0);
  Tensor* filter = ctx.input(1);
  Tensor* bias = ctx.input(2);
  Tensor* output = ctx.output(0);
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(output, "output", {T::FLOAT32}));
  if (bias) RETURN_IF_ERROR(ctx.CheckType(bias, "bias", {T::FLOAT32}));
  auto s = std::make_unique<HybridConvState>();
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
  int channel_axis = 0;
  if (depthwise) {
    if (filter->dim(0) != 1)
      return ctx.Error("depthwise filter dim 0 is {}, must be 1", filter->dim(0));
    s->out_c = filter->dim(3);
    if (s->in_c <= 0 || s->out_c % s->in_c != 0) {
      return ctx.Error("filter channels {} are not a multiple of input channels {}", s->out_c,
                       s->in_c);
    }
    s->multiplier = s->out_c / s->in_c;
    channel_axis = 3;
  } else {
    s->out_c = filter->dim(0);
    if (filter->dim(3) != s->in_c) {
      return ctx.Unsupported("filter depth {} != input depth {} (grouped convolution)",
                             filter->dim(3), s->in_c);
    }
  }
  if (s->k_h < 1 || s->k_w < 1) return ctx.Error("empty filter");
  const QuantParams& fq = *filter->quant;
  if (static_cast<int>(fq.scale.size()) != s->out_c || fq.axis != channel_axis ||
      (!depthwise && s->out_c < 2)) {
    return ctx.Unsupported(
        "hybrid filter \"{}\" must be quantized per channel ({} scales on axis {}), has {} "
        "scales on axis {}",
        filter->name, s->out_c, channel_axis, fq.scale.size(), fq.axis);
  }
  for (size_t c = 0; c < fq.scale.size(); ++c) {
    if (!(fq.scale[c] > 0) || fq.zero_point[c] != 0) {
      return ctx.Error("filter \"{}\" channel {}: scale {} must be positive, zero point {} 0",
                       filter->name, c, fq.scale[c], fq.zero_point[c]);
    }
  }
  s->filter_scale = fq.scale;
  if (bias && bias->num_elements() != s->out_c) {
    return ctx.Error("bias \"{}\" has {} elements, expected {}", bias->name, bias->num_elements(),
                     s->out_c);
  }
  const Padding1D ph = ComputePadding(padding, s->in_h, s->k_h, s->stride_h, s->dil_h);
  const Padding1D pw = ComputePadding(padding, s->in_w, s->k_w, s->stride_w, s->dil_w);
  if (ph.out < 1 || pw.out < 1) return ctx.Error("output would be empty ({}x{})", ph.out, pw.out);
  s->out_h = ph.out;
  s->out_w = pw.out;
  s->pad_h = ph.before;
  s->pad_w = pw.before;
  RETURN_IF_ERROR(FloatActivationRange(ctx, act, &s->fmin, &s->fmax));
  s->q.resize(static_cast<size_t>(input->num_elements()));
  s->batch_scale.resize(static_cast<size_t>(s->batches));
  s->batch_offset.resize(static_cast<size_t>(s->batches));
  if (!depthwise) {
    s->acc.resize(static_cast<size_t>(s->out_c));
    if (filter->is_const && filter->data != nullptr) {
      TransposeFilter(filter->as<int8_t>(), s->out_c, s->k_h * s->k_w * s->in_c, &s->filter_t);
      s->filter_t_const = true;
    }
  }
  RETURN_IF_ERROR(ctx.SetShape(output, {s->batches, s->out_h, s->out_w, s->out_c}));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

// CONV_2D over the quantized input s.q (see the file comment).
void EvalHybridConvFast(HybridConvState& s, const int8_t* filter, const float* bias,
                        float* output) {
  const int depth = s.k_h * s.k_w * s.in_c;
  if (!s.filter_t_const) TransposeFilter(filter, s.out_c, depth, &s.filter_t);
#if defined(__x86_64__) && defined(__GNUC__)
  const bool avx2 = HasAvx2();
#endif
  const size_t image = static_cast<size_t>(s.in_h) * s.in_w * s.in_c;
  int32_t* acc = s.acc.data();
  for (int b = 0; b < s.batches; ++b) {
    const int32_t zp = s.batch_offset[static_cast<size_t>(b)];
    const float bscale = s.batch_scale[static_cast<size_t>(b)];
    const int8_t* qin = s.q.data() + static_cast<size_t>(b) * image;
    for (int oy = 0; oy < s.out_h; ++oy) {
      for (int ox = 0; ox < s.out_w; ++ox) {
        std::fill(s.acc.begin(), s.acc.end(), 0);
        for (int ky = 0; ky < s.k_h; ++ky) {
          const int iy = oy * s.stride_h - s.pad_h + ky * s.dil_h;
          if (iy < 0 || iy >= s.in_h) continue;
          for (int kx = 0; kx < s.k_w; ++kx) {
            const int ix = ox * s.stride_w - s.pad_w + kx * s.dil_w;
            if (ix < 0 || ix >= s.in_w) continue;
            const int8_t* in = qin + (static_cast<size_t>(iy) * s.in_w + ix) * s.in_c;
            const int32_t* w =
                s.filter_t.data() + (static_cast<size_t>(ky) * s.k_w + kx) * s.in_c * s.out_c;
            for (int ic = 0; ic < s.in_c; ++ic, w += s.out_c) {
              const int32_t x = static_cast<int32_t>(in[ic]) - zp;
#if defined(__x86_64__) && defined(__GNUC__)
              if (avx2) {
                AccumulateRowAvx2(acc, x, w, s.out_c);
                continue;
              }
#endif
              AccumulateRow(acc, x, w, s.out_c);
            }
          }
        }
        float* out = output + ((static_cast<size_t>(b) * s.out_h + oy) * s.out_w + ox) * s.out_c;
        for (int oc = 0; oc < s.out_c; ++oc) {
          float v = static_cast<float>(acc[oc]) * s.filter_scale[static_cast<size_t>(oc)] * bscale;
          if (bias) v += bias[oc];
          out[oc] = std::clamp(v, s.fmin, s.fmax);
        }
      }
    }
  }
}

Status EvalHybrid(KernelContext& ctx) {
  HybridConvState& s = *ctx.state<HybridConvState>();
  const float* input = ctx.input(0)->as<float>();
  const int8_t* filter = ctx.input(1)->as<int8_t>();
  const Tensor* bias_t = ctx.input(2);
  const float* bias = bias_t ? bias_t->as<float>() : nullptr;
  float* output = ctx.output(0)->as<float>();
  const size_t image = static_cast<size_t>(s.in_h) * s.in_w * s.in_c;
  for (int b = 0; b < s.batches; ++b) {
    const size_t at = static_cast<size_t>(b) * image;
    AsymmetricQuantizeFloats(
        std::span<const float>(input + at, image), std::span<int8_t>(s.q.data() + at, image),
        &s.batch_scale[static_cast<size_t>(b)], &s.batch_offset[static_cast<size_t>(b)]);
  }
  if (!s.depthwise) {
    EvalHybridConvFast(s, filter, bias, output);
    return Status::Ok();
  }
  for (int b = 0; b < s.batches; ++b) {
    const int32_t zp = s.batch_offset[static_cast<size_t>(b)];
    const float bscale = s.batch_scale[static_cast<size_t>(b)];
    const int8_t* qin = s.q.data() + static_cast<size_t>(b) * image;
    for (int oy = 0; oy < s.out_h; ++oy) {
      for (int ox = 0; ox < s.out_w; ++ox) {
        float* out = output + ((static_cast<size_t>(b) * s.out_h + oy) * s.out_w + ox) * s.out_c;
        for (int oc = 0; oc < s.out_c; ++oc) {
          int32_t acc = 0;
          for (int ky = 0; ky < s.k_h; ++ky) {
            const int iy = oy * s.stride_h - s.pad_h + ky * s.dil_h;
            if (iy < 0 || iy >= s.in_h) continue;
            for (int kx = 0; kx < s.k_w; ++kx) {
              const int ix = ox * s.stride_w - s.pad_w + kx * s.dil_w;
              if (ix < 0 || ix >= s.in_w) continue;
              const int8_t* in = qin + (static_cast<size_t>(iy) * s.in_w + ix) * s.in_c;
              if (s.depthwise) {
                const int32_t w = filter[(static_cast<size_t>(ky) * s.k_w + kx) * s.out_c + oc];
                acc += w * (static_cast<int32_t>(in[oc / s.multiplier]) - zp);
              } else {
                const int8_t* w =
                    filter + ((static_cast<size_t>(oc) * s.k_h + ky) * s.k_w + kx) * s.in_c;
                for (int ic = 0; ic < s.in_c; ++ic) {
                  acc += static_cast<int32_t>(w[ic]) * (static_cast<int32_t>(in[ic]) - zp);
                }
              }
            }
          }
          const float fs = s.filter_scale[static_cast<size_t>(oc)];
          float v = s.depthwise ? static_cast<float>(acc) * (fs * bscale)
                                : static_cast<float>(acc) * fs * bscale;
          if (bias) v += bias[oc];
          out[oc] = std::clamp(v, s.fmin, s.fmax);
        }
      }
    }
  }
  return Status::Ok();
}

Status PrepareConv(KernelContext& ctx) {
  return IsHybrid(ctx) ? PrepareHybrid(ctx, false) : RegisterConv2D().prepare(ctx);
}
Status EvalConv(KernelContext& ctx) {
  return IsHybrid(ctx) ? EvalHybrid(ctx) : RegisterConv2D().eval(ctx);
}
Status PrepareDepthwise(KernelContext& ctx) {
  return IsHybrid(ctx) ? PrepareHybrid(ctx, true) : RegisterDepthwiseConv2D().prepare(ctx);
}
Status EvalDepthwise(KernelContext& ctx) {
  return IsHybrid(ctx) ? EvalHybrid(ctx) : RegisterDepthwiseConv2D().eval(ctx);
}

}  // namespace

// folds_input_pad: the fold only applies to int8/uint8 (non-hybrid) convs,
// which go to the plain kernels above.
KernelRegistration RegisterConv2DWithHybrid() { return {PrepareConv, EvalConv, true}; }
KernelRegistration RegisterDepthwiseConv2DWithHybrid() {
  return {PrepareDepthwise, EvalDepthwise, true};
}

}  // namespace edgepipe::lite
