// The fast float CONV_2D loop against the reference loop, on every float
// FC kernel this CPU supports (forced through FcFloatForceKernelForTesting;
// the kernels that ran are printed): random geometries (1x1 stride 1 = the
// FULLY_CONNECTED path, odd kernels with SAME and VALID padding, strides,
// dilations, more output pixels than one im2col block, depth over the FC's
// 256 depth block, batches > 1), every fused activation range, with and
// without bias, inputs with exact zeros and negative zeros. Outputs must
// meet the float contract (fully_connected_float.h):
//   |fast - ref| <= 1e-5 * (sum |x * w| + |bias|) + 1e-30
// and be bit-identical for integer-valued data (every sum exact in any
// order). Also: a filter with Inf is refused by ConvPackFloatFilter, and a
// tiny hand-computed case.
#include "edgepipe/lite/conv_float.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "edgepipe/lite/fully_connected_float.h"

namespace edgepipe::lite {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

// Output size and leading padding as TFLite's SAME / VALID.
void SetOutput(ConvGeometry& g, bool same) {
  auto one = [&](int in, int k, int stride, int dil, int* out, int* pad) {
    const int ek = (k - 1) * dil + 1;
    if (same) {
      *out = (in + stride - 1) / stride;
      *pad = std::max(0, ((*out - 1) * stride + ek - in) / 2);
    } else {
      *out = (in - ek + stride) / stride;
      *pad = 0;
    }
  };
  one(g.in_h, g.k_h, g.stride_h, g.dil_h, &g.out_h, &g.pad_h);
  one(g.in_w, g.k_w, g.stride_w, g.dil_w, &g.out_w, &g.pad_w);
}

// Values of mixed magnitudes (so summation order matters), some exact +-0.
std::vector<float> RandomValues(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> v(-1.0f, 1.0f);
  std::uniform_int_distribution<int> e(-12, 6), pick(0, 15);
  std::vector<float> out(n);
  for (float& x : out) {
    const int p = pick(rng);
    x = p == 0 ? 0.0f : p == 1 ? -0.0f : std::ldexp(v(rng), e(rng));
  }
  return out;
}

// Small integers: every partial sum is exact in float32 in any order.
std::vector<float> RandomIntegers(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> d(-4, 4);
  std::vector<float> out(n);
  for (float& x : out) x = static_cast<float>(d(rng));
  return out;
}

std::vector<float> Abs(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

// Number of outputs off the contract: bit-different when `exact`, else
// farther from `want` than 1e-5 * (mag + |bias|) + 1e-30.
int Misses(const std::vector<float>& want, const std::vector<float>& got,
           const std::vector<float>& mag, const float* bias, int out_c, bool exact) {
  int n = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    if (exact) {
      n += std::memcmp(&want[i], &got[i], sizeof(float)) != 0;
      continue;
    }
    const double b = bias ? std::fabs(bias[i % static_cast<size_t>(out_c)]) : 0.0;
    const double tol = 1e-5 * (static_cast<double>(mag[i]) + b) + 1e-30;
    n += !(std::fabs(static_cast<double>(got[i]) - want[i]) <= tol);
  }
  return n;
}

std::vector<FcFloatKernel> SupportedKernels() {
  std::vector<FcFloatKernel> out;
  for (FcFloatKernel k :
       {FcFloatKernel::kPortable, FcFloatKernel::kAvx2Fma, FcFloatKernel::kAvx512}) {
    if (FcFloatKernelSupported(k)) out.push_back(k);
  }
  return out;
}

struct Case {
  int batches, in_h, in_w, in_c, out_c, k_h, k_w, stride_h, stride_w, dil_h, dil_w;
  bool same;
};

void Check(const Case& c, uint32_t seed, bool exact = false) {
  ConvGeometry g;
  g.batches = c.batches;
  g.in_h = c.in_h;
  g.in_w = c.in_w;
  g.in_c = c.in_c;
  g.out_c = c.out_c;
  g.k_h = c.k_h;
  g.k_w = c.k_w;
  g.stride_h = c.stride_h;
  g.stride_w = c.stride_w;
  g.dil_h = c.dil_h;
  g.dil_w = c.dil_w;
  SetOutput(g, c.same);
  ASSERT_GE(g.out_h, 1);
  ASSERT_GE(g.out_w, 1);
  std::mt19937 rng(seed);
  auto values = [&](size_t n) { return exact ? RandomIntegers(rng, n) : RandomValues(rng, n); };
  const auto input = values(static_cast<size_t>(g.batches) * g.in_h * g.in_w * g.in_c);
  const auto filter = values(static_cast<size_t>(g.out_c) * g.k_h * g.k_w * g.in_c);
  const auto bias = values(static_cast<size_t>(g.out_c));
  std::vector<float> packed, scratch;
  ASSERT_TRUE(ConvPackFloatFilter(g, filter.data(), &packed));
  const size_t out_n = static_cast<size_t>(g.batches) * g.out_h * g.out_w * g.out_c;
  const float ranges[][2] = {{-kInf, kInf}, {0.0f, kInf}, {0.0f, 6.0f}, {-1.0f, 1.0f}};
  std::vector<float> mag(out_n);
  ConvFloatReference(g, Abs(input).data(), Abs(filter).data(), nullptr, -kInf, kInf, mag.data());
  for (const auto& r : ranges) {
    for (const bool with_bias : {true, false}) {
      const float* b = with_bias ? bias.data() : nullptr;
      std::vector<float> want(out_n, 7.0f), got(out_n, -7.0f);
      ConvFloatReference(g, input.data(), filter.data(), b, r[0], r[1], want.data());
      for (const FcFloatKernel k : SupportedKernels()) {
        ASSERT_TRUE(FcFloatForceKernelForTesting(k));
        ConvFloatFast(g, input.data(), packed.data(), b, r[0], r[1], got.data(), &scratch);
        FcFloatClearForcedKernel();
        EXPECT_EQ(Misses(want, got, mag, b, g.out_c, exact), 0)
            << FcFloatKernelName(k) << (exact ? " exact" : "") << " seed " << seed << " in "
            << g.batches << "x" << g.in_h << "x" << g.in_w << "x" << g.in_c << " k " << g.k_h << "x"
            << g.k_w << " out_c " << g.out_c << " stride " << g.stride_h << "," << g.stride_w
            << " dil " << g.dil_h << "," << g.dil_w << (c.same ? " SAME" : " VALID") << " range ["
            << r[0] << ", " << r[1] << "] bias " << with_bias;
      }
    }
  }
}

// Prints the kernels Check runs.
void PrintKernels() {
  std::string ran;
  for (const FcFloatKernel k : SupportedKernels()) {
    ran += std::string(ran.empty() ? "" : ",") + FcFloatKernelName(k);
  }
  std::printf("float FC kernels run: %s\n", ran.c_str());
}

TEST(ConvFloat, FixedShapesWithinTolerance) {
  PrintKernels();
  const Case cases[] = {
      // The fashion_mnist CNN's two convolutions (VALID, relu).
      {1, 28, 28, 1, 32, 3, 3, 1, 1, 1, 1, false},
      {1, 13, 13, 32, 64, 3, 3, 1, 1, 1, 1, false},
      // 1x1 stride 1: the direct FULLY_CONNECTED path, batches > 1.
      {3, 5, 7, 9, 13, 1, 1, 1, 1, 1, 1, true},
      // 1x1 stride 2: im2col path.
      {1, 6, 6, 5, 3, 1, 1, 2, 2, 1, 1, false},
      // SAME padding, strides, dilation, depth 3*3*40 = 360 > 256.
      {2, 11, 9, 40, 17, 3, 3, 2, 1, 1, 1, true},
      {1, 12, 10, 4, 9, 3, 5, 1, 2, 2, 1, true},
      {1, 9, 9, 3, 8, 5, 5, 1, 1, 1, 1, true},
      // Kernel as large as the input (one output pixel), out_c not a multiple of 8.
      {2, 4, 4, 6, 11, 4, 4, 1, 1, 1, 1, false},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) Check(c, seed++);
  for (const Case& c : cases) Check(c, seed++, /*exact=*/true);
}

TEST(ConvFloat, RandomShapesWithinTolerance) {
  std::mt19937 rng(20261126);
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int t = 0; t < 60; ++t) {
    Case c;
    c.batches = u(1, 2);
    c.k_h = u(1, 5);
    c.k_w = u(1, 5);
    c.dil_h = u(1, 3) == 3 ? 2 : 1;
    c.dil_w = u(1, 3) == 3 ? 2 : 1;
    c.stride_h = u(1, 3);
    c.stride_w = u(1, 3);
    c.same = u(0, 1) == 1;
    const int ek_h = (c.k_h - 1) * c.dil_h + 1, ek_w = (c.k_w - 1) * c.dil_w + 1;
    c.in_h = u(c.same ? 1 : ek_h, ek_h + 12);
    c.in_w = u(c.same ? 1 : ek_w, ek_w + 12);
    c.in_c = u(1, 24);
    c.out_c = u(1, 40);
    Check(c, 1000 + static_cast<uint32_t>(t), /*exact=*/t % 4 == 0);
  }
}

TEST(ConvFloat, NonFiniteFilterRefused) {
  ConvGeometry g;
  g.batches = 1;
  g.in_h = g.in_w = 3;
  g.in_c = 2;
  g.out_c = 2;
  g.k_h = g.k_w = 2;
  std::vector<float> filter(2 * 2 * 2 * 2, 1.0f), packed;
  EXPECT_TRUE(ConvPackFloatFilter(g, filter.data(), &packed));
  EXPECT_FALSE(packed.empty());
  filter[5] = kInf;
  EXPECT_FALSE(ConvPackFloatFilter(g, filter.data(), &packed));
  EXPECT_TRUE(packed.empty());
  filter[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_FALSE(ConvPackFloatFilter(g, filter.data(), &packed));
}

// 3x3 input 1..9, 2x2 all-ones filter, SAME padding (pad after), bias 0.5:
// each output is the sum of its in-bounds 2x2 window + 0.5.
TEST(ConvFloat, HandComputedSame) {
  ConvGeometry g;
  g.batches = 1;
  g.in_h = g.in_w = 3;
  g.in_c = 1;
  g.out_c = 1;
  g.k_h = g.k_w = 2;
  SetOutput(g, true);
  ASSERT_EQ(g.out_h, 3);
  ASSERT_EQ(g.pad_h, 0);
  const std::vector<float> input = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<float> filter = {1, 1, 1, 1};
  const float bias = 0.5f;
  std::vector<float> packed, scratch, got(9), want(9);
  ASSERT_TRUE(ConvPackFloatFilter(g, filter.data(), &packed));
  ConvFloatFast(g, input.data(), packed.data(), &bias, -kInf, kInf, got.data(), &scratch);
  ConvFloatReference(g, input.data(), filter.data(), &bias, -kInf, kInf, want.data());
  const std::vector<float> expected = {12.5f, 16.5f, 9.5f, 24.5f, 28.5f, 15.5f, 15.5f, 17.5f, 9.5f};
  EXPECT_EQ(got, expected);
  EXPECT_EQ(want, expected);
}

}  // namespace
}  // namespace edgepipe::lite
