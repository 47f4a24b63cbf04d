// Fused elementwise kernels of the training step (dense layers, dropout,
// RMSprop), each one pass over its buffers, with runtime CPU dispatch.
//
// Two implementations compute bit-identical results (only exact IEEE
// operations, in the same order, no FMA contraction):
// - portable: baseline ISA (SSE2 on x86-64);
// - avx2: the same loops in functions marked target("avx2").
// They follow nn/gemm.h's selection: the AVX2 path runs when
// ActiveGemmIsa() is not kPortable, so SetGemmIsa(kPortable) or
// EDGEPIPE_NN_GEMM=portable forces the portable path (tests run both).
//
// Thread safety: pure functions of their arguments; callers own the buffers.
// Buffers must not overlap unless stated.
#ifndef EDGEPIPE_NN_TRAIN_KERNELS_H_
#define EDGEPIPE_NN_TRAIN_KERNELS_H_

#include <cstdint>

namespace edgepipe::nn::kernels {

// A dropout mask, counter-based: element i is kept iff
// (DropoutBits(i, key) >> 8) >= threshold, where threshold =
// ceil(rate * 2^24), so P(drop) = rate up to 2^-24. Kept elements are scaled
// by 1 / (1 - rate) (inverted dropout). The mask is a pure function of
// (key, i): forward and backward recompute it instead of storing it.
struct DropoutMask {
  uint64_t key = 0;
  uint32_t threshold = 0;
  float scale = 1.0f;
};
// Precondition: rate in [0, 1).
DropoutMask MakeDropoutMask(uint64_t key, float rate);
// 32 mixed bits for element i (two rounds of a 32-bit integer hash).
uint32_t DropoutBits(uint64_t i, uint64_t key);

// out[i] = in[i] * mask(i), or out[i] += ... when accumulate. n elements.
// out may equal in (in place) when !accumulate.
void ApplyDropout(const float* in, float* out, int64_t n, const DropoutMask& mask, bool accumulate);

// y [rows, c] in place: y += bias (per column; bias may be nullptr), then
// y = max(y, 0) when relu (NaN stays NaN).
void BiasRelu(float* y, const float* bias, int64_t rows, int64_t c, bool relu);

// Backward of BiasRelu. When relu, g [rows, c] is masked in place by y > 0
// (y is BiasRelu's output). Then, when bias_grad is not nullptr,
// bias_grad[j] (+)= sum over rows of g[r, j] (accumulate or overwrite).
void BiasReluBackward(float* g, const float* y, int64_t rows, int64_t c, bool relu,
                      float* bias_grad, bool accumulate_bias);

// Keras' RMSprop without momentum, n elements:
//   ms = rho ms + (1 - rho) g^2;  w -= lr g / (sqrt(ms) + epsilon).
void RmspropUpdate(float* w, const float* g, float* ms, int64_t n, float lr, float rho,
                   float epsilon);

// "avx2" or "portable": the path the kernels above take now.
const char* ActiveTrainKernelPath();

}  // namespace edgepipe::nn::kernels

#endif  // EDGEPIPE_NN_TRAIN_KERNELS_H_
