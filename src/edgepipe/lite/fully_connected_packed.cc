// Packed quantized FULLY_CONNECTED (see fully_connected_packed.h).
#include "edgepipe/lite/fully_connected_packed.h"

#include <algorithm>
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
  auto finish = [&](int b, int r, int p0, int np) {
    T* out = output + static_cast<size_t>(b) * s.units;
    const int o_end = std::min(s.units, (p0 + np) * kPanel);
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
