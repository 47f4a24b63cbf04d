#include "edgepipe/nn/train_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

#include "edgepipe/nn/gemm.h"

namespace edgepipe::nn::kernels {
namespace {

// Every non-portable GEMM path (AVX2, AVX-512) implies AVX2.
bool UseAvx2() { return ActiveGemmIsa() != GemmIsa::kPortable; }

// Bijective 32-bit mixers (murmur3's fmix32 and a second constant set).
[[gnu::always_inline]] inline uint32_t Bits32(uint32_t i, uint32_t k0, uint32_t k1) {
  uint32_t h = i * 0x9E3779B1u + k0;
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  h ^= k1;
  h ^= h >> 16;
  h *= 0x7FEB352Du;
  h ^= h >> 15;
  h *= 0x846CA68Bu;
  h ^= h >> 16;
  return h;
}

// Elements are hashed in chunks of 2^31 by their index in the chunk; the
// chunk number is folded into k1.
constexpr int64_t kDropoutChunk = int64_t{1} << 31;

// One chunk, indices from 0.
template <bool kAccumulate>
[[gnu::always_inline]] inline void DropoutChunk(const float* in, float* out, uint32_t n,
                                                uint32_t k0, uint32_t k1, uint32_t threshold,
                                                float scale) {
  for (uint32_t i = 0; i < n; ++i) {
    const float m = (Bits32(i, k0, k1) >> 8) >= threshold ? scale : 0.0f;
    if constexpr (kAccumulate) {
      out[i] += in[i] * m;
    } else {
      out[i] = in[i] * m;
    }
  }
}

[[gnu::always_inline]] inline void DropoutBody(const float* in, float* out, int64_t n,
                                               const DropoutMask& mask, bool accumulate) {
  const uint32_t k0 = static_cast<uint32_t>(mask.key);
  for (int64_t start = 0; start < n; start += kDropoutChunk) {
    const uint32_t k1 = static_cast<uint32_t>(mask.key >> 32) ^ static_cast<uint32_t>(start >> 31);
    const uint32_t len = static_cast<uint32_t>(std::min<int64_t>(n - start, kDropoutChunk));
    if (accumulate) {
      DropoutChunk<true>(in + start, out + start, len, k0, k1, mask.threshold, mask.scale);
    } else {
      DropoutChunk<false>(in + start, out + start, len, k0, k1, mask.threshold, mask.scale);
    }
  }
}

template <bool kBias, bool kRelu>
[[gnu::always_inline]] inline void BiasReluRows(float* __restrict y, const float* __restrict bias,
                                                int64_t rows, int64_t c) {
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict yr = y + r * c;
    for (int64_t j = 0; j < c; ++j) {
      float v = yr[j];
      if constexpr (kBias) v += bias[j];
      if constexpr (kRelu) v = v < 0.0f ? 0.0f : v;
      yr[j] = v;
    }
  }
}

[[gnu::always_inline]] inline void BiasReluBody(float* y, const float* bias, int64_t rows,
                                                int64_t c, bool relu) {
  if (bias != nullptr) {
    relu ? BiasReluRows<true, true>(y, bias, rows, c) : BiasReluRows<true, false>(y, bias, rows, c);
  } else if (relu) {
    BiasReluRows<false, true>(y, bias, rows, c);
  }
}

[[gnu::always_inline]] inline void BiasReluBackwardBody(float* __restrict g,
                                                        const float* __restrict y, int64_t rows,
                                                        int64_t c, bool relu,
                                                        float* __restrict bias_grad,
                                                        bool accumulate_bias) {
  if (bias_grad != nullptr && !accumulate_bias) std::fill_n(bias_grad, c, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    float* __restrict gr = g + r * c;
    const float* __restrict yr = y + r * c;
    if (relu) {
      for (int64_t j = 0; j < c; ++j) {
        const float v = gr[j];  // loaded unconditionally so the select vectorises
        gr[j] = yr[j] > 0.0f ? v : 0.0f;
      }
    }
    if (bias_grad != nullptr) {
      for (int64_t j = 0; j < c; ++j) bias_grad[j] += gr[j];
    }
  }
}

void RmspropPortable(float* __restrict w, const float* __restrict g, float* __restrict ms,
                     int64_t n, float lr, float rho, float epsilon) {
  const float one_minus_rho = 1.0f - rho;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i];
    const float m = rho * ms[i] + one_minus_rho * (gi * gi);
    ms[i] = m;
    w[i] -= lr * gi / (std::sqrt(m) + epsilon);
  }
}

__attribute__((target("avx2"))) void RmspropAvx2(float* __restrict w, const float* __restrict g,
                                                 float* __restrict ms, int64_t n, float lr,
                                                 float rho, float epsilon) {
  const __m256 vrho = _mm256_set1_ps(rho), v1 = _mm256_set1_ps(1.0f - rho);
  const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(epsilon);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 gi = _mm256_loadu_ps(g + i);
    const __m256 m = _mm256_add_ps(_mm256_mul_ps(vrho, _mm256_loadu_ps(ms + i)),
                                   _mm256_mul_ps(v1, _mm256_mul_ps(gi, gi)));
    _mm256_storeu_ps(ms + i, m);
    const __m256 d = _mm256_div_ps(_mm256_mul_ps(vlr, gi), _mm256_add_ps(_mm256_sqrt_ps(m), veps));
    _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), d));
  }
  RmspropPortable(w + i, g + i, ms + i, n - i, lr, rho, epsilon);
}

__attribute__((target("avx2"))) void ApplyDropoutAvx2(const float* in, float* out, int64_t n,
                                                      const DropoutMask& mask, bool accumulate) {
  DropoutBody(in, out, n, mask, accumulate);
}
__attribute__((target("avx2"))) void BiasReluAvx2(float* y, const float* bias, int64_t rows,
                                                  int64_t c, bool relu) {
  BiasReluBody(y, bias, rows, c, relu);
}
__attribute__((target("avx2"))) void BiasReluBackwardAvx2(float* g, const float* y, int64_t rows,
                                                          int64_t c, bool relu, float* bias_grad,
                                                          bool accumulate_bias) {
  BiasReluBackwardBody(g, y, rows, c, relu, bias_grad, accumulate_bias);
}

}  // namespace

DropoutMask MakeDropoutMask(uint64_t key, float rate) {
  DropoutMask m;
  m.key = key;
  m.threshold = static_cast<uint32_t>(std::ceil(static_cast<double>(rate) * 16777216.0));
  m.scale = 1.0f / (1.0f - rate);
  return m;
}

uint32_t DropoutBits(uint64_t i, uint64_t key) {
  const uint32_t k1 = static_cast<uint32_t>(key >> 32) ^ static_cast<uint32_t>(i >> 31);
  return Bits32(static_cast<uint32_t>(i & (kDropoutChunk - 1)), static_cast<uint32_t>(key), k1);
}

void ApplyDropout(const float* in, float* out, int64_t n, const DropoutMask& mask,
                  bool accumulate) {
  if (UseAvx2()) return ApplyDropoutAvx2(in, out, n, mask, accumulate);
  DropoutBody(in, out, n, mask, accumulate);
}

void BiasRelu(float* y, const float* bias, int64_t rows, int64_t c, bool relu) {
  if (UseAvx2()) return BiasReluAvx2(y, bias, rows, c, relu);
  BiasReluBody(y, bias, rows, c, relu);
}

void BiasReluBackward(float* g, const float* y, int64_t rows, int64_t c, bool relu,
                      float* bias_grad, bool accumulate_bias) {
  if (UseAvx2()) return BiasReluBackwardAvx2(g, y, rows, c, relu, bias_grad, accumulate_bias);
  BiasReluBackwardBody(g, y, rows, c, relu, bias_grad, accumulate_bias);
}

void RmspropUpdate(float* w, const float* g, float* ms, int64_t n, float lr, float rho,
                   float epsilon) {
  if (UseAvx2()) return RmspropAvx2(w, g, ms, n, lr, rho, epsilon);
  RmspropPortable(w, g, ms, n, lr, rho, epsilon);
}

const char* ActiveTrainKernelPath() { return UseAvx2() ? "avx2" : "portable"; }

}  // namespace edgepipe::nn::kernels
