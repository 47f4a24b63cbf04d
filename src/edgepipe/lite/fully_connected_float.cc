// Float FULLY_CONNECTED loops (see fully_connected_float.h).
#include "edgepipe/lite/fully_connected_float.h"

#include <algorithm>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace edgepipe::lite {

void FcPackFloatFilterInto(const float* filter, int units, int depth, std::vector<float>* out) {
  const int panels = (units + kFcFloatPanel - 1) / kFcFloatPanel;
  out->assign(static_cast<size_t>(panels) * kFcFloatPanel * depth, 0.0f);
  for (int o = 0; o < units; ++o) {
    float* dst = out->data() + static_cast<size_t>(o / kFcFloatPanel) * depth * kFcFloatPanel +
                 o % kFcFloatPanel;
    const float* src = filter + static_cast<size_t>(o) * depth;
    for (int d = 0; d < depth; ++d) dst[static_cast<size_t>(d) * kFcFloatPanel] = src[d];
  }
}

std::vector<float> FcPackFloatFilter(const float* filter, int units, int depth) {
  std::vector<float> packed;
  FcPackFloatFilterInto(filter, units, depth, &packed);
  return packed;
}

void FullyConnectedFloatReference(const FcShape& s, const float* input, const float* filter,
                                  const float* bias, float fmin, float fmax, float* output) {
  for (int b = 0; b < s.batches; ++b) {
    for (int o = 0; o < s.units; ++o) {
      float total = 0;
      const float* x = input + static_cast<size_t>(b) * s.depth;
      const float* w = filter + static_cast<size_t>(o) * s.depth;
      for (int d = 0; d < s.depth; ++d) total += x[d] * w[d];
      const float v = total + (bias ? bias[o] : 0.0f);
      output[static_cast<size_t>(b) * s.units + o] = std::clamp(v, fmin, fmax);
    }
  }
}

namespace {

// Reference loop over the packed filter (the portable fallback).
void PackedReference(const FcShape& s, const float* input, const float* packed, const float* bias,
                     float fmin, float fmax, float* output) {
  for (int b = 0; b < s.batches; ++b) {
    const float* x = input + static_cast<size_t>(b) * s.depth;
    for (int o = 0; o < s.units; ++o) {
      const float* w = packed + static_cast<size_t>(o / kFcFloatPanel) * s.depth * kFcFloatPanel +
                       o % kFcFloatPanel;
      float total = 0;
      for (int d = 0; d < s.depth; ++d) total += x[d] * w[static_cast<size_t>(d) * kFcFloatPanel];
      const float v = total + (bias ? bias[o] : 0.0f);
      output[static_cast<size_t>(b) * s.units + o] = std::clamp(v, fmin, fmax);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define EDGEPIPE_FC_FLOAT_AVX2 1

// Depth block: a tile's filter panels (NP * kDepthBlock * 8 floats) stay in
// L1 while every row group passes over them.
constexpr int kDepthBlock = 256;

// Loads the (up to 8) valid lanes of one output panel.
__attribute__((target("avx2"))) inline __m256 LoadLanes(const float* p, int n) {
  if (n == kFcFloatPanel) return _mm256_loadu_ps(p);
  alignas(32) float t[kFcFloatPanel] = {};
  std::memcpy(t, p, sizeof(float) * static_cast<size_t>(n));
  return _mm256_load_ps(t);
}
__attribute__((target("avx2"))) inline void StoreLanes(float* p, __m256 v, int n) {
  if (n == kFcFloatPanel) return _mm256_storeu_ps(p, v);
  alignas(32) float t[kFcFloatPanel];
  _mm256_store_ps(t, v);
  std::memcpy(p, t, sizeof(float) * static_cast<size_t>(n));
}

// MR rows x NP panels over depth [d0, d1). first: accumulators start at 0,
// else at the partial totals stored in `out`. last: adds the bias (0 when
// absent, as the reference), clamps and stores the outputs; else stores the
// partial totals. `lanes[p]` is the number of valid units of panel p.
template <int MR, int NP>
__attribute__((target("avx2"))) void Tile(const float* const* x, const float* w, int depth, int d0,
                                          int d1, bool first, bool last, const float* bias,
                                          const int* lanes, __m256 vmin, __m256 vmax,
                                          float* const* out) {
  __m256 acc[MR][NP];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
      acc[r][p] = first ? _mm256_setzero_ps() : LoadLanes(out[r] + p * kFcFloatPanel, lanes[p]);
    }
  }
  const size_t panel_stride = static_cast<size_t>(depth) * kFcFloatPanel;
  for (int d = d0; d < d1; ++d) {
    const float* wd = w + static_cast<size_t>(d) * kFcFloatPanel;
    __m256 wv[NP];
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) wv[p] = _mm256_loadu_ps(wd + p * panel_stride);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 xv = _mm256_broadcast_ss(x[r] + d);
#pragma GCC unroll 8
      for (int p = 0; p < NP; ++p) acc[r][p] = _mm256_add_ps(acc[r][p], _mm256_mul_ps(xv, wv[p]));
    }
  }
#pragma GCC unroll 8
  for (int p = 0; p < NP; ++p) {
    __m256 bv = _mm256_setzero_ps();
    if (last && bias) bv = LoadLanes(bias + p * kFcFloatPanel, lanes[p]);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      __m256 v = acc[r][p];
      // std::clamp(v, fmin, fmax) == min(fmax, max(fmin, v)) with these
      // operand orders, NaN included (max_ps/min_ps return the second
      // operand when unordered).
      if (last) v = _mm256_min_ps(vmax, _mm256_max_ps(vmin, _mm256_add_ps(v, bv)));
      StoreLanes(out[r] + p * kFcFloatPanel, v, lanes[p]);
    }
  }
}

// Rows [b0, b0 + MR) over every panel, depth [d0, d1).
template <int MR>
__attribute__((target("avx2"))) void RowGroup(const FcShape& s, const float* input,
                                              const float* packed, int b0, int d0, int d1,
                                              bool first, bool last, const float* bias, __m256 vmin,
                                              __m256 vmax, float* output) {
  const float* x[MR];
  for (int r = 0; r < MR; ++r) x[r] = input + static_cast<size_t>(b0 + r) * s.depth;
  const int panels = (s.units + kFcFloatPanel - 1) / kFcFloatPanel;
  constexpr int kNp = MR == 1 ? 4 : 2;
  int p = 0;
  auto run = [&]<int NP>(int p0) {
    int lanes[NP];
    for (int i = 0; i < NP; ++i)
      lanes[i] = std::min(kFcFloatPanel, s.units - (p0 + i) * kFcFloatPanel);
    float* out[MR];
    for (int r = 0; r < MR; ++r) {
      out[r] =
          output + static_cast<size_t>(b0 + r) * s.units + static_cast<size_t>(p0) * kFcFloatPanel;
    }
    Tile<MR, NP>(x, packed + static_cast<size_t>(p0) * s.depth * kFcFloatPanel, s.depth, d0, d1,
                 first, last, bias ? bias + p0 * kFcFloatPanel : nullptr, lanes, vmin, vmax, out);
  };
  for (; p + kNp <= panels; p += kNp) run.template operator()<kNp>(p);
  for (; p < panels; ++p) run.template operator()<1>(p);
}

__attribute__((target("avx2"))) void FastAvx2(const FcShape& s, const float* input,
                                              const float* packed, const float* bias, float fmin,
                                              float fmax, float* output) {
  const __m256 vmin = _mm256_set1_ps(fmin), vmax = _mm256_set1_ps(fmax);
  for (int d0 = 0; d0 < s.depth || d0 == 0; d0 += kDepthBlock) {
    const int d1 = std::min(s.depth, d0 + kDepthBlock);
    const bool first = d0 == 0, last = d1 == s.depth;
    int b = 0;
    for (; b + 4 <= s.batches; b += 4) {
      RowGroup<4>(s, input, packed, b, d0, d1, first, last, bias, vmin, vmax, output);
    }
    for (; b < s.batches; ++b) {
      RowGroup<1>(s, input, packed, b, d0, d1, first, last, bias, vmin, vmax, output);
    }
    if (last) break;
  }
}
#endif

}  // namespace

bool FullyConnectedFloatHasAvx2() {
#ifdef EDGEPIPE_FC_FLOAT_AVX2
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
#else
  return false;
#endif
}

void FullyConnectedFloatFast(const FcShape& s, const float* input, const float* packed_filter,
                             const float* bias, float fmin, float fmax, float* output) {
  if (s.batches <= 0 || s.units <= 0) return;
#ifdef EDGEPIPE_FC_FLOAT_AVX2
  if (FullyConnectedFloatHasAvx2()) {
    return FastAvx2(s, input, packed_filter, bias, fmin, fmax, output);
  }
#endif
  PackedReference(s, input, packed_filter, bias, fmin, fmax, output);
}

}  // namespace edgepipe::lite
