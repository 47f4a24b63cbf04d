// Quantized DEPTHWISE_CONV_2D paths (see depthwise_quant.h).
#include "edgepipe/lite/depthwise_quant.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "edgepipe/lite/quant_simd.h"

#ifdef EDGEPIPE_QUANT_SIMD_X86
#define EDGEPIPE_DW_X86 1
#endif

namespace edgepipe::lite {
namespace {

constexpr int kBlock = 16;  // channel padding of the scratch arrays

inline int32_t WrapMulAdd(int32_t acc, int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(acc) +
                              static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

// Per-call constants, channel arrays padded to a multiple of kBlock (the
// padding lanes hold zeros; their outputs are never stored).
struct Plan {
  int channels = 0, padded = 0, taps = 0;
  std::vector<int32_t> w;                     // [taps][padded]: filter + filter_offset
  std::vector<int32_t> bias;                  // [padded]
  std::vector<int32_t> mult, lshift, rshift;  // [padded]: fixed-point requantization
  std::vector<float> fscale;                  // [padded]: kLiteRt scale
  bool fp32 = false;
  int32_t lo = 0, hi = 0;  // clamp bounds before adding output_offset
  int32_t input_offset = 0, output_offset = 0;
  // kAvx512Vnni only (MakeVnniPlan): interior pixels, blocks of 32 channels
  // whose taps go in pairs through vpdpwssd. Per block, two accumulators of
  // 16 lanes: "lo" lane 4j+e holds channel 8j+e, "hi" lane 4j+e channel
  // 8j+4+e (j < 4, e < 4: the order of vpunpck{l,h}wd within 128-bit lanes).
  int vblocks = 0, vpairs = 0;
  std::vector<int16_t> vw;  // [pair][block][lo 32 | hi 32]: interleaved tap pairs
  // [block][lo 16 | hi 16] in the permuted order: bias + input_offset * sum
  // of the taps' weights (all taps in-image), and the requantization.
  std::vector<int32_t> vbias, vmult, vlshift, vrshift;
  std::vector<float> vfscale;
};

template <typename T>
bool MakePlan(const ConvQuant& q, const ConvGeometry& g, const T* filter, const int32_t* bias,
              Plan* p) {
  const int c = g.out_c;
  p->channels = c;
  p->padded = (c + kBlock - 1) / kBlock * kBlock;
  p->taps = g.k_h * g.k_w;
  const size_t pc = static_cast<size_t>(p->padded);
  p->w.assign(static_cast<size_t>(p->taps) * pc, 0);
  for (int t = 0; t < p->taps; ++t) {
    for (int ch = 0; ch < c; ++ch) {
      p->w[static_cast<size_t>(t) * pc + static_cast<size_t>(ch)] =
          static_cast<int32_t>(
              filter[static_cast<size_t>(t) * static_cast<size_t>(c) + static_cast<size_t>(ch)]) +
          q.filter_offset;
    }
  }
  p->bias.assign(pc, 0);
  if (bias) std::copy(bias, bias + c, p->bias.begin());
  const bool per_channel = q.multiplier.size() > 1;
  p->fp32 = !q.fp32_scale.empty();
  p->mult.assign(pc, 0);
  p->lshift.assign(pc, 0);
  p->rshift.assign(pc, 0);
  p->fscale.assign(pc, 0.0f);
  for (int ch = 0; ch < c; ++ch) {
    const size_t k = per_channel ? static_cast<size_t>(ch) : 0;
    if (p->fp32) {
      p->fscale[static_cast<size_t>(ch)] = q.fp32_scale[k];
    } else {
      const int32_t m = q.multiplier[k];
      if (m == std::numeric_limits<int32_t>::min()) return false;  // SRDHM's saturating case
      const int s = q.shift[k];
      if (s > 31 || s < -31) return false;
      p->mult[static_cast<size_t>(ch)] = m;
      p->lshift[static_cast<size_t>(ch)] = s > 0 ? s : 0;
      p->rshift[static_cast<size_t>(ch)] = s > 0 ? 0 : -s;
    }
  }
  // clamp(v + off, act_min, act_max) == clamp(v, act_min - off, act_max - off) + off.
  const int64_t lo = int64_t{q.act_min} - q.output_offset;
  const int64_t hi = int64_t{q.act_max} - q.output_offset;
  if (lo > hi || lo < std::numeric_limits<int32_t>::min() ||
      hi > std::numeric_limits<int32_t>::max()) {
    return false;
  }
  p->lo = static_cast<int32_t>(lo);
  p->hi = static_cast<int32_t>(hi);
  p->input_offset = q.input_offset;
  p->output_offset = q.output_offset;
  return true;
}

// Channel of lane `i` (0..31: lo 0..15, hi 16..31) of block `blk`.
inline int VnniChannel(int blk, int i) {
  const int half = i / 16, l = i % 16;
  return blk * 32 + 8 * (l / 4) + 4 * half + l % 4;
}

void MakeVnniPlan(Plan* p) {
  const int c = p->channels;
  const size_t pc = static_cast<size_t>(p->padded);
  p->vblocks = (c + 31) / 32;
  p->vpairs = (p->taps + 1) / 2;
  const size_t nb = static_cast<size_t>(p->vblocks);
  p->vw.assign(static_cast<size_t>(p->vpairs) * nb * 64, 0);
  for (int pr = 0; pr < p->vpairs; ++pr) {
    for (int blk = 0; blk < p->vblocks; ++blk) {
      int16_t* dst = p->vw.data() + (static_cast<size_t>(pr) * nb + static_cast<size_t>(blk)) * 64;
      for (int half = 0; half < 2; ++half) {
        for (int k = 0; k < 32; ++k) {
          // Element k of the lo/hi vector: 128-bit lane k / 8, channel pair
          // (k % 8) / 2, tap 2 * pr + k % 2.
          const int ch = blk * 32 + 8 * (k / 8) + 4 * half + (k % 8) / 2;
          const int tap = 2 * pr + k % 2;
          int32_t w = 0;
          if (ch < c && tap < p->taps) {
            w = p->w[static_cast<size_t>(tap) * pc + static_cast<size_t>(ch)];
          }
          dst[half * 32 + k] = static_cast<int16_t>(w);
        }
      }
    }
  }
  const size_t n = nb * 32;
  p->vbias.assign(n, 0);
  p->vmult.assign(n, 0);
  p->vlshift.assign(n, 0);
  p->vrshift.assign(n, 0);
  p->vfscale.assign(n, 0.0f);
  for (int blk = 0; blk < p->vblocks; ++blk) {
    for (int i = 0; i < 32; ++i) {
      const int ch = VnniChannel(blk, i);
      if (ch >= c) continue;
      const size_t d = static_cast<size_t>(blk) * 32 + static_cast<size_t>(i);
      const size_t sc = static_cast<size_t>(ch);
      uint32_t sum = 0;
      for (int t = 0; t < p->taps; ++t) {
        sum += static_cast<uint32_t>(p->w[static_cast<size_t>(t) * pc + sc]);
      }
      p->vbias[d] = static_cast<int32_t>(static_cast<uint32_t>(p->bias[sc]) +
                                         sum * static_cast<uint32_t>(p->input_offset));
      p->vmult[d] = p->mult[sc];
      p->vlshift[d] = p->lshift[sc];
      p->vrshift[d] = p->rshift[sc];
      p->vfscale[d] = p->fscale[sc];
    }
  }
}

Plan& ThreadPlan() {
  thread_local Plan plan;
  return plan;
}

// In-image tap range [lo, hi) of a kernel axis for output coordinate `o`.
inline void TapRange(int o, int stride, int pad, int dil, int k, int in, int* lo, int* hi) {
  const int i0 = o * stride - pad;
  int a = 0;
  if (i0 < 0) a = (-i0 + dil - 1) / dil;
  int b = 0;
  if (in - i0 > 0) b = (in - i0 + dil - 1) / dil;
  b = std::min(b, k);
  *lo = std::min(a, k);
  *hi = std::max(b, *lo);
}

// Channels [c0, c1) of one output pixel, scalar: the portable path and the
// AVX2 channel tail.
template <typename T>
inline void PixelScalar(const ConvQuant& q, const Plan& p, const ConvGeometry& g, const T* in_b,
                        int oy, int ox, int ky0, int ky1, int kx0, int kx1, int c0, int c1,
                        T* out) {
  const bool per_channel = q.multiplier.size() > 1;
  const size_t pc = static_cast<size_t>(p.padded);
  for (int c = c0; c < c1; ++c) {
    int32_t acc = p.bias[static_cast<size_t>(c)];
    for (int ky = ky0; ky < ky1; ++ky) {
      const int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
      for (int kx = kx0; kx < kx1; ++kx) {
        const int ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
        const T x = in_b[(static_cast<size_t>(iy) * g.in_w + ix) * g.in_c + static_cast<size_t>(c)];
        const int32_t w = p.w[static_cast<size_t>(ky * g.k_w + kx) * pc + static_cast<size_t>(c)];
        acc = WrapMulAdd(acc, w, static_cast<int32_t>(x) + p.input_offset);
      }
    }
    out[c] = static_cast<T>(q.Requantize(acc, per_channel ? static_cast<size_t>(c) : 0));
  }
}

template <typename T>
void RunPortable(const ConvQuant& q, const Plan& p, const ConvGeometry& g, const T* input,
                 T* output) {
  for (int b = 0; b < g.batches; ++b) {
    const T* in_b = input + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_c;
    for (int oy = 0; oy < g.out_h; ++oy) {
      int ky0, ky1;
      TapRange(oy, g.stride_h, g.pad_h, g.dil_h, g.k_h, g.in_h, &ky0, &ky1);
      for (int ox = 0; ox < g.out_w; ++ox) {
        int kx0, kx1;
        TapRange(ox, g.stride_w, g.pad_w, g.dil_w, g.k_w, g.in_w, &kx0, &kx1);
        T* out = output + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c;
        PixelScalar(q, p, g, in_b, oy, ox, ky0, ky1, kx0, kx1, 0, g.out_c, out);
      }
    }
  }
}

#ifdef EDGEPIPE_DW_X86

// ---- AVX2: 8 channels per block ----

template <typename T>
__attribute__((target("avx2"))) inline __m256i Load8(const T* x) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(x));
  if constexpr (std::is_same_v<T, int8_t>) {
    return _mm256_cvtepi8_epi32(v);
  } else {
    return _mm256_cvtepu8_epi32(v);
  }
}

// ConvQuant::Requantize of 8 lanes (channels c .. c+7 of the plan).
__attribute__((target("avx2"))) inline __m256i Requant8(const Plan& p, size_t c, __m256i acc) {
  __m256i v;
  if (p.fp32) {
    v = RequantizeFp32Avx2(acc, _mm256_loadu_ps(p.fscale.data() + c));
  } else {
    v = MultiplyByQuantizedMultiplierAvx2(
        acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.mult.data() + c)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.lshift.data() + c)),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.rshift.data() + c)));
  }
  v = _mm256_max_epi32(v, _mm256_set1_epi32(p.lo));
  v = _mm256_min_epi32(v, _mm256_set1_epi32(p.hi));
  return _mm256_add_epi32(v, _mm256_set1_epi32(p.output_offset));
}

template <typename T>
__attribute__((target("avx2"))) inline void Store8(T* out, __m256i v) {
  // v is within T's range: the saturating packs are exact.
  const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  const __m128i b = std::is_same_v<T, int8_t> ? _mm_packs_epi16(w, w) : _mm_packus_epi16(w, w);
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), b);
}

template <typename T>
__attribute__((target("avx2"))) void RunAvx2(const ConvQuant& q, const Plan& p,
                                             const ConvGeometry& g, const T* input, T* output) {
  const int c = g.out_c;
  const int cv = c / 8 * 8;
  const size_t pc = static_cast<size_t>(p.padded);
  const __m256i ioff = _mm256_set1_epi32(p.input_offset);
  const size_t row_stride = static_cast<size_t>(g.in_w) * g.in_c;
  for (int b = 0; b < g.batches; ++b) {
    const T* in_b = input + static_cast<size_t>(b) * g.in_h * row_stride;
    for (int oy = 0; oy < g.out_h; ++oy) {
      int ky0, ky1;
      TapRange(oy, g.stride_h, g.pad_h, g.dil_h, g.k_h, g.in_h, &ky0, &ky1);
      const int iy0 = oy * g.stride_h - g.pad_h;
      for (int ox = 0; ox < g.out_w; ++ox) {
        int kx0, kx1;
        TapRange(ox, g.stride_w, g.pad_w, g.dil_w, g.k_w, g.in_w, &kx0, &kx1);
        const int ix0 = ox * g.stride_w - g.pad_w;
        T* out = output + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
        for (int c0 = 0; c0 < cv; c0 += 8) {
          __m256i acc = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.bias.data() + c0));
          for (int ky = ky0; ky < ky1; ++ky) {
            const T* row = in_b + static_cast<size_t>(iy0 + ky * g.dil_h) * row_stride + c0;
            const int32_t* wrow = p.w.data() + static_cast<size_t>(ky * g.k_w) * pc + c0;
            for (int kx = kx0; kx < kx1; ++kx) {
              const __m256i x = _mm256_add_epi32(
                  Load8(row + static_cast<size_t>(ix0 + kx * g.dil_w) * g.in_c), ioff);
              const __m256i w = _mm256_loadu_si256(
                  reinterpret_cast<const __m256i*>(wrow + static_cast<size_t>(kx) * pc));
              acc = _mm256_add_epi32(acc, _mm256_mullo_epi32(x, w));
            }
          }
          Store8(out + c0, Requant8(p, static_cast<size_t>(c0), acc));
        }
        if (cv < c) PixelScalar(q, p, g, in_b, oy, ox, ky0, ky1, kx0, kx1, cv, c, out);
      }
    }
  }
}

// ---- AVX-512: 16 channels per block, masked tail ----

#define EDGEPIPE_DW_AVX512 EDGEPIPE_TARGET_AVX512

template <typename T>
EDGEPIPE_DW_AVX512 inline __m512i Load16(const T* x, __mmask16 k) {
  const __m128i v = _mm_maskz_loadu_epi8(k, x);
  if constexpr (std::is_same_v<T, int8_t>) {
    return _mm512_cvtepi8_epi32(v);
  } else {
    return _mm512_cvtepu8_epi32(v);
  }
}

EDGEPIPE_DW_AVX512 inline __m512i Requant16(const Plan& p, size_t c, __m512i acc) {
  __m512i v;
  if (p.fp32) {
    v = RequantizeFp32Avx512(acc, _mm512_loadu_ps(p.fscale.data() + c));
  } else {
    v = MultiplyByQuantizedMultiplierAvx512(acc, _mm512_loadu_si512(p.mult.data() + c),
                                            _mm512_loadu_si512(p.lshift.data() + c),
                                            _mm512_loadu_si512(p.rshift.data() + c));
  }
  v = _mm512_max_epi32(v, _mm512_set1_epi32(p.lo));
  v = _mm512_min_epi32(v, _mm512_set1_epi32(p.hi));
  return _mm512_add_epi32(v, _mm512_set1_epi32(p.output_offset));
}

template <typename T>
EDGEPIPE_DW_AVX512 void RunAvx512(const Plan& p, const ConvGeometry& g, const T* input, T* output) {
  const int c = g.out_c;
  const size_t pc = static_cast<size_t>(p.padded);
  const __m512i ioff = _mm512_set1_epi32(p.input_offset);
  const size_t row_stride = static_cast<size_t>(g.in_w) * g.in_c;
  for (int b = 0; b < g.batches; ++b) {
    const T* in_b = input + static_cast<size_t>(b) * g.in_h * row_stride;
    for (int oy = 0; oy < g.out_h; ++oy) {
      int ky0, ky1;
      TapRange(oy, g.stride_h, g.pad_h, g.dil_h, g.k_h, g.in_h, &ky0, &ky1);
      const int iy0 = oy * g.stride_h - g.pad_h;
      for (int ox = 0; ox < g.out_w; ++ox) {
        int kx0, kx1;
        TapRange(ox, g.stride_w, g.pad_w, g.dil_w, g.k_w, g.in_w, &kx0, &kx1);
        const int ix0 = ox * g.stride_w - g.pad_w;
        T* out = output + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
        for (int c0 = 0; c0 < c; c0 += 16) {
          const __mmask16 k =
              c - c0 >= 16 ? static_cast<__mmask16>(0xFFFF)
                           : static_cast<__mmask16>((1u << static_cast<unsigned>(c - c0)) - 1u);
          __m512i acc = _mm512_loadu_si512(p.bias.data() + c0);
          for (int ky = ky0; ky < ky1; ++ky) {
            const T* row = in_b + static_cast<size_t>(iy0 + ky * g.dil_h) * row_stride + c0;
            const int32_t* wrow = p.w.data() + static_cast<size_t>(ky * g.k_w) * pc + c0;
            for (int kx = kx0; kx < kx1; ++kx) {
              const __m512i x = _mm512_add_epi32(
                  Load16(row + static_cast<size_t>(ix0 + kx * g.dil_w) * g.in_c, k), ioff);
              const __m512i w = _mm512_loadu_si512(wrow + static_cast<size_t>(kx) * pc);
              acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, w));
            }
          }
          _mm512_mask_cvtepi32_storeu_epi8(out + c0, k, Requant16(p, static_cast<size_t>(c0), acc));
        }
      }
    }
  }
}

EDGEPIPE_DW_AVX512 inline __m512i Requant16At(const Plan& p, const int32_t* mult,
                                              const int32_t* lshift, const int32_t* rshift,
                                              const float* fscale, __m512i acc) {
  __m512i v;
  if (p.fp32) {
    v = RequantizeFp32Avx512(acc, _mm512_loadu_ps(fscale));
  } else {
    v = MultiplyByQuantizedMultiplierAvx512(acc, _mm512_loadu_si512(mult),
                                            _mm512_loadu_si512(lshift), _mm512_loadu_si512(rshift));
  }
  v = _mm512_max_epi32(v, _mm512_set1_epi32(p.lo));
  v = _mm512_min_epi32(v, _mm512_set1_epi32(p.hi));
  return _mm512_add_epi32(v, _mm512_set1_epi32(p.output_offset));
}

#define EDGEPIPE_DW_VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

template <typename T>
EDGEPIPE_DW_VNNI inline __m512i Load32x16(const T* x, __mmask32 k) {
  const __m256i v = _mm256_maskz_loadu_epi8(k, x);
  if constexpr (std::is_same_v<T, int8_t>) {
    return _mm512_cvtepi8_epi16(v);
  } else {
    return _mm512_cvtepu8_epi16(v);
  }
}

// One in-image (interior) output pixel on the VNNI path: every tap, raw
// inputs (the input offset is in vbias).
template <typename T>
EDGEPIPE_DW_VNNI inline void PixelVnni(const Plan& p, const T* base, const ptrdiff_t* rel, T* out) {
  const int c = p.channels;
  const size_t nb = static_cast<size_t>(p.vblocks);
  for (int blk = 0; blk < p.vblocks; ++blk) {
    const int c0 = blk * 32;
    const __mmask32 k = c - c0 >= 32 ? static_cast<__mmask32>(0xFFFFFFFFu)
                                     : static_cast<__mmask32>((1u << (c - c0)) - 1u);
    const size_t d = static_cast<size_t>(blk) * 32;
    __m512i lo = _mm512_loadu_si512(p.vbias.data() + d);
    __m512i hi = _mm512_loadu_si512(p.vbias.data() + d + 16);
    const int16_t* w = p.vw.data() + static_cast<size_t>(blk) * 64;
    for (int pr = 0; pr < p.vpairs; ++pr, w += nb * 64) {
      const __m512i xa = Load32x16(base + rel[2 * pr] + c0, k);
      const __m512i xb =
          2 * pr + 1 < p.taps ? Load32x16(base + rel[2 * pr + 1] + c0, k) : _mm512_setzero_si512();
      lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(xa, xb), _mm512_loadu_si512(w));
      hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(xa, xb), _mm512_loadu_si512(w + 32));
    }
    const __m512i vlo = Requant16At(p, p.vmult.data() + d, p.vlshift.data() + d,
                                    p.vrshift.data() + d, p.vfscale.data() + d, lo);
    const __m512i vhi = Requant16At(p, p.vmult.data() + d + 16, p.vlshift.data() + d + 16,
                                    p.vrshift.data() + d + 16, p.vfscale.data() + d + 16, hi);
    // packs keeps 128-bit lanes: lane j = channels 8j .. 8j+7 in order; the
    // values are within T's range, so the saturation and truncation are exact.
    _mm256_mask_storeu_epi8(out + c0, k, _mm512_cvtepi16_epi8(_mm512_packs_epi32(vlo, vhi)));
  }
}

template <typename T>
EDGEPIPE_DW_VNNI void RunAvx512Vnni(const Plan& p, const ConvGeometry& g, const T* input,
                                    T* output) {
  const int c = g.out_c;
  const size_t pc = static_cast<size_t>(p.padded);
  const __m512i ioff = _mm512_set1_epi32(p.input_offset);
  const size_t row_stride = static_cast<size_t>(g.in_w) * g.in_c;
  ptrdiff_t rel[64];
  for (int ky = 0; ky < g.k_h; ++ky) {
    for (int kx = 0; kx < g.k_w; ++kx) {
      rel[ky * g.k_w + kx] =
          static_cast<ptrdiff_t>(ky) * g.dil_h * static_cast<ptrdiff_t>(row_stride) +
          static_cast<ptrdiff_t>(kx) * g.dil_w * g.in_c;
    }
  }
  for (int b = 0; b < g.batches; ++b) {
    const T* in_b = input + static_cast<size_t>(b) * g.in_h * row_stride;
    for (int oy = 0; oy < g.out_h; ++oy) {
      int ky0, ky1;
      TapRange(oy, g.stride_h, g.pad_h, g.dil_h, g.k_h, g.in_h, &ky0, &ky1);
      const int iy0 = oy * g.stride_h - g.pad_h;
      const bool full_y = ky0 == 0 && ky1 == g.k_h;
      for (int ox = 0; ox < g.out_w; ++ox) {
        int kx0, kx1;
        TapRange(ox, g.stride_w, g.pad_w, g.dil_w, g.k_w, g.in_w, &kx0, &kx1);
        const int ix0 = ox * g.stride_w - g.pad_w;
        T* out = output + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * c;
        if (full_y && kx0 == 0 && kx1 == g.k_w) {
          PixelVnni(p,
                    in_b + static_cast<ptrdiff_t>(iy0) * static_cast<ptrdiff_t>(row_stride) +
                        static_cast<ptrdiff_t>(ix0) * g.in_c,
                    rel, out);
          continue;
        }
        for (int c0 = 0; c0 < c; c0 += 16) {
          const __mmask16 k =
              c - c0 >= 16 ? static_cast<__mmask16>(0xFFFF)
                           : static_cast<__mmask16>((1u << static_cast<unsigned>(c - c0)) - 1u);
          __m512i acc = _mm512_loadu_si512(p.bias.data() + c0);
          for (int ky = ky0; ky < ky1; ++ky) {
            const T* row = in_b + static_cast<size_t>(iy0 + ky * g.dil_h) * row_stride + c0;
            const int32_t* wrow = p.w.data() + static_cast<size_t>(ky * g.k_w) * pc + c0;
            for (int kx = kx0; kx < kx1; ++kx) {
              const __m512i x = _mm512_add_epi32(
                  Load16(row + static_cast<size_t>(ix0 + kx * g.dil_w) * g.in_c, k), ioff);
              const __m512i wv = _mm512_loadu_si512(wrow + static_cast<size_t>(kx) * pc);
              acc = _mm512_add_epi32(acc, _mm512_mullo_epi32(x, wv));
            }
          }
          _mm512_mask_cvtepi32_storeu_epi8(out + c0, k, Requant16(p, static_cast<size_t>(c0), acc));
        }
      }
    }
  }
}

bool CpuHasAvx512Vnni() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512vnni");
  return has;
}

bool CpuHasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
bool CpuHasAvx512() {
  static const bool has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl");
  return has;
}

#endif  // EDGEPIPE_DW_X86

template <typename T>
void Run(const ConvQuant& q, const ConvGeometry& g, const T* input, const T* filter,
         const int32_t* bias, T* output, DepthwiseIsa isa) {
  Plan& p = ThreadPlan();
  if (g.multiplier != 1 || g.in_c != g.out_c || !MakePlan(q, g, filter, bias, &p)) {
    ConvQuantReference(q, g, true, input, filter, bias, output);
    return;
  }
  if (!DepthwiseIsaSupported(isa)) isa = DepthwiseIsa::kPortable;
#ifdef EDGEPIPE_DW_X86
  if (isa == DepthwiseIsa::kAvx512Vnni) {
    if (p.taps <= 64) {
      MakeVnniPlan(&p);
      return RunAvx512Vnni(p, g, input, output);
    }
    isa = DepthwiseIsa::kAvx512;
  }
  if (isa == DepthwiseIsa::kAvx512) return RunAvx512(p, g, input, output);
  if (isa == DepthwiseIsa::kAvx2) return RunAvx2(q, p, g, input, output);
#endif
  RunPortable(q, p, g, input, output);
}

}  // namespace

bool DepthwiseIsaSupported(DepthwiseIsa isa) {
  switch (isa) {
    case DepthwiseIsa::kPortable:
      return true;
#ifdef EDGEPIPE_DW_X86
    case DepthwiseIsa::kAvx2:
      return CpuHasAvx2();
    case DepthwiseIsa::kAvx512:
      return CpuHasAvx512();
    case DepthwiseIsa::kAvx512Vnni:
      return CpuHasAvx512Vnni();
#else
    default:
      return false;
#endif
  }
  return false;
}

DepthwiseIsa DepthwiseBestIsa() {
  if (DepthwiseIsaSupported(DepthwiseIsa::kAvx512Vnni)) return DepthwiseIsa::kAvx512Vnni;
  if (DepthwiseIsaSupported(DepthwiseIsa::kAvx512)) return DepthwiseIsa::kAvx512;
  if (DepthwiseIsaSupported(DepthwiseIsa::kAvx2)) return DepthwiseIsa::kAvx2;
  return DepthwiseIsa::kPortable;
}

std::string_view DepthwiseIsaName(DepthwiseIsa isa) {
  switch (isa) {
    case DepthwiseIsa::kPortable:
      return "portable";
    case DepthwiseIsa::kAvx2:
      return "avx2";
    case DepthwiseIsa::kAvx512:
      return "avx512";
    case DepthwiseIsa::kAvx512Vnni:
      return "avx512vnni";
  }
  return "?";
}

void DepthwiseQuantIsa(const ConvQuant& q, const ConvGeometry& g, const int8_t* input,
                       const int8_t* filter, const int32_t* bias, int8_t* output,
                       DepthwiseIsa isa) {
  Run(q, g, input, filter, bias, output, isa);
}
void DepthwiseQuantIsa(const ConvQuant& q, const ConvGeometry& g, const uint8_t* input,
                       const uint8_t* filter, const int32_t* bias, uint8_t* output,
                       DepthwiseIsa isa) {
  Run(q, g, input, filter, bias, output, isa);
}
void DepthwiseQuantFast(const ConvQuant& q, const ConvGeometry& g, const int8_t* input,
                        const int8_t* filter, const int32_t* bias, int8_t* output) {
  Run(q, g, input, filter, bias, output, DepthwiseBestIsa());
}
void DepthwiseQuantFast(const ConvQuant& q, const ConvGeometry& g, const uint8_t* input,
                        const uint8_t* filter, const int32_t* bias, uint8_t* output) {
  Run(q, g, input, filter, bias, output, DepthwiseBestIsa());
}

}  // namespace edgepipe::lite
