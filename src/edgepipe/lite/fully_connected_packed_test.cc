// The packed quantized FULLY_CONNECTED loop against the reference loop:
// random shapes (batch counts around the 4-row tiles, unit counts around the
// 8-unit panels and 2-panel tiles, odd and even depths), extreme zero points
// (so (x + input_offset) and (w + filter_offset) reach +-255), per-tensor and
// per-channel multipliers, both requantization modes, int8 and uint8;
// outputs must be bit-identical.
#include "edgepipe/lite/fully_connected_packed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "edgepipe/lite/gemm_int8.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

template <typename T>
std::vector<T> RandomValues(std::mt19937& rng, size_t n) {
  std::uniform_int_distribution<int> dist(std::numeric_limits<T>::min(),
                                          std::numeric_limits<T>::max());
  std::vector<T> v(n);
  for (T& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <typename T>
void CheckRandomCases(uint32_t seed) {
  if (!FullyConnectedQuantPackedAvailable()) GTEST_SKIP() << "no AVX2 on this CPU";
  std::mt19937 rng(seed);
  const int batch_choices[] = {1, 2, 3, 4, 5, 8, 9, 17};
  const int depth_choices[] = {1, 2, 3, 15, 16, 33, 64, 100, 785};
  const int unit_choices[] = {1, 7, 8, 9, 15, 16, 17, 24, 33};
  std::uniform_int_distribution<int> zp(std::numeric_limits<T>::min(),
                                        std::numeric_limits<T>::max());
  std::uniform_int_distribution<int> bias_dist(-20000, 20000);
  std::uniform_real_distribution<double> scale(1e-6, 2e-4);
  int nontrivial = 0;
  std::vector<int16_t> scratch;
  for (int iter = 0; iter < 60; ++iter) {
    FcShape s;
    s.batches = batch_choices[rng() % std::size(batch_choices)];
    s.depth = depth_choices[rng() % std::size(depth_choices)];
    s.units = unit_choices[rng() % std::size(unit_choices)];
    ConvQuant q;
    // Every 4th case: the extreme zero points.
    const bool extreme = iter % 4 == 0;
    q.input_offset = extreme ? -static_cast<int>(std::numeric_limits<T>::min()) : -zp(rng);
    q.filter_offset = extreme ? -static_cast<int>(std::numeric_limits<T>::max()) : -zp(rng);
    if (std::is_signed_v<T> && iter % 3 == 0) q.filter_offset = 0;
    q.output_offset = zp(rng);
    q.act_min = std::numeric_limits<T>::min();
    q.act_max = std::numeric_limits<T>::max();
    const bool per_channel = (rng() & 1) != 0, fp32 = (rng() & 2) != 0;
    for (int c = 0; c < (per_channel ? s.units : 1); ++c) {
      // Every 5th case a multiplier > 1 (a left shift).
      const double m = iter % 5 == 1 ? 1.0 + scale(rng) * 1e4 : scale(rng) / (extreme ? 4 : 1);
      if (fp32) {
        q.fp32_scale.push_back(static_cast<float>(m));
        q.multiplier.push_back(0);
        q.shift.push_back(0);
      } else {
        int32_t mult = 0;
        int sh = 0;
        QuantizeMultiplier(m, &mult, &sh);
        q.multiplier.push_back(mult);
        q.shift.push_back(sh);
      }
    }
    const auto input = RandomValues<T>(rng, static_cast<size_t>(s.batches) * s.depth);
    const auto filter = RandomValues<T>(rng, static_cast<size_t>(s.units) * s.depth);
    std::vector<int32_t> bias(static_cast<size_t>(s.units));
    for (int32_t& b : bias) b = bias_dist(rng);
    const int32_t* bp = (rng() & 4) != 0 ? bias.data() : nullptr;
    const size_t out_n = static_cast<size_t>(s.batches) * s.units;
    std::vector<T> ref(out_n), got(out_n, T{0x5a});
    FullyConnectedQuantReference(q, s, input.data(), filter.data(), bp, ref.data());
    const FcPackedFilter f = FcPackQuantFilter(filter.data(), s.units, s.depth, q.filter_offset);
    FullyConnectedQuantPacked(q, s, input.data(), f, bp, got.data(), &scratch);
    for (size_t i = 0; i < out_n; ++i) {
      ASSERT_EQ(static_cast<int>(got[i]), static_cast<int>(ref[i]))
          << "iter " << iter << " batches " << s.batches << " depth " << s.depth << " units "
          << s.units << " output " << i;
      if (ref[i] != std::numeric_limits<T>::min() && ref[i] != std::numeric_limits<T>::max()) {
        ++nontrivial;
      }
    }
  }
  EXPECT_GT(nontrivial, 200);
}

TEST(FullyConnectedPackedTest, Int8MatchesReferenceBitForBit) { CheckRandomCases<int8_t>(11); }
TEST(FullyConnectedPackedTest, Uint8MatchesReferenceBitForBit) { CheckRandomCases<uint8_t>(12); }

TEST(FullyConnectedPackedTest, PackLayoutAppliesOffset) {
  // 9 units x 3 depth, offset 1: unit 8 is in panel 1; depth padded to 4.
  std::vector<int8_t> filter(27);
  for (int i = 0; i < 27; ++i) filter[static_cast<size_t>(i)] = static_cast<int8_t>(i);
  const FcPackedFilter f = FcPackQuantFilter(filter.data(), 9, 3, 1);
  EXPECT_EQ(f.depth_pairs, 2);
  ASSERT_EQ(f.data.size(), 2u * 2 * 16);
  EXPECT_EQ(f.data[0], 1);        // (o 0, d 0) = 0 + 1
  EXPECT_EQ(f.data[1], 2);        // (o 0, d 1)
  EXPECT_EQ(f.data[2], 4);        // (o 1, d 0) = 3 + 1
  EXPECT_EQ(f.data[16], 3);       // (o 0, d 2)
  EXPECT_EQ(f.data[17], 0);       // (o 0, d 3): padding
  EXPECT_EQ(f.data[32 + 0], 25);  // (o 8, d 0) = 24 + 1
  EXPECT_EQ(f.data[32 + 2], 0);   // (o 9): padding
}

// The int8 GEMM core (gemm_int8.h) on every dispatch path this CPU runs,
// against the reference loop: depths not multiples of 4 or 64, unit counts
// not multiples of 16, batches 1..300 (the 4-row tiles and their
// remainders), random and extreme zero points (filter zero points too, so
// the per-row term runs), per-tensor and per-channel multipliers, both
// requantization modes, with and without bias, int8 and uint8.
template <typename T>
void CheckGemmInt8(uint32_t seed, GemmInt8Path path) {
  std::mt19937 rng(seed);
  const int depth_choices[] = {1, 3, 4, 5, 63, 64, 65, 130, 785};
  const int unit_choices[] = {1, 10, 15, 16, 17, 33, 64, 65, 80};
  std::uniform_int_distribution<int> batch_dist(1, 9);
  std::uniform_int_distribution<int> zp(std::numeric_limits<T>::min(),
                                        std::numeric_limits<T>::max());
  std::uniform_int_distribution<int> bias_dist(-20000, 20000);
  std::uniform_real_distribution<double> scale(1e-6, 2e-4);
  int nontrivial = 0;
  GemmInt8Scratch scratch;
  for (int iter = 0; iter < 40; ++iter) {
    const int depth = depth_choices[rng() % std::size(depth_choices)];
    const int units = unit_choices[rng() % std::size(unit_choices)];
    // Mostly small batches; every 8th case a large one (GEMM tiles).
    int batches = batch_dist(rng);
    if (iter % 8 == 3) batches = 300 - static_cast<int>(rng() % 50);
    if (static_cast<int64_t>(batches) * depth * units > 3'000'000) batches = 7;
    ConvQuant q;
    const bool extreme = iter % 4 == 0;
    q.input_offset = extreme ? -static_cast<int>(std::numeric_limits<T>::min()) : -zp(rng);
    q.filter_offset = extreme ? -static_cast<int>(std::numeric_limits<T>::max()) : -zp(rng);
    if (std::is_signed_v<T> && iter % 3 != 0) q.filter_offset = 0;  // int8 models: symmetric
    q.output_offset = zp(rng);
    q.act_min = std::numeric_limits<T>::min();
    q.act_max = std::numeric_limits<T>::max();
    if (iter % 6 == 5) q.act_min = std::max<int>(q.act_min, q.output_offset);  // a fused RELU
    const bool per_channel = (rng() & 1) != 0, fp32 = iter % 7 == 2;
    for (int c = 0; c < (per_channel ? units : 1); ++c) {
      const double m = iter % 5 == 1 ? 1.0 + scale(rng) * 1e4 : scale(rng) / (extreme ? 4 : 1);
      if (fp32) {
        q.fp32_scale.push_back(static_cast<float>(m));
        q.multiplier.push_back(0);
        q.shift.push_back(0);
      } else {
        int32_t mult = 0;
        int sh = 0;
        QuantizeMultiplier(m, &mult, &sh);
        q.multiplier.push_back(mult);
        q.shift.push_back(sh);
      }
    }
    const auto input = RandomValues<T>(rng, static_cast<size_t>(batches) * depth);
    const auto filter = RandomValues<T>(rng, static_cast<size_t>(units) * depth);
    std::vector<int32_t> bias(static_cast<size_t>(units));
    for (int32_t& b : bias) b = bias_dist(rng);
    const int32_t* bp = (rng() & 4) != 0 ? bias.data() : nullptr;
    const FcShape s{batches, depth, units};
    const size_t out_n = static_cast<size_t>(batches) * units;
    // A sentinel byte past the end catches tail overruns.
    std::vector<T> ref(out_n), got(out_n + 1, T{0x5a});
    FullyConnectedQuantReference(q, s, input.data(), filter.data(), bp, ref.data());
    const GemmInt8Weights w = GemmInt8Pack(q, filter.data(), units, depth, bp);
    GemmInt8(q, w, batches, input.data(), got.data(), &scratch, path);
    ASSERT_EQ(static_cast<int>(got[out_n]), 0x5a) << "wrote past the output, iter " << iter;
    for (size_t i = 0; i < out_n; ++i) {
      ASSERT_EQ(static_cast<int>(got[i]), static_cast<int>(ref[i]))
          << GemmInt8PathName(path) << " iter " << iter << " batches " << batches << " depth "
          << depth << " units " << units << " output " << i;
      if (ref[i] != std::numeric_limits<T>::min() && ref[i] != std::numeric_limits<T>::max()) {
        ++nontrivial;
      }
    }
  }
  EXPECT_GT(nontrivial, 500);
}

std::vector<GemmInt8Path> SupportedGemmPaths() {
  std::vector<GemmInt8Path> paths;
  for (GemmInt8Path p : {GemmInt8Path::kScalar, GemmInt8Path::kAvxVnni, GemmInt8Path::kAvx512Vnni,
                         GemmInt8Path::kAuto}) {
    if (GemmInt8PathSupported(p)) paths.push_back(p);
  }
  return paths;
}

TEST(GemmInt8Test, Int8MatchesReferenceOnEveryPath) {
  for (GemmInt8Path p : SupportedGemmPaths()) {
    SCOPED_TRACE(GemmInt8PathName(p));
    std::printf("gemm_int8 path %s (auto = %s)\n", GemmInt8PathName(p),
                GemmInt8PathName(GemmInt8BestPath()));
    CheckGemmInt8<int8_t>(21, p);
  }
}

TEST(GemmInt8Test, Uint8MatchesReferenceOnEveryPath) {
  for (GemmInt8Path p : SupportedGemmPaths()) {
    SCOPED_TRACE(GemmInt8PathName(p));
    std::printf("gemm_int8 path %s\n", GemmInt8PathName(p));
    CheckGemmInt8<uint8_t>(22, p);
  }
}

TEST(GemmInt8Test, PackLayoutAndConstants) {
  // 17 units x 5 depth, int8, input zero point 3 (input_offset -3): unit 16
  // is in panel 1; depth padded to 8 (2 quads).
  std::vector<int8_t> filter(17 * 5);
  for (size_t i = 0; i < filter.size(); ++i) filter[i] = static_cast<int8_t>(i % 7 - 3);
  ConvQuant q;
  q.input_offset = -3;
  q.multiplier = {1 << 30};
  q.shift = {-2};
  const int32_t bias_value = 1000;
  std::vector<int32_t> bias(17, bias_value);
  const GemmInt8Weights w = GemmInt8Pack(q, filter.data(), 17, 5, bias.data());
  EXPECT_EQ(w.quads, 2);
  EXPECT_EQ(w.panels, 2);
  EXPECT_EQ(w.s_off, 0);
  ASSERT_EQ(w.data.size(), 2u * 2 * 16 * 4);
  EXPECT_EQ(w.data[0], filter[0]);         // (o 0, d 0)
  EXPECT_EQ(w.data[3], filter[3]);         // (o 0, d 3)
  EXPECT_EQ(w.data[4], filter[5]);         // (o 1, d 0)
  EXPECT_EQ(w.data[64], filter[4]);        // (o 0, d 4): quad 1
  EXPECT_EQ(w.data[65], 0);                // (o 0, d 5): padding
  EXPECT_EQ(w.data[128], filter[16 * 5]);  // (o 16, d 0): panel 1
  EXPECT_EQ(w.data[132], 0);               // (o 17): padding
  // unit_const = (input_offset - 128) * sum(w) + bias for int8.
  int32_t sum0 = 0;
  for (int d = 0; d < 5; ++d) sum0 += filter[static_cast<size_t>(d)];
  EXPECT_EQ(w.unit_const[0], (-3 - 128) * sum0 + bias_value);
  EXPECT_EQ(w.unit_const[17], 0);
  EXPECT_EQ(w.multiplier[16], 1 << 30);
  EXPECT_EQ(w.right_shift[16], 2);
  EXPECT_EQ(w.left_shift[16], 0);
}

}  // namespace
}  // namespace edgepipe::lite
