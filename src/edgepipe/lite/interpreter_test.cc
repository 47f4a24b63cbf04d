#include "edgepipe/lite/interpreter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "edgepipe/lite/quant_math.h"

namespace edgepipe::lite {
namespace {

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

std::unique_ptr<Interpreter> Make(const std::string& file) {
  auto m = Model::Load(Fixture(file));
  EXPECT_TRUE(m.ok()) << m.status();
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), BuiltinOpResolver());
  EXPECT_TRUE(in.ok()) << in.status();
  return std::move(*in);
}

// hello_world float computed by hand from the weights in the file: three
// FULLY_CONNECTED layers with their fused activations. Independent of the
// kernels and of the LiteRT harness.
TEST(InterpreterTest, HelloWorldFloatMatchesHandComputation) {
  auto m2 = Model::Load(Fixture("hello_world_float.tflite"));
  ASSERT_TRUE(m2.ok());
  std::shared_ptr<const Model> shared(std::move(*m2));
  auto interp = Interpreter::Create(shared, BuiltinOpResolver());
  ASSERT_TRUE(interp.ok());
  ASSERT_TRUE((*interp)->AllocateTensors().ok());
  const tflite::SubGraph& g = shared->subgraph(0);
  const auto* fb_ops = g.operators();
  const auto* fb_tensors = g.tensors();
  ASSERT_NE(fb_ops, nullptr);
  ASSERT_NE(fb_tensors, nullptr);
  for (float x : {-2.5f, 0.0f, 0.7f, 1.5f, 3.1f}) {
    std::vector<float> act = {x};
    for (uint32_t o = 0; o < fb_ops->size(); ++o) {
      const tflite::Operator& op = *fb_ops->Get(o);
      const auto* op_inputs = op.inputs();
      const auto* fc_opts = op.builtin_options_as_FullyConnectedOptions();
      ASSERT_NE(op_inputs, nullptr);
      ASSERT_NE(fc_opts, nullptr);
      ASSERT_EQ(shared->OpCode(0, static_cast<int>(o)),
                static_cast<int32_t>(tflite::BuiltinOperator::FULLY_CONNECTED));
      const int w = op_inputs->Get(1);
      const int b = op_inputs->Get(2);
      const auto* wshape = fb_tensors->Get(static_cast<uint32_t>(w))->shape();
      ASSERT_NE(wshape, nullptr);
      const int units = wshape->Get(0);
      const int depth = wshape->Get(1);
      ASSERT_EQ(depth, static_cast<int>(act.size()));
      const auto* wd = reinterpret_cast<const float*>(shared->TensorData(0, w).data());
      const auto* bd = reinterpret_cast<const float*>(shared->TensorData(0, b).data());
      std::vector<float> next(static_cast<size_t>(units));
      for (int u = 0; u < units; ++u) {
        double acc = bd[u];
        for (int d = 0; d < depth; ++d)
          acc += static_cast<double>(wd[u * depth + d]) * act[static_cast<size_t>(d)];
        if (fc_opts->fused_activation_function() == tflite::ActivationFunctionType::RELU) {
          acc = std::max(acc, 0.0);
        }
        next[static_cast<size_t>(u)] = static_cast<float>(acc);
      }
      act = next;
    }
    ASSERT_EQ(act.size(), 1u);
    auto span = (*interp)->mutable_input_data(0);
    ASSERT_TRUE(span.ok());
    std::memcpy(span->data(), &x, sizeof x);
    ASSERT_TRUE((*interp)->Invoke().ok());
    const float ours = (*interp)->output(0).as<float>()[0];
    EXPECT_NEAR(ours, act[0], 1e-5 * std::max(1.0f, std::fabs(act[0]))) << "x=" << x;
    // The model approximates sin(x) on [0, 2 pi].
    if (x > 0 && x < 6.28f) {
      EXPECT_NEAR(ours, std::sin(x), 0.2) << "x=" << x;
    }
  }
}

TEST(InterpreterTest, LifecycleMisuseIsFailedPrecondition) {
  auto in = Make("hello_world_int8.tflite");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->state(), Interpreter::State::kCreated);
  EXPECT_EQ(in->Invoke().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(in->mutable_input_data(0).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(in->AllocateTensors().ok());
  EXPECT_EQ(in->state(), Interpreter::State::kAllocated);
  EXPECT_EQ(in->Invoke().code(), StatusCode::kFailedPrecondition);  // input not set
  ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({1, 1}, std::vector<int8_t>{3})).ok());
  EXPECT_EQ(in->state(), Interpreter::State::kInvokable);
  EXPECT_TRUE(in->Invoke().ok());
  // Wrong dtype or shape is refused.
  EXPECT_FALSE(in->SetInput(0, *Array::FromVector<float>({1, 1}, std::vector<float>{3})).ok());
  ASSERT_TRUE(in->ResizeInput(0, {4, 1}).ok());
  EXPECT_EQ(in->state(), Interpreter::State::kCreated);
  EXPECT_EQ(in->Invoke().code(), StatusCode::kFailedPrecondition);
}

TEST(InterpreterTest, ResizeBatchReplansAndKeepsPerRowResults) {
  auto in = Make("hello_world_int8.tflite");
  ASSERT_TRUE(in->AllocateTensors().ok());
  const size_t arena1 = in->arena_bytes();
  std::vector<int8_t> xs = {-128, -50, 0, 90};
  std::vector<int8_t> single;
  for (int8_t x : xs) {
    ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({1, 1}, std::vector<int8_t>{x})).ok());
    ASSERT_TRUE(in->Invoke().ok());
    single.push_back(in->output(0).as<int8_t>()[0]);
  }
  ASSERT_TRUE(in->ResizeInput(0, {4, 1}).ok());
  ASSERT_TRUE(in->AllocateTensors().ok());
  EXPECT_GE(in->arena_bytes(), arena1);  // 64-byte aligned: tiny tensors may still fit
  ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({4, 1}, xs)).ok());
  ASSERT_TRUE(in->Invoke().ok());
  ASSERT_EQ(in->output(0).shape, (std::vector<int32_t>{4, 1}));
  for (size_t i = 0; i < xs.size(); ++i) EXPECT_EQ(in->output(0).as<int8_t>()[i], single[i]);
}

// Large batch, then a smaller one, then the large one again: the arena block
// is allocated once (same address, capacity of the largest plan) and every
// row's result matches the single-example run.
TEST(InterpreterTest, SmallerBatchReusesTheArena) {
  auto in = Make("hello_world_int8.tflite");
  std::vector<int8_t> single;
  ASSERT_TRUE(in->AllocateTensors().ok());
  for (int x = -128; x < 128; x += 3) {
    ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>(
                                    {1, 1}, std::vector<int8_t>{static_cast<int8_t>(x)}))
                    .ok());
    ASSERT_TRUE(in->Invoke().ok());
    single.push_back(in->output(0).as<int8_t>()[0]);
  }
  const auto run = [&](int32_t n) {
    ASSERT_TRUE(in->ResizeInput(0, {n, 1}).ok());
    ASSERT_TRUE(in->AllocateTensors().ok());
    std::vector<int8_t> xs;
    for (int i = 0; i < n; ++i) xs.push_back(static_cast<int8_t>(-128 + 3 * i));
    ASSERT_TRUE(in->SetInput(0, *Array::FromVector<int8_t>({n, 1}, xs)).ok());
    ASSERT_TRUE(in->Invoke().ok());
    ASSERT_EQ(in->output(0).shape, (std::vector<int32_t>{n, 1}));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(in->output(0).as<int8_t>()[i], single[static_cast<size_t>(i)]) << "n " << n;
    }
  };
  // The arena's start: the planner puts the largest buffer at offset 0.
  const auto arena_start = [&] {
    const uint8_t* lo = nullptr;
    for (const Tensor& t : in->tensors()) {
      if (!t.is_const && t.data != nullptr && (lo == nullptr || t.data < lo)) lo = t.data;
    }
    return lo;
  };
  run(80);
  const uint8_t* block = arena_start();
  const size_t big = in->arena_bytes();
  const size_t capacity = in->arena_capacity();
  EXPECT_GE(capacity, big);
  run(5);
  EXPECT_LT(in->arena_bytes(), big);
  EXPECT_EQ(in->arena_capacity(), capacity);
  EXPECT_EQ(arena_start(), block);
  run(80);
  EXPECT_EQ(in->arena_capacity(), capacity);
  EXPECT_EQ(arena_start(), block);
  run(85);  // larger: grows
  EXPECT_GE(in->arena_capacity(), in->arena_bytes());
}

TEST(InterpreterTest, ArenaSharesMemoryBetweenDisjointLifetimes) {
  auto in = Make("mobilenet_v2_quantized_1x3x224x224.tflite");
  ASSERT_TRUE(in->AllocateTensors().ok());
  EXPECT_LT(in->arena_bytes() * 4, in->unshared_bytes());
}

TEST(InterpreterTest, UnknownOpNamesOpAndIndex) {
  OpResolver partial;
  partial.Add(tflite::BuiltinOperator::RESHAPE, RegisterReshape());
  auto m = Model::Load(Fixture("micro_speech_quantized.tflite"));
  ASSERT_TRUE(m.ok());
  auto in = Interpreter::Create(std::shared_ptr<const Model>(std::move(*m)), partial);
  ASSERT_FALSE(in.ok());
  EXPECT_EQ(in.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(in.status().message().find("operator 1 is DEPTHWISE_CONV_2D"), std::string::npos)
      << in.status();
}

// Known values of the fixed-point helpers (computed from their definitions).
TEST(QuantMathTest, KnownValues) {
  int32_t q = 0;
  int shift = 0;
  QuantizeMultiplier(0.5, &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 0);
  QuantizeMultiplier(1.0, &q, &shift);
  EXPECT_EQ(q, 1 << 30);
  EXPECT_EQ(shift, 1);
  EXPECT_EQ(RoundingDivideByPOT(5, 1), 3);    // 2.5 -> 3
  EXPECT_EQ(RoundingDivideByPOT(-5, 1), -3);  // -2.5 -> -3
  EXPECT_EQ(RoundingDivideByPOT(-4, 1), -2);
  EXPECT_EQ(SaturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
  EXPECT_EQ(MultiplyByQuantizedMultiplier(100, 1 << 30, 0), 50);
  // exp(0) = 1; exp(-1) in Q0.31 from a Q5.26 input.
  EXPECT_EQ(ExpOnNegativeValues(0, 5), INT32_MAX);
  EXPECT_NEAR(ExpOnNegativeValues(-(1 << 26), 5) / 2147483648.0, std::exp(-1.0), 1e-6);
  EXPECT_NEAR(ExpOnNegativeValues(-(5 << 26) / 2, 5) / 2147483648.0, std::exp(-2.5), 1e-6);
  // 1 / (1 + x) for x = 0.5.
  EXPECT_NEAR(OneOverOnePlusX(1 << 30) / 2147483648.0, 1 / 1.5, 1e-6);
  // The exp(-2^k) constants of the barrel shifter are round(exp(-2^k) * 2^31).
  for (int k = -2; k <= 4; ++k) {
    const int32_t a = -static_cast<int32_t>(std::ldexp(1.0, 26 + k));
    EXPECT_NEAR(ExpOnNegativeValues(a, 5) / 2147483648.0, std::exp(-std::ldexp(1.0, k)), 1e-6) << k;
  }
}

}  // namespace
}  // namespace edgepipe::lite
