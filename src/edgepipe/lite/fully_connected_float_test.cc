// The fast float FULLY_CONNECTED loop against the reference loop: random
// shapes (batch counts around the 4-row blocking, unit counts around the
// 8-unit panels and the 2/4-panel tiles, depths around the depth block),
// with and without bias, every clamp range, special values (NaN, infinities,
// signed zeros, denormals); outputs must be bit-identical (compared as
// bits, so -0.0 counts), except that a NaN only has to be a NaN: C++ leaves
// NaN sign and payload to the compiler (it may swap the operands of a
// commutative add), so no loop can promise them.
#include "edgepipe/lite/fully_connected_float.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

namespace edgepipe::lite {
namespace {

std::vector<float> RandomFloats(std::mt19937& rng, size_t n, bool specials) {
  std::uniform_real_distribution<float> d(-2.0f, 2.0f);
  std::uniform_int_distribution<int> pick(0, 49);
  std::vector<float> v(n);
  for (float& x : v) {
    x = d(rng);
    if (!specials) continue;
    switch (pick(rng)) {
      case 0:
        x = std::numeric_limits<float>::quiet_NaN();
        break;
      case 1:
        x = std::numeric_limits<float>::infinity();
        break;
      case 2:
        x = -0.0f;
        break;
      case 3:
        x = std::numeric_limits<float>::denorm_min() * 3;
        break;
      case 4:
        x = 1e30f;
        break;
      default:
        break;
    }
  }
  return v;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

void ExpectBitEqual(const FcShape& s, bool with_bias, float fmin, float fmax, bool specials,
                    std::mt19937& rng) {
  const auto input = RandomFloats(rng, static_cast<size_t>(s.batches) * s.depth, specials);
  const auto filter = RandomFloats(rng, static_cast<size_t>(s.units) * s.depth, specials);
  const auto bias = RandomFloats(rng, static_cast<size_t>(s.units), specials);
  const float* b = with_bias ? bias.data() : nullptr;
  std::vector<float> want(static_cast<size_t>(s.batches) * s.units, 7.0f);
  std::vector<float> got(want.size(), -7.0f);
  FullyConnectedFloatReference(s, input.data(), filter.data(), b, fmin, fmax, want.data());
  const std::vector<float> packed = FcPackFloatFilter(filter.data(), s.units, s.depth);
  ASSERT_EQ(packed.size(), static_cast<size_t>((s.units + kFcFloatPanel - 1) / kFcFloatPanel) *
                               kFcFloatPanel * s.depth);
  FullyConnectedFloatFast(s, input.data(), packed.data(), b, fmin, fmax, got.data());
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::isnan(want[i]) && std::isnan(got[i])) continue;
    ASSERT_EQ(Bits(got[i]), Bits(want[i]))
        << "batches " << s.batches << " depth " << s.depth << " units " << s.units << " bias "
        << with_bias << " range [" << fmin << ", " << fmax << "] specials " << specials
        << ": output " << i << " is " << got[i] << ", reference " << want[i];
  }
}

TEST(FullyConnectedFloatTest, FastIsBitIdenticalToReference) {
  std::mt19937 rng(2024);
  const float inf = std::numeric_limits<float>::infinity();
  const float ranges[][2] = {{-inf, inf}, {0.0f, inf}, {0.0f, 6.0f}, {-1.0f, 1.0f}};
  int cases = 0;
  for (int batches : {1, 2, 3, 4, 5, 8, 9}) {
    for (int units : {1, 7, 8, 9, 16, 17, 24, 33, 64}) {
      for (int depth : {1, 5, 8, 255, 256, 257, 600}) {
        const auto& r = ranges[cases % 4];
        ExpectBitEqual({batches, depth, units}, cases % 3 != 0, r[0], r[1], cases % 5 == 0, rng);
        if (HasFatalFailure()) return;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 7 * 9 * 7);
}

TEST(FullyConnectedFloatTest, MissingBiasAddsPositiveZero) {
  // total = -0.0 (one product -0 * 1); the reference adds 0.0f -> +0.0.
  const float input[] = {-0.0f}, filter[] = {1.0f};
  const std::vector<float> packed = FcPackFloatFilter(filter, 1, 1);
  float out = -1.0f;
  FullyConnectedFloatFast({1, 1, 1}, input, packed.data(), nullptr,
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::infinity(), &out);
  EXPECT_EQ(Bits(out), Bits(0.0f));
}

TEST(FullyConnectedFloatTest, PackLayout) {
  // 9 units x 2 depth: panel 0 holds units 0..7, panel 1 unit 8 + padding.
  std::vector<float> filter(18);
  for (int i = 0; i < 18; ++i) filter[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  const std::vector<float> p = FcPackFloatFilter(filter.data(), 9, 2);
  ASSERT_EQ(p.size(), 32u);
  EXPECT_EQ(p[0], 1.0f);    // (o 0, d 0)
  EXPECT_EQ(p[8], 2.0f);    // (o 0, d 1)
  EXPECT_EQ(p[3], 7.0f);    // (o 3, d 0)
  EXPECT_EQ(p[16], 17.0f);  // (o 8, d 0)
  EXPECT_EQ(p[24], 18.0f);  // (o 8, d 1)
  EXPECT_EQ(p[17], 0.0f);   // padding
}

}  // namespace
}  // namespace edgepipe::lite
