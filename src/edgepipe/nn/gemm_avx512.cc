// The AVX-512F SGEMM kernel (see gemm.h). Only functions marked
// target("avx512f") use those instructions; nothing here includes Eigen or
// other templates that could be instantiated with the wider ISA (ODR).
//
// Made for the skinny products of MLP training (n = 64 or 10, k up to a few
// thousand): a register tile of up to 6 rows x 64 columns (24 zmm
// accumulators, 4 zmm of op(b) per step) covers a whole 64-column panel, so
// each step of k loads one 256-byte row of op(b) and broadcasts 6 values of
// op(a) straight from the operand (row-major or transposed: both are read in
// place, no packing pass). Only a transposed op(b) is first copied into a
// row-major per-thread buffer (in training it is a small weight matrix).
// Partial tiles use smaller instantiations (rows) and masked loads / stores
// (columns), so nothing is padded and nothing past the operands is read.
//
// Blocking: for each 64-column panel, k is cut into equal slices of at most
// kKc steps (the slice of op(b) stays in L2 while every row tile of the
// panel runs over it); tiles after the first slice add into c. The sum order
// of an element depends only on (n, k) and the slicing, never on which
// rows or columns a thread was given: results are the same at any thread
// count.
#include <algorithm>
#include <array>
#include <vector>

#include "edgepipe/nn/gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EDGEPIPE_HAVE_X86 1
#endif

namespace edgepipe::nn::internal {

#if EDGEPIPE_HAVE_X86
namespace {

constexpr int kMr = 6;    // register tile rows
constexpr int kVecs = 4;  // register tile columns, in zmm (16 floats)
constexpr int64_t kNr = 16 * kVecs;
constexpr int64_t kKc = 512;  // longest k slice

// c[R, 16 V] (+)= op(a)[R, kc] * op(b)[kc, 16 V], the last zmm column
// masked by `last` when kMasked (else `last` is all ones and unused). a points at op(a)'s first
// element: element (r, p) is a[r * lda + p], or a[p * lda + r] when kTransA. b points at op(b)'s
// first element, row-major with stride ldb. add: c += instead of c =.
template <int R, int V, bool kTransA, bool kMasked>
__attribute__((target("avx512f"))) void Tile(int64_t kc, const float* a, int64_t lda,
                                             const float* b, int64_t ldb, __mmask16 last, float* c,
                                             int64_t ldc, bool add) {
  __m512 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) acc[r][v] = _mm512_setzero_ps();
  }
  const float* rows[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) rows[r] = kTransA ? a + r : a + r * lda;
  const int64_t a_step = kTransA ? lda : 1;
  for (int64_t p = 0; p < kc; ++p) {
    __m512 bv[V];
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      bv[v] = kMasked && v == V - 1 ? _mm512_maskz_loadu_ps(last, b + 16 * v)
                                    : _mm512_loadu_ps(b + 16 * v);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(rows[r][p * a_step]);
#pragma GCC unroll 4
      for (int v = 0; v < V; ++v) acc[r][v] = _mm512_fmadd_ps(av, bv[v], acc[r][v]);
    }
    b += ldb;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    float* row = c + r * ldc;
#pragma GCC unroll 4
    for (int v = 0; v < V; ++v) {
      const __mmask16 mask = v == V - 1 ? last : static_cast<__mmask16>(0xFFFF);
      __m512 x = acc[r][v];
      if (add) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, row + 16 * v));
      _mm512_mask_storeu_ps(row + 16 * v, mask, x);
    }
  }
}

using TileFn = void (*)(int64_t, const float*, int64_t, const float*, int64_t, __mmask16, float*,
                        int64_t, bool);

// kTiles[kMasked][kTransA][rows - 1][vecs - 1].
using TileTable = std::array<std::array<TileFn, kVecs>, kMr>;
template <bool kTransA, bool kMasked, int R, int... V>
constexpr std::array<TileFn, kVecs> Row(std::integer_sequence<int, V...>) {
  return {&Tile<R, V + 1, kTransA, kMasked>...};
}
template <bool kTransA, bool kMasked, int... R>
constexpr TileTable Table(std::integer_sequence<int, R...>) {
  return {Row<kTransA, kMasked, R + 1>(std::make_integer_sequence<int, kVecs>())...};
}
constexpr std::array<std::array<TileTable, 2>, 2> kTiles = {{
    {Table<false, false>(std::make_integer_sequence<int, kMr>()),
     Table<true, false>(std::make_integer_sequence<int, kMr>())},
    {Table<false, true>(std::make_integer_sequence<int, kMr>()),
     Table<true, true>(std::make_integer_sequence<int, kMr>())},
}};

// Copies op(b) (stored transposed: op(b)[p, j] = data[j * ld + p]) into
// out[p * n + j], 8x8 blocks at a time so both sides stay in cache lines.
void PackTransposed(const GemmOperand& b, int64_t k, int64_t n, float* out) {
  constexpr int64_t kBlock = 8;
  for (int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const int64_t j1 = std::min(n, j0 + kBlock);
    for (int64_t p0 = 0; p0 < k; p0 += kBlock) {
      const int64_t p1 = std::min(k, p0 + kBlock);
      for (int64_t j = j0; j < j1; ++j) {
        const float* src = b.data + j * b.ld;
        for (int64_t p = p0; p < p1; ++p) out[p * n + j] = src[p];
      }
    }
  }
}

}  // namespace

void SgemmAvx512(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c,
                 int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    }
    return;
  }
  // op(b) as a row-major matrix: in place, or a packed copy.
  const float* bp = b.data;
  int64_t ldb = b.ld;
  if (b.transposed) {
    thread_local std::vector<float> b_buf;
    if (static_cast<int64_t>(b_buf.size()) < k * n) b_buf.resize(static_cast<size_t>(k * n));
    PackTransposed(b, k, n, b_buf.data());
    bp = b_buf.data();
    ldb = n;
  }
  const int64_t slices = (k + kKc - 1) / kKc;
  const int64_t kslice = (k + slices - 1) / slices;
  for (int64_t jc = 0; jc < n; jc += kNr) {
    const int64_t nc = std::min(kNr, n - jc);
    const int64_t vecs = (nc + 15) / 16;
    const int64_t tail = nc - 16 * (vecs - 1);
    const auto last = static_cast<__mmask16>((1u << tail) - 1u);
    const TileTable& tiles = kTiles[tail < 16 ? 1 : 0][a.transposed ? 1 : 0];
    for (int64_t pc = 0; pc < k; pc += kslice) {
      const int64_t kc = std::min(kslice, k - pc);
      const bool add = accumulate || pc > 0;
      const float* bs = bp + pc * ldb + jc;
      for (int64_t ir = 0; ir < m; ir += kMr) {
        const int64_t rows = std::min<int64_t>(kMr, m - ir);
        const float* as = a.transposed ? a.data + pc * a.ld + ir : a.data + ir * a.ld + pc;
        tiles[static_cast<size_t>(rows - 1)][static_cast<size_t>(vecs - 1)](
            kc, as, a.ld, bs, ldb, last, c + ir * ldc + jc, ldc, add);
      }
    }
  }
}

#else  // not x86: never selected (CpuHasAvx512() is false).

void SgemmAvx512(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c,
                 int64_t ldc, bool accumulate) {
  SgemmPortable(m, n, k, a, b, c, ldc, accumulate);
}

#endif

}  // namespace edgepipe::nn::internal
