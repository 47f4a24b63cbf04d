// The x86 SIMD kernels behind FullyConnectedFloatFast (fully_connected_float.h):
// a register-blocked float GEMM with fused multiply-add over a
// FcPackFloatFilter-packed filter, same contract as FullyConnectedFloatFast.
// Internal to lite/: call FullyConnectedFloatFast, which checks the CPU.
//
// Declared only on x86-64 GCC/Clang builds (EDGEPIPE_GEMM_FLOAT_X86 set);
// calling one on a CPU without its instruction set is undefined (SIGILL).
// Thread safety: pure functions over caller-owned buffers; no allocation.
#ifndef EDGEPIPE_LITE_GEMM_FLOAT_X86_H_
#define EDGEPIPE_LITE_GEMM_FLOAT_X86_H_

#include "edgepipe/lite/fully_connected_fast.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define EDGEPIPE_GEMM_FLOAT_X86 1

namespace edgepipe::lite::internal {

// Needs AVX2 and FMA.
void GemmFloatAvx2Fma(const FcShape& s, const float* input, const float* packed_filter,
                      const float* bias, float fmin, float fmax, float* output);
// Needs AVX-512F.
void GemmFloatAvx512(const FcShape& s, const float* input, const float* packed_filter,
                     const float* bias, float fmin, float fmax, float* output);

}  // namespace edgepipe::lite::internal

#endif
#endif  // EDGEPIPE_LITE_GEMM_FLOAT_X86_H_
