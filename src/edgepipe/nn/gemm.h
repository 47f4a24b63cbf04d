// Single-precision matrix product for nn/ kernels (dense layers and
// im2col convolutions), with runtime CPU dispatch.
//
// Two implementations compute the same thing:
// - kPortable: Eigen, compiled with the build's baseline flags (SSE2 on
//   x86-64); always available.
// - kAvx2: a packed, cache-blocked kernel (6x16 register tile) written with
//   AVX2 + FMA intrinsics in functions marked target("avx2,fma"), so the rest
//   of the binary keeps the baseline ISA. Used when the CPU reports AVX2 and
//   FMA.
// Results differ between the two only by float reassociation.
//
// The default is the fastest available; the environment variable
// EDGEPIPE_NN_GEMM=portable (read once) or SetGemmIsa() forces the portable
// path, e.g. to test both.
//
// Thread safety: Sgemm is thread-safe for distinct outputs; large products
// are split over nn::ParallelFor (a call from inside a parallel task runs
// inline). SetGemmIsa is thread-safe but meant for tests and start-up.
#ifndef EDGEPIPE_NN_GEMM_H_
#define EDGEPIPE_NN_GEMM_H_

#include <cstdint>
#include <string_view>

namespace edgepipe::nn {

enum class GemmIsa { kPortable, kAvx2 };

// True when this CPU can run the AVX2 + FMA kernels.
bool CpuHasAvx2Fma();
// The implementation Sgemm uses now.
GemmIsa ActiveGemmIsa();
// Selects the implementation; asking for kAvx2 on a CPU without it selects
// kPortable. Returns the implementation now in use.
GemmIsa SetGemmIsa(GemmIsa isa);
std::string_view GemmIsaName(GemmIsa isa);

// A row-major matrix operand: element (i, j) of op(M) is data[i * ld + j],
// or data[j * ld + i] when transposed (the stored matrix is op(M)^T).
struct GemmOperand {
  const float* data;
  int64_t ld;  // stride between stored rows, in floats
  bool transposed = false;
};

// c[m, n] = op(a)[m, k] * op(b)[k, n], or c += ... when accumulate.
// c is row-major with stride ldc >= n; m, n, k >= 0 (k == 0 gives zeros or
// leaves c unchanged). c must not overlap a or b. Does not allocate per call
// once warmed up (packing buffers are per thread).
void Sgemm(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
           bool accumulate);

namespace internal {
// Single-threaded kernels behind Sgemm (same contract), for tests.
void SgemmPortable(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c,
                   int64_t ldc, bool accumulate);
// Precondition: CpuHasAvx2Fma().
void SgemmAvx2(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
               bool accumulate);
}  // namespace internal

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_GEMM_H_
