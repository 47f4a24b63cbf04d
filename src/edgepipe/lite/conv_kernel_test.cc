// CONV_2D through the interpreter (conv.cc, hybrid_conv.cc): one-op models
// with random geometries, padding SAME / VALID, strides, dilations and
// fused activations, against reference loops written here:
//  - float32 with a constant filter and with the filter as a graph input
//    (packed per Eval): within the float contract of ConvFloatReference
//    (fully_connected_float.h: 1e-5 relative to sum |x * w| + |bias|; FMA);
//  - dynamic range (float input, int8 per-channel filter): bit-identical to
//    TFLite's hybrid per-channel reference (input quantized per batch by
//    AsymmetricQuantizeFloats, int32 sum over in-bounds taps of
//    filter * (q - zp), then float(acc) * filter_scale * input_scale + bias).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/lite/conv_float.h"
#include "edgepipe/lite/hybrid_quant.h"
#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/model_builder.h"
#include "edgepipe/lite/op_resolver.h"

namespace edgepipe::lite {
namespace {

using tflite::ActivationFunctionType;
using tflite::TensorType;

constexpr float kInfinity = std::numeric_limits<float>::infinity();

struct Geo {
  ConvGeometry g;
  bool same = false;
  ActivationFunctionType act = ActivationFunctionType::NONE;
  float fmin = -std::numeric_limits<float>::infinity();
  float fmax = std::numeric_limits<float>::infinity();
};

Geo RandomGeo(std::mt19937& rng) {
  auto u = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Geo r;
  ConvGeometry& g = r.g;
  g.batches = u(1, 2);
  g.k_h = u(1, 4);
  g.k_w = u(1, 4);
  g.stride_h = u(1, 2);
  g.stride_w = u(1, 3);
  g.dil_h = u(0, 3) == 0 ? 2 : 1;
  g.dil_w = u(0, 3) == 0 ? 2 : 1;
  r.same = u(0, 1) == 1;
  const int ek_h = (g.k_h - 1) * g.dil_h + 1, ek_w = (g.k_w - 1) * g.dil_w + 1;
  g.in_h = u(ek_h, ek_h + 8);
  g.in_w = u(ek_w, ek_w + 8);
  g.in_c = u(1, 12);
  g.out_c = u(2, 20);
  auto one = [&](int in, int ek, int stride, int* out, int* pad) {
    if (r.same) {
      *out = (in + stride - 1) / stride;
      *pad = std::max(0, ((*out - 1) * stride + ek - in) / 2);
    } else {
      *out = (in - ek + stride) / stride;
      *pad = 0;
    }
  };
  one(g.in_h, ek_h, g.stride_h, &g.out_h, &g.pad_h);
  one(g.in_w, ek_w, g.stride_w, &g.out_w, &g.pad_w);
  switch (u(0, 3)) {
    case 1:
      r.act = ActivationFunctionType::RELU;
      r.fmin = 0;
      break;
    case 2:
      r.act = ActivationFunctionType::RELU6;
      r.fmin = 0;
      r.fmax = 6;
      break;
    case 3:
      r.act = ActivationFunctionType::RELU_N1_TO_1;
      r.fmin = -1;
      r.fmax = 1;
      break;
    default:
      break;
  }
  return r;
}

std::vector<float> RandomFloats(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> d(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Builds the one-op model, runs it on `input` (and `filter_in` as the second
// graph input when not null) and returns the output.
std::vector<float> RunModel(ModelBuilder& b, int x, int y, const Geo& r,
                            const std::vector<float>& input, const std::vector<float>* filter_in) {
  (void)x;
  b.AddOutput("y", y);
  auto bytes = b.Finish();
  EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
  if (!bytes.ok()) return {};
  auto m = Model::FromBytes(*bytes, "conv");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver());
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  if (!in.ok()) return {};
  EXPECT_TRUE((*in)->AllocateTensors().ok());
  const ConvGeometry& g = r.g;
  auto xa = Array::FromVector<float>({g.batches, g.in_h, g.in_w, g.in_c}, input);
  EXPECT_TRUE((*in)->SetInput(0, *xa).ok());
  if (filter_in) {
    auto fa = Array::FromVector<float>({g.out_c, g.k_h, g.k_w, g.in_c}, *filter_in);
    EXPECT_TRUE((*in)->SetInput(1, *fa).ok());
  }
  const Status st = (*in)->Invoke();
  EXPECT_TRUE(st.ok()) << st.ToString();
  const Tensor& out = (*in)->output(0);
  const size_t n = static_cast<size_t>(out.num_elements());
  return std::vector<float>(out.as<float>(), out.as<float>() + n);
}

// Outputs of `got` farther from `want` than the float contract allows;
// `mag` is sum |x * w| per output.
int FloatMisses(const std::vector<float>& want, const std::vector<float>& got,
                const std::vector<float>& mag, const std::vector<float>& bias) {
  if (want.size() != got.size()) return -1;
  int n = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double tol =
        1e-5 * (static_cast<double>(mag[i]) + std::fabs(bias[i % bias.size()])) + 1e-30;
    n += !(std::fabs(static_cast<double>(got[i]) - want[i]) <= tol);
  }
  return n;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

TEST(ConvKernel, FloatWithinToleranceOfReference) {
  std::mt19937 rng(4);
  for (int t = 0; t < 40; ++t) {
    const Geo r = RandomGeo(rng);
    const ConvGeometry& g = r.g;
    const auto input =
        RandomFloats(rng, static_cast<size_t>(g.batches) * g.in_h * g.in_w * g.in_c, -2, 2);
    const auto filter =
        RandomFloats(rng, static_cast<size_t>(g.out_c) * g.k_h * g.k_w * g.in_c, -1, 1);
    const auto bias = RandomFloats(rng, static_cast<size_t>(g.out_c), -1, 1);
    std::vector<float> want(static_cast<size_t>(g.batches) * g.out_h * g.out_w * g.out_c);
    ConvFloatReference(g, input.data(), filter.data(), bias.data(), r.fmin, r.fmax, want.data());
    std::vector<float> mag(want.size()), abs_in(input), abs_w(filter);
    for (float& v : abs_in) v = std::fabs(v);
    for (float& v : abs_w) v = std::fabs(v);
    ConvFloatReference(g, abs_in.data(), abs_w.data(), nullptr, -kInfinity, kInfinity, mag.data());
    for (const bool const_filter : {true, false}) {
      ModelBuilder b;
      const int x = b.AddInput("x", TensorType::FLOAT32, {g.batches, g.in_h, g.in_w, g.in_c});
      const int w =
          const_filter
              ? b.AddConstant("w", TensorType::FLOAT32, {g.out_c, g.k_h, g.k_w, g.in_c}, filter)
              : b.AddInput("w", TensorType::FLOAT32, {g.out_c, g.k_h, g.k_w, g.in_c});
      const int bi = b.AddConstant("b", TensorType::FLOAT32, {g.out_c}, bias);
      const int y = b.AddTensor("y", TensorType::FLOAT32, {g.batches, g.out_h, g.out_w, g.out_c});
      b.AddOperator(tflite::BuiltinOperator::CONV_2D, {x, w, bi}, {y},
                    Conv2DOpts(r.same ? tflite::Padding::SAME : tflite::Padding::VALID, g.stride_w,
                               g.stride_h, r.act, g.dil_w, g.dil_h));
      const auto got = RunModel(b, x, y, r, input, const_filter ? nullptr : &filter);
      EXPECT_EQ(FloatMisses(want, got, mag, bias), 0)
          << "case " << t << " const filter " << const_filter;
    }
  }
}

TEST(ConvKernel, HybridBitIdenticalToReference) {
  std::mt19937 rng(5);
  for (int t = 0; t < 40; ++t) {
    const Geo r = RandomGeo(rng);
    const ConvGeometry& g = r.g;
    const size_t image = static_cast<size_t>(g.in_h) * g.in_w * g.in_c;
    const auto input = RandomFloats(rng, g.batches * image, -1.5f, 2.5f);
    const int depth = g.k_h * g.k_w * g.in_c;
    std::vector<int8_t> filter(static_cast<size_t>(g.out_c) * depth);
    std::uniform_int_distribution<int> q8(-127, 127);
    for (int8_t& v : filter) v = static_cast<int8_t>(q8(rng));
    QuantParams fq;
    fq.scale = RandomFloats(rng, static_cast<size_t>(g.out_c), 1e-3f, 2e-2f);
    fq.zero_point.assign(static_cast<size_t>(g.out_c), 0);
    fq.axis = 0;
    const auto bias = RandomFloats(rng, static_cast<size_t>(g.out_c), -1, 1);
    // The reference.
    std::vector<float> want(static_cast<size_t>(g.batches) * g.out_h * g.out_w * g.out_c);
    std::vector<int8_t> q(input.size());
    for (int bt = 0; bt < g.batches; ++bt) {
      float scale = 0;
      int32_t zp = 0;
      AsymmetricQuantizeFloats(std::span<const float>(input.data() + bt * image, image),
                               std::span<int8_t>(q.data() + bt * image, image), &scale, &zp);
      for (int oy = 0; oy < g.out_h; ++oy) {
        for (int ox = 0; ox < g.out_w; ++ox) {
          for (int oc = 0; oc < g.out_c; ++oc) {
            int32_t acc = 0;
            for (int ky = 0; ky < g.k_h; ++ky) {
              const int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
              if (iy < 0 || iy >= g.in_h) continue;
              for (int kx = 0; kx < g.k_w; ++kx) {
                const int ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
                if (ix < 0 || ix >= g.in_w) continue;
                for (int ic = 0; ic < g.in_c; ++ic) {
                  acc +=
                      filter[((static_cast<size_t>(oc) * g.k_h + ky) * g.k_w + kx) * g.in_c + ic] *
                      (q[bt * image + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c + ic] - zp);
                }
              }
            }
            const float v = static_cast<float>(acc) * fq.scale[oc] * scale + bias[oc];
            want[((static_cast<size_t>(bt) * g.out_h + oy) * g.out_w + ox) * g.out_c + oc] =
                std::clamp(v, r.fmin, r.fmax);
          }
        }
      }
    }
    ModelBuilder b;
    const int x = b.AddInput("x", TensorType::FLOAT32, {g.batches, g.in_h, g.in_w, g.in_c});
    const int w = b.AddConstant("w", TensorType::INT8, {g.out_c, g.k_h, g.k_w, g.in_c}, filter, fq);
    const int bi = b.AddConstant("b", TensorType::FLOAT32, {g.out_c}, bias);
    const int y = b.AddTensor("y", TensorType::FLOAT32, {g.batches, g.out_h, g.out_w, g.out_c});
    b.AddOperator(tflite::BuiltinOperator::CONV_2D, {x, w, bi}, {y},
                  Conv2DOpts(r.same ? tflite::Padding::SAME : tflite::Padding::VALID, g.stride_w,
                             g.stride_h, r.act, g.dil_w, g.dil_h),
                  3);
    const auto got = RunModel(b, x, y, r, input, nullptr);
    EXPECT_TRUE(SameBits(got, want)) << "case " << t;
  }
}

}  // namespace
}  // namespace edgepipe::lite
