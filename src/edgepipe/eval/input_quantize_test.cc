// QuantizeFloats (vectorized) against QuantizeFloatsScalar (QuantizeValue per
// element): bit-equal on rounding ties, their float neighbours, values past
// the range, infinities, NaN, denormals and random data, for int8 and uint8,
// several scales and zero points, and every length mod 32 (the tail path).
#include "edgepipe/eval/input_quantize.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "edgepipe/eval/model_runner.h"

namespace edgepipe::eval {
namespace {

// Values that stress the rounding for `scale`: k * scale / 2 for odd and even
// k (ties after the division, when exact) and the float neighbours of each.
std::vector<float> HardValues(float scale) {
  std::vector<float> v;
  for (int k = -600; k <= 600; ++k) {
    const float x = static_cast<float>(k) * 0.5f * scale;
    v.push_back(x);
    v.push_back(std::nextafter(x, std::numeric_limits<float>::infinity()));
    v.push_back(std::nextafter(x, -std::numeric_limits<float>::infinity()));
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float x : {0.0f,
                  -0.0f,
                  0.49999997f,
                  -0.49999997f,
                  0.5f,
                  -0.5f,
                  1.5f,
                  -1.5f,
                  2.5f,
                  -2.5f,
                  8388607.5f,
                  -8388607.5f,
                  8388608.0f,
                  16777217.0f,
                  1e9f,
                  -1e9f,
                  3e9f,
                  -3e9f,
                  1e30f,
                  -1e30f,
                  std::numeric_limits<float>::max(),
                  std::numeric_limits<float>::lowest(),
                  std::numeric_limits<float>::denorm_min(),
                  -std::numeric_limits<float>::min(),
                  inf,
                  -inf,
                  std::numeric_limits<float>::quiet_NaN()}) {
    v.push_back(x);
    v.push_back(x * scale);
  }
  return v;
}

template <typename Q>
void ExpectSame(const std::vector<float>& x, float scale, int32_t zp) {
  // Every length up to 70 from several offsets covers the 32-wide body and
  // each tail length; then the whole vector at once.
  std::vector<Q> fast(x.size()), slow(x.size());
  for (size_t start : {size_t{0}, size_t{3}}) {
    for (size_t n = 0; n <= 70 && start + n <= x.size(); ++n) {
      std::fill(fast.begin(), fast.end(), Q{7});
      std::fill(slow.begin(), slow.end(), Q{7});
      QuantizeFloats(x.data() + start, static_cast<int64_t>(n), scale, zp, fast.data());
      QuantizeFloatsScalar(x.data() + start, static_cast<int64_t>(n), scale, zp, slow.data());
      ASSERT_EQ(fast, slow) << "start " << start << " n " << n << " scale " << scale << " zp "
                            << zp;
    }
  }
  QuantizeFloats(x.data(), static_cast<int64_t>(x.size()), scale, zp, fast.data());
  QuantizeFloatsScalar(x.data(), static_cast<int64_t>(x.size()), scale, zp, slow.data());
  for (size_t i = 0; i < x.size(); ++i) {
    ASSERT_EQ(static_cast<int>(fast[i]), static_cast<int>(slow[i]))
        << "x " << x[i] << " (element " << i << ") scale " << scale << " zp " << zp;
  }
}

TEST(InputQuantizeTest, Int8MatchesScalarOnHardValues) {
  for (float scale : {1.0f, 0.5f, 1.0f / 255.0f, 0.0039215689f, 0.1f, 3.7f, 1e-6f}) {
    for (int32_t zp : {-128, -1, 0, 5, 127}) ExpectSame<int8_t>(HardValues(scale), scale, zp);
  }
}

TEST(InputQuantizeTest, Uint8MatchesScalarOnHardValues) {
  for (float scale : {1.0f, 0.5f, 1.0f / 255.0f, 0.1f, 3.7f}) {
    for (int32_t zp : {0, 1, 128, 255}) ExpectSame<uint8_t>(HardValues(scale), scale, zp);
  }
}

TEST(InputQuantizeTest, LargeZeroPointsFallBackToScalarRule) {
  const std::vector<float> x = HardValues(0.25f);
  for (int32_t zp : {(1 << 20) + 1, -(1 << 24), 1 << 30}) {
    ExpectSame<int8_t>(x, 0.25f, zp);
    ExpectSame<uint8_t>(x, 0.25f, zp);
  }
}

TEST(InputQuantizeTest, RandomData) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  std::vector<float> x(100003);
  for (float& v : x) v = u(rng);
  ExpectSame<int8_t>(x, 0.0235f, -3);
  ExpectSame<uint8_t>(x, 0.0235f, 128);
}

TEST(InputQuantizeTest, KnownValues) {
  // round half away from zero, then the zero point, then the clamp.
  const std::vector<float> x = {0.5f,  1.5f,  2.5f,   -0.5f, -1.5f,    -2.5f,
                                0.49f, 300.f, -300.f, NAN,   INFINITY, -INFINITY};
  std::vector<int8_t> q(x.size());
  QuantizeFloats(x.data(), static_cast<int64_t>(x.size()), 1.0f, 0, q.data());
  const std::vector<int8_t> want = {1, 2, 3, -1, -2, -3, 0, 127, -128, -128, 127, -128};
  EXPECT_EQ(q, want);
  // The same through the 32-wide path: 32 copies of each value.
  std::vector<float> wide;
  for (float v : x) wide.insert(wide.end(), 32, v);
  std::vector<int8_t> qw(wide.size());
  QuantizeFloats(wide.data(), static_cast<int64_t>(wide.size()), 1.0f, 0, qw.data());
  for (size_t i = 0; i < wide.size(); ++i) ASSERT_EQ(qw[i], want[i / 32]) << i;
}

}  // namespace
}  // namespace edgepipe::eval
