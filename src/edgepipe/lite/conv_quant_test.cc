// The fast quantized CONV_2D / DEPTHWISE_CONV_2D loops against the
// reference loop: random geometries (1x1 stride 1 = the FULLY_CONNECTED
// path, 3x3 with SAME-style padding, strides 2, dilations, more output
// pixels than one 64-row im2col block, batches > 1), zero points, per-tensor
// and per-channel multipliers, both requantization modes, int8 and uint8;
// outputs must be bit-identical. CONV_2D runs the fast loop, the AVX2 packed
// loop and the int8 GEMM core (gemm_int8.h).
#include "edgepipe/lite/conv_quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "edgepipe/lite/depthwise_quant.h"
#include "edgepipe/lite/fully_connected_fast.h"
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
ConvQuant RandomQuant(std::mt19937& rng, int channels_out, bool per_channel, bool fp32,
                      bool filter_zp) {
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
  std::uniform_real_distribution<double> scale(1e-6, 1e-4);
  const int channels = per_channel ? channels_out : 1;
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

template <typename T>
void CheckRandomCases(uint32_t seed, bool depthwise, bool filter_zp) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> bias_dist(-20000, 20000);
  int nontrivial = 0, cases = 0;
  for (int iter = 0; iter < 40; ++iter) {
    ConvGeometry g;
    g.batches = 1 + static_cast<int>(rng() % 2);
    g.in_h = 1 + static_cast<int>(rng() % 12);
    g.in_w = 1 + static_cast<int>(rng() % 12);
    g.in_c = 1 + static_cast<int>(rng() % 20);
    const int kind = static_cast<int>(rng() % 4);  // 0: 1x1 s1, 1: 3x3 s1, 2: 3x3 s2, 3: dilated
    g.k_h = g.k_w = kind == 0 ? 1 : 3;
    g.stride_h = g.stride_w = kind == 2 ? 2 : 1;
    g.dil_h = g.dil_w = kind == 3 ? 2 : 1;
    if (kind == 0 && iter % 2 == 0) {
      g.in_h = 9;  // 81 pixels: more than one 64-row block
      g.in_w = 9;
    }
    SetOutput(g, kind == 0 ? false : (rng() & 1) != 0);
    if (g.out_h < 1 || g.out_w < 1) continue;
    g.multiplier = 1;
    g.out_c = depthwise ? g.in_c : 1 + static_cast<int>(rng() % 24);
    const bool per_channel = (rng() & 1) != 0;
    const bool fp32 = (rng() & 2) != 0;
    const bool with_bias = (rng() & 4) != 0;
    const ConvQuant q = RandomQuant<T>(rng, g.out_c, per_channel, fp32, filter_zp);
    const auto input =
        RandomValues<T>(rng, static_cast<size_t>(g.batches) * g.in_h * g.in_w * g.in_c);
    const int depth = g.k_h * g.k_w * (depthwise ? 1 : g.in_c);
    const auto filter = RandomValues<T>(rng, static_cast<size_t>(g.out_c) * depth);
    std::vector<int32_t> bias(static_cast<size_t>(g.out_c));
    for (int32_t& b : bias) b = bias_dist(rng);
    const int32_t* bp = with_bias ? bias.data() : nullptr;
    const size_t out_n = static_cast<size_t>(g.batches) * g.out_h * g.out_w * g.out_c;
    std::vector<T> ref(out_n), fast(out_n, T{0x5a});
    ConvQuantReference(q, g, depthwise, input.data(), filter.data(), bp, ref.data());
    if (depthwise) {
      DepthwiseQuantFast(q, g, input.data(), filter.data(), bp, fast.data());
      // Every path this CPU supports.
      for (DepthwiseIsa isa : {DepthwiseIsa::kPortable, DepthwiseIsa::kAvx2, DepthwiseIsa::kAvx512,
                               DepthwiseIsa::kAvx512Vnni}) {
        if (!DepthwiseIsaSupported(isa)) continue;
        std::vector<T> via(out_n, T{0x5a});
        DepthwiseQuantIsa(q, g, input.data(), filter.data(), bp, via.data(), isa);
        for (size_t i = 0; i < out_n; ++i) {
          ASSERT_EQ(static_cast<int>(via[i]), static_cast<int>(ref[i]))
              << DepthwiseIsaName(isa) << ", iter " << iter << " output " << i;
        }
      }
    } else {
      const auto sums = FcFilterRowSums(filter.data(), g.out_c, depth);
      ConvQuantFast(q, g, input.data(), filter.data(), sums.data(), bp, fast.data());
      // The packed FULLY_CONNECTED path too (AVX2 CPUs).
      const FcPackedFilter packed =
          FcPackQuantFilter(filter.data(), g.out_c, depth, q.filter_offset);
      std::vector<int16_t> scratch;
      std::vector<T> via_packed(out_n, T{0x5a});
      ConvQuantFast(q, g, input.data(), filter.data(), sums.data(), bp, via_packed.data(), &packed,
                    &scratch);
      for (size_t i = 0; i < out_n; ++i) {
        ASSERT_EQ(static_cast<int>(via_packed[i]), static_cast<int>(ref[i]))
            << "packed, iter " << iter << " output " << i;
      }
      // The int8 GEMM core (gemm_int8.h; its best path on this CPU, every
      // path is covered in fully_connected_packed_test.cc), twice with one
      // scratch: 1x1 and im2col blocks.
      const GemmInt8Weights gemm = GemmInt8Pack(q, filter.data(), g.out_c, depth, bp);
      GemmInt8Scratch gemm_scratch;
      for (int rep = 0; rep < 2; ++rep) {
        std::vector<T> via_gemm(out_n, T{0x5a});
        ConvQuantFast(q, g, input.data(), filter.data(), sums.data(), bp, via_gemm.data(), nullptr,
                      nullptr, &gemm, &gemm_scratch);
        for (size_t i = 0; i < out_n; ++i) {
          ASSERT_EQ(static_cast<int>(via_gemm[i]), static_cast<int>(ref[i]))
              << "gemm_int8 " << GemmInt8PathName(GemmInt8BestPath()) << ", iter " << iter
              << " output " << i;
        }
      }
    }
    ++cases;
    for (size_t i = 0; i < out_n; ++i) {
      ASSERT_EQ(static_cast<int>(fast[i]), static_cast<int>(ref[i]))
          << "iter " << iter << " kind " << kind << " in " << g.in_h << "x" << g.in_w << "x"
          << g.in_c << " out " << g.out_h << "x" << g.out_w << "x" << g.out_c << " pad " << g.pad_h
          << "," << g.pad_w << " output " << i;
      if (ref[i] != static_cast<T>(q.act_min) && ref[i] != static_cast<T>(q.act_max)) {
        ++nontrivial;
      }
    }
  }
  EXPECT_GT(cases, 25);
  // Not vacuous: many outputs are not clamped.
  EXPECT_GT(nontrivial, 200);
}

TEST(ConvQuantTest, ConvInt8MatchesReference) {
  CheckRandomCases<int8_t>(1, false, false);
  CheckRandomCases<int8_t>(2, false, true);
}
TEST(ConvQuantTest, ConvUint8MatchesReference) { CheckRandomCases<uint8_t>(3, false, true); }
TEST(ConvQuantTest, DepthwiseInt8MatchesReference) {
  CheckRandomCases<int8_t>(4, true, false);
  CheckRandomCases<int8_t>(5, true, true);
}
TEST(ConvQuantTest, DepthwiseUint8MatchesReference) { CheckRandomCases<uint8_t>(6, true, true); }

// Depthwise on mobilenet-like shapes (3x3 stride 1 and 2, SAME and VALID,
// channel counts with full vector blocks and tails, 5x5, dilation) and
// extreme requantization (large multipliers, left shifts, accumulators near
// the int32 limits), every path this CPU supports against the reference.
template <typename T>
void CheckDepthwisePaths(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> ran;
  for (DepthwiseIsa isa : {DepthwiseIsa::kPortable, DepthwiseIsa::kAvx2, DepthwiseIsa::kAvx512,
                           DepthwiseIsa::kAvx512Vnni}) {
    if (DepthwiseIsaSupported(isa)) ran.emplace_back(DepthwiseIsaName(isa));
  }
  std::string names;
  for (const std::string& n : ran) names += n + " ";
  ::testing::Test::RecordProperty("depthwise_paths", names);
  std::printf("depthwise paths run: %s\n", names.c_str());
  const int channel_choices[] = {8, 16, 24, 32, 37, 48, 64, 96};
  for (int iter = 0; iter < 24; ++iter) {
    ConvGeometry g;
    g.batches = 1;
    g.in_h = 3 + static_cast<int>(rng() % 10);
    g.in_w = 3 + static_cast<int>(rng() % 10);
    g.in_c = g.out_c = channel_choices[rng() % 8];
    g.k_h = g.k_w = iter % 6 == 5 ? 5 : 3;
    g.stride_h = g.stride_w = 1 + static_cast<int>(rng() % 2);
    g.dil_h = g.dil_w = iter % 7 == 6 ? 2 : 1;
    SetOutput(g, (rng() & 1) != 0);
    if (g.out_h < 1 || g.out_w < 1) continue;
    const bool extreme = iter % 3 == 0;
    ConvQuant q = RandomQuant<T>(rng, g.out_c, (rng() & 1) != 0, iter % 4 == 1, true);
    if (extreme && q.fp32_scale.empty()) {
      for (size_t c = 0; c < q.multiplier.size(); ++c) {
        // Multipliers in [0.5, 1) x 2^shift with shifts -31 .. +8.
        QuantizeMultiplier(
            std::ldexp(0.5 + 0.49 * (rng() % 1000) / 1000.0, static_cast<int>(rng() % 40) - 31),
            &q.multiplier[c], &q.shift[c]);
      }
    }
    const auto input = RandomValues<T>(rng, static_cast<size_t>(g.in_h) * g.in_w * g.in_c);
    const auto filter = RandomValues<T>(rng, static_cast<size_t>(g.out_c) * g.k_h * g.k_w);
    std::vector<int32_t> bias(static_cast<size_t>(g.out_c));
    std::uniform_int_distribution<int32_t> big(std::numeric_limits<int32_t>::min(),
                                               std::numeric_limits<int32_t>::max());
    for (int32_t& b : bias) b = extreme ? big(rng) : static_cast<int32_t>(rng() % 40001) - 20000;
    const size_t out_n = static_cast<size_t>(g.out_h) * g.out_w * g.out_c;
    std::vector<T> ref(out_n);
    ConvQuantReference(q, g, true, input.data(), filter.data(), bias.data(), ref.data());
    for (DepthwiseIsa isa : {DepthwiseIsa::kPortable, DepthwiseIsa::kAvx2, DepthwiseIsa::kAvx512,
                             DepthwiseIsa::kAvx512Vnni}) {
      if (!DepthwiseIsaSupported(isa)) continue;
      std::vector<T> got(out_n, T{0x5a});
      DepthwiseQuantIsa(q, g, input.data(), filter.data(), bias.data(), got.data(), isa);
      for (size_t i = 0; i < out_n; ++i) {
        ASSERT_EQ(static_cast<int>(got[i]), static_cast<int>(ref[i]))
            << DepthwiseIsaName(isa) << " iter " << iter << " " << g.in_h << "x" << g.in_w << "x"
            << g.in_c << " k" << g.k_h << " s" << g.stride_h << " d" << g.dil_h << " output " << i;
      }
    }
  }
}

TEST(ConvQuantTest, DepthwiseEveryPathMatchesReferenceInt8) { CheckDepthwisePaths<int8_t>(11); }
TEST(ConvQuantTest, DepthwiseEveryPathMatchesReferenceUint8) { CheckDepthwisePaths<uint8_t>(12); }

TEST(ConvQuantTest, ReferenceOnKnownValues) {
  // 1x3x1x1 input, 1x3 filter, 1 output channel, VALID: acc = sum (w)(x + 1).
  ConvGeometry g;
  g.batches = 1;
  g.in_h = 1;
  g.in_w = 3;
  g.in_c = 1;
  g.k_h = 1;
  g.k_w = 3;
  g.out_h = g.out_w = g.out_c = 1;
  ConvQuant q;
  q.input_offset = 1;
  q.act_min = -128;
  q.act_max = 127;
  int32_t mult = 0;
  int sh = 0;
  QuantizeMultiplier(0.5, &mult, &sh);
  q.multiplier = {mult};
  q.shift = {sh};
  const int8_t in[] = {1, 2, 3}, f[] = {2, -1, 4};
  const int32_t bias[] = {6};
  int8_t out = 0;
  ConvQuantReference(q, g, false, in, f, bias, &out);
  // (2*2 - 1*3 + 4*4 + 6) * 0.5 = 11.5 -> 12 (round half away from zero).
  EXPECT_EQ(out, 12);
  const auto sums = FcFilterRowSums(f, 1, 3);
  int8_t fast = 0;
  ConvQuantFast(q, g, in, f, sums.data(), bias, &fast);
  EXPECT_EQ(fast, 12);
}

}  // namespace
}  // namespace edgepipe::lite
