// Float MAX_POOL_2D through the interpreter against a reference loop written
// here (window clipped to the input, std::max over the window in row order,
// then the fused activation clamp): random sizes, filters, strides, SAME /
// VALID padding, activations, inputs with NaN and -Inf; bit-identical.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

TEST(MaxPoolFloat, BitIdenticalToReference) {
  std::mt19937 rng(9);
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  constexpr float kInf = std::numeric_limits<float>::infinity();
  for (int t = 0; t < 40; ++t) {
    const int n = u(1, 2), h = u(1, 9), w = u(1, 9), ch = u(1, 19);
    const int fh = u(1, 3), fw = u(1, 3), sh = u(1, 3), sw = u(1, 3);
    const bool same = u(0, 1) == 1 || fh > h || fw > w;
    const int oh = same ? (h + sh - 1) / sh : (h - fh + sh) / sh;
    const int ow = same ? (w + sw - 1) / sw : (w - fw + sw) / sw;
    const int ph = same ? std::max(0, ((oh - 1) * sh + fh - h) / 2) : 0;
    const int pw = same ? std::max(0, ((ow - 1) * sw + fw - w) / 2) : 0;
    const bool relu = u(0, 1) == 1;
    std::vector<float> x(static_cast<size_t>(n) * h * w * ch);
    std::uniform_real_distribution<float> d(-3, 3);
    for (float& v : x) {
      const int p = u(0, 40);
      v = p == 0 ? std::numeric_limits<float>::quiet_NaN() : p == 1 ? -kInf : d(rng);
    }
    std::vector<float> want(static_cast<size_t>(n) * oh * ow * ch);
    for (int b = 0; b < n; ++b)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox)
          for (int c = 0; c < ch; ++c) {
            float acc = std::numeric_limits<float>::lowest();
            for (int y = std::max(0, oy * sh - ph); y < std::min(h, oy * sh - ph + fh); ++y)
              for (int xx = std::max(0, ox * sw - pw); xx < std::min(w, ox * sw - pw + fw); ++xx)
                acc = std::max(acc, x[((static_cast<size_t>(b) * h + y) * w + xx) * ch + c]);
            want[((static_cast<size_t>(b) * oh + oy) * ow + ox) * ch + c] =
                std::clamp(acc, relu ? 0.0f : -kInf, kInf);
          }
    ModelBuilder mb;
    const int xi = mb.AddInput("x", tflite::TensorType::FLOAT32, {n, h, w, ch});
    const int yi = mb.AddTensor("y", tflite::TensorType::FLOAT32, {n, oh, ow, ch});
    mb.AddOperator(tflite::BuiltinOperator::MAX_POOL_2D, {xi}, {yi},
                   Pool2DOpts(same ? tflite::Padding::SAME : tflite::Padding::VALID, sw, sh, fw, fh,
                              relu ? tflite::ActivationFunctionType::RELU
                                   : tflite::ActivationFunctionType::NONE));
    mb.AddOutput("y", yi);
    auto bytes = mb.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto m = Model::FromBytes(*bytes, "pool");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver());
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    ASSERT_TRUE((*in)->AllocateTensors().ok());
    ASSERT_TRUE((*in)->SetInput(0, *Array::FromVector<float>({n, h, w, ch}, x)).ok());
    ASSERT_TRUE((*in)->Invoke().ok());
    const Tensor& out = (*in)->output(0);
    ASSERT_EQ(static_cast<size_t>(out.num_elements()), want.size()) << "case " << t;
    EXPECT_EQ(std::memcmp(out.as<float>(), want.data(), want.size() * sizeof(float)), 0)
        << "case " << t;
  }
}

// MEAN (int8 and float32, keep_dims or not) against a loop written here:
// each output sums its reduced coordinates in row-major order; int8 then
// applies TFLite's reference formula (sum - zp * n, the fixed-point scale
// ratio, division rounding half away from zero, + output zero point,
// clamp). Random ranks 2-4 and axis sets, adjacent (the blocked fast path)
// and not; bit-identical.
TEST(MeanTest, MatchesReferenceLoop) {
  std::mt19937 rng(31);
  int blocked_cases = 0;
  for (int t = 0; t < 40; ++t) {
    const bool f32 = t % 2 == 1;
    const int rank = 2 + static_cast<int>(rng() % 3);
    std::vector<int32_t> shape, axes;
    std::vector<bool> red(static_cast<size_t>(rank), false);
    for (int d = 0; d < rank; ++d) shape.push_back(1 + static_cast<int>(rng() % 6));
    for (int d = 0; d < rank; ++d) {
      if (rng() % 2 == 0) {
        red[static_cast<size_t>(d)] = true;
        axes.push_back(d);
      }
    }
    if (axes.empty()) {
      red[1] = true;
      axes.push_back(1);
    }
    int first = rank, last = -1;
    for (int d = 0; d < rank; ++d) {
      if (red[static_cast<size_t>(d)]) {
        first = std::min(first, d);
        last = d;
      }
    }
    bool adjacent = true;
    for (int d = first; d <= last; ++d) adjacent = adjacent && red[static_cast<size_t>(d)];
    blocked_cases += adjacent;
    const bool keep = rng() % 2 == 0;
    std::vector<int32_t> out_shape, kept_dims;
    int64_t count = 1;
    for (int d = 0; d < rank; ++d) {
      if (red[static_cast<size_t>(d)]) {
        count *= shape[static_cast<size_t>(d)];
        if (keep) out_shape.push_back(1);
      } else {
        out_shape.push_back(shape[static_cast<size_t>(d)]);
      }
    }
    size_t n = 1;
    for (int32_t d : shape) n *= static_cast<size_t>(d);
    const float in_scale = 0.02f + 0.01f * static_cast<float>(rng() % 10);
    const float out_scale = 0.02f + 0.01f * static_cast<float>(rng() % 10);
    const int in_zp = static_cast<int>(rng() % 200) - 100, out_zp = static_cast<int>(rng() % 50);
    std::vector<uint8_t> input(n * (f32 ? 4 : 1));
    std::vector<float> xf(n);
    std::vector<int8_t> xq(n);
    for (size_t i = 0; i < n; ++i) {
      xf[i] = static_cast<float>(static_cast<int>(rng() % 20001) - 10000) / 997.0f;
      xq[i] = static_cast<int8_t>(rng());
    }
    if (f32) {
      std::memcpy(input.data(), xf.data(), n * 4);
    } else {
      std::memcpy(input.data(), xq.data(), n);
    }
    // Expected: loop over outputs (kept coordinates row-major), then over
    // reduced coordinates row-major.
    size_t out_n = 1;
    for (int d = 0; d < rank; ++d) {
      if (!red[static_cast<size_t>(d)]) out_n *= static_cast<size_t>(shape[static_cast<size_t>(d)]);
    }
    int32_t mult = 0;
    int shift = 0;
    QuantizeMultiplier(static_cast<double>(in_scale) / static_cast<double>(out_scale), &mult,
                       &shift);
    std::vector<uint8_t> want(out_n * (f32 ? 4 : 1));
    for (size_t o = 0; o < out_n; ++o) {
      std::vector<int64_t> coord(static_cast<size_t>(rank), 0);
      size_t rem = o;
      for (int d = rank - 1; d >= 0; --d) {
        if (red[static_cast<size_t>(d)]) continue;
        coord[static_cast<size_t>(d)] =
            static_cast<int64_t>(rem % static_cast<size_t>(shape[static_cast<size_t>(d)]));
        rem /= static_cast<size_t>(shape[static_cast<size_t>(d)]);
      }
      float sf = 0;
      int32_t si = 0;
      for (int64_t k = 0; k < count; ++k) {
        int64_t kr = k;
        for (int d = rank - 1; d >= 0; --d) {
          if (!red[static_cast<size_t>(d)]) continue;
          coord[static_cast<size_t>(d)] = kr % shape[static_cast<size_t>(d)];
          kr /= shape[static_cast<size_t>(d)];
        }
        size_t idx = 0;
        for (int d = 0; d < rank; ++d) {
          idx = idx * static_cast<size_t>(shape[static_cast<size_t>(d)]) +
                static_cast<size_t>(coord[static_cast<size_t>(d)]);
        }
        sf += xf[idx];
        si += xq[idx];
      }
      if (f32) {
        const float v = sf / static_cast<float>(count);
        std::memcpy(&want[o * 4], &v, 4);
      } else {
        const auto c = static_cast<int32_t>(count);
        int32_t acc = MultiplyByQuantizedMultiplier(si - in_zp * c, mult, shift);
        acc = acc > 0 ? (acc + c / 2) / c : (acc - c / 2) / c;
        want[o] = static_cast<uint8_t>(static_cast<int8_t>(std::clamp(acc + out_zp, -128, 127)));
      }
    }
    const tflite::TensorType type = f32 ? tflite::TensorType::FLOAT32 : tflite::TensorType::INT8;
    const QuantParams qi = f32 ? QuantParams{} : QuantParams{{in_scale}, {in_zp}, 0};
    const QuantParams qo = f32 ? QuantParams{} : QuantParams{{out_scale}, {out_zp}, 0};
    ModelBuilder mb;
    const int xi = mb.AddInput("x", type, shape, qi);
    const int ai = mb.AddConstant("axes", tflite::TensorType::INT32,
                                  {static_cast<int32_t>(axes.size())}, axes);
    const int yi = mb.AddTensor("y", type, out_shape, qo);
    mb.AddOperator(tflite::BuiltinOperator::MEAN, {xi, ai}, {yi}, ReducerOpts(keep));
    mb.AddOutput("y", yi);
    auto bytes = mb.Finish();
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto m = Model::FromBytes(*bytes, "mean");
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver());
    ASSERT_TRUE(in.ok()) << in.status().ToString();
    ASSERT_TRUE((*in)->AllocateTensors().ok());
    auto dst = (*in)->mutable_input_data(0);
    ASSERT_TRUE(dst.ok());
    ASSERT_EQ(dst->size(), input.size());
    std::memcpy(dst->data(), input.data(), input.size());
    ASSERT_TRUE((*in)->Invoke().ok());
    const Tensor& out = (*in)->output(0);
    ASSERT_EQ(out.bytes, want.size()) << "case " << t;
    EXPECT_EQ(std::memcmp(out.data, want.data(), want.size()), 0) << "case " << t;
  }
  EXPECT_GT(blocked_cases, 10);
}

}  // namespace
}  // namespace edgepipe::lite
