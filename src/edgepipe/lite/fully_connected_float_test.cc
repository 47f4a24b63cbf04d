// The fast float FULLY_CONNECTED loop against the reference loop, on every
// kernel this CPU supports (forced through FcFloatForceKernelForTesting;
// the kernels that ran are printed and recorded as test properties):
//  - integer-valued inputs, where every partial sum is exact in float32 in
//    any order and with or without FMA: outputs must be bit-identical
//    (catches any indexing, tail or epilogue slip exactly);
//  - random real inputs (batch counts around the 6-row tiles and 1..300,
//    unit counts around the 8/16-lane vectors and 64-unit tiles, depths
//    around the 256 depth block), with and without bias, every clamp
//    range, special values (NaN, infinities, signed zeros, denormals): the
//    float contract |fast - ref| <= 1e-5 * (sum |x * w| + |bias|) + 1e-30,
//    NaN exactly where the reference has NaN, the same infinity where it
//    has one.
#include "edgepipe/lite/fully_connected_float.h"

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

namespace edgepipe::lite {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

std::vector<FcFloatKernel> SupportedKernels() {
  std::vector<FcFloatKernel> out;
  for (FcFloatKernel k :
       {FcFloatKernel::kPortable, FcFloatKernel::kAvx2Fma, FcFloatKernel::kAvx512}) {
    if (FcFloatKernelSupported(k)) out.push_back(k);
  }
  return out;
}

// Forces a kernel for one scope.
class ForcedKernel {
 public:
  explicit ForcedKernel(FcFloatKernel k) { ok_ = FcFloatForceKernelForTesting(k); }
  ~ForcedKernel() { FcFloatClearForcedKernel(); }
  bool ok() const { return ok_; }

 private:
  bool ok_;
};

// Runs `body` once per supported kernel; records which ran.
template <typename F>
void ForEachKernel(const F& body) {
  std::string ran;
  for (FcFloatKernel k : SupportedKernels()) {
    SCOPED_TRACE(FcFloatKernelName(k));
    ForcedKernel forced(k);
    ASSERT_TRUE(forced.ok());
    ASSERT_EQ(FcFloatActiveKernel(), k);
    body(k);
    if (testing::Test::HasFatalFailure()) return;
    ran += std::string(ran.empty() ? "" : ",") + FcFloatKernelName(k);
  }
  std::printf("float FC kernels run: %s\n", ran.c_str());
  testing::Test::RecordProperty("kernels", ran);
}

// Prints and records the kernels Check runs.
void PrintKernels() {
  std::string ran;
  for (const FcFloatKernel k : SupportedKernels()) {
    ran += std::string(ran.empty() ? "" : ",") + FcFloatKernelName(k);
  }
  std::printf("float FC kernels run: %s\n", ran.c_str());
  testing::Test::RecordProperty("kernels", ran);
}

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
        x = kInf;
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

std::vector<float> RandomIntegers(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> d(-8, 8);
  std::vector<float> v(n);
  for (float& x : v) x = static_cast<float>(d(rng));
  return v;
}

uint32_t Bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

std::vector<float> Abs(std::vector<float> v) {
  for (float& x : v) x = std::fabs(x);
  return v;
}

struct Data {
  std::vector<float> input, filter, bias;
};

// Every output of `got` against `want` (`mag`: sum |x * w|).
void ExpectContract(const FcShape& s, const Data& d, bool with_bias, float fmin, float fmax,
                    const std::vector<float>& want, const std::vector<float>& got,
                    const std::vector<float>& mag, bool exact) {
  const size_t n = want.size();
  for (size_t i = 0; i < n; ++i) {
    auto where = [&] {
      return "batches " + std::to_string(s.batches) + " depth " + std::to_string(s.depth) +
             " units " + std::to_string(s.units) + " bias " + std::to_string(with_bias) +
             " range [" + std::to_string(fmin) + ", " + std::to_string(fmax) + "] output " +
             std::to_string(i);
    };
    if (exact) {
      ASSERT_EQ(Bits(got[i]), Bits(want[i])) << where() << ": " << got[i] << " vs " << want[i];
    } else if (std::isnan(want[i])) {
      ASSERT_TRUE(std::isnan(got[i])) << where() << ": " << got[i] << ", reference NaN";
    } else if (std::isinf(want[i])) {
      ASSERT_EQ(got[i], want[i]) << where();
    } else {
      const float bias_mag = with_bias ? std::fabs(d.bias[i % s.units]) : 0.0f;
      const double tol = 1e-5 * (static_cast<double>(mag[i]) + bias_mag) + 1e-30;
      ASSERT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), tol)
          << where() << ": " << got[i] << " vs reference " << want[i];
    }
  }
}

// Runs the reference and every supported kernel on `d` and checks the
// float contract (exact: bit-equal).
void Check(const FcShape& s, const Data& d, bool with_bias, float fmin, float fmax, bool exact) {
  const float* b = with_bias ? d.bias.data() : nullptr;
  const size_t n = static_cast<size_t>(s.batches) * s.units;
  std::vector<float> want(n, 7.0f), got(n, -7.0f), mag(n);
  FullyConnectedFloatReference(s, d.input.data(), d.filter.data(), b, fmin, fmax, want.data());
  // sum |x * w| per output (the contract's scale).
  if (!exact) {
    FullyConnectedFloatReference(s, Abs(d.input).data(), Abs(d.filter).data(), nullptr, -kInf, kInf,
                                 mag.data());
  }
  const std::vector<float> packed = FcPackFloatFilter(d.filter.data(), s.units, s.depth);
  ASSERT_EQ(packed.size(), static_cast<size_t>((s.units + kFcFloatPanel - 1) / kFcFloatPanel) *
                               kFcFloatPanel * s.depth);
  // A sentinel after the output catches overruns of the masked tails.
  got.push_back(123.0f);
  for (const FcFloatKernel k : SupportedKernels()) {
    SCOPED_TRACE(FcFloatKernelName(k));
    ForcedKernel forced(k);
    ASSERT_TRUE(forced.ok());
    std::fill(got.begin(), got.end() - 1, -7.0f);
    FullyConnectedFloatFast(s, d.input.data(), packed.data(), b, fmin, fmax, got.data());
    ASSERT_EQ(got.back(), 123.0f) << "output overrun";
    ExpectContract(s, d, with_bias, fmin, fmax, want, got, mag, exact);
    if (testing::Test::HasFatalFailure()) return;
  }
}

TEST(FullyConnectedFloatTest, IntegerInputsBitIdenticalOnEveryKernel) {
  PrintKernels();
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> bd(1, 300), ud(1, 80), dd(1, 600);
  for (int t = 0; t < 24; ++t) {
    // Small batch counts often (latency paths), up to 300 rows.
    const bool big = t % 3 == 0;
    const FcShape s{big ? bd(rng) : 1 + t % 7, big ? dd(rng) / 3 + 1 : dd(rng), ud(rng)};
    Data d{RandomIntegers(rng, static_cast<size_t>(s.batches) * s.depth),
           RandomIntegers(rng, static_cast<size_t>(s.units) * s.depth),
           RandomIntegers(rng, static_cast<size_t>(s.units))};
    Check(s, d, t % 2 == 0, t % 4 == 1 ? 0.0f : -kInf, t % 4 == 1 ? 60.0f : kInf, true);
    if (HasFatalFailure()) return;
  }
}

TEST(FullyConnectedFloatTest, WithinToleranceOfReferenceOnEveryKernel) {
  PrintKernels();
  {
    std::mt19937 rng(2024);
    const float ranges[][2] = {{-kInf, kInf}, {0.0f, kInf}, {0.0f, 6.0f}, {-1.0f, 1.0f}};
    int cases = 0;
    for (int batches : {1, 2, 5, 6, 7, 13}) {
      for (int units : {1, 7, 8, 9, 16, 17, 33, 64, 65, 100}) {
        for (int depth : {1, 5, 255, 256, 257, 600}) {
          const FcShape s{batches, depth, units};
          const bool specials = cases % 5 == 0;
          Data d{RandomFloats(rng, static_cast<size_t>(batches) * depth, specials),
                 RandomFloats(rng, static_cast<size_t>(units) * depth, specials),
                 RandomFloats(rng, static_cast<size_t>(units), specials)};
          const auto& r = ranges[cases % 4];
          Check(s, d, cases % 3 != 0, r[0], r[1], false);
          if (HasFatalFailure()) return;
          ++cases;
        }
      }
    }
    EXPECT_EQ(cases, 6 * 10 * 6);
    // Random large batches (1..300), the MNIST MLP's first layer shape.
    std::uniform_int_distribution<int> bd(1, 300), ud(1, 70), dd(1, 300);
    for (int t = 0; t < 4; ++t) {
      const FcShape s = t == 0 ? FcShape{256, 784, 64} : FcShape{bd(rng), dd(rng), ud(rng)};
      Data d{RandomFloats(rng, static_cast<size_t>(s.batches) * s.depth, false),
             RandomFloats(rng, static_cast<size_t>(s.units) * s.depth, false),
             RandomFloats(rng, static_cast<size_t>(s.units), false)};
      Check(s, d, true, t % 2 ? 0.0f : -kInf, kInf, false);
      if (HasFatalFailure()) return;
    }
  }
}

TEST(FullyConnectedFloatTest, MissingBiasAddsPositiveZero) {
  // total = -0.0 (one product -0 * 1) would stay -0; the reference adds
  // 0.0f -> +0.0, and so must every kernel.
  ForEachKernel([](FcFloatKernel) {
    const float input[] = {-0.0f}, filter[] = {1.0f};
    const std::vector<float> packed = FcPackFloatFilter(filter, 1, 1);
    float out = -1.0f;
    FullyConnectedFloatFast({1, 1, 1}, input, packed.data(), nullptr, -kInf, kInf, &out);
    EXPECT_EQ(Bits(out), Bits(0.0f));
  });
}

TEST(FullyConnectedFloatTest, PackLayout) {
  // 17 units x 2 depth: panel 0 holds units 0..15, panel 1 unit 16 + padding.
  std::vector<float> filter(34);
  for (int i = 0; i < 34; ++i) filter[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  const std::vector<float> p = FcPackFloatFilter(filter.data(), 17, 2);
  ASSERT_EQ(p.size(), 64u);
  EXPECT_EQ(p[0], 1.0f);    // (o 0, d 0)
  EXPECT_EQ(p[16], 2.0f);   // (o 0, d 1)
  EXPECT_EQ(p[3], 7.0f);    // (o 3, d 0)
  EXPECT_EQ(p[32], 33.0f);  // (o 16, d 0)
  EXPECT_EQ(p[48], 34.0f);  // (o 16, d 1)
  EXPECT_EQ(p[33], 0.0f);   // padding
}

TEST(FullyConnectedFloatTest, KernelHook) {
  EXPECT_TRUE(FcFloatKernelSupported(FcFloatKernel::kPortable));
  ASSERT_TRUE(FcFloatForceKernelForTesting(FcFloatKernel::kPortable));
  EXPECT_EQ(FcFloatActiveKernel(), FcFloatKernel::kPortable);
  FcFloatClearForcedKernel();
  // Unforced: the best supported kernel.
  const auto all = SupportedKernels();
  EXPECT_EQ(FcFloatActiveKernel(), all.back());
  EXPECT_EQ(FullyConnectedFloatHasAvx2(), all.back() != FcFloatKernel::kPortable);
  std::printf("float FC default kernel: %s\n", FcFloatKernelName(FcFloatActiveKernel()));
}

}  // namespace
}  // namespace edgepipe::lite
