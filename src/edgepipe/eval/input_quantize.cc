#include "edgepipe/eval/input_quantize.h"

#include <limits>

#include "edgepipe/eval/model_runner.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define EDGEPIPE_QUANTIZE_AVX2 1
#endif

namespace edgepipe::eval {
namespace {

template <typename Q>
void Scalar(const float* src, int64_t count, float scale, int32_t zp, Q* dst) {
  constexpr int32_t lo = std::numeric_limits<Q>::min();
  constexpr int32_t hi = std::numeric_limits<Q>::max();
  for (int64_t j = 0; j < count; ++j) {
    dst[j] = static_cast<Q>(QuantizeValue(src[j], scale, zp, lo, hi));
  }
}

#ifdef EDGEPIPE_QUANTIZE_AVX2

// 8 floats -> 8 int32 in [qmin, qmax]: QuantizeValue's rule, exactly.
// f = x / scale; t = trunc(f) and f - t are exact in float, so adding
// copysign(1, f) when |f - t| >= 0.5 rounds half away from zero without the
// double rounding of f + 0.5. |f| >= 2^23 is already an integer (f - t = 0),
// and t +- 1 stays exact below it. The clamp to [qmin - zp, qmax - zp] comes
// before the conversion (so it is defined) and sends NaN to the low end
// (max_ps returns its second operand for NaN), as QuantizeValue does.
struct Avx2Consts {
  __m256 scale, lo, hi, half, one, abs_mask, sign_mask;
  __m256i zp;
};

__attribute__((target("avx2"))) inline __m256i Quantize8(const float* p, const Avx2Consts& c) {
  const __m256 f = _mm256_div_ps(_mm256_loadu_ps(p), c.scale);
  const __m256 t = _mm256_round_ps(f, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
  const __m256 frac = _mm256_and_ps(_mm256_sub_ps(f, t), c.abs_mask);
  const __m256 up = _mm256_cmp_ps(frac, c.half, _CMP_GE_OQ);
  const __m256 step = _mm256_or_ps(c.one, _mm256_and_ps(f, c.sign_mask));
  __m256 r = _mm256_add_ps(t, _mm256_and_ps(up, step));
  r = _mm256_min_ps(_mm256_max_ps(r, c.lo), c.hi);
  return _mm256_add_epi32(_mm256_cvttps_epi32(r), c.zp);
}

template <typename Q>
__attribute__((target("avx2"))) void Avx2(const float* src, int64_t count, float scale, int32_t zp,
                                          Q* dst) {
  constexpr int32_t qmin = std::numeric_limits<Q>::min();
  constexpr int32_t qmax = std::numeric_limits<Q>::max();
  Avx2Consts c;
  c.scale = _mm256_set1_ps(scale);
  c.lo = _mm256_set1_ps(static_cast<float>(qmin - zp));
  c.hi = _mm256_set1_ps(static_cast<float>(qmax - zp));
  c.half = _mm256_set1_ps(0.5f);
  c.one = _mm256_set1_ps(1.0f);
  c.abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  c.sign_mask = _mm256_set1_ps(-0.0f);
  c.zp = _mm256_set1_epi32(zp);
  // The packs interleave the two 128-bit lanes; this puts the 32 bytes back
  // in order. The values are already in range, so the saturation is a no-op.
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  int64_t j = 0;
  for (; j + 32 <= count; j += 32) {
    const __m256i a = Quantize8(src + j, c);
    const __m256i b = Quantize8(src + j + 8, c);
    const __m256i d = Quantize8(src + j + 16, c);
    const __m256i e = Quantize8(src + j + 24, c);
    const __m256i ab = _mm256_packs_epi32(a, b);
    const __m256i de = _mm256_packs_epi32(d, e);
    const __m256i bytes = std::numeric_limits<Q>::is_signed ? _mm256_packs_epi16(ab, de)
                                                            : _mm256_packus_epi16(ab, de);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j),
                        _mm256_permutevar8x32_epi32(bytes, order));
  }
  Scalar(src + j, count - j, scale, zp, dst + j);
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

#endif  // EDGEPIPE_QUANTIZE_AVX2

template <typename Q>
void Dispatch(const float* src, int64_t count, float scale, int32_t zp, Q* dst) {
#ifdef EDGEPIPE_QUANTIZE_AVX2
  // qmin - zp and qmax - zp must be exact in float.
  constexpr int32_t kMaxZeroPoint = 1 << 20;
  if (HasAvx2() && zp >= -kMaxZeroPoint && zp <= kMaxZeroPoint) {
    Avx2(src, count, scale, zp, dst);
    return;
  }
#endif
  Scalar(src, count, scale, zp, dst);
}

}  // namespace

void QuantizeFloats(const float* src, int64_t count, float scale, int32_t zero_point, int8_t* dst) {
  Dispatch(src, count, scale, zero_point, dst);
}
void QuantizeFloats(const float* src, int64_t count, float scale, int32_t zero_point,
                    uint8_t* dst) {
  Dispatch(src, count, scale, zero_point, dst);
}
void QuantizeFloatsScalar(const float* src, int64_t count, float scale, int32_t zero_point,
                          int8_t* dst) {
  Scalar(src, count, scale, zero_point, dst);
}
void QuantizeFloatsScalar(const float* src, int64_t count, float scale, int32_t zero_point,
                          uint8_t* dst) {
  Scalar(src, count, scale, zero_point, dst);
}

}  // namespace edgepipe::eval
