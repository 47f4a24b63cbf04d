// Sgemm: every kernel this CPU runs against a double-precision reference
// loop written here, over odd sizes that cross the register tiles (6x16,
// 6x64) and the cache blocks (AVX2: KC 256, MC 120, NC 1024; AVX-512: k
// slices of <= 512), every transpose combination, accumulate, and an output
// stride wider than n (sentinels past n must survive); plus the threaded
// split (which must give bit-identical results at 1 and 2 threads) and the
// dispatch switch. Kernels this CPU cannot run are reported as not run.
#include "edgepipe/nn/gemm.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <string>
#include <tuple>
#include <vector>

#include "edgepipe/nn/parallel.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::nn {
namespace {

using Kernel = void (*)(int64_t, int64_t, int64_t, GemmOperand, GemmOperand, float*, int64_t, bool);

constexpr float kSentinel = -12345.0f;

std::vector<float> Random(int64_t size, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(size));
  for (float& x : v) x = rng.Uniform(-1.0f, 1.0f);
  return v;
}

struct Case {
  int64_t m, n, k;
  bool ta, tb, accumulate;
};

std::string Name(const Case& c) {
  return std::to_string(c.m) + "x" + std::to_string(c.n) + "x" + std::to_string(c.k) +
         (c.ta ? " aT" : "") + (c.tb ? " bT" : "") + (c.accumulate ? " acc" : "");
}

// Runs `kernel` on case c and checks every element of c (and the sentinels
// in the padding columns) against the reference.
void Check(Kernel kernel, const Case& c) {
  SCOPED_TRACE(Name(c));
  // Stored shapes: a is [m, k] or [k, m]; b is [k, n] or [n, k]; each with a
  // row stride 3 wider than needed.
  const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;
  const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
  const int64_t lda = a_cols + 3, ldb = b_cols + 3, ldc = c.n + 5;
  const std::vector<float> a = Random(a_rows * lda, 1), b = Random(b_rows * ldb, 2);
  std::vector<float> out = Random(c.m * ldc, 3);
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = c.n; j < ldc; ++j) out[static_cast<size_t>(i * ldc + j)] = kSentinel;
  }
  const std::vector<float> before = out;
  kernel(c.m, c.n, c.k, {a.data(), lda, c.ta}, {b.data(), ldb, c.tb}, out.data(), ldc,
         c.accumulate);
  int bad = 0;
  for (int64_t i = 0; i < c.m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      const size_t at = static_cast<size_t>(i * ldc + j);
      if (j >= c.n) {
        if (out[at] != kSentinel && ++bad < 5)
          ADD_FAILURE() << "overwrote c(" << i << ", " << j << ")";
        continue;
      }
      double want = c.accumulate ? before[at] : 0.0, scale = std::fabs(want);
      for (int64_t p = 0; p < c.k; ++p) {
        const double av =
            c.ta ? a[static_cast<size_t>(p * lda + i)] : a[static_cast<size_t>(i * lda + p)];
        const double bv =
            c.tb ? b[static_cast<size_t>(j * ldb + p)] : b[static_cast<size_t>(p * ldb + j)];
        want += av * bv;
        scale += std::fabs(av * bv);
      }
      if (std::fabs(out[at] - want) > 1e-5 * scale + 1e-6 && ++bad < 5) {
        ADD_FAILURE() << "c(" << i << ", " << j << ") = " << out[at] << ", want " << want;
      }
    }
  }
  EXPECT_EQ(bad, 0);
}

std::vector<Case> Cases() {
  const std::vector<std::tuple<int64_t, int64_t, int64_t>> sizes = {
      {1, 1, 1},    {6, 16, 8},     {7, 17, 5},     {5, 15, 3},   {13, 35, 257},
      {121, 33, 9}, {2, 1030, 4},   {64, 10, 1600}, {9, 32, 700}, {40, 64, 784},
      {3, 4, 0},    {13, 65, 1100}, {25, 130, 31},  {20, 48, 513}};
  std::vector<Case> cases;
  for (auto [m, n, k] : sizes) {
    for (int bits = 0; bits < 8; ++bits) {
      cases.push_back({m, n, k, (bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0});
    }
  }
  return cases;
}

TEST(GemmTest, PortableMatchesReference) {
  for (const Case& c : Cases()) Check(&internal::SgemmPortable, c);
}

TEST(GemmTest, Avx2MatchesReferenceOrIsUnavailable) {
  if (!CpuHasAvx2Fma()) {
    // This CPU cannot run the kernel: dispatch must refuse it.
    EXPECT_EQ(SetGemmIsa(GemmIsa::kAvx2), GemmIsa::kPortable);
    return;
  }
  for (const Case& c : Cases()) Check(&internal::SgemmAvx2, c);
}

TEST(GemmTest, Avx512MatchesReferenceOrIsUnavailable) {
  if (!CpuHasAvx512()) {
    std::cout << "AVX-512F kernel not run: this CPU lacks AVX-512F\n";
    EXPECT_NE(SetGemmIsa(GemmIsa::kAvx512), GemmIsa::kAvx512);
    SetGemmIsa(GemmIsa::kPortable);
    return;
  }
  std::cout << "AVX-512F kernel run\n";
  for (const Case& c : Cases()) Check(&internal::SgemmAvx512, c);
  // The MLP's batch-256 products (nn_gemm_bench), once each.
  Check(&internal::SgemmAvx512, {256, 64, 784, false, false, false});
  Check(&internal::SgemmAvx512, {784, 64, 256, true, false, true});
  Check(&internal::SgemmAvx512, {256, 64, 64, false, true, true});
}

// The kernels this CPU runs, slowest first.
std::vector<GemmIsa> RunnableIsas() {
  std::vector<GemmIsa> isas = {GemmIsa::kPortable};
  if (CpuHasAvx2Fma()) isas.push_back(GemmIsa::kAvx2);
  if (CpuHasAvx512()) isas.push_back(GemmIsa::kAvx512);
  return isas;
}

TEST(GemmTest, ThreadedSplitIsBitIdenticalToOneThread) {
  const int saved = NumThreads();
  const GemmIsa saved_isa = ActiveGemmIsa();
  const std::vector<float> a = Random(300 * 301, 4), b = Random(301 * 200, 5);
  for (GemmIsa isa : RunnableIsas()) {
    SetGemmIsa(isa);
    std::cout << "threaded determinism: " << GemmIsaName(ActiveGemmIsa()) << "\n";
    // (m, n, k, ta, tb): split along m, along n, transposed operands.
    for (auto [m, n, k, ta, tb] : std::vector<std::tuple<int64_t, int64_t, int64_t, bool, bool>>{
             {300, 64, 288, false, false},
             {288, 64, 301, true, false},
             {9, 200, 300, false, true},
             {290, 40, 64, true, true}}) {
      SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k));
      std::vector<float> one(static_cast<size_t>(m * n)), two(one.size());
      const GemmOperand ao{a.data(), ta ? m : k, ta}, bo{b.data(), tb ? k : n, tb};
      SetNumThreads(1);
      Sgemm(m, n, k, ao, bo, one.data(), n, false);
      SetNumThreads(2);
      Sgemm(m, n, k, ao, bo, two.data(), n, false);
      EXPECT_EQ(one, two);
    }
  }
  SetNumThreads(saved);
  SetGemmIsa(saved_isa);
}

TEST(GemmTest, ThreadedSplitMatchesReferenceOnEveryPath) {
  const int saved = NumThreads();
  const GemmIsa saved_isa = ActiveGemmIsa();
  SetNumThreads(2);
  for (GemmIsa isa : RunnableIsas()) {
    SetGemmIsa(isa);
    SCOPED_TRACE(std::string(GemmIsaName(ActiveGemmIsa())));
    // Big enough to split: along m, along n, and with a transposed operand.
    Check(&Sgemm, {300, 64, 288, false, false, false});
    Check(&Sgemm, {288, 64, 301, true, false, true});
    Check(&Sgemm, {9, 200, 400, false, true, false});
    Check(&Sgemm, {290, 40, 64, false, true, true});
  }
  SetNumThreads(saved);
  SetGemmIsa(saved_isa);
}

TEST(GemmTest, SetGemmIsaSelectsTheKernel) {
  EXPECT_EQ(SetGemmIsa(GemmIsa::kPortable), GemmIsa::kPortable);
  EXPECT_EQ(ActiveGemmIsa(), GemmIsa::kPortable);
  const GemmIsa fast = SetGemmIsa(GemmIsa::kAvx2);
  EXPECT_EQ(fast, CpuHasAvx2Fma() ? GemmIsa::kAvx2 : GemmIsa::kPortable);
  EXPECT_EQ(ActiveGemmIsa(), fast);
  const GemmIsa widest = SetGemmIsa(GemmIsa::kAvx512);
  EXPECT_EQ(widest, CpuHasAvx512() ? GemmIsa::kAvx512 : fast);
  EXPECT_EQ(ActiveGemmIsa(), widest);
  EXPECT_EQ(GemmIsaName(GemmIsa::kPortable), "portable");
  EXPECT_EQ(GemmIsaName(GemmIsa::kAvx2), "avx2+fma");
  EXPECT_EQ(GemmIsaName(GemmIsa::kAvx512), "avx512f");
}

}  // namespace
}  // namespace edgepipe::nn
