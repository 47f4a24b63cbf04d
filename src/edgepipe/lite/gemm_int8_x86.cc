// The VNNI kernels of the int8 GEMM core (see gemm_int8.h): AVX512-VNNI
// (tiles of up to 4 rows x 4 panels of 16 units) and AVX-VNNI (256-bit,
// tiles of up to 4 rows x 1 panel). Each tile accumulates vpdpbusd sums
// over the depth quads, then adds the per-unit constant (and per-row term)
// and requantizes in registers (kReference mode; kLiteRt falls back to
// ConvQuant::Requantize per element).
#include <algorithm>
#include <climits>
#include <cstring>

#include "edgepipe/lite/gemm_int8_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
// GCC 12's AVX-512 broadcast intrinsics start from _mm512_undefined_*(),
// which -Wmaybe-uninitialized reports (a false positive) once inlined.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <cpuid.h>
#include <immintrin.h>
#define EDGEPIPE_GEMM_INT8_X86 1
#endif

namespace edgepipe::lite::gemm_int8_internal {

#ifdef EDGEPIPE_GEMM_INT8_X86
namespace {

constexpr int kP = GemmInt8Weights::kPanel;
constexpr int kMr = 4;  // rows per tile

inline int32_t Load32(const uint8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

#define EDGEPIPE_AVX512VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))

// SaturatingRoundingDoublingHighMul's 64-bit part for the even 32-bit lanes
// (the INT32_MIN * INT32_MIN case is patched by the caller): (ab + nudge)
// / 2^31 truncated toward zero, in the low half of each 64-bit lane.
EDGEPIPE_AVX512VNNI inline __m512i HighMulEven512(__m512i a, __m512i b) {
  const __m512i ab = _mm512_mul_epi32(a, b);
  const __m512i zero = _mm512_setzero_si512();
  const __mmask8 neg = _mm512_cmplt_epi64_mask(ab, zero);
  __m512i v =
      _mm512_add_epi64(ab, _mm512_mask_blend_epi64(neg, _mm512_set1_epi64(int64_t{1} << 30),
                                                   _mm512_set1_epi64(1 - (int64_t{1} << 30))));
  const __mmask8 vneg = _mm512_cmplt_epi64_mask(v, zero);
  v = _mm512_mask_add_epi64(v, vneg, v, _mm512_set1_epi64((int64_t{1} << 31) - 1));
  return _mm512_srli_epi64(v, 31);
}

// MultiplyByQuantizedMultiplier (quant_math.h) on 16 lanes.
EDGEPIPE_AVX512VNNI inline __m512i Requantize512(__m512i x0, __m512i m, __m512i left,
                                                 __m512i right) {
  const __m512i x = _mm512_sllv_epi32(x0, left);
  const __m512i even = HighMulEven512(x, m);
  const __m512i odd = HighMulEven512(_mm512_srli_epi64(x, 32), _mm512_srli_epi64(m, 32));
  __m512i hm = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  const __m512i int_min = _mm512_set1_epi32(INT32_MIN);
  const __mmask16 both_min =
      _mm512_cmpeq_epi32_mask(x, int_min) & _mm512_cmpeq_epi32_mask(m, int_min);
  hm = _mm512_mask_mov_epi32(hm, both_min, _mm512_set1_epi32(INT32_MAX));
  // RoundingDivideByPOT(hm, right).
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, right), one);
  const __m512i remainder = _mm512_and_si512(hm, mask);
  __m512i threshold = _mm512_srai_epi32(mask, 1);
  threshold = _mm512_mask_add_epi32(threshold, _mm512_cmplt_epi32_mask(hm, _mm512_setzero_si512()),
                                    threshold, one);
  const __m512i r = _mm512_srav_epi32(hm, right);
  return _mm512_mask_add_epi32(r, _mm512_cmpgt_epi32_mask(remainder, threshold), r, one);
}

// Adds the constants to `acc` (row b, panel p), requantizes and stores the
// panel's valid units.
EDGEPIPE_AVX512VNNI inline void Finish512(const Args& a, __m512i acc, int b, int p) {
  const GemmInt8Weights& w = *a.w;
  const int o0 = p * kP;
  __m512i v = _mm512_add_epi32(acc, _mm512_loadu_si512(w.unit_const.data() + o0));
  if (a.row_terms) v = _mm512_add_epi32(v, _mm512_set1_epi32(a.row_terms[b]));
  const int n = std::min(kP, w.units - o0);
  uint8_t* out = a.out + static_cast<size_t>(b) * w.units + o0;
  const ConvQuant& q = *a.q;
  __m512i r;
  if (q.fp32_scale.empty()) {
    r = Requantize512(v, _mm512_loadu_si512(w.multiplier.data() + o0),
                      _mm512_loadu_si512(w.left_shift.data() + o0),
                      _mm512_loadu_si512(w.right_shift.data() + o0));
  } else if (!w.fp32_scale.empty()) {
    // RequantizeFp32 (quant_math.h): float product, clamp to the largest
    // float below 2^31, round to nearest even (the default mode).
    const __m512 lim = _mm512_set1_ps(2147483520.0f);
    __m512 f = _mm512_mul_ps(_mm512_cvtepi32_ps(v), _mm512_loadu_ps(w.fp32_scale.data() + o0));
    f = _mm512_min_ps(_mm512_max_ps(f, _mm512_sub_ps(_mm512_setzero_ps(), lim)), lim);
    r = _mm512_cvtps_epi32(f);
  } else {
    alignas(64) int32_t t[kP];
    _mm512_store_si512(t, v);
    for (int i = 0; i < n; ++i) out[i] = RequantizeScalar(a, t[i], o0 + i);
    return;
  }
  r = _mm512_max_epi32(r, _mm512_set1_epi32(q.act_min - q.output_offset));
  r = _mm512_min_epi32(r, _mm512_set1_epi32(q.act_max - q.output_offset));
  r = _mm512_add_epi32(r, _mm512_set1_epi32(q.output_offset));
  const __m128i bytes = _mm512_cvtepi32_epi8(r);
  _mm_mask_storeu_epi8(out, static_cast<__mmask16>((1u << n) - 1), bytes);
}

// MR rows from b0 x NP panels from p0.
template <int MR, int NP>
EDGEPIPE_AVX512VNNI void Tile512(const Args& a, int b0, int p0) {
  const GemmInt8Weights& w = *a.w;
  const size_t stride = static_cast<size_t>(w.quads) * 4;
  const size_t pstride = static_cast<size_t>(w.quads) * kP * 4;
  const uint8_t* x = a.rows + static_cast<size_t>(b0) * stride;
  const int8_t* wp = w.data.data() + static_cast<size_t>(p0) * pstride;
  __m512i acc[MR][NP];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_setzero_si512();
  }
  int k = 0;
  if constexpr (MR == 1) {
    // One row: a second set of accumulators for the odd quads halves the
    // dependency chains (GEMV is latency bound otherwise).
    __m512i acc2[NP];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) acc2[p] = _mm512_setzero_si512();
    for (; k + 2 <= w.quads; k += 2) {
      const __m512i x0 = _mm512_set1_epi32(Load32(x + 4 * k));
      const __m512i x1 = _mm512_set1_epi32(Load32(x + 4 * k + 4));
#pragma GCC unroll 4
      for (int p = 0; p < NP; ++p) {
        const int8_t* wk = wp + p * pstride + static_cast<size_t>(k) * kP * 4;
        acc[0][p] = _mm512_dpbusd_epi32(acc[0][p], x0, _mm512_loadu_si512(wk));
        acc2[p] = _mm512_dpbusd_epi32(acc2[p], x1, _mm512_loadu_si512(wk + kP * 4));
      }
    }
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) acc[0][p] = _mm512_add_epi32(acc[0][p], acc2[p]);
  }
  for (; k < w.quads; ++k) {
    __m512i wv[NP];
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) {
      wv[p] = _mm512_loadu_si512(wp + p * pstride + static_cast<size_t>(k) * kP * 4);
    }
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m512i xv = _mm512_set1_epi32(Load32(x + r * stride + 4 * k));
#pragma GCC unroll 4
      for (int p = 0; p < NP; ++p) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], xv, wv[p]);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 4
    for (int p = 0; p < NP; ++p) Finish512(a, acc[r][p], b0 + r, p0 + p);
  }
}

template <int MR>
EDGEPIPE_AVX512VNNI void Rows512(const Args& a, int b0, int p0, int np) {
  switch (np) {
    case 1:
      return Tile512<MR, 1>(a, b0, p0);
    case 2:
      return Tile512<MR, 2>(a, b0, p0);
    case 3:
      return Tile512<MR, 3>(a, b0, p0);
    default:
      return Tile512<MR, 4>(a, b0, p0);
  }
}

#define EDGEPIPE_AVXVNNI __attribute__((target("avx2,avxvnni")))

// HighMulEven512 in 256 bits (AVX2).
EDGEPIPE_AVXVNNI inline __m256i HighMulEven256(__m256i a, __m256i b) {
  const __m256i ab = _mm256_mul_epi32(a, b);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i neg = _mm256_cmpgt_epi64(zero, ab);
  __m256i v =
      _mm256_add_epi64(ab, _mm256_blendv_epi8(_mm256_set1_epi64x(int64_t{1} << 30),
                                              _mm256_set1_epi64x(1 - (int64_t{1} << 30)), neg));
  const __m256i vneg = _mm256_cmpgt_epi64(zero, v);
  v = _mm256_add_epi64(v, _mm256_and_si256(vneg, _mm256_set1_epi64x((int64_t{1} << 31) - 1)));
  return _mm256_srli_epi64(v, 31);
}

// Requantize512 on 8 lanes (AVX2).
EDGEPIPE_AVXVNNI inline __m256i Requantize256(__m256i x0, __m256i m, __m256i left, __m256i right) {
  const __m256i x = _mm256_sllv_epi32(x0, left);
  const __m256i even = HighMulEven256(x, m);
  const __m256i odd = HighMulEven256(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(m, 32));
  __m256i hm = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  const __m256i int_min = _mm256_set1_epi32(INT32_MIN);
  const __m256i both_min =
      _mm256_and_si256(_mm256_cmpeq_epi32(x, int_min), _mm256_cmpeq_epi32(m, int_min));
  hm = _mm256_blendv_epi8(hm, _mm256_set1_epi32(INT32_MAX), both_min);
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i zero = _mm256_setzero_si256();
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, right), one);
  const __m256i remainder = _mm256_and_si256(hm, mask);
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(zero, hm));
  return _mm256_sub_epi32(_mm256_srav_epi32(hm, right), _mm256_cmpgt_epi32(remainder, threshold));
}

// Finish512 for one panel held in two 8-unit halves.
EDGEPIPE_AVXVNNI inline void Finish256(const Args& a, const __m256i (&acc)[2], int b, int p) {
  const GemmInt8Weights& w = *a.w;
  const ConvQuant& q = *a.q;
  const int o0 = p * kP;
  const int n = std::min(kP, w.units - o0);
  uint8_t* out = a.out + static_cast<size_t>(b) * w.units + o0;
  alignas(32) int32_t t[kP];
  const __m256i row = _mm256_set1_epi32(a.row_terms ? a.row_terms[b] : 0);
  for (int h = 0; h < 2; ++h) {
    const int oh = o0 + 8 * h;
    __m256i v = _mm256_add_epi32(
        acc[h], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.unit_const.data() + oh)));
    v = _mm256_add_epi32(v, row);
    if (!q.fp32_scale.empty()) {
      _mm256_store_si256(reinterpret_cast<__m256i*>(t + 8 * h), v);
      continue;
    }
    __m256i r = Requantize256(
        v, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.multiplier.data() + oh)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.left_shift.data() + oh)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.right_shift.data() + oh)));
    r = _mm256_max_epi32(r, _mm256_set1_epi32(q.act_min - q.output_offset));
    r = _mm256_min_epi32(r, _mm256_set1_epi32(q.act_max - q.output_offset));
    r = _mm256_add_epi32(r, _mm256_set1_epi32(q.output_offset));
    _mm256_store_si256(reinterpret_cast<__m256i*>(t + 8 * h), r);
  }
  if (!q.fp32_scale.empty()) {
    for (int i = 0; i < n; ++i) out[i] = RequantizeScalar(a, t[i], o0 + i);
  } else {
    for (int i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(t[i]);
  }
}

// MR rows from b0 x one panel p (16 units in two 256-bit halves).
template <int MR>
EDGEPIPE_AVXVNNI void Tile256(const Args& a, int b0, int p) {
  const GemmInt8Weights& w = *a.w;
  const size_t stride = static_cast<size_t>(w.quads) * 4;
  const uint8_t* x = a.rows + static_cast<size_t>(b0) * stride;
  const int8_t* wp = w.data.data() + static_cast<size_t>(p) * w.quads * kP * 4;
  __m256i acc[MR][2];
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_si256();
  for (int k = 0; k < w.quads; ++k) {
    const int8_t* wk = wp + static_cast<size_t>(k) * kP * 4;
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wk));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wk + 32));
#pragma GCC unroll 4
    for (int r = 0; r < MR; ++r) {
      const __m256i xv = _mm256_set1_epi32(Load32(x + r * stride + 4 * k));
      acc[r][0] = _mm256_dpbusd_avx_epi32(acc[r][0], xv, w0);
      acc[r][1] = _mm256_dpbusd_avx_epi32(acc[r][1], xv, w1);
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < MR; ++r) Finish256(a, acc[r], b0 + r, p);
}

}  // namespace

bool HasAvx512Vnni() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vnni");
  return has;
}

bool HasAvxVnni() {
  // CPUID leaf 7 subleaf 1, EAX bit 4 (not every compiler's
  // __builtin_cpu_supports knows "avxvnni"); "avx2" checks the OS saves YMM.
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    if (!__builtin_cpu_supports("avx2") || !__get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx)) {
      return false;
    }
    return (eax & (1u << 4)) != 0;
  }();
  return has;
}

void RunAvx512Vnni(const Args& a) {
  const int panels = a.w->panels;
  for (int p0 = 0; p0 < panels; p0 += 4) {
    const int np = std::min(4, panels - p0);
    int b = 0;
    for (; b + kMr <= a.batches; b += kMr) Rows512<kMr>(a, b, p0, np);
    switch (a.batches - b) {
      case 1:
        Rows512<1>(a, b, p0, np);
        break;
      case 2:
        Rows512<2>(a, b, p0, np);
        break;
      case 3:
        Rows512<3>(a, b, p0, np);
        break;
      default:
        break;
    }
  }
}

void RunAvxVnni(const Args& a) {
  for (int p = 0; p < a.w->panels; ++p) {
    int b = 0;
    for (; b + kMr <= a.batches; b += kMr) Tile256<kMr>(a, b, p);
    switch (a.batches - b) {
      case 1:
        Tile256<1>(a, b, p);
        break;
      case 2:
        Tile256<2>(a, b, p);
        break;
      case 3:
        Tile256<3>(a, b, p);
        break;
      default:
        break;
    }
  }
}

#else  // !EDGEPIPE_GEMM_INT8_X86

bool HasAvx512Vnni() { return false; }
bool HasAvxVnni() { return false; }
void RunAvx512Vnni(const Args&) {}
void RunAvxVnni(const Args&) {}

#endif

}  // namespace edgepipe::lite::gemm_int8_internal
