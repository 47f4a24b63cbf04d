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

}  // namespace
}  // namespace edgepipe::lite
