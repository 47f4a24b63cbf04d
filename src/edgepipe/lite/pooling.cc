// MAX_POOL_2D, AVERAGE_POOL_2D (NHWC) and MEAN.
// Pools average over the part of the window inside the input; int8 averages
// round half away from zero, as TFLite's reference kernels do.
// MEAN int8 over axes {1, 2} of a 4-D tensor follows TFLite's reference
// integer Mean: sum of (x - z_in), rescaled by s_in / s_out, divided by the
// count with rounding, plus z_out.
#include <algorithm>
#include <array>
#include <limits>
#include <type_traits>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

struct PoolState : KernelState {
  bool max = false;
  int batches = 0, in_h = 0, in_w = 0, ch = 0, out_h = 0, out_w = 0;
  int f_h = 0, f_w = 0, s_h = 1, s_w = 1, pad_h = 0, pad_w = 0;
  float fmin = 0, fmax = 0;
  int32_t act_min = 0, act_max = 0;
};

template <bool kMax>
Status PreparePool(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(1, 1, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  const auto* o = ctx.op() ? ctx.op()->builtin_options_as_Pool2DOptions() : nullptr;
  if (!o) return ctx.Error("missing Pool2DOptions");
  if (in->rank() != 4) return ctx.Error("input must be rank 4, is {}", in->rank());
  auto s = std::make_unique<PoolState>();
  s->max = kMax;
  s->batches = in->dim(0);
  s->in_h = in->dim(1);
  s->in_w = in->dim(2);
  s->ch = in->dim(3);
  s->f_h = o->filter_height();
  s->f_w = o->filter_width();
  s->s_h = o->stride_h();
  s->s_w = o->stride_w();
  if (s->f_h < 1 || s->f_w < 1 || s->s_h < 1 || s->s_w < 1)
    return ctx.Error("filter and strides must be >= 1");
  const Padding1D ph = ComputePadding(o->padding(), s->in_h, s->f_h, s->s_h, 1);
  const Padding1D pw = ComputePadding(o->padding(), s->in_w, s->f_w, s->s_w, 1);
  if (ph.out < 1 || pw.out < 1) return ctx.Error("output would be empty");
  s->out_h = ph.out;
  s->out_w = pw.out;
  s->pad_h = ph.before;
  s->pad_w = pw.before;
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(in, "input", {T::FLOAT32, T::INT8, T::UINT8}));
  if (out->type != in->type) return ctx.Unsupported("output type differs from input type");
  if (in->type == T::FLOAT32) {
    RETURN_IF_ERROR(FloatActivationRange(ctx, o->fused_activation_function(), &s->fmin, &s->fmax));
  } else {
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *in, "input"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *out, "output"));
    if (in->scale() != out->scale() || in->zero_point() != out->zero_point()) {
      return ctx.Unsupported("input and output quantization must match");
    }
    RETURN_IF_ERROR(QuantizedActivationRange(ctx, o->fused_activation_function(), *out, &s->act_min,
                                             &s->act_max));
  }
  RETURN_IF_ERROR(ctx.SetShape(out, {s->batches, s->out_h, s->out_w, s->ch}));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

template <typename T, typename Acc>
void Pool(const PoolState& s, const T* in, T* out, Acc lo, Acc hi) {
  for (int b = 0; b < s.batches; ++b) {
    for (int oy = 0; oy < s.out_h; ++oy) {
      for (int ox = 0; ox < s.out_w; ++ox) {
        const int y0 = std::max(0, oy * s.s_h - s.pad_h);
        const int y1 = std::min(s.in_h, oy * s.s_h - s.pad_h + s.f_h);
        const int x0 = std::max(0, ox * s.s_w - s.pad_w);
        const int x1 = std::min(s.in_w, ox * s.s_w - s.pad_w + s.f_w);
        for (int c = 0; c < s.ch; ++c) {
          Acc acc = s.max ? std::numeric_limits<Acc>::lowest() : Acc{0};
          int count = 0;
          for (int y = y0; y < y1; ++y) {
            for (int x = x0; x < x1; ++x) {
              const Acc v = static_cast<Acc>(
                  in[((static_cast<size_t>(b) * s.in_h + y) * s.in_w + x) * s.ch + c]);
              acc = s.max ? std::max(acc, v) : acc + v;
              ++count;
            }
          }
          if (!s.max && count > 0) {
            if constexpr (std::is_floating_point_v<Acc>) {
              acc /= static_cast<Acc>(count);
            } else {
              acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
            }
          }
          out[((static_cast<size_t>(b) * s.out_h + oy) * s.out_w + ox) * s.ch + c] =
              static_cast<T>(std::clamp(acc, lo, hi));
        }
      }
    }
  }
}

// Float MAX_POOL_2D with the channel loop innermost (vectorizable): the
// same std::max(acc, v) over the same window positions in the same order,
// then the same clamp, so outputs are bit-identical to Pool<float, float>.
void MaxPoolFloat(const PoolState& s, const float* in, float* out, float lo, float hi) {
  for (int b = 0; b < s.batches; ++b) {
    for (int oy = 0; oy < s.out_h; ++oy) {
      for (int ox = 0; ox < s.out_w; ++ox) {
        const int y0 = std::max(0, oy * s.s_h - s.pad_h);
        const int y1 = std::min(s.in_h, oy * s.s_h - s.pad_h + s.f_h);
        const int x0 = std::max(0, ox * s.s_w - s.pad_w);
        const int x1 = std::min(s.in_w, ox * s.s_w - s.pad_w + s.f_w);
        float* acc = out + ((static_cast<size_t>(b) * s.out_h + oy) * s.out_w + ox) * s.ch;
        std::fill(acc, acc + s.ch, std::numeric_limits<float>::lowest());
        for (int y = y0; y < y1; ++y) {
          for (int x = x0; x < x1; ++x) {
            const float* v = in + ((static_cast<size_t>(b) * s.in_h + y) * s.in_w + x) * s.ch;
            for (int c = 0; c < s.ch; ++c) acc[c] = std::max(acc[c], v[c]);
          }
        }
        for (int c = 0; c < s.ch; ++c) acc[c] = std::clamp(acc[c], lo, hi);
      }
    }
  }
}

Status EvalPool(KernelContext& ctx) {
  const PoolState& s = *ctx.state<PoolState>();
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  switch (in->type) {
    case tflite::TensorType::FLOAT32:
      if (s.max && in->data != out->data) {
        MaxPoolFloat(s, in->as<float>(), out->as<float>(), s.fmin, s.fmax);
      } else {
        Pool<float, float>(s, in->as<float>(), out->as<float>(), s.fmin, s.fmax);
      }
      break;
    case tflite::TensorType::INT8:
      Pool<int8_t, int32_t>(s, in->as<int8_t>(), out->as<int8_t>(), s.act_min, s.act_max);
      break;
    default:
      Pool<uint8_t, int32_t>(s, in->as<uint8_t>(), out->as<uint8_t>(), s.act_min, s.act_max);
      break;
  }
  return Status::Ok();
}

// ---- MEAN ----
struct MeanState : KernelState {
  std::vector<uint8_t> reduced;  // per input axis
  int64_t count = 1;             // elements averaged per output
  int32_t mult = 0;
  int shift = 0;
  int32_t in_zp = 0, out_zp = 0;
  // The reduced axes are adjacent (e.g. H, W of NHWC): the input is
  // [outer, reduce, inner] and Eval sums rows of `inner` elements into
  // `acc_i32` / `acc_f32` (Eval's scratch: one Invoke at a time), each
  // output's terms in the reference's order, so sums are bit-identical.
  bool blocked = false;
  int64_t outer = 1, reduce = 1, inner = 1;
  mutable std::vector<int32_t> acc_i32;
  mutable std::vector<float> acc_f32;
};

Status PrepareMean(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 2, 1));
  Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  const Tensor* axes_t = ctx.input(1);
  if (!axes_t->is_const || axes_t->type != tflite::TensorType::INT32) {
    return ctx.Unsupported("axes \"{}\" must be a constant int32 tensor", axes_t->name);
  }
  const auto* o = ctx.op() ? ctx.op()->builtin_options_as_ReducerOptions() : nullptr;
  const bool keep_dims = o && o->keep_dims();
  auto s = std::make_unique<MeanState>();
  s->reduced.assign(static_cast<size_t>(in->rank()), 0);
  for (int64_t i = 0; i < axes_t->num_elements(); ++i) {
    int32_t a = axes_t->as<int32_t>()[i];
    if (a < 0) a += in->rank();
    if (a < 0 || a >= in->rank())
      return ctx.Error("axis {} out of range for rank {}", axes_t->as<int32_t>()[i], in->rank());
    s->reduced[static_cast<size_t>(a)] = 1;
  }
  std::vector<int32_t> shape;
  for (int d = 0; d < in->rank(); ++d) {
    if (s->reduced[static_cast<size_t>(d)]) {
      s->count *= in->dim(d);
      if (keep_dims) shape.push_back(1);
    } else {
      shape.push_back(in->dim(d));
    }
  }
  if (s->count == 0) return ctx.Error("mean over an empty axis");
  {
    int first = -1, last = -1;
    for (int d = 0; d < in->rank(); ++d) {
      if (s->reduced[static_cast<size_t>(d)]) {
        if (first < 0) first = d;
        last = d;
      }
    }
    s->blocked = first >= 0;
    for (int d = std::max(first, 0); d <= last; ++d) {
      if (!s->reduced[static_cast<size_t>(d)]) s->blocked = false;
    }
    if (s->blocked) {
      for (int d = 0; d < first; ++d) s->outer *= in->dim(d);
      s->reduce = s->count;
      for (int d = last + 1; d < in->rank(); ++d) s->inner *= in->dim(d);
      if (in->type == tflite::TensorType::FLOAT32) {
        s->acc_f32.assign(static_cast<size_t>(s->inner), 0.0f);
      } else {
        s->acc_i32.assign(static_cast<size_t>(s->inner), 0);
      }
    }
  }
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(in, "input", {T::FLOAT32, T::INT8, T::UINT8}));
  if (out->type != in->type) return ctx.Unsupported("output type differs from input type");
  if (in->type != T::FLOAT32) {
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *in, "input"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *out, "output"));
    QuantizeMultiplier(static_cast<double>(in->scale()) / static_cast<double>(out->scale()),
                       &s->mult, &s->shift);
    s->in_zp = in->zero_point();
    s->out_zp = out->zero_point();
  }
  RETURN_IF_ERROR(ctx.SetShape(out, std::move(shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

// Sums over reduced axes into acc (one entry per output element).
template <typename T, typename Acc, typename F>
void ReduceSum(const MeanState& s, const Tensor& in, const T* x, int64_t out_n, F finish) {
  if (s.blocked) {
    std::vector<Acc>& acc = [&]() -> std::vector<Acc>& {
      if constexpr (std::is_same_v<Acc, float>) {
        return s.acc_f32;
      } else {
        return s.acc_i32;
      }
    }();
    const auto inner = static_cast<size_t>(s.inner);
    for (int64_t o = 0; o < s.outer; ++o) {
      std::fill(acc.begin(), acc.end(), Acc{0});
      const T* block = x + static_cast<size_t>(o * s.reduce) * inner;
      for (int64_t r = 0; r < s.reduce; ++r) {
        const T* row = block + static_cast<size_t>(r) * inner;
        for (size_t i = 0; i < inner; ++i) acc[i] += static_cast<Acc>(row[i]);
      }
      for (size_t i = 0; i < inner; ++i) finish(o * s.inner + static_cast<int64_t>(i), acc[i]);
    }
    return;
  }
  const int rank = in.rank();
  // Output index of each input element: strides over kept axes.
  std::array<int64_t, 8> ostride{};
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    if (!s.reduced[static_cast<size_t>(d)]) {
      ostride[static_cast<size_t>(d)] = stride;
      stride *= in.dim(d);
    }
  }
  // Accumulate output by output so that Eval needs no scratch memory: loop
  // over outputs, then over reduced coordinates.
  std::array<int32_t, 8> kept{};
  for (int64_t o = 0; o < out_n; ++o) {
    // Decode o into kept coordinates.
    int64_t rem = o;
    for (int d = 0; d < rank; ++d) {
      if (!s.reduced[static_cast<size_t>(d)]) {
        kept[static_cast<size_t>(d)] = static_cast<int32_t>(rem / ostride[static_cast<size_t>(d)]);
        rem %= ostride[static_cast<size_t>(d)];
      }
    }
    Acc acc = 0;
    std::array<int32_t, 8> red{};
    for (int64_t k = 0; k < s.count; ++k) {
      int64_t idx = 0;
      for (int d = 0; d < rank; ++d) {
        const size_t du = static_cast<size_t>(d);
        idx = idx * in.dim(d) + (s.reduced[du] ? red[du] : kept[du]);
      }
      acc += static_cast<Acc>(x[idx]);
      for (int d = rank - 1; d >= 0; --d) {
        const size_t du = static_cast<size_t>(d);
        if (!s.reduced[du]) continue;
        if (++red[du] < in.dim(d)) break;
        red[du] = 0;
      }
    }
    finish(o, acc);
  }
}

template <typename T>
void MeanQuant(const MeanState& s, const Tensor& in, Tensor* out) {
  T* y = out->as<T>();
  const auto n = static_cast<int32_t>(s.count);
  ReduceSum<T, int32_t>(s, in, in.as<T>(), out->num_elements(), [&](int64_t o, int32_t sum) {
    int32_t acc = sum - s.in_zp * n;
    acc = MultiplyByQuantizedMultiplier(acc, s.mult, s.shift);
    acc = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
    acc += s.out_zp;
    y[o] = static_cast<T>(
        std::clamp<int32_t>(acc, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
  });
}

Status EvalMean(KernelContext& ctx) {
  const MeanState& s = *ctx.state<MeanState>();
  const Tensor* in = ctx.input(0);
  Tensor* out = ctx.output(0);
  switch (in->type) {
    case tflite::TensorType::FLOAT32: {
      float* y = out->as<float>();
      ReduceSum<float, float>(
          s, *in, in->as<float>(), out->num_elements(),
          [&](int64_t o, float sum) { y[o] = sum / static_cast<float>(s.count); });
      break;
    }
    case tflite::TensorType::INT8:
      MeanQuant<int8_t>(s, *in, out);
      break;
    default:
      MeanQuant<uint8_t>(s, *in, out);
      break;
  }
  return Status::Ok();
}

}  // namespace

KernelRegistration RegisterMaxPool2D() { return {PreparePool<true>, EvalPool}; }
KernelRegistration RegisterAveragePool2D() { return {PreparePool<false>, EvalPool}; }
KernelRegistration RegisterMean() { return {PrepareMean, EvalMean}; }

}  // namespace edgepipe::lite
