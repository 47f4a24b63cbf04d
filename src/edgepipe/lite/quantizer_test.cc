// QuantizeModel in each mode on the MNIST MLP and a small CNN, checked in
// our interpreter against the float model; a tiny model whose quantized
// parameters and outputs are computed by hand; option and model errors.
// (Agreement with LiteRT: quantizer_litert_test.cc.)
#include "edgepipe/lite/quantizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "edgepipe/lite/float16.h"
#include "edgepipe/lite/model.h"
#include "edgepipe/lite/quantizer_testing.h"

// The checks walk FlatBuffers accessors of models that Model has verified;
// GCC's -Wnull-dereference cannot see that the fields exist (the quantizer
// writes every one, and the tests assert where it matters).
#pragma GCC diagnostic ignored "-Wnull-dereference"

namespace edgepipe::lite {
namespace {

using testing::AsFloat;
using testing::BuildCnn;
using testing::BuildMlp;
using testing::RandomDataset;
using testing::RandomFloats;
using testing::RunOurs;
using Mode = QuantizationMode;
using TT = tflite::TensorType;
using Op = tflite::BuiltinOperator;

// The model's tensor named `name` (first match), or -1.
int FindTensor(const Model& m, const std::string& name) {
  const auto* ts = m.subgraph(0).tensors();
  for (flatbuffers::uoffset_t t = 0; t < ts->size(); ++t) {
    if (ts->Get(t)->name() && ts->Get(t)->name()->str() == name) return static_cast<int>(t);
  }
  return -1;
}

std::vector<int32_t> OpCodes(const Model& m) {
  std::vector<int32_t> codes;
  const auto* ops = m.subgraph(0).operators();
  for (flatbuffers::uoffset_t o = 0; ops && o < ops->size(); ++o) {
    codes.push_back(m.OpCode(0, static_cast<int>(o)));
  }
  return codes;
}

int Count(const std::vector<int32_t>& codes, Op op) {
  return static_cast<int>(std::count(codes.begin(), codes.end(), static_cast<int32_t>(op)));
}

struct Diff {
  float max_abs = 0;  // max |quantized - float|
  float ref_max = 0;  // max |float|
  int top1_agree = 0;
  int samples = 0;
};

// Runs the float and the quantized model on `n` random inputs of `shape`
// and compares output `k` (dequantized with `scale`/`zp` for int8/uint8).
Diff Compare(const std::string& float_bytes, const std::string& quant_bytes,
             std::vector<int64_t> shape, int n, int k, float scale = 1, int32_t zp = 0,
             DType in_type = DType::kFloat32, float in_scale = 1, int32_t in_zp = 0) {
  std::mt19937 rng(777);
  Diff d;
  for (int s = 0; s < n; ++s) {
    Array x = RandomFloats(shape, rng);
    auto f = RunOurs(float_bytes, {x});
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    if (!f.ok()) return d;
    Array qx = x;
    if (in_type != DType::kFloat32) {
      qx = *Array::Zeros(in_type, shape);
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        const int32_t v =
            static_cast<int32_t>(std::round(x.data<float>()[static_cast<size_t>(i)] / in_scale)) +
            in_zp;
        if (in_type == DType::kInt8) {
          qx.data<int8_t>()[static_cast<size_t>(i)] = static_cast<int8_t>(std::clamp(v, -128, 127));
        } else {
          qx.data<uint8_t>()[static_cast<size_t>(i)] = static_cast<uint8_t>(std::clamp(v, 0, 255));
        }
      }
    }
    auto q = RunOurs(quant_bytes, {qx});
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    if (!q.ok()) return d;
    const std::vector<float> a = AsFloat((*f)[static_cast<size_t>(k)]);
    const std::vector<float> b = AsFloat((*q)[static_cast<size_t>(k)], scale, zp);
    EXPECT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      d.max_abs = std::max(d.max_abs, std::fabs(a[i] - b[i]));
      d.ref_max = std::max(d.ref_max, std::fabs(a[i]));
    }
    d.top1_agree += std::max_element(a.begin(), a.end()) - a.begin() ==
                    std::max_element(b.begin(), b.end()) - b.begin();
    ++d.samples;
  }
  return d;
}

std::string Quantize(const std::string& bytes, QuantizeOptions o,
                     RepresentativeDataset* data = nullptr) {
  auto q = QuantizeModel(bytes, o, data);
  EXPECT_TRUE(q.ok()) << q.status().ToString();
  return q.ok() ? *q : std::string();
}

TEST(Float16, KnownValues) {
  EXPECT_EQ(FloatToFloat16(1.0f), 0x3C00);
  EXPECT_EQ(FloatToFloat16(-2.0f), 0xC000);
  EXPECT_EQ(FloatToFloat16(65504.0f), 0x7BFF);
  EXPECT_EQ(FloatToFloat16(65520.0f), 0x7C00);                      // rounds to infinity
  EXPECT_EQ(FloatToFloat16(0.1f), 0x2E66);                          // 0.0999755859375
  EXPECT_EQ(FloatToFloat16(std::ldexp(1.0f, -24)), 0x0001);         // smallest subnormal
  EXPECT_EQ(FloatToFloat16(std::ldexp(1.0f, -25)), 0x0000);         // tie to even: 0
  EXPECT_EQ(FloatToFloat16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 ulp: tie to even 2
  EXPECT_EQ(FloatToFloat16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie to even
  EXPECT_EQ(FloatToFloat16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie to even, up
  EXPECT_EQ(Float16ToFloat(0x3555), 0.333251953125f);
  EXPECT_EQ(Float16ToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(Float16ToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_TRUE(std::isinf(Float16ToFloat(0xFC00)));
  EXPECT_TRUE(std::isnan(Float16ToFloat(0x7E00)));
  // Every finite half survives the round trip.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;
    ASSERT_EQ(FloatToFloat16(Float16ToFloat(static_cast<uint16_t>(h))), h) << h;
  }
}

// Tensor `name` of `m`'s quantization and type, for the checks below.
struct TensorInfo {
  TT type = TT::FLOAT32;
  QuantParams quant;
  std::span<const uint8_t> data;
};
TensorInfo Info(const Model& m, const std::string& name) {
  const int t = FindTensor(m, name);
  EXPECT_GE(t, 0) << name;
  if (t < 0) return {};
  return {m.subgraph(0).tensors()->Get(static_cast<flatbuffers::uoffset_t>(t))->type(),
          m.TensorQuant(0, t), m.TensorData(0, t)};
}

std::unique_ptr<Model> Load(const std::string& bytes) {
  auto m = Model::FromBytes(bytes, "quantized");
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : nullptr;
}

// Float model sizes: the MLP is 784*64 + 64*64 + 64*10 weights (~218 KB of
// float32); int8 weights make it ~1/4, float16 ~1/2 (plus the graph).
TEST(Quantizer, MlpDynamicRange) {
  auto f = BuildMlp(1);
  ASSERT_TRUE(f.ok());
  const std::string q = Quantize(*f, {.mode = Mode::kDynamicRange});
  ASSERT_FALSE(q.empty());
  const double ratio = static_cast<double>(q.size()) / static_cast<double>(f->size());
  std::printf("%s: float %zu bytes, quantized %zu bytes (%.3f)\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(), f->size(), q.size(),
              ratio);
  EXPECT_GT(ratio, 0.24);
  EXPECT_LT(ratio, 0.30);
  auto m = Load(q);
  ASSERT_NE(m, nullptr);
  // dense_2/kernel has 640 < 1024 elements: stays float, as in TFLite.
  EXPECT_EQ(Info(*m, "dense_0/kernel").type, TT::INT8);
  EXPECT_EQ(Info(*m, "dense_1/kernel").type, TT::INT8);
  EXPECT_EQ(Info(*m, "dense_2/kernel").type, TT::FLOAT32);
  EXPECT_EQ(Info(*m, "dense_0/kernel").quant.scale.size(), 1u);  // per tensor
  EXPECT_EQ(Info(*m, "dense_0/bias").type, TT::FLOAT32);
  const auto* fc = m->subgraph(0).operators()->Get(0)->builtin_options_as_FullyConnectedOptions();
  ASSERT_NE(fc, nullptr);
  EXPECT_TRUE(fc->asymmetric_quantize_inputs());
  // int8 weights (error <= max|w| / 254 each) and 8-bit input rows (<= range
  // / 510): observed max error ~0.5% of the largest logit; bound 2%.
  const Diff d = Compare(*f, q, {1, 784}, 10, 0);
  EXPECT_LE(d.max_abs, 0.02f * d.ref_max);
  EXPECT_GE(d.top1_agree, 9);
}

TEST(Quantizer, MlpFloat16) {
  auto f = BuildMlp(1);
  ASSERT_TRUE(f.ok());
  const std::string q = Quantize(*f, {.mode = Mode::kFloat16});
  ASSERT_FALSE(q.empty());
  const double ratio = static_cast<double>(q.size()) / static_cast<double>(f->size());
  std::printf("%s: float %zu bytes, quantized %zu bytes (%.3f)\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(), f->size(), q.size(),
              ratio);
  EXPECT_GT(ratio, 0.48);
  EXPECT_LT(ratio, 0.55);
  auto m = Load(q);
  auto fm = Load(*f);
  ASSERT_NE(m, nullptr);
  ASSERT_NE(fm, nullptr);
  EXPECT_EQ(Count(OpCodes(*m), Op::DEQUANTIZE), 6);  // 3 kernels + 3 biases
  // The fp16 constant is the float weight rounded to nearest even.
  const TensorInfo h = Info(*m, "dense_0/kernel_fp16");
  const TensorInfo w = Info(*fm, "dense_0/kernel");
  ASSERT_EQ(h.type, TT::FLOAT16);
  ASSERT_EQ(h.data.size() * 2, w.data.size());
  for (size_t i = 0; i < h.data.size() / 2; ++i) {
    float x;
    uint16_t y;
    std::memcpy(&x, w.data.data() + 4 * i, 4);
    std::memcpy(&y, h.data.data() + 2 * i, 2);
    ASSERT_EQ(y, FloatToFloat16(x)) << i;
  }
  // Weights keep 11 significant bits (relative error <= 2^-11 ~ 4.9e-4);
  // errors of random sign mostly cancel: observed 2e-4 of the largest
  // logit; bound 1e-3.
  const Diff d = Compare(*f, q, {1, 784}, 10, 0);
  EXPECT_LE(d.max_abs, 1e-3f * d.ref_max);
  EXPECT_EQ(d.top1_agree, 10);
}

TEST(Quantizer, MlpFullInteger) {
  auto f = BuildMlp(1);
  ASSERT_TRUE(f.ok());
  auto data = RandomDataset("image_floats", {1, 784}, 20, 5);
  const std::string q = Quantize(*f, {.mode = Mode::kFullInteger}, &data);
  ASSERT_FALSE(q.empty());
  const double ratio = static_cast<double>(q.size()) / static_cast<double>(f->size());
  std::printf("%s: float %zu bytes, quantized %zu bytes (%.3f)\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(), f->size(), q.size(),
              ratio);
  EXPECT_GT(ratio, 0.24);
  EXPECT_LT(ratio, 0.30);
  auto m = Load(q);
  ASSERT_NE(m, nullptr);
  const std::vector<int32_t> codes = OpCodes(*m);
  ASSERT_EQ(codes.size(), 5u);
  EXPECT_EQ(codes.front(), static_cast<int32_t>(Op::QUANTIZE));
  EXPECT_EQ(codes.back(), static_cast<int32_t>(Op::DEQUANTIZE));
  EXPECT_EQ(Count(codes, Op::FULLY_CONNECTED), 3);
  // Bias scale = input scale * weight scale (per-tensor weights).
  const char* inputs[] = {"serving_default_image_floats:0_int8", "dense_0/out", "dense_1/out"};
  for (int l = 0; l < 3; ++l) {
    const std::string name = "dense_" + std::to_string(l);
    const TensorInfo w = Info(*m, name + "/kernel");
    const TensorInfo b = Info(*m, name + "/bias");
    const TensorInfo x = Info(*m, inputs[l]);
    EXPECT_EQ(w.type, TT::INT8);
    ASSERT_EQ(w.quant.scale.size(), 1u);
    EXPECT_EQ(w.quant.zero_point[0], 0);
    EXPECT_EQ(b.type, TT::INT32);
    ASSERT_EQ(x.type, TT::INT8) << inputs[l];
    ASSERT_EQ(b.quant.scale.size(), 1u);
    EXPECT_EQ(b.quant.scale[0], x.quant.scale[0] * w.quant.scale[0]) << name;
  }
  // Activations get 8 bits over their calibrated range on top of the int8
  // weights: observed ~1% of the largest logit; bound 5%. (Top-1 of an
  // untrained net's near-tied logits is not a quality measure; 8 of 10.)
  const Diff d = Compare(*f, q, {1, 784}, 10, 0);
  EXPECT_LE(d.max_abs, 0.05f * d.ref_max);
  EXPECT_GE(d.top1_agree, 8);
}

TEST(Quantizer, CnnDynamicRangeAndFloat16) {
  auto f = BuildCnn(2);
  ASSERT_TRUE(f.ok());
  {
    // Default threshold: only the FC kernel (5120 elements) is big enough.
    auto m = Load(Quantize(*f, {.mode = Mode::kDynamicRange}));
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(Info(*m, "conv/kernel").type, TT::FLOAT32);
    EXPECT_EQ(Info(*m, "dw/kernel").type, TT::FLOAT32);
    EXPECT_EQ(Info(*m, "fc/kernel").type, TT::INT8);
  }
  const std::string q = Quantize(*f, {.mode = Mode::kDynamicRange, .min_weight_elements = 100});
  auto m = Load(q);
  ASSERT_NE(m, nullptr);
  const TensorInfo conv = Info(*m, "conv/kernel");
  const TensorInfo dw = Info(*m, "dw/kernel");
  EXPECT_EQ(conv.type, TT::INT8);
  EXPECT_EQ(conv.quant.scale.size(), 16u);
  EXPECT_EQ(conv.quant.axis, 0);
  EXPECT_EQ(dw.type, TT::INT8);
  EXPECT_EQ(dw.quant.scale.size(), 16u);
  EXPECT_EQ(dw.quant.axis, 3);
  // Observed ~1% of the largest logit and 1e-3 on the probabilities.
  Diff d = Compare(*f, q, {1, 8, 8, 4}, 10, 0);
  EXPECT_LE(d.max_abs, 0.03f * d.ref_max);
  d = Compare(*f, q, {1, 8, 8, 4}, 10, 1);
  EXPECT_LE(d.max_abs, 0.01f);

  const std::string h = Quantize(*f, {.mode = Mode::kFloat16});
  d = Compare(*f, h, {1, 8, 8, 4}, 10, 0);
  EXPECT_LE(d.max_abs, 1e-3f * d.ref_max);
  EXPECT_EQ(d.top1_agree, 10);
}

TEST(Quantizer, CnnFullInteger) {
  auto f = BuildCnn(2);
  ASSERT_TRUE(f.ok());
  auto data = RandomDataset("image", {1, 8, 8, 4}, 20, 5);
  const std::string q = Quantize(*f, {.mode = Mode::kFullInteger}, &data);
  auto m = Load(q);
  ASSERT_NE(m, nullptr);
  const auto same = [](const QuantParams& a, const QuantParams& b) {
    return a.scale == b.scale && a.zero_point == b.zero_point;
  };
  const TensorInfo probs = Info(*m, "probs_int8");
  ASSERT_EQ(probs.type, TT::INT8);
  EXPECT_EQ(probs.quant.scale[0], 1.0f / 256.0f);
  EXPECT_EQ(probs.quant.zero_point[0], -128);
  EXPECT_TRUE(same(Info(*m, "max_pool").quant, Info(*m, "dw/out").quant));
  EXPECT_TRUE(same(Info(*m, "avg_pool").quant, Info(*m, "conv/out").quant));
  EXPECT_TRUE(same(Info(*m, "flatten").quant, Info(*m, "concat").quant));
  // The concatenation reads both inputs at its own params: the add output
  // and max_pool are requantized by inserted QUANTIZE ops when they differ.
  const auto* ops = m->subgraph(0).operators();
  for (flatbuffers::uoffset_t o = 0; o < ops->size(); ++o) {
    if (m->OpCode(0, static_cast<int>(o)) != static_cast<int32_t>(Op::CONCATENATION)) continue;
    const int out = ops->Get(o)->outputs()->Get(0);
    for (int32_t in : *ops->Get(o)->inputs()) {
      EXPECT_TRUE(same(m->TensorQuant(0, in), m->TensorQuant(0, out)));
    }
  }
  EXPECT_GE(Count(OpCodes(*m), Op::QUANTIZE), 2);  // graph input + requantization
  const TensorInfo conv = Info(*m, "conv/kernel");
  EXPECT_EQ(conv.quant.scale.size(), 16u);
  const TensorInfo bias = Info(*m, "conv/bias");
  const TensorInfo x = Info(*m, "serving_default_image:0_int8");
  ASSERT_EQ(bias.quant.scale.size(), 16u);
  for (size_t c = 0; c < 16; ++c) {
    EXPECT_EQ(bias.quant.scale[c], x.quant.scale[0] * conv.quant.scale[c]);
  }
  // Observed ~1% of the largest logit, 3e-3 on probabilities (1/256 steps).
  Diff d = Compare(*f, q, {1, 8, 8, 4}, 10, 0);
  EXPECT_LE(d.max_abs, 0.05f * d.ref_max);
  d = Compare(*f, q, {1, 8, 8, 4}, 10, 1);
  EXPECT_LE(d.max_abs, 0.02f);
}

// int8 and uint8 I/O are the float-I/O model without its edge ops: fed the
// input the float model's QUANTIZE would make, they give exactly its int8
// results (uint8: shifted by 128).
TEST(Quantizer, IntegerIoMatchesFloatIo) {
  auto f = BuildCnn(3);
  ASSERT_TRUE(f.ok());
  const auto quantize = [&](InferenceType t) {
    auto data = RandomDataset("image", {1, 8, 8, 4}, 8, 9);
    return Quantize(
        *f, {.mode = Mode::kFullInteger, .inference_input_type = t, .inference_output_type = t},
        &data);
  };
  const std::string qf = quantize(InferenceType::kFloat32);
  const std::string q8 = quantize(InferenceType::kInt8);
  const std::string qu = quantize(InferenceType::kUInt8);
  auto m8 = Load(q8);
  auto mu = Load(qu);
  ASSERT_NE(m8, nullptr);
  ASSERT_NE(mu, nullptr);
  const TensorInfo in8 = Info(*m8, "serving_default_image:0");
  const TensorInfo inu = Info(*mu, "serving_default_image:0");
  ASSERT_EQ(in8.type, TT::INT8);
  ASSERT_EQ(inu.type, TT::UINT8);
  EXPECT_EQ(inu.quant.scale, in8.quant.scale);
  EXPECT_EQ(inu.quant.zero_point[0], in8.quant.zero_point[0] + 128);
  const TensorInfo out8 = Info(*m8, "logits");
  const TensorInfo outu = Info(*mu, "logits");
  ASSERT_EQ(out8.type, TT::INT8);
  ASSERT_EQ(outu.type, TT::UINT8);
  EXPECT_EQ(outu.quant.zero_point[0], out8.quant.zero_point[0] + 128);

  std::mt19937 rng(4);
  for (int s = 0; s < 3; ++s) {
    Array x = RandomFloats({1, 8, 8, 4}, rng);
    Array x8 = *Array::Zeros(DType::kInt8, {1, 8, 8, 4});
    Array xu = *Array::Zeros(DType::kUInt8, {1, 8, 8, 4});
    for (size_t i = 0; i < 256; ++i) {
      const int32_t v =
          std::clamp(static_cast<int32_t>(std::round(x.data<float>()[i] / in8.quant.scale[0])) +
                         in8.quant.zero_point[0],
                     -128, 127);
      x8.data<int8_t>()[i] = static_cast<int8_t>(v);
      xu.data<uint8_t>()[i] = static_cast<uint8_t>(v + 128);
    }
    auto rf = RunOurs(qf, {x});
    auto r8 = RunOurs(q8, {x8});
    auto ru = RunOurs(qu, {xu});
    ASSERT_TRUE(rf.ok() && r8.ok() && ru.ok());
    for (int k = 0; k < 2; ++k) {
      const Array& of = (*rf)[static_cast<size_t>(k)];
      const Array& o8 = (*r8)[static_cast<size_t>(k)];
      const Array& ou = (*ru)[static_cast<size_t>(k)];
      const QuantParams& oq = k == 0 ? out8.quant : Info(*m8, "probs").quant;
      for (int64_t i = 0; i < of.num_elements(); ++i) {
        const int8_t v = o8.data<int8_t>()[static_cast<size_t>(i)];
        EXPECT_EQ(of.data<float>()[static_cast<size_t>(i)],
                  oq.scale[0] * static_cast<float>(v - oq.zero_point[0]));
        EXPECT_EQ(ou.data<uint8_t>()[static_cast<size_t>(i)], v + 128);
      }
    }
  }
}

// Hybrid FULLY_CONNECTED worked by hand. W = [[0.5, -1, 0.25, 1], [-0.25,
// 0.5, 1, 0]]: max|W| = 1, scale 1/127, q = round(127 w) = [[64, -127, 32,
// 127], [-32, 64, 127, 0]] (63.5 and 31.75 round away from zero).
// x = [1, -0.5, 0.3, 0]: range [-0.5, 1], scale 1.5/255, zero point
// -128 + 0.5 / (1.5/255) = -43, q = -43 + 170 x = [127, -128, 8, -43].
// Row sums of q(W): 96 and 159.
// acc0 = 64*127 + 127*128 + 32*8 - 127*43 + 43*96 = 23307
// acc1 = -32*127 - 64*128 + 127*8 + 43*159 = -4403
// out = bias + acc * (1.5/255 * 1/127)  (float: 1.179528, -0.403937;
// the float model gives 1.175 and -0.4).
TEST(Quantizer, HandComputedHybridFullyConnected) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 4});
  int w = b.AddConstant("w", TT::FLOAT32, {2, 4},
                        std::vector<float>{0.5f, -1.0f, 0.25f, 1.0f, -0.25f, 0.5f, 1.0f, 0.0f});
  int bias = b.AddConstant("b", TT::FLOAT32, {2}, std::vector<float>{0.1f, -0.2f});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 2});
  b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y}, FullyConnectedOpts());
  b.AddOutput("y", y);
  auto f = b.Finish();
  ASSERT_TRUE(f.ok());
  const std::string q = Quantize(*f, {.mode = Mode::kDynamicRange, .min_weight_elements = 1});
  auto m = Load(q);
  ASSERT_NE(m, nullptr);
  const TensorInfo wi = Info(*m, "w");
  ASSERT_EQ(wi.type, TT::INT8);
  EXPECT_EQ(wi.quant.scale[0], 1.0f / 127.0f);
  const std::vector<int8_t> want = {64, -127, 32, 127, -32, 64, 127, 0};
  ASSERT_EQ(wi.data.size(), want.size());
  EXPECT_EQ(std::memcmp(wi.data.data(), want.data(), want.size()), 0);
  auto out =
      RunOurs(q, {*Array::FromVector<float>({1, 4}, std::vector<float>{1.0f, -0.5f, 0.3f, 0.0f})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float s = 1.5f / 255.0f * (1.0f / 127.0f);
  EXPECT_NEAR((*out)[0].data<float>()[0], 0.1f + 23307.0f * s, 1e-6);
  EXPECT_NEAR((*out)[0].data<float>()[1], -0.2f - 4403.0f * s, 1e-6);
}

// TFLite's reference hybrid kernel with asymmetric_quantize_inputs off
// (kReference; LiteRT quantizes asymmetrically regardless): x = [1, -0.5,
// 0.3, 0] symmetric, scale 1/127, q = round(127 x) = [127, -64, 38, 0]
// (-63.5 rounds away from zero). Same q(W) as above:
// acc0 = 64*127 + 127*64 + 32*38 = 17472, acc1 = -32*127 - 64*64 + 127*38
// = -3334; out = bias + acc / 127^2.
TEST(Quantizer, HandComputedHybridFullyConnectedSymmetric) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 4});
  int w =
      b.AddConstant("w", TT::INT8, {2, 4}, std::vector<int8_t>{64, -127, 32, 127, -32, 64, 127, 0},
                    QuantParams{{1.0f / 127.0f}, {0}, 0});
  int bias = b.AddConstant("b", TT::FLOAT32, {2}, std::vector<float>{0.1f, -0.2f});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 2});
  b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y}, FullyConnectedOpts());
  b.AddOutput("y", y);
  auto f = b.Finish();
  ASSERT_TRUE(f.ok());
  auto out =
      RunOurs(*f, {*Array::FromVector<float>({1, 4}, std::vector<float>{1.0f, -0.5f, 0.3f, 0.0f})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const float s = (1.0f / 127.0f) * (1.0f / 127.0f);
  EXPECT_NEAR((*out)[0].data<float>()[0], 0.1f + 17472.0f * s, 1e-6);
  EXPECT_NEAR((*out)[0].data<float>()[1], -0.2f - 3334.0f * s, 1e-6);
}

// Full integer worked by hand. Calibration x in {[-1, 0.9921875], [0.5,
// 0.25]}: range [-1, 255/128 - 1], scale exactly 1/128, zero point 0.
// W = [[1, -0.25]] -> scale 1/127, q = [127, -32]; bias 0.125 ->
// round(0.125 * 128 * 127) = 2032. Outputs y = x0 - x1/4 + 1/8 over the
// samples: -1.123046875 and 0.5625 -> scale 1.685546875/255, zero point
// round(-128 + 1.123046875 * 255 / 1.685546875) = round(41.90) = 42.
// Inference on x = [0.25, 0.5] (int8 [32, 64]): acc = 127*32 - 32*64 +
// 2032 = 4048; multiplier (1/128 * 1/127) / (1.685546875/255) = 0.0093065;
// 4048 * 0.0093065 = 37.67 -> 38, + 42 = 80 (float model: 0.25, which the
// output params map to 79.8).
TEST(Quantizer, HandComputedFullInteger) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 2});
  int w = b.AddConstant("w", TT::FLOAT32, {1, 2}, std::vector<float>{1.0f, -0.25f});
  int bias = b.AddConstant("b", TT::FLOAT32, {1}, std::vector<float>{0.125f});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 1});
  b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y}, FullyConnectedOpts());
  b.AddOutput("y", y);
  auto f = b.Finish();
  ASSERT_TRUE(f.ok());
  std::vector<std::vector<float>> samples = {{-1.0f, 0.9921875f}, {0.5f, 0.25f}};
  size_t next = 0;
  RepresentativeDataset data = [&](std::map<std::string, Array>* in) -> Result<bool> {
    if (next == samples.size()) return false;
    (*in)["x"] = *Array::FromVector<float>({1, 2}, samples[next++]);
    return true;
  };
  const std::string q = Quantize(*f,
                                 {.mode = Mode::kFullInteger,
                                  .inference_input_type = InferenceType::kInt8,
                                  .inference_output_type = InferenceType::kInt8},
                                 &data);
  auto m = Load(q);
  ASSERT_NE(m, nullptr);
  const TensorInfo xi = Info(*m, "serving_default_x:0");
  ASSERT_EQ(xi.type, TT::INT8);
  EXPECT_EQ(xi.quant.scale[0], 1.0f / 128.0f);
  EXPECT_EQ(xi.quant.zero_point[0], 0);
  const TensorInfo wi = Info(*m, "w");
  EXPECT_EQ(static_cast<int8_t>(wi.data[0]), 127);
  EXPECT_EQ(static_cast<int8_t>(wi.data[1]), -32);
  const TensorInfo bi = Info(*m, "b");
  ASSERT_EQ(bi.type, TT::INT32);
  int32_t qb;
  std::memcpy(&qb, bi.data.data(), 4);
  EXPECT_EQ(qb, 2032);
  const TensorInfo yi = Info(*m, "y");
  EXPECT_NEAR(yi.quant.scale[0], 1.685546875 / 255, 1e-9);
  EXPECT_EQ(yi.quant.zero_point[0], 42);
  auto out = RunOurs(q, {*Array::FromVector<int8_t>({1, 2}, std::vector<int8_t>{32, 64})});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)[0].data<int8_t>()[0], 80);
}

TEST(Quantizer, Errors) {
  auto f = BuildMlp(1);
  ASSERT_TRUE(f.ok());
  // Full integer without a dataset.
  auto r = QuantizeModel(*f, {.mode = Mode::kFullInteger}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("representative dataset"), std::string::npos);
  RepresentativeDataset empty_fn;
  EXPECT_FALSE(QuantizeModel(*f, {.mode = Mode::kFullInteger}, &empty_fn).ok());
  RepresentativeDataset no_samples = [](std::map<std::string, Array>*) -> Result<bool> {
    return false;
  };
  r = QuantizeModel(*f, {.mode = Mode::kFullInteger}, &no_samples);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no samples"), std::string::npos);
  // A sample that names the wrong input.
  auto wrong = RandomDataset("pixels", {1, 784}, 2, 1);
  r = QuantizeModel(*f, {.mode = Mode::kFullInteger}, &wrong);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image_floats"), std::string::npos) << r.status().message();
  // Integer I/O needs full integer.
  r = QuantizeModel(*f, {.mode = Mode::kDynamicRange, .inference_input_type = InferenceType::kInt8},
                    nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("inference_input_type int8"), std::string::npos);
  EXPECT_NE(r.status().message().find("dynamic_range"), std::string::npos);
  r = QuantizeModel(*f, {.mode = Mode::kFloat16, .inference_output_type = InferenceType::kUInt8},
                    nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("inference_output_type uint8"), std::string::npos);
  // An already quantized model.
  auto data = RandomDataset("image_floats", {1, 784}, 2, 1);
  const std::string q = Quantize(*f, {.mode = Mode::kFullInteger}, &data);
  r = QuantizeModel(q, {.mode = Mode::kDynamicRange}, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("takes float models"), std::string::npos);
  // kNone returns the file unchanged.
  r = QuantizeModel(*f, {}, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, *f);
}

TEST(Quantizer, UnsupportedOpForFullIntegerNamesIt) {
  ModelBuilder b;
  int x = b.AddInput("x", TT::FLOAT32, {1, 4});
  int y = b.AddTensor("y", TT::FLOAT32, {1, 4});
  int z = b.AddTensor("z", TT::FLOAT32, {1, 4});
  b.AddOperator(Op::RELU, {x}, {y});
  b.AddOperator(Op::EXP, {y}, {z});
  b.AddOutput("z", z);
  auto f = b.Finish();
  ASSERT_TRUE(f.ok());
  auto data = RandomDataset("x", {1, 4}, 2, 1);
  auto r = QuantizeModel(*f, {.mode = Mode::kFullInteger}, &data);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(r.status().message().find("operator 1 (EXP)"), std::string::npos)
      << r.status().message();
  // Weight-only modes pass ops they do not touch through.
  EXPECT_TRUE(QuantizeModel(*f, {.mode = Mode::kFloat16}, nullptr).ok());
}

}  // namespace
}  // namespace edgepipe::lite
