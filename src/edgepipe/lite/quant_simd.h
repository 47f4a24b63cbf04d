// Vector forms of the fixed-point requantization of quant_math.h, for x86
// kernels that dispatch at run time (callers must check the CPU:
// __builtin_cpu_supports("avx2") / "avx512f" + "avx512bw" + "avx512vl").
//
// MultiplyByQuantizedMultiplier{Avx2,Avx512}(x, m, lshift, rshift) equals,
// lane by lane, MultiplyByQuantizedMultiplier(x, m, shift) with
// lshift = max(shift, 0) and rshift = max(-shift, 0) (each in [0, 31]),
// for every lane whose multiplier m is not INT32_MIN (SRDHM's saturating
// case; QuantizeMultiplier never produces it). How: SRDHM(a, m) is the low
// 32 bits of floor((a * m + 2^30) / 2^31) (gemmlowp's nudge and
// truncating division amount to this), computed on the even and odd lanes'
// 64-bit products; the rounding right shift adds 1 when the remainder
// exceeds half the divisor minus (x >= 0).
//
// Include this header before anything else that includes <immintrin.h>
// (see the pragma below). Header-only; thread-safe (pure functions).
#ifndef EDGEPIPE_LITE_QUANT_SIMD_H_
#define EDGEPIPE_LITE_QUANT_SIMD_H_

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12 flags the AVX-512 intrinsics' _mm512_undefined_* operands as
// maybe-uninitialized where they are inlined; the warning is located in
// the intrinsic headers, so it is silenced for them only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop

#include <cstdint>

#define EDGEPIPE_QUANT_SIMD_X86 1
#define EDGEPIPE_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace edgepipe::lite {

__attribute__((target("avx2"))) inline __m256i MultiplyByQuantizedMultiplierAvx2(__m256i x,
                                                                                 __m256i m,
                                                                                 __m256i lshift,
                                                                                 __m256i rshift) {
  x = _mm256_sllv_epi32(x, lshift);
  const __m256i half = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(x, m), half);
  const __m256i po =
      _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32)), half);
  const __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rshift), one);
  const __m256i rem = _mm256_and_si256(h, mask);
  const __m256i thr = _mm256_add_epi32(_mm256_srli_epi32(mask, 1), _mm256_srli_epi32(h, 31));
  return _mm256_sub_epi32(_mm256_srav_epi32(h, rshift), _mm256_cmpgt_epi32(rem, thr));
}

EDGEPIPE_TARGET_AVX512 inline __m512i MultiplyByQuantizedMultiplierAvx512(__m512i x, __m512i m,
                                                                          __m512i lshift,
                                                                          __m512i rshift) {
  x = _mm512_sllv_epi32(x, lshift);
  const __m512i half = _mm512_set1_epi64(int64_t{1} << 30);
  const __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(x, m), half);
  const __m512i po =
      _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32)), half);
  const __m512i h =
      _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 31), _mm512_slli_epi64(po, 1));
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, rshift), one);
  const __m512i rem = _mm512_and_si512(h, mask);
  const __m512i thr = _mm512_add_epi32(_mm512_srli_epi32(mask, 1), _mm512_srli_epi32(h, 31));
  const __m512i sh = _mm512_srav_epi32(h, rshift);
  return _mm512_mask_add_epi32(sh, _mm512_cmpgt_epi32_mask(rem, thr), sh, one);
}

// XNNPACK's fp32 requantization (RequantizeFp32) of 8 / 16 lanes: float(x)
// * scale, clamped to +-2147483520, rounded by the MXCSR mode (nearest,
// ties to even, the default).
__attribute__((target("avx2"))) inline __m256i RequantizeFp32Avx2(__m256i x, __m256 scale) {
  const __m256 lim = _mm256_set1_ps(2147483520.0f);
  __m256 f = _mm256_mul_ps(_mm256_cvtepi32_ps(x), scale);
  f = _mm256_min_ps(_mm256_max_ps(f, _mm256_sub_ps(_mm256_setzero_ps(), lim)), lim);
  return _mm256_cvtps_epi32(f);
}
EDGEPIPE_TARGET_AVX512 inline __m512i RequantizeFp32Avx512(__m512i x, __m512 scale) {
  const __m512 lim = _mm512_set1_ps(2147483520.0f);
  __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(x), scale);
  f = _mm512_min_ps(_mm512_max_ps(f, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
  return _mm512_cvtps_epi32(f);
}

}  // namespace edgepipe::lite

#endif  // x86 GNU
#endif  // EDGEPIPE_LITE_QUANT_SIMD_H_
