// The fast quantized FULLY_CONNECTED loop (dispatched and portable) against the reference loop:
// random shapes (batch counts around the 4-row blocking, depths around vector widths), zero points,
// per-tensor and per-channel multipliers, both requantization modes, int8 and uint8; outputs must
// be bit-identical.
#include "edgepipe/lite/fully_connected_fast.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

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

// A ConvQuant as PrepareConvQuant would make it, with random parameters.
template <typename T>
ConvQuant RandomQuant(std::mt19937& rng, int units, bool per_channel, bool fp32, bool filter_zp) {
  ConvQuant q;
  std::uniform_int_distribution<int> zp(std::numeric_limits<T>::min(),
                                        std::numeric_limits<T>::max());
  q.input_offset = -zp(rng);
  q.filter_offset = filter_zp ? -zp(rng) : 0;
  q.output_offset = zp(rng);
  int lo = zp(rng), hi = zp(rng);
  if (lo > hi) std::swap(lo, hi);
  q.act_min = lo;
  q.act_max = hi;
  // Scales chosen so that outputs spread over the range rather than clamp.
  std::uniform_real_distribution<double> scale(1e-6, 2e-4);
  const int channels = per_channel ? units : 1;
  for (int c = 0; c < channels; ++c) {
    const double m = scale(rng);
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
  return q;
}

template <typename T>
void CheckRandomCases(uint32_t seed, bool filter_zp) {
  std::mt19937 rng(seed);
  const int batch_choices[] = {1, 2, 3, 4, 5, 7, 8, 9, 17};
  const int depth_choices[] = {1, 3, 15, 16, 31, 32, 33, 64, 100, 784};
  std::uniform_int_distribution<int> units_dist(1, 24);
  std::uniform_int_distribution<int> bias_dist(-20000, 20000);
  int nontrivial = 0;
  for (int iter = 0; iter < 60; ++iter) {
    FcShape s;
    s.batches = batch_choices[rng() % std::size(batch_choices)];
    s.depth = depth_choices[rng() % std::size(depth_choices)];
    s.units = units_dist(rng);
    const bool per_channel = (rng() & 1) != 0;
    const bool fp32 = (rng() & 2) != 0;
    const bool with_bias = (rng() & 4) != 0;
    const ConvQuant q = RandomQuant<T>(rng, s.units, per_channel, fp32, filter_zp);
    const auto input = RandomValues<T>(rng, static_cast<size_t>(s.batches) * s.depth);
    const auto filter = RandomValues<T>(rng, static_cast<size_t>(s.units) * s.depth);
    std::vector<int32_t> bias(static_cast<size_t>(s.units));
    for (int32_t& b : bias) b = bias_dist(rng);
    const size_t out_n = static_cast<size_t>(s.batches) * s.units;
    std::vector<T> ref(out_n), fast(out_n, T{0x5a});
    const int32_t* bias_ptr = with_bias ? bias.data() : nullptr;
    FullyConnectedQuantReference(q, s, input.data(), filter.data(), bias_ptr, ref.data());
    const std::vector<int32_t> sums = FcFilterRowSums(filter.data(), s.units, s.depth);
    FullyConnectedQuantFast(q, s, input.data(), filter.data(), sums.data(), bias_ptr, fast.data());
    std::vector<T> portable(out_n, T{0x5a});
    FullyConnectedQuantFastPortable(q, s, input.data(), filter.data(), sums.data(), bias_ptr,
                                    portable.data());
    for (size_t i = 0; i < out_n; ++i) {
      ASSERT_EQ(static_cast<int>(portable[i]), static_cast<int>(ref[i]))
          << "portable, iter " << iter << " output " << i;
      ASSERT_EQ(static_cast<int>(fast[i]), static_cast<int>(ref[i]))
          << "iter " << iter << " batches " << s.batches << " depth " << s.depth << " units "
          << s.units << " output " << i << " per_channel " << per_channel << " fp32 " << fp32;
      if (ref[i] != static_cast<T>(q.act_min) && ref[i] != static_cast<T>(q.act_max)) {
        ++nontrivial;
      }
    }
  }
  // The comparison must not be vacuous: most outputs are not clamped.
  EXPECT_GT(nontrivial, 100);
}

TEST(FullyConnectedFastTest, Int8MatchesReferenceBitForBit) {
  CheckRandomCases<int8_t>(1, /*filter_zp=*/false);
  CheckRandomCases<int8_t>(2, /*filter_zp=*/false);
}

TEST(FullyConnectedFastTest, Int8WithFilterZeroPointMatchesReference) {
  CheckRandomCases<int8_t>(3, /*filter_zp=*/true);
}

TEST(FullyConnectedFastTest, Uint8MatchesReferenceBitForBit) {
  CheckRandomCases<uint8_t>(4, /*filter_zp=*/true);
  CheckRandomCases<uint8_t>(5, /*filter_zp=*/false);
}

TEST(FullyConnectedFastTest, RowSumsAreFilterRowSums) {
  const int8_t f[] = {-128, 127, 5, 1, 2, 3};
  EXPECT_EQ(FcFilterRowSums(f, 2, 3), (std::vector<int32_t>{4, 6}));
  const uint8_t u[] = {255, 255, 0, 1};
  EXPECT_EQ(FcFilterRowSums(u, 2, 2), (std::vector<int32_t>{510, 1}));
}

}  // namespace
}  // namespace edgepipe::lite
