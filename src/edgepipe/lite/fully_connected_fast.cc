#include "edgepipe/lite/fully_connected_fast.h"

#include <cstddef>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace edgepipe::lite {
namespace {

#define EDGEPIPE_FC_INLINE inline __attribute__((always_inline))

// Wrapping int32 arithmetic (the reference accumulator's arithmetic modulo
// 2^32, without signed-overflow UB).
EDGEPIPE_FC_INLINE int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
EDGEPIPE_FC_INLINE int32_t WrapMul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

template <typename T>
std::vector<int32_t> RowSums(const T* filter, int units, int depth) {
  std::vector<int32_t> sums(static_cast<size_t>(units));
  for (int o = 0; o < units; ++o) {
    const T* w = filter + static_cast<size_t>(o) * depth;
    int32_t s = 0;
    for (int d = 0; d < depth; ++d) s += w[d];
    sums[static_cast<size_t>(o)] = s;
  }
  return sums;
}

template <typename T>
void Reference(const ConvQuant& q, const FcShape& s, const T* input, const T* filter,
               const int32_t* bias, T* output) {
  const bool per_channel =
      q.multiplier.size() > 1 && q.multiplier.size() == static_cast<size_t>(s.units);
  for (int b = 0; b < s.batches; ++b) {
    for (int o = 0; o < s.units; ++o) {
      int32_t acc = 0;
      const T* x = input + static_cast<size_t>(b) * s.depth;
      const T* w = filter + static_cast<size_t>(o) * s.depth;
      for (int d = 0; d < s.depth; ++d) {
        acc = WrapAdd(acc, WrapMul(static_cast<int32_t>(w[d]) + q.filter_offset,
                                   static_cast<int32_t>(x[d]) + q.input_offset));
      }
      if (bias) acc = WrapAdd(acc, bias[o]);
      const size_t c = per_channel ? static_cast<size_t>(o) : 0;
      output[static_cast<size_t>(b) * s.units + o] = static_cast<T>(q.Requantize(acc, c));
    }
  }
}

// sum(x*w) over `depth` for four input rows sharing one filter row. Plain
// widening loops: GCC vectorizes them (pmaddwd / vpmaddwd). |x*w| <= 2^16
// and depth is an int, so the int32 sums wrap only where the reference
// would overflow as well.
template <typename T>
EDGEPIPE_FC_INLINE void Dot4(const T* __restrict w, const T* __restrict x0, const T* __restrict x1,
                             const T* __restrict x2, const T* __restrict x3, int depth,
                             int32_t* out) {
  int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  for (int d = 0; d < depth; ++d) {
    const int32_t wd = w[d];
    a0 += wd * static_cast<int32_t>(x0[d]);
    a1 += wd * static_cast<int32_t>(x1[d]);
    a2 += wd * static_cast<int32_t>(x2[d]);
    a3 += wd * static_cast<int32_t>(x3[d]);
  }
  out[0] = a0;
  out[1] = a1;
  out[2] = a2;
  out[3] = a3;
}

template <typename T>
EDGEPIPE_FC_INLINE int32_t Dot1(const T* __restrict w, const T* __restrict x, int depth) {
  int32_t a = 0;
  for (int d = 0; d < depth; ++d) a += static_cast<int32_t>(w[d]) * static_cast<int32_t>(x[d]);
  return a;
}

template <typename T>
EDGEPIPE_FC_INLINE int32_t SumRow(const T* x, int depth) {
  int32_t a = 0;
  for (int d = 0; d < depth; ++d) a += x[d];
  return a;
}

// The fast loop body; instantiated once for the baseline ISA and once with
// AVX2 enabled (see Fast below).
// The portable dot products (a policy for FastBody).
struct PlainDots {
  template <typename T>
  static EDGEPIPE_FC_INLINE void Dot4(const T* w, const T* x0, const T* x1, const T* x2,
                                      const T* x3, int depth, int32_t* out) {
    edgepipe::lite::Dot4(w, x0, x1, x2, x3, depth, out);
  }
  template <typename T>
  static EDGEPIPE_FC_INLINE int32_t Dot1(const T* w, const T* x, int depth) {
    return edgepipe::lite::Dot1(w, x, depth);
  }
};

template <typename T, typename Dots>
EDGEPIPE_FC_INLINE void FastBody(const ConvQuant& q, const FcShape& s, const T* input,
                                 const T* filter, const int32_t* row_sums, const int32_t* bias,
                                 T* output) {
  const bool per_channel =
      q.multiplier.size() > 1 && q.multiplier.size() == static_cast<size_t>(s.units);
  const size_t depth = static_cast<size_t>(s.depth);
  const size_t units = static_cast<size_t>(s.units);
  // Per unit: everything but sum(x*w) and the filter_offset * sum(x) term.
  const int32_t const_term = WrapMul(WrapMul(s.depth, q.input_offset), q.filter_offset);
  auto finish = [&](int b, int o, int32_t xw, int32_t x_sum) {
    int32_t acc = WrapAdd(xw, WrapMul(q.input_offset, row_sums[o]));
    acc = WrapAdd(acc, WrapMul(q.filter_offset, x_sum));
    acc = WrapAdd(acc, const_term);
    if (bias) acc = WrapAdd(acc, bias[o]);
    const size_t c = per_channel ? static_cast<size_t>(o) : 0;
    output[static_cast<size_t>(b) * units + static_cast<size_t>(o)] =
        static_cast<T>(q.Requantize(acc, c));
  };
  int b = 0;
  for (; b + 4 <= s.batches; b += 4) {
    const T* x0 = input + static_cast<size_t>(b) * depth;
    const T* x1 = x0 + depth;
    const T* x2 = x1 + depth;
    const T* x3 = x2 + depth;
    int32_t xs[4] = {0, 0, 0, 0};
    if (q.filter_offset != 0) {
      xs[0] = SumRow(x0, s.depth);
      xs[1] = SumRow(x1, s.depth);
      xs[2] = SumRow(x2, s.depth);
      xs[3] = SumRow(x3, s.depth);
    }
    for (int o = 0; o < s.units; ++o) {
      int32_t xw[4];
      Dots::Dot4(filter + static_cast<size_t>(o) * depth, x0, x1, x2, x3, s.depth, xw);
      for (int i = 0; i < 4; ++i) finish(b + i, o, xw[i], xs[i]);
    }
  }
  for (; b < s.batches; ++b) {
    const T* x = input + static_cast<size_t>(b) * depth;
    const int32_t x_sum = q.filter_offset != 0 ? SumRow(x, s.depth) : 0;
    for (int o = 0; o < s.units; ++o) {
      finish(b, o, Dots::Dot1(filter + static_cast<size_t>(o) * depth, x, s.depth), x_sum);
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
#define EDGEPIPE_FC_AVX2 1

// 16 int8 / uint8 values widened to int16 lanes.
__attribute__((target("avx2"))) inline __m256i Load16(const int8_t* p) {
  return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
__attribute__((target("avx2"))) inline __m256i Load16(const uint8_t* p) {
  return _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
__attribute__((target("avx2"))) inline int32_t HorizontalSum(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

// Dot4 with _mm256_madd_epi16: int16 x int16 products summed in pairs into
// int32 (|pair| <= 2 * 255 * 255, no saturation); the tail is scalar.
template <typename T>
__attribute__((target("avx2"))) inline void Dot4Avx2(const T* w, const T* x0, const T* x1,
                                                     const T* x2, const T* x3, int depth,
                                                     int32_t* out) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
  int d = 0;
  for (; d + 16 <= depth; d += 16) {
    const __m256i wv = Load16(w + d);
    a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(wv, Load16(x0 + d)));
    a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(wv, Load16(x1 + d)));
    a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(wv, Load16(x2 + d)));
    a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(wv, Load16(x3 + d)));
  }
  int32_t t[4];
  Dot4(w + d, x0 + d, x1 + d, x2 + d, x3 + d, depth - d, t);
  out[0] = WrapAdd(HorizontalSum(a0), t[0]);
  out[1] = WrapAdd(HorizontalSum(a1), t[1]);
  out[2] = WrapAdd(HorizontalSum(a2), t[2]);
  out[3] = WrapAdd(HorizontalSum(a3), t[3]);
}

template <typename T>
__attribute__((target("avx2"))) inline int32_t Dot1Avx2(const T* w, const T* x, int depth) {
  __m256i a = _mm256_setzero_si256();
  int d = 0;
  for (; d + 16 <= depth; d += 16) {
    a = _mm256_add_epi32(a, _mm256_madd_epi16(Load16(w + d), Load16(x + d)));
  }
  return WrapAdd(HorizontalSum(a), Dot1(w + d, x + d, depth - d));
}

struct Avx2Dots {
  template <typename T>
  __attribute__((target("avx2"))) static void Dot4(const T* w, const T* x0, const T* x1,
                                                   const T* x2, const T* x3, int depth,
                                                   int32_t* out) {
    Dot4Avx2(w, x0, x1, x2, x3, depth, out);
  }
  template <typename T>
  __attribute__((target("avx2"))) static int32_t Dot1(const T* w, const T* x, int depth) {
    return Dot1Avx2(w, x, depth);
  }
};

template <typename T>
__attribute__((target("avx2"))) void FastAvx2(const ConvQuant& q, const FcShape& s, const T* input,
                                              const T* filter, const int32_t* row_sums,
                                              const int32_t* bias, T* output) {
  FastBody<T, Avx2Dots>(q, s, input, filter, row_sums, bias, output);
}

bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

template <typename T>
void Fast(const ConvQuant& q, const FcShape& s, const T* input, const T* filter,
          const int32_t* row_sums, const int32_t* bias, T* output) {
#ifdef EDGEPIPE_FC_AVX2
  if (HasAvx2()) {
    FastAvx2(q, s, input, filter, row_sums, bias, output);
    return;
  }
#endif
  FastBody<T, PlainDots>(q, s, input, filter, row_sums, bias, output);
}

}  // namespace

std::vector<int32_t> FcFilterRowSums(const int8_t* filter, int units, int depth) {
  return RowSums(filter, units, depth);
}
std::vector<int32_t> FcFilterRowSums(const uint8_t* filter, int units, int depth) {
  return RowSums(filter, units, depth);
}

void FullyConnectedQuantReference(const ConvQuant& q, const FcShape& s, const int8_t* input,
                                  const int8_t* filter, const int32_t* bias, int8_t* output) {
  Reference(q, s, input, filter, bias, output);
}
void FullyConnectedQuantReference(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                                  const uint8_t* filter, const int32_t* bias, uint8_t* output) {
  Reference(q, s, input, filter, bias, output);
}

void FullyConnectedQuantFast(const ConvQuant& q, const FcShape& s, const int8_t* input,
                             const int8_t* filter, const int32_t* row_sums, const int32_t* bias,
                             int8_t* output) {
  Fast(q, s, input, filter, row_sums, bias, output);
}
void FullyConnectedQuantFast(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                             const uint8_t* filter, const int32_t* row_sums, const int32_t* bias,
                             uint8_t* output) {
  Fast(q, s, input, filter, row_sums, bias, output);
}

void FullyConnectedQuantFastPortable(const ConvQuant& q, const FcShape& s, const int8_t* input,
                                     const int8_t* filter, const int32_t* row_sums,
                                     const int32_t* bias, int8_t* output) {
  FastBody<int8_t, PlainDots>(q, s, input, filter, row_sums, bias, output);
}
void FullyConnectedQuantFastPortable(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                                     const uint8_t* filter, const int32_t* row_sums,
                                     const int32_t* bias, uint8_t* output) {
  FastBody<uint8_t, PlainDots>(q, s, input, filter, row_sums, bias, output);
}

}  // namespace edgepipe::lite
