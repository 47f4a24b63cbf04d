// Single-precision matrix product for nn/ kernels (dense layers and
// im2col convolutions), with runtime CPU dispatch.
//
// Three implementations compute the same thing:
// - kPortable: Eigen, compiled with the build's baseline flags (SSE2 on
//   x86-64); always available.
// - kAvx2: a packed, cache-blocked kernel (6x16 register tile) written with
//   AVX2 + FMA intrinsics in functions marked target("avx2,fma"), so the rest
//   of the binary keeps the baseline ISA. Used when the CPU reports AVX2 and
//   FMA.
// - kAvx512: AVX-512F kernel (up to 6x64 register tile, masked edges) that
//   reads both operands in place (only a transposed op(b) is packed), for
//   the skinny products of MLP training (n = 64, k = 784). Functions marked
//   target("avx512f,..."); used when the CPU reports AVX-512F.
// Results differ between them only by float reassociation. Each kernel is
// deterministic: an element's sum order depends only on (m, n, k) and the
// operands' transposition, never on the thread count.
//
// The default is the fastest available; the environment variable
// EDGEPIPE_NN_GEMM=portable|avx2|avx512 (read once) or SetGemmIsa() selects
// a slower path, e.g. to test each.
//
// Thread safety: Sgemm is thread-safe for distinct outputs; large products
// are split over nn::ParallelFor (a call from inside a parallel task runs
// inline). SetGemmIsa is thread-safe but meant for tests and start-up.
#ifndef EDGEPIPE_NN_GEMM_H_
#define EDGEPIPE_NN_GEMM_H_

#include <cstdint>
#include <string_view>

namespace edgepipe::nn {

enum class GemmIsa { kPortable, kAvx2, kAvx512 };

// True when this CPU can run the AVX2 + FMA kernels.
bool CpuHasAvx2Fma();
// True when this CPU can run the AVX-512F kernels (implies CpuHasAvx2Fma()).
bool CpuHasAvx512();
// The implementation Sgemm uses now.
GemmIsa ActiveGemmIsa();
// Selects the implementation; asking for one this CPU cannot run selects the
// next slower (kAvx512 -> kAvx2 -> kPortable). Returns the one now in use.
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
// Precondition: CpuHasAvx512().
void SgemmAvx512(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c,
                 int64_t ldc, bool accumulate);
}  // namespace internal

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_GEMM_H_
