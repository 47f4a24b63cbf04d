// The AVX2 + FMA SGEMM kernel (see gemm.h). Only functions marked
// target("avx2,fma") use those instructions; nothing here includes Eigen or
// other templates that could be instantiated with the wider ISA (ODR).
//
// Blocking as in BLIS / GotoBLAS: for each NC-wide column panel and KC-deep
// slice, op(b) is packed into 16-column slivers; for each MC-row block, op(a)
// is packed into 6-row slivers; a 6x16 register tile (12 ymm accumulators)
// then runs over the KC slice. Partial tiles at the edges are zero-padded in
// the packs and written back through a small buffer. An operand whose stored
// layout already puts a step's values side by side (row-major op(b),
// transposed op(a)) is read in place, which saves its packing pass (the
// small-batch products of training are dominated by it).
#include <algorithm>
#include <vector>

#include "edgepipe/nn/gemm.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define EDGEPIPE_HAVE_X86 1
#endif

namespace edgepipe::nn::internal {

#if EDGEPIPE_HAVE_X86
namespace {

constexpr int64_t kMr = 6;     // register tile rows
constexpr int64_t kNr = 16;    // register tile columns (two ymm)
constexpr int64_t kKc = 256;   // depth of a packed slice
constexpr int64_t kMc = 120;   // rows of a packed a block (L2)
constexpr int64_t kNc = 1024;  // columns of a packed b panel

// Interleaves 6 rows (stride ld) of kc values: out[p * 6 + r] = row r [p].
// Four steps at a time through a 4x4 transpose of rows 0-3 and an unpack of
// rows 4-5 (SSE, part of the x86-64 baseline).
void PackRows6(const float* base, int64_t ld, int64_t kc, float* out) {
  const float* r0 = base;
  const float* r1 = base + ld;
  const float* r2 = base + 2 * ld;
  const float* r3 = base + 3 * ld;
  const float* r4 = base + 4 * ld;
  const float* r5 = base + 5 * ld;
  int64_t p = 0;
  for (; p + 4 <= kc; p += 4) {
    __m128 v0 = _mm_loadu_ps(r0 + p), v1 = _mm_loadu_ps(r1 + p);
    __m128 v2 = _mm_loadu_ps(r2 + p), v3 = _mm_loadu_ps(r3 + p);
    _MM_TRANSPOSE4_PS(v0, v1, v2, v3);
    const __m128 v4 = _mm_loadu_ps(r4 + p), v5 = _mm_loadu_ps(r5 + p);
    const __m128 lo = _mm_unpacklo_ps(v4, v5);  // r4[p], r5[p], r4[p+1], r5[p+1]
    const __m128 hi = _mm_unpackhi_ps(v4, v5);
    float* o = out + p * kMr;
    _mm_storeu_ps(o, v0);
    _mm_storel_pi(reinterpret_cast<__m64*>(o + 4), lo);
    _mm_storeu_ps(o + 6, v1);
    _mm_storeh_pi(reinterpret_cast<__m64*>(o + 10), lo);
    _mm_storeu_ps(o + 12, v2);
    _mm_storel_pi(reinterpret_cast<__m64*>(o + 16), hi);
    _mm_storeu_ps(o + 18, v3);
    _mm_storeh_pi(reinterpret_cast<__m64*>(o + 22), hi);
  }
  for (; p < kc; ++p) {
    float* o = out + p * kMr;
    o[0] = r0[p];
    o[1] = r1[p];
    o[2] = r2[p];
    o[3] = r3[p];
    o[4] = r4[p];
    o[5] = r5[p];
  }
}

// Packs op(a)[i0 : i0 + mc, p0 : p0 + kc] as ceil(mc / 6) slivers, each kc
// groups of 6 row values (zeros past the edge).
void PackA(const GemmOperand& a, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
  for (int64_t s = 0; s < mc; s += kMr) {
    const int64_t rows = std::min(kMr, mc - s);
    if (a.transposed) {
      const float* base = a.data + p0 * a.ld + (i0 + s);
      for (int64_t p = 0; p < kc; ++p) {
        const float* src = base + p * a.ld;
        float* dst = out + p * kMr;
        int64_t r = 0;
        for (; r < rows; ++r) dst[r] = src[r];
        for (; r < kMr; ++r) dst[r] = 0.0f;
      }
    } else if (rows == kMr) {
      PackRows6(a.data + (i0 + s) * a.ld + p0, a.ld, kc, out);
    } else {
      const float* base = a.data + (i0 + s) * a.ld + p0;
      for (int64_t r = 0; r < kMr; ++r) {
        if (r < rows) {
          const float* src = base + r * a.ld;
          for (int64_t p = 0; p < kc; ++p) out[p * kMr + r] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) out[p * kMr + r] = 0.0f;
        }
      }
    }
    out += kc * kMr;
  }
}

// Packs op(b)[p0 : p0 + kc, j0 : j0 + nc] as ceil(nc / 16) slivers, each kc
// groups of 16 column values (zeros past the edge).
void PackB(const GemmOperand& b, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
  for (int64_t s = 0; s < nc; s += kNr) {
    const int64_t cols = std::min(kNr, nc - s);
    if (b.transposed) {
      for (int64_t col = 0; col < kNr; ++col) {
        if (col < cols) {
          const float* src = b.data + (j0 + s + col) * b.ld + p0;
          for (int64_t p = 0; p < kc; ++p) out[p * kNr + col] = src[p];
        } else {
          for (int64_t p = 0; p < kc; ++p) out[p * kNr + col] = 0.0f;
        }
      }
    } else {
      const float* base = b.data + p0 * b.ld + (j0 + s);
      if (cols == kNr) {
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = base + p * b.ld;
          float* dst = out + p * kNr;
          for (int64_t col = 0; col < kNr; ++col) dst[col] = src[col];
        }
      } else {
        for (int64_t p = 0; p < kc; ++p) {
          const float* src = base + p * b.ld;
          float* dst = out + p * kNr;
          for (int64_t col = 0; col < kNr; ++col) dst[col] = col < cols ? src[col] : 0.0f;
        }
      }
    }
    out += kc * kNr;
  }
}

// c[6, 16] (+)= a-sliver * b-sliver over kc: step p reads the 6 a values at
// a + p * a_step and the 16 b values at b + p * b_step (a packed sliver, or
// the operand itself when its layout already fits). c has row stride ldc.
__attribute__((target("avx2,fma"))) void Kernel6x16(int64_t kc, const float* a, int64_t a_step,
                                                    const float* b, int64_t b_step, float* c,
                                                    int64_t ldc, bool add) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_loadu_ps(b);
    const __m256 b1 = _mm256_loadu_ps(b + 8);
    __m256 av = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(av, b0, c00);
    c01 = _mm256_fmadd_ps(av, b1, c01);
    av = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(av, b0, c10);
    c11 = _mm256_fmadd_ps(av, b1, c11);
    av = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(av, b0, c20);
    c21 = _mm256_fmadd_ps(av, b1, c21);
    av = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(av, b0, c30);
    c31 = _mm256_fmadd_ps(av, b1, c31);
    av = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(av, b0, c40);
    c41 = _mm256_fmadd_ps(av, b1, c41);
    av = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(av, b0, c50);
    c51 = _mm256_fmadd_ps(av, b1, c51);
    a += a_step;
    b += b_step;
  }
  const __m256 acc[kMr][2] = {{c00, c01}, {c10, c11}, {c20, c21},
                              {c30, c31}, {c40, c41}, {c50, c51}};
  for (int64_t r = 0; r < kMr; ++r) {
    float* row = c + r * ldc;
    __m256 v0 = acc[r][0], v1 = acc[r][1];
    if (add) {
      v0 = _mm256_add_ps(v0, _mm256_loadu_ps(row));
      v1 = _mm256_add_ps(v1, _mm256_loadu_ps(row + 8));
    }
    _mm256_storeu_ps(row, v0);
    _mm256_storeu_ps(row + 8, v1);
  }
}

// The slivers of one block of an operand: either all packed (`packed`, each
// kc * width floats), or read in place (`direct`, stride `ld` per step) with
// only a partial last sliver packed at `packed`.
struct Slivers {
  const float* packed;
  const float* direct;  // nullptr: everything is packed
  int64_t ld;
};

// Runs the register tile over a block: c[mc, nc] (+)= op(a) * op(b).
__attribute__((target("avx2,fma"))) void MacroKernel(int64_t mc, int64_t nc, int64_t kc, Slivers sa,
                                                     Slivers sb, float* c, int64_t ldc, bool add) {
  alignas(32) float tile[kMr * kNr];
  for (int64_t jr = 0; jr < nc; jr += kNr) {
    const int64_t cols = std::min(kNr, nc - jr);
    const bool b_direct = sb.direct != nullptr && cols == kNr;
    const float* b_sliver =
        b_direct ? sb.direct + jr : sb.packed + (sb.direct != nullptr ? 0 : jr * kc);
    const int64_t b_step = b_direct ? sb.ld : kNr;
    for (int64_t ir = 0; ir < mc; ir += kMr) {
      const int64_t rows = std::min(kMr, mc - ir);
      const bool a_direct = sa.direct != nullptr && rows == kMr;
      const float* a_sliver =
          a_direct ? sa.direct + ir : sa.packed + (sa.direct != nullptr ? 0 : ir * kc);
      const int64_t a_step = a_direct ? sa.ld : kMr;
      float* ct = c + ir * ldc + jr;
      if (rows == kMr && cols == kNr) {
        Kernel6x16(kc, a_sliver, a_step, b_sliver, b_step, ct, ldc, add);
        continue;
      }
      Kernel6x16(kc, a_sliver, a_step, b_sliver, b_step, tile, kNr, false);
      for (int64_t r = 0; r < rows; ++r) {
        float* dst = ct + r * ldc;
        const float* src = tile + r * kNr;
        if (add) {
          for (int64_t j = 0; j < cols; ++j) dst[j] += src[j];
        } else {
          for (int64_t j = 0; j < cols; ++j) dst[j] = src[j];
        }
      }
    }
  }
}

// Per-thread packing buffers (grown, never shrunk).
float* Buffer(std::vector<float>& v, int64_t size) {
  if (static_cast<int64_t>(v.size()) < size) v.resize(static_cast<size_t>(size));
  return v.data();
}

}  // namespace

void SgemmAvx2(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
               bool accumulate) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!accumulate) {
      for (int64_t i = 0; i < m; ++i) std::fill_n(c + i * ldc, n, 0.0f);
    }
    return;
  }
  thread_local std::vector<float> a_buf, b_buf;
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t nc = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      const int64_t kc = std::min(kKc, k - pc);
      // A row-major op(b) already has each step's 16 values adjacent: only
      // a partial last sliver needs packing (zero padding).
      Slivers sb{nullptr, nullptr, b.ld};
      float* pb = Buffer(b_buf, (nc + kNr - 1) / kNr * kNr * kc);
      if (b.transposed) {
        PackB(b, pc, kc, jc, nc, pb);
      } else {
        sb.direct = b.data + pc * b.ld + jc;
        const int64_t full = nc / kNr * kNr;
        if (full < nc) PackB(b, pc, kc, jc + full, nc - full, pb);
      }
      sb.packed = pb;
      const bool add = accumulate || pc > 0;
      for (int64_t ic = 0; ic < m; ic += kMc) {
        const int64_t mc = std::min(kMc, m - ic);
        // Likewise a transposed a has each step's 6 values adjacent.
        Slivers sa{nullptr, nullptr, a.ld};
        float* pa = Buffer(a_buf, (mc + kMr - 1) / kMr * kMr * kc);
        if (a.transposed) {
          sa.direct = a.data + pc * a.ld + ic;
          const int64_t full = mc / kMr * kMr;
          if (full < mc) PackA(a, ic + full, mc - full, pc, kc, pa);
        } else {
          PackA(a, ic, mc, pc, kc, pa);
        }
        sa.packed = pa;
        MacroKernel(mc, nc, kc, sa, sb, c + ic * ldc + jc, ldc, add);
      }
    }
  }
}

#else  // not x86: never selected (CpuHasAvx2Fma() is false).

void SgemmAvx2(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
               bool accumulate) {
  SgemmPortable(m, n, k, a, b, c, ldc, accumulate);
}

#endif

}  // namespace edgepipe::nn::internal
