// Packed quantized FULLY_CONNECTED (see fully_connected_packed.h).
#include "edgepipe/lite/fully_connected_packed.h"

#include <algorithm>
#include <climits>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace edgepipe::lite {
namespace {

constexpr int kPanel = 8;

template <typename T>
FcPackedFilter Pack(const T* filter, int units, int depth, int32_t filter_offset) {
  FcPackedFilter f;
  f.units = units;
  f.depth = depth;
  f.depth_pairs = (depth + 1) / 2;
  const int panels = (units + kPanel - 1) / kPanel;
  f.data.assign(static_cast<size_t>(panels) * f.depth_pairs * 2 * kPanel, 0);
  for (int o = 0; o < units; ++o) {
    for (int d = 0; d < depth; ++d) {
      const size_t at = (static_cast<size_t>(o / kPanel) * f.depth_pairs + d / 2) * 2 * kPanel +
                        static_cast<size_t>(o % kPanel) * 2 + d % 2;
      f.data[at] = static_cast<int16_t>(
          static_cast<int32_t>(filter[static_cast<size_t>(o) * depth + d]) + filter_offset);
    }
  }
  return f;
}

#if defined(__x86_64__) && defined(__GNUC__)
#define EDGEPIPE_FC_PACKED_AVX2 1

// MR rows x NP panels: int32 sums of 8 units per panel into acc_out
// [MR][NP * 8].
template <int MR, int NP>
__attribute__((target("avx2"))) void Tile(const int16_t* const* x, const int16_t* w,
                                          int depth_pairs, int32_t (*acc_out)[2 * kPanel]) {
  __m256i acc[MR][NP];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) acc[r][p] = _mm256_setzero_si256();
  }
  const size_t panel_stride = static_cast<size_t>(depth_pairs) * 2 * kPanel;
  for (int k = 0; k < depth_pairs; ++k) {
    __m256i wv[NP];
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
      wv[p] = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(w + p * panel_stride + static_cast<size_t>(k) * 16));
    }
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, x[r] + 2 * k, sizeof pair);
      const __m256i xv = _mm256_set1_epi32(pair);
#pragma GCC unroll 8
      for (int p = 0; p < NP; ++p) {
        acc[r][p] = _mm256_add_epi32(acc[r][p], _mm256_madd_epi16(xv, wv[p]));
      }
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 8
    for (int p = 0; p < NP; ++p) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out[r] + p * kPanel), acc[r][p]);
    }
  }
}

// SaturatingRoundingDoublingHighMul's 64-bit part for the even lanes of xa
// and ma (without the INT32_MIN * INT32_MIN saturation): (ab + nudge) / 2^31
// truncated toward zero; bits 31..62 of the adjusted sum, in the low half of
// each 64-bit lane.
__attribute__((target("avx2"))) inline __m256i HighMulEven(__m256i xa, __m256i ma) {
  const __m256i ab = _mm256_mul_epi32(xa, ma);
  const __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), ab);
  const __m256i pos_nudge = _mm256_set1_epi64x(int64_t{1} << 30);
  const __m256i neg_nudge = _mm256_set1_epi64x(1 - (int64_t{1} << 30));
  __m256i v = _mm256_add_epi64(ab, _mm256_blendv_epi8(pos_nudge, neg_nudge, neg));
  const __m256i vneg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), v);
  v = _mm256_add_epi64(v, _mm256_and_si256(vneg, _mm256_set1_epi64x((int64_t{1} << 31) - 1)));
  return _mm256_srli_epi64(v, 31);
}

// ConvQuant::Requantize (reference fixed-point mode: q.fp32_scale empty) of
// n <= 8 accumulators acc[i] (+ bias[i] when bias is not null) with the
// multiplier / shift of channel c0 + i (c0 >= 0) or of channel 0 (c0 < 0),
// in AVX2, bit-identical to the scalar MultiplyByQuantizedMultiplier +
// offset + clamp (quant_math.h). Writes out[0..n).
__attribute__((target("avx2"))) void RequantizeLanes(const ConvQuant& q, const int32_t* acc,
                                                     const int32_t* bias, int c0, int n,
                                                     int32_t* out) {
  alignas(32) int32_t a[kPanel] = {}, m[kPanel], sh[kPanel];
  for (int i = 0; i < n; ++i) {
    a[i] =
        bias ? static_cast<int32_t>(static_cast<uint32_t>(acc[i]) + static_cast<uint32_t>(bias[i]))
             : acc[i];
  }
  for (int i = 0; i < kPanel; ++i) {
    const size_t c = c0 >= 0 && i < n ? static_cast<size_t>(c0 + i) : 0;
    m[i] = q.multiplier[c];
    sh[i] = q.shift[c];
  }
  const __m256i x0 = _mm256_load_si256(reinterpret_cast<const __m256i*>(a));
  const __m256i mv = _mm256_load_si256(reinterpret_cast<const __m256i*>(m));
  const __m256i shv = _mm256_load_si256(reinterpret_cast<const __m256i*>(sh));
  const __m256i zero = _mm256_setzero_si256();
  const __m256i left = _mm256_max_epi32(shv, zero);
  const __m256i right = _mm256_max_epi32(_mm256_sub_epi32(zero, shv), zero);
  const __m256i x = _mm256_sllv_epi32(x0, left);
  // SaturatingRoundingDoublingHighMul(x, m): 64-bit products of the even
  // and the odd lanes; (ab + nudge) / 2^31 truncated toward zero; bits
  // 31..62 of the adjusted sum are the result.
  const __m256i even = HighMulEven(x, mv);
  const __m256i odd = HighMulEven(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mv, 32));
  __m256i hm = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  const __m256i int_min = _mm256_set1_epi32(INT32_MIN);
  const __m256i both_min =
      _mm256_and_si256(_mm256_cmpeq_epi32(x, int_min), _mm256_cmpeq_epi32(mv, int_min));
  hm = _mm256_blendv_epi8(hm, _mm256_set1_epi32(INT32_MAX), both_min);
  // RoundingDivideByPOT(hm, right).
  const __m256i mask =
      _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), right), _mm256_set1_epi32(1));
  const __m256i remainder = _mm256_and_si256(hm, mask);
  const __m256i threshold =
      _mm256_sub_epi32(_mm256_srai_epi32(mask, 1), _mm256_cmpgt_epi32(zero, hm));  // + (hm < 0)
  __m256i r = _mm256_sub_epi32(_mm256_srav_epi32(hm, right),
                               _mm256_cmpgt_epi32(remainder, threshold));  // + 1 when above
  // clamp(r + offset, lo, hi) == clamp(r, lo - offset, hi - offset) + offset.
  r = _mm256_max_epi32(r, _mm256_set1_epi32(q.act_min - q.output_offset));
  r = _mm256_min_epi32(r, _mm256_set1_epi32(q.act_max - q.output_offset));
  r = _mm256_add_epi32(r, _mm256_set1_epi32(q.output_offset));
  _mm256_store_si256(reinterpret_cast<__m256i*>(out), r);
}

template <typename T>
__attribute__((target("avx2"))) void PackedAvx2(const ConvQuant& q, const FcShape& s,
                                                const T* input, const FcPackedFilter& f,
                                                const int32_t* bias, T* output,
                                                std::vector<int16_t>* scratch) {
  const int dp = f.depth_pairs;
  const size_t row = static_cast<size_t>(dp) * 2;
  if (scratch->size() < static_cast<size_t>(s.batches) * row) {
    scratch->resize(static_cast<size_t>(s.batches) * row);
  }
  int16_t* xs = scratch->data();
  for (int b = 0; b < s.batches; ++b) {
    const T* src = input + static_cast<size_t>(b) * s.depth;
    int16_t* dst = xs + static_cast<size_t>(b) * row;
    for (int d = 0; d < s.depth; ++d) {
      dst[d] = static_cast<int16_t>(static_cast<int32_t>(src[d]) + q.input_offset);
    }
    if (s.depth % 2) dst[s.depth] = 0;
  }
  const bool per_channel = q.multiplier.size() > 1;
  const int panels = (s.units + kPanel - 1) / kPanel;
  int32_t acc[4][2 * kPanel];
  const bool vector_requant = q.fp32_scale.empty();
  auto finish = [&](int b, int r, int p0, int np) {
    T* out = output + static_cast<size_t>(b) * s.units;
    const int o_end = std::min(s.units, (p0 + np) * kPanel);
    if (vector_requant) {
      for (int o0 = p0 * kPanel; o0 < o_end; o0 += kPanel) {
        const int n = std::min(kPanel, o_end - o0);
        alignas(32) int32_t v[kPanel];
        RequantizeLanes(q, acc[r] + (o0 - p0 * kPanel), bias ? bias + o0 : nullptr,
                        per_channel ? o0 : -1, n, v);
        for (int i = 0; i < n; ++i) out[o0 + i] = static_cast<T>(v[i]);
      }
      return;
    }
    for (int o = p0 * kPanel; o < o_end; ++o) {
      int32_t a = acc[r][o - p0 * kPanel];
      if (bias) {
        a = static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(bias[o]));
      }
      out[o] = static_cast<T>(q.Requantize(a, per_channel ? static_cast<size_t>(o) : 0));
    }
  };
  for (int p = 0; p < panels; p += 2) {
    const int np = std::min(2, panels - p);
    const int16_t* w = f.data.data() + static_cast<size_t>(p) * dp * 2 * kPanel;
    int b = 0;
    for (; b + 4 <= s.batches; b += 4) {
      const int16_t* x[4] = {xs + b * row, xs + (b + 1) * row, xs + (b + 2) * row,
                             xs + (b + 3) * row};
      if (np == 2) {
        Tile<4, 2>(x, w, dp, acc);
      } else {
        Tile<4, 1>(x, w, dp, acc);
      }
      for (int r = 0; r < 4; ++r) finish(b + r, r, p, np);
    }
    for (; b < s.batches; ++b) {
      const int16_t* x[1] = {xs + b * row};
      if (np == 2) {
        Tile<1, 2>(x, w, dp, acc);
      } else {
        Tile<1, 1>(x, w, dp, acc);
      }
      finish(b, 0, p, np);
    }
  }
}
#endif

}  // namespace

FcPackedFilter FcPackQuantFilter(const int8_t* filter, int units, int depth,
                                 int32_t filter_offset) {
  return Pack(filter, units, depth, filter_offset);
}
FcPackedFilter FcPackQuantFilter(const uint8_t* filter, int units, int depth,
                                 int32_t filter_offset) {
  return Pack(filter, units, depth, filter_offset);
}

bool FullyConnectedQuantPackedAvailable() {
#ifdef EDGEPIPE_FC_PACKED_AVX2
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
#else
  return false;
#endif
}

void FullyConnectedQuantPacked(const ConvQuant& q, const FcShape& s, const int8_t* input,
                               const FcPackedFilter& f, const int32_t* bias, int8_t* output,
                               std::vector<int16_t>* scratch) {
#ifdef EDGEPIPE_FC_PACKED_AVX2
  PackedAvx2(q, s, input, f, bias, output, scratch);
#else
  (void)q, (void)s, (void)input, (void)f, (void)bias, (void)output, (void)scratch;
#endif
}
void FullyConnectedQuantPacked(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                               const FcPackedFilter& f, const int32_t* bias, uint8_t* output,
                               std::vector<int16_t>* scratch) {
#ifdef EDGEPIPE_FC_PACKED_AVX2
  PackedAvx2(q, s, input, f, bias, output, scratch);
#else
  (void)q, (void)s, (void)input, (void)f, (void)bias, (void)output, (void)scratch;
#endif
}

}  // namespace edgepipe::lite
