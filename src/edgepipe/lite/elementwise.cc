// ADD, SUB, MUL with numpy-style broadcasting (rank <= 8).
// int8/uint8 ADD/SUB: TFLite's reference scheme: both inputs shifted left by
// 20 bits and rescaled to twice the larger input scale, summed, rescaled to
// the output. MUL: (x1 - z1) * (x2 - z2) rescaled by s1 * s2 / s_out.
#include "edgepipe/lite/elementwise.h"

#include <algorithm>
#include <array>
#include <type_traits>

#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"
#include "edgepipe/lite/quant_simd.h"

namespace edgepipe::lite {
namespace {

enum class Kind { kAdd, kSub, kMul };

struct BinaryState : KernelState {
  Kind kind = Kind::kAdd;
  std::vector<int64_t> stride1, stride2;
  float fmin = 0, fmax = 0;
  int32_t act_min = 0, act_max = 0;
  int32_t in1_offset = 0, in2_offset = 0, out_offset = 0;
  int32_t in1_mult = 0, in2_mult = 0, out_mult = 0;
  // MUL in Arithmetic::kLiteRt: XNNPACK's float product scale (else 0).
  float mul_fp32_scale = 0.0f;
  // ADD in Arithmetic::kLiteRt: XNNPACK's integer add parameters.
  bool xnn_add = false;
  Fp32AddParams add;
  int in1_shift = 0, in2_shift = 0, out_shift = 0;
  // Both inputs have the output's shape (no broadcasting): flat loops.
  bool same_shape = false;
  static constexpr int kLeftShift = 20;
};

template <Kind K>
Status Prepare(KernelContext& ctx) {
  RETURN_IF_ERROR(ctx.CheckArity(2, 2, 1));
  Tensor* a = ctx.input(0);
  Tensor* b = ctx.input(1);
  Tensor* out = ctx.output(0);
  auto s = std::make_unique<BinaryState>();
  s->kind = K;
  tflite::ActivationFunctionType act = tflite::ActivationFunctionType::NONE;
  if (ctx.op()) {
    if (K == Kind::kAdd) {
      if (const auto* o = ctx.op()->builtin_options_as_AddOptions())
        act = o->fused_activation_function();
    } else if (K == Kind::kSub) {
      if (const auto* o = ctx.op()->builtin_options_as_SubOptions())
        act = o->fused_activation_function();
    } else if (const auto* o = ctx.op()->builtin_options_as_MulOptions()) {
      act = o->fused_activation_function();
    }
  }
  // Broadcast shape.
  const int rank = std::max(a->rank(), b->rank());
  std::vector<int32_t> shape(static_cast<size_t>(rank));
  for (int i = 0; i < rank; ++i) {
    const int da = i < rank - a->rank() ? 1 : a->dim(i - (rank - a->rank()));
    const int db = i < rank - b->rank() ? 1 : b->dim(i - (rank - b->rank()));
    if (da != db && da != 1 && db != 1) {
      return ctx.Error("shapes of \"{}\" and \"{}\" do not broadcast on axis {} ({} vs {})",
                       a->name, b->name, i, da, db);
    }
    shape[static_cast<size_t>(i)] = da == 1 ? db : da;
  }
  s->stride1 = BroadcastStrides(a->shape, shape);
  s->stride2 = BroadcastStrides(b->shape, shape);
  using T = tflite::TensorType;
  RETURN_IF_ERROR(ctx.CheckType(a, "input 0", {T::FLOAT32, T::INT8, T::UINT8, T::INT32}));
  if (b->type != a->type || out->type != a->type)
    return ctx.Unsupported("mixed input/output types");
  if (a->type == T::FLOAT32) {
    RETURN_IF_ERROR(FloatActivationRange(ctx, act, &s->fmin, &s->fmax));
  } else if (a->type == T::INT32) {
    if (act != tflite::ActivationFunctionType::NONE)
      return ctx.Unsupported("int32 with activation");
  } else {
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *a, "input 0"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *b, "input 1"));
    RETURN_IF_ERROR(CheckPerTensorQuant(ctx, *out, "output"));
    RETURN_IF_ERROR(QuantizedActivationRange(ctx, act, *out, &s->act_min, &s->act_max));
    s->in1_offset = -a->zero_point();
    s->in2_offset = -b->zero_point();
    s->out_offset = out->zero_point();
    if (K == Kind::kMul) {
      const double real = static_cast<double>(a->scale()) * static_cast<double>(b->scale()) /
                          static_cast<double>(out->scale());
      QuantizeMultiplier(real, &s->out_mult, &s->out_shift);
      if (ctx.arithmetic() == Arithmetic::kLiteRt) {
        s->mul_fp32_scale = Fp32RequantScale(a->scale(), b->scale(), out->scale());
      }
    } else {
      const double twice_max = 2.0 * static_cast<double>(std::max(a->scale(), b->scale()));
      QuantizeMultiplier(static_cast<double>(a->scale()) / twice_max, &s->in1_mult, &s->in1_shift);
      QuantizeMultiplier(static_cast<double>(b->scale()) / twice_max, &s->in2_mult, &s->in2_shift);
      QuantizeMultiplier(
          twice_max / ((1 << BinaryState::kLeftShift) * static_cast<double>(out->scale())),
          &s->out_mult, &s->out_shift);
      if (K == Kind::kSub) s->in2_mult = -s->in2_mult;
      if (K == Kind::kAdd && ctx.arithmetic() == Arithmetic::kLiteRt) {
        s->xnn_add = ComputeXnnAddParams(a->scale(), a->zero_point(), b->scale(), b->zero_point(),
                                         out->scale(), &s->add);
      }
    }
  }
  s->same_shape = a->shape == shape && b->shape == shape;
  RETURN_IF_ERROR(ctx.SetShape(out, std::move(shape)));
  ctx.set_state(std::move(s));
  return Status::Ok();
}

// Calls f(out_index, index1, index2) for every output element.
template <typename F>
void ForEachBroadcast(const BinaryState& s, const Tensor& out, F f) {
  const int rank = out.rank();
  std::array<int32_t, 8> idx{};
  int64_t i1 = 0, i2 = 0;
  const int64_t n = out.num_elements();
  for (int64_t o = 0; o < n; ++o) {
    f(o, i1, i2);
    for (int d = rank - 1; d >= 0; --d) {
      const size_t du = static_cast<size_t>(d);
      ++idx[du];
      i1 += s.stride1[du];
      i2 += s.stride2[du];
      if (idx[du] < out.dim(d)) break;
      i1 -= s.stride1[du] * idx[du];
      i2 -= s.stride2[du] * idx[du];
      idx[du] = 0;
    }
  }
}

// Calls f(out_index, index1, index2, n, step1, step2) for each run of n
// output elements along the innermost axis: element j of the run is output
// o + j, input 1 at i1 + j * step1, input 2 at i2 + j * step2 (steps are 0
// for an input broadcast along that axis, else 1). Visits the same element
// pairs as ForEachBroadcast, a run at a time, so tight loops replace the
// per-element index carry.
template <typename F>
void ForEachBroadcastRun(const BinaryState& s, const Tensor& out, F f) {
  const int rank = out.rank();
  if (rank == 0) {
    f(0, 0, 0, 1, 0, 0);
    return;
  }
  const size_t last = static_cast<size_t>(rank - 1);
  const int64_t n = out.dim(rank - 1);
  const int64_t step1 = s.stride1[last], step2 = s.stride2[last];
  const int64_t total = out.num_elements();
  if (n == 0 || total == 0) return;
  std::array<int32_t, 8> idx{};
  int64_t i1 = 0, i2 = 0;
  for (int64_t o = 0; o < total; o += n) {
    f(o, i1, i2, n, step1, step2);
    for (int d = rank - 2; d >= 0; --d) {
      const size_t du = static_cast<size_t>(d);
      ++idx[du];
      i1 += s.stride1[du];
      i2 += s.stride2[du];
      if (idx[du] < out.dim(d)) break;
      i1 -= s.stride1[du] * idx[du];
      i2 -= s.stride2[du] * idx[du];
      idx[du] = 0;
    }
  }
}

// y[j] = op(x[j * sx], z[j * sz]) for j < n, clamped; the three stride
// patterns get their own loops so the common ones (both contiguous, one
// broadcast) compile to straight, vectorizable code.
template <typename T, typename Op, typename Clamp>
inline void BinaryRun(const T* x, const T* z, T* y, int64_t n, int64_t sx, int64_t sz, Op op,
                      Clamp clamp) {
  if (sx == 1 && sz == 1) {
    for (int64_t j = 0; j < n; ++j) y[j] = clamp(op(x[j], z[j]));
  } else if (sx == 1 && sz == 0) {
    const T b = z[0];
    for (int64_t j = 0; j < n; ++j) y[j] = clamp(op(x[j], b));
  } else if (sx == 0 && sz == 1) {
    const T a = x[0];
    for (int64_t j = 0; j < n; ++j) y[j] = clamp(op(a, z[j]));
  } else {
    for (int64_t j = 0; j < n; ++j) y[j] = clamp(op(x[j * sx], z[j * sz]));
  }
}

template <typename T, typename Op, typename Clamp>
void BinaryBroadcast(const BinaryState& s, const Tensor& out, const T* x, const T* z, T* y, Op op,
                     Clamp clamp) {
  ForEachBroadcastRun(s, out,
                      [&](int64_t o, int64_t i1, int64_t i2, int64_t n, int64_t s1, int64_t s2) {
                        BinaryRun(x + i1, z + i2, y + o, n, s1, s2, op, clamp);
                      });
}

template <typename Op>
void FloatBroadcast(const BinaryState& s, const Tensor& out, const float* x, const float* z,
                    float* y, Op op) {
  const float lo = s.fmin, hi = s.fmax;
  BinaryBroadcast(s, out, x, z, y, op, [lo, hi](float v) { return std::clamp(v, lo, hi); });
}

// TFLite's reference int8/uint8 ADD/SUB of one element pair.
template <typename T>
inline T AddQuantOne(const BinaryState& s, T a, T b) {
  const int32_t x1 = s.in1_offset + a;
  const int32_t x2 = s.in2_offset + b;
  const int32_t sx1 =
      MultiplyByQuantizedMultiplier(x1 * (1 << BinaryState::kLeftShift), s.in1_mult, s.in1_shift);
  const int32_t sx2 =
      MultiplyByQuantizedMultiplier(x2 * (1 << BinaryState::kLeftShift), s.in2_mult, s.in2_shift);
  const int32_t r =
      MultiplyByQuantizedMultiplier(sx1 + sx2, s.out_mult, s.out_shift) + s.out_offset;
  return static_cast<T>(std::clamp(r, s.act_min, s.act_max));
}

#ifdef EDGEPIPE_QUANT_SIMD_X86
// AddQuantOne over n same-shape elements, 16 per step (AVX-512 F/BW/VL),
// bit-exact (quant_simd.h); the multipliers come from QuantizeMultiplier
// (never INT32_MIN). Returns the number of elements done (a multiple of 16).
template <typename T>
EDGEPIPE_TARGET_AVX512 int64_t AddQuantAvx512(const BinaryState& s, const T* a, const T* b, T* y,
                                              int64_t n) {
  const __m512i m1 = _mm512_set1_epi32(s.in1_mult);
  const __m512i l1 = _mm512_set1_epi32(s.in1_shift > 0 ? s.in1_shift : 0);
  const __m512i r1 = _mm512_set1_epi32(s.in1_shift > 0 ? 0 : -s.in1_shift);
  const __m512i m2 = _mm512_set1_epi32(s.in2_mult);
  const __m512i l2 = _mm512_set1_epi32(s.in2_shift > 0 ? s.in2_shift : 0);
  const __m512i r2 = _mm512_set1_epi32(s.in2_shift > 0 ? 0 : -s.in2_shift);
  const __m512i mo = _mm512_set1_epi32(s.out_mult);
  const __m512i lo = _mm512_set1_epi32(s.out_shift > 0 ? s.out_shift : 0);
  const __m512i ro = _mm512_set1_epi32(s.out_shift > 0 ? 0 : -s.out_shift);
  const __m512i off1 = _mm512_set1_epi32(s.in1_offset), off2 = _mm512_set1_epi32(s.in2_offset);
  const __m512i amin = _mm512_set1_epi32(s.act_min - s.out_offset);
  const __m512i amax = _mm512_set1_epi32(s.act_max - s.out_offset);
  const __m512i oo = _mm512_set1_epi32(s.out_offset);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m128i va = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    const __m128i vb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    __m512i x1, x2;
    if constexpr (std::is_same_v<T, int8_t>) {
      x1 = _mm512_cvtepi8_epi32(va);
      x2 = _mm512_cvtepi8_epi32(vb);
    } else {
      x1 = _mm512_cvtepu8_epi32(va);
      x2 = _mm512_cvtepu8_epi32(vb);
    }
    x1 = _mm512_slli_epi32(_mm512_add_epi32(x1, off1), BinaryState::kLeftShift);
    x2 = _mm512_slli_epi32(_mm512_add_epi32(x2, off2), BinaryState::kLeftShift);
    const __m512i sum = _mm512_add_epi32(MultiplyByQuantizedMultiplierAvx512(x1, m1, l1, r1),
                                         MultiplyByQuantizedMultiplierAvx512(x2, m2, l2, r2));
    __m512i r = MultiplyByQuantizedMultiplierAvx512(sum, mo, lo, ro);
    // clamp(r + off, act_min, act_max) == clamp(r, act_min - off, act_max - off) + off.
    r = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(r, amin), amax), oo);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm512_cvtepi32_epi8(r));
  }
  return i;
}

template <typename T>
__attribute__((target("avx2"))) int64_t AddQuantAvx2(const BinaryState& s, const T* a, const T* b,
                                                     T* y, int64_t n) {
  const __m256i m1 = _mm256_set1_epi32(s.in1_mult);
  const __m256i l1 = _mm256_set1_epi32(s.in1_shift > 0 ? s.in1_shift : 0);
  const __m256i r1 = _mm256_set1_epi32(s.in1_shift > 0 ? 0 : -s.in1_shift);
  const __m256i m2 = _mm256_set1_epi32(s.in2_mult);
  const __m256i l2 = _mm256_set1_epi32(s.in2_shift > 0 ? s.in2_shift : 0);
  const __m256i r2 = _mm256_set1_epi32(s.in2_shift > 0 ? 0 : -s.in2_shift);
  const __m256i mo = _mm256_set1_epi32(s.out_mult);
  const __m256i lo = _mm256_set1_epi32(s.out_shift > 0 ? s.out_shift : 0);
  const __m256i ro = _mm256_set1_epi32(s.out_shift > 0 ? 0 : -s.out_shift);
  const __m256i off1 = _mm256_set1_epi32(s.in1_offset), off2 = _mm256_set1_epi32(s.in2_offset);
  const __m256i amin = _mm256_set1_epi32(s.act_min - s.out_offset);
  const __m256i amax = _mm256_set1_epi32(s.act_max - s.out_offset);
  const __m256i oo = _mm256_set1_epi32(s.out_offset);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m128i va = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(a + i));
    const __m128i vb = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(b + i));
    __m256i x1, x2;
    if constexpr (std::is_same_v<T, int8_t>) {
      x1 = _mm256_cvtepi8_epi32(va);
      x2 = _mm256_cvtepi8_epi32(vb);
    } else {
      x1 = _mm256_cvtepu8_epi32(va);
      x2 = _mm256_cvtepu8_epi32(vb);
    }
    x1 = _mm256_slli_epi32(_mm256_add_epi32(x1, off1), BinaryState::kLeftShift);
    x2 = _mm256_slli_epi32(_mm256_add_epi32(x2, off2), BinaryState::kLeftShift);
    const __m256i sum = _mm256_add_epi32(MultiplyByQuantizedMultiplierAvx2(x1, m1, l1, r1),
                                         MultiplyByQuantizedMultiplierAvx2(x2, m2, l2, r2));
    __m256i r = MultiplyByQuantizedMultiplierAvx2(sum, mo, lo, ro);
    r = _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(r, amin), amax), oo);
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
    const __m128i p = std::is_same_v<T, int8_t> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
    _mm_storel_epi64(reinterpret_cast<__m128i*>(y + i), p);
  }
  return i;
}
#endif

int g_add_path_override = -1;  // SetElementwiseQuantPathForTesting

int BestAddPath() {
#ifdef EDGEPIPE_QUANT_SIMD_X86
  static const int best = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                                  __builtin_cpu_supports("avx512vl")
                              ? 2
                          : __builtin_cpu_supports("avx2") ? 1
                                                           : 0;
  return best;
#else
  return 0;
#endif
}

int AddQuantPath() {
  return g_add_path_override >= 0 ? std::min(g_add_path_override, BestAddPath()) : BestAddPath();
}

template <typename T>
void EvalQuant(const BinaryState& s, const T* a, const T* b, T* y, const Tensor& out) {
  if (s.same_shape && s.kind != Kind::kMul && !s.xnn_add) {
    const int64_t n = out.num_elements();
    int64_t done = 0;
#ifdef EDGEPIPE_QUANT_SIMD_X86
    const int path = AddQuantPath();
    if (path == 2) done = AddQuantAvx512(s, a, b, y, n);
    if (path == 1) done = AddQuantAvx2(s, a, b, y, n);
#endif
    for (int64_t i = done; i < n; ++i) y[i] = AddQuantOne(s, a[i], b[i]);
    return;
  }
  ForEachBroadcast(s, out, [&](int64_t o, int64_t i1, int64_t i2) {
    const int32_t x1 = s.in1_offset + a[i1];
    const int32_t x2 = s.in2_offset + b[i2];
    int32_t r = 0;
    if (s.kind == Kind::kMul) {
      r = (s.mul_fp32_scale != 0.0f
               ? RequantizeFp32(x1 * x2, s.mul_fp32_scale)
               : MultiplyByQuantizedMultiplier(x1 * x2, s.out_mult, s.out_shift)) +
          s.out_offset;
    } else if (s.xnn_add) {
      // Raw stored values; the zero points are folded into the bias.
      const int32_t acc = s.add.bias + static_cast<int32_t>(a[i1]) * s.add.a_multiplier +
                          static_cast<int32_t>(b[i2]) * s.add.b_multiplier;
      r = (acc >> s.add.shift) + s.out_offset;
    } else {
      const int32_t sx1 = MultiplyByQuantizedMultiplier(x1 * (1 << BinaryState::kLeftShift),
                                                        s.in1_mult, s.in1_shift);
      const int32_t sx2 = MultiplyByQuantizedMultiplier(x2 * (1 << BinaryState::kLeftShift),
                                                        s.in2_mult, s.in2_shift);
      r = MultiplyByQuantizedMultiplier(sx1 + sx2, s.out_mult, s.out_shift) + s.out_offset;
    }
    y[o] = static_cast<T>(std::clamp(r, s.act_min, s.act_max));
  });
}

Status Eval(KernelContext& ctx) {
  const BinaryState& s = *ctx.state<BinaryState>();
  const Tensor* a = ctx.input(0);
  const Tensor* b = ctx.input(1);
  Tensor* out = ctx.output(0);
  switch (a->type) {
    case tflite::TensorType::FLOAT32: {
      const float* x = a->as<float>();
      const float* z = b->as<float>();
      float* y = out->as<float>();
      if (s.kind == Kind::kAdd) {
        FloatBroadcast(s, *out, x, z, y, [](float u, float v) { return u + v; });
      } else if (s.kind == Kind::kSub) {
        FloatBroadcast(s, *out, x, z, y, [](float u, float v) { return u - v; });
      } else {
        FloatBroadcast(s, *out, x, z, y, [](float u, float v) { return u * v; });
      }
      return Status::Ok();
    }
    case tflite::TensorType::INT32: {
      // Wrapping arithmetic, as TFLite's int32 kernels on two's complement.
      const auto* x = reinterpret_cast<const uint32_t*>(a->as<int32_t>());
      const auto* z = reinterpret_cast<const uint32_t*>(b->as<int32_t>());
      auto* y = reinterpret_cast<uint32_t*>(out->as<int32_t>());
      const auto same = [](uint32_t v) { return v; };
      if (s.kind == Kind::kAdd) {
        BinaryBroadcast(
            s, *out, x, z, y, [](uint32_t u, uint32_t v) { return u + v; }, same);
      } else if (s.kind == Kind::kSub) {
        BinaryBroadcast(
            s, *out, x, z, y, [](uint32_t u, uint32_t v) { return u - v; }, same);
      } else {
        BinaryBroadcast(
            s, *out, x, z, y, [](uint32_t u, uint32_t v) { return u * v; }, same);
      }
      return Status::Ok();
    }
    case tflite::TensorType::INT8:
      EvalQuant(s, a->as<int8_t>(), b->as<int8_t>(), out->as<int8_t>(), *out);
      return Status::Ok();
    default:
      EvalQuant(s, a->as<uint8_t>(), b->as<uint8_t>(), out->as<uint8_t>(), *out);
      return Status::Ok();
  }
}

}  // namespace

int ElementwiseQuantBestPath() { return BestAddPath(); }
void SetElementwiseQuantPathForTesting(int path) { g_add_path_override = path; }

KernelRegistration RegisterAdd() { return {Prepare<Kind::kAdd>, Eval}; }
KernelRegistration RegisterSub() { return {Prepare<Kind::kSub>, Eval}; }
KernelRegistration RegisterMul() { return {Prepare<Kind::kMul>, Eval}; }

}  // namespace edgepipe::lite
