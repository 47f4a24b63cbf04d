#include "edgepipe/nn/gemm.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>

#include "edgepipe/nn/parallel.h"

namespace edgepipe::nn {
namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Strided = Eigen::OuterStride<>;
using CView = Eigen::Map<const RowMat, 0, Strided>;
using View = Eigen::Map<RowMat, 0, Strided>;

// The fastest kernel this CPU runs, at most `limit`.
GemmIsa Supported(GemmIsa limit) {
  if (limit == GemmIsa::kAvx512 && !CpuHasAvx512()) limit = GemmIsa::kAvx2;
  if (limit == GemmIsa::kAvx2 && !CpuHasAvx2Fma()) limit = GemmIsa::kPortable;
  return limit;
}

GemmIsa DefaultIsa() {
  GemmIsa limit = GemmIsa::kAvx512;
  if (const char* env = std::getenv("EDGEPIPE_NN_GEMM")) {
    if (std::strcmp(env, "portable") == 0) limit = GemmIsa::kPortable;
    if (std::strcmp(env, "avx2") == 0) limit = GemmIsa::kAvx2;
  }
  return Supported(limit);
}

// -1: not chosen yet; otherwise a GemmIsa.
std::atomic<int> active_isa{-1};

// Stored matrix of an operand whose op() is rows x cols.
CView Stored(const GemmOperand& o, int64_t rows, int64_t cols) {
  return o.transposed ? CView(o.data, cols, rows, Strided(o.ld))
                      : CView(o.data, rows, cols, Strided(o.ld));
}

template <typename L, typename R>
void EigenProduct(View& c, const L& lhs, const R& rhs, bool accumulate) {
  if (accumulate) {
    c.noalias() += lhs * rhs;
  } else {
    c.noalias() = lhs * rhs;
  }
}

// Products smaller than this (multiply-adds) stay on the calling thread.
constexpr int64_t kMinParallelMacs = 1 << 18;

}  // namespace

bool CpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

bool CpuHasAvx512() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = CpuHasAvx2Fma() && __builtin_cpu_supports("avx512f");
  return has;
#else
  return false;
#endif
}

GemmIsa ActiveGemmIsa() {
  int isa = active_isa.load(std::memory_order_relaxed);
  if (isa < 0) {
    int expected = -1;
    active_isa.compare_exchange_strong(expected, static_cast<int>(DefaultIsa()));
    isa = active_isa.load();
  }
  return static_cast<GemmIsa>(isa);
}

GemmIsa SetGemmIsa(GemmIsa isa) {
  isa = Supported(isa);
  active_isa.store(static_cast<int>(isa));
  return isa;
}

std::string_view GemmIsaName(GemmIsa isa) {
  switch (isa) {
    case GemmIsa::kAvx2:
      return "avx2+fma";
    case GemmIsa::kAvx512:
      return "avx512f";
    case GemmIsa::kPortable:
      break;
  }
  return "portable";
}

namespace internal {

void SgemmPortable(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c,
                   int64_t ldc, bool accumulate) {
  if (m <= 0 || n <= 0) return;
  View cv(c, m, n, Strided(ldc));
  if (k <= 0) {
    if (!accumulate) cv.setZero();
    return;
  }
  const CView as = Stored(a, m, k);
  const CView bs = Stored(b, k, n);
  if (a.transposed) {
    if (b.transposed) {
      EigenProduct(cv, as.transpose(), bs.transpose(), accumulate);
    } else {
      EigenProduct(cv, as.transpose(), bs, accumulate);
    }
  } else if (b.transposed) {
    EigenProduct(cv, as, bs.transpose(), accumulate);
  } else {
    EigenProduct(cv, as, bs, accumulate);
  }
}

}  // namespace internal

void Sgemm(int64_t m, int64_t n, int64_t k, GemmOperand a, GemmOperand b, float* c, int64_t ldc,
           bool accumulate) {
  const GemmIsa isa = ActiveGemmIsa();
  const auto kernel = isa == GemmIsa::kAvx512 ? &internal::SgemmAvx512
                      : isa == GemmIsa::kAvx2 ? &internal::SgemmAvx2
                                              : &internal::SgemmPortable;
  const int threads = NumThreads();
  // Split along the larger of m and n into pieces that keep the register
  // tile whole (6 rows; 16 columns, 64 for AVX-512); each piece packs its
  // own operands.
  const bool by_rows = m >= n;
  const int64_t total = by_rows ? m : n;
  const int64_t unit = by_rows ? 6 : isa == GemmIsa::kAvx512 ? 64 : 16;
  if (threads <= 1 || m * n * k < kMinParallelMacs || total < 2 * unit) {
    kernel(m, n, k, a, b, c, ldc, accumulate);
    return;
  }
  // One piece per thread: each piece packs the whole other operand again.
  const int64_t pieces = std::min<int64_t>(threads, total / unit);
  const int64_t chunk = ((total + pieces - 1) / pieces + unit - 1) / unit * unit;
  const int64_t tasks = (total + chunk - 1) / chunk;
  ParallelFor(tasks, [&](int64_t t) {
    const int64_t begin = t * chunk, len = std::min(chunk, total - begin);
    if (by_rows) {
      GemmOperand sub = a;
      sub.data += a.transposed ? begin : begin * a.ld;
      kernel(len, n, k, sub, b, c + begin * ldc, ldc, accumulate);
    } else {
      GemmOperand sub = b;
      sub.data += b.transposed ? begin * b.ld : begin;
      kernel(m, len, k, a, sub, c + begin, ldc, accumulate);
    }
  });
}

}  // namespace edgepipe::nn
