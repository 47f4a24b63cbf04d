// The x86 float GEMM kernels (see gemm_float_x86.h): gemm_float_kernel.inc
// compiled once for AVX2 + FMA and once for AVX-512F.
#include "edgepipe/lite/gemm_float_x86.h"

#ifdef EDGEPIPE_GEMM_FLOAT_X86

#include <immintrin.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "edgepipe/lite/fully_connected_float.h"

namespace edgepipe::lite::internal {

namespace avx2 {
#pragma GCC push_options
#pragma GCC target("avx2,fma")

struct Isa {
  using V = __m256;
  static constexpr int kLanes = 8;
  static V Zero() { return _mm256_setzero_ps(); }
  static V Set1(float f) { return _mm256_set1_ps(f); }
  static V Load(const float* p) { return _mm256_loadu_ps(p); }
  // Lanes [0, n) of a mask: lane i is set when i < n.
  static __m256i Mask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V LoadN(const float* p, int n) { return _mm256_maskload_ps(p, Mask(n)); }
  static void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static void StoreN(float* p, V v, int n) { _mm256_maskstore_ps(p, Mask(n), v); }
  static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  static V Max(V a, V b) { return _mm256_max_ps(a, b); }
};

// 16 ymm registers: 6 rows x 2 vectors = 12 accumulators + 2 filter + 1
// input; 1-2 rows x 4 vectors (single row: 2 x 4 partial sums) + 4 filter.
constexpr int kMaxRows = 6;
constexpr int NvFor(int rows) { return rows <= 2 ? 4 : 2; }
// 256 x 16 units of filter (16 KB) stay in L1 across the row tiles.
constexpr int kDepthBlock = 256;

#include "edgepipe/lite/gemm_float_kernel.inc"

#pragma GCC pop_options
}  // namespace avx2

namespace avx512 {
#pragma GCC push_options
#pragma GCC target("avx512f,avx2,fma")

struct Isa {
  using V = __m512;
  static constexpr int kLanes = 16;
  static V Zero() { return _mm512_setzero_ps(); }
  static V Set1(float f) { return _mm512_set1_ps(f); }
  static V Load(const float* p) { return _mm512_loadu_ps(p); }
  static __mmask16 Mask(int n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static V LoadN(const float* p, int n) { return _mm512_maskz_loadu_ps(Mask(n), p); }
  static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static void StoreN(float* p, V v, int n) { _mm512_mask_storeu_ps(p, Mask(n), v); }
  static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  // The all-lanes masked forms: GCC 12's plain _mm512_min_ps / _max_ps pass
  // _mm512_undefined_ps() and trip -Wmaybe-uninitialized.
  static V Min(V a, V b) { return _mm512_mask_min_ps(a, 0xFFFF, a, b); }
  static V Max(V a, V b) { return _mm512_mask_max_ps(a, 0xFFFF, a, b); }
};

// 32 zmm registers: 6 rows x 4 vectors (64 units) = 24 accumulators + 4
// filter + 1 input; a single row keeps 2 x 4 partial sums.
constexpr int kMaxRows = 6;
constexpr int NvFor(int) { return 4; }
// 512 x 64 units of filter (128 KB) stream from L2: 4 loads per 24 FMAs
// hide it; measured faster than 128 / 256 and than no depth blocking on
// the MNIST MLP (784-64-64-10) at batch 256.
constexpr int kDepthBlock = 512;

#include "edgepipe/lite/gemm_float_kernel.inc"

#pragma GCC pop_options
}  // namespace avx512

void GemmFloatAvx2Fma(const FcShape& s, const float* input, const float* packed_filter,
                      const float* bias, float fmin, float fmax, float* output) {
  avx2::Gemm(s, input, packed_filter, bias, fmin, fmax, output);
}

void GemmFloatAvx512(const FcShape& s, const float* input, const float* packed_filter,
                     const float* bias, float fmin, float fmax, float* output) {
  avx512::Gemm(s, input, packed_filter, bias, fmin, fmax, output);
}

}  // namespace edgepipe::lite::internal

#endif  // EDGEPIPE_GEMM_FLOAT_X86
