// Hand-computed vectors for the LiteRT (XNNPACK) requantization helpers,
// next to the reference arithmetic they differ from.
#include "edgepipe/lite/quant_math.h"

#include <gtest/gtest.h>

namespace edgepipe::lite {
namespace {

TEST(QuantMathFp32Test, Fp32RequantRoundsHalfToEven) {
  // 0.5 = 2^30 * 2^(0 - 31).
  EXPECT_EQ(RequantizeFp32(5, 0.5f), 2);    // 2.5 -> 2
  EXPECT_EQ(RequantizeFp32(7, 0.5f), 4);    // 3.5 -> 4
  EXPECT_EQ(RequantizeFp32(-5, 0.5f), -2);  // -2.5 -> -2
  EXPECT_EQ(RequantizeFp32(6, 0.25f), 2);   // 1.5 -> 2
  EXPECT_EQ(RequantizeFp32(2, 0.75f), 2);   // 1.5 -> 2
  EXPECT_EQ(RequantizeFp32(1, 0.75f), 1);   // 0.75 -> 1
  // The reference (gemmlowp) rounds this positive tie up, away from even.
  EXPECT_EQ(MultiplyByQuantizedMultiplier(5, 1 << 30, 0), 3);
  // Saturates instead of overflowing.
  EXPECT_EQ(RequantizeFp32(2000000000, 100.0f), 2147483520);
}

TEST(QuantMathFp32Test, Fp32RequantScaleIsFloatProductThenQuotient) {
  const float a = 0.02f, b = 0.0031f, c = 0.047f;
  const float ab = a * b;
  EXPECT_EQ(Fp32RequantScale(a, b, c), ab / c);
}

TEST(QuantMathFp32Test, XnnAddParams) {
  // ratios 1 and 0.5: exponent 0, shift 20, multipliers 2^20 and 2^19.
  Fp32AddParams p;
  ASSERT_TRUE(ComputeXnnAddParams(1.0f, 0, 0.5f, 0, 1.0f, &p));
  EXPECT_EQ(p.shift, 20);
  EXPECT_EQ(p.a_multiplier, 1 << 20);
  EXPECT_EQ(p.b_multiplier, 1 << 19);
  EXPECT_EQ(p.bias, 1 << 19);
  const auto add = [&](int a, int b) {
    return (p.bias + a * p.a_multiplier + b * p.b_multiplier) >> p.shift;
  };
  EXPECT_EQ(add(1, 1), 2);    // 1.5 -> 2
  EXPECT_EQ(add(0, 1), 1);    // 0.5 -> 1
  EXPECT_EQ(add(0, -1), 0);   // -0.5 -> 0: half up, not away from zero
  EXPECT_EQ(add(0, -3), -1);  // -1.5 -> -1
  // Zero points fold into the bias.
  ASSERT_TRUE(ComputeXnnAddParams(1.0f, 3, 0.5f, -2, 1.0f, &p));
  EXPECT_EQ(p.bias, (1 << 19) - 3 * (1 << 20) + 2 * (1 << 19));
  // Ratio 0.75 (exponent -1): shift 21, multiplier 0.75 * 2^21.
  ASSERT_TRUE(ComputeXnnAddParams(0.75f, 0, 0.25f, 0, 1.0f, &p));
  EXPECT_EQ(p.shift, 21);
  EXPECT_EQ(p.a_multiplier, 3 << 19);
  EXPECT_EQ(p.b_multiplier, 1 << 19);
  // Outside XNNPACK's range [2^-10, 2^8).
  EXPECT_FALSE(ComputeXnnAddParams(300.0f, 0, 1.0f, 0, 1.0f, &p));
  EXPECT_FALSE(ComputeXnnAddParams(1.0f, 0, 0.0005f, 0, 1.0f, &p));
}

}  // namespace
}  // namespace edgepipe::lite
