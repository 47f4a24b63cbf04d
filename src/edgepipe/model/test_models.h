// Small models and helpers shared by model/ tests (header-only; not part of
// the library API).
#ifndef EDGEPIPE_MODEL_TEST_MODELS_H_
#define EDGEPIPE_MODEL_TEST_MODELS_H_

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/autodiff.h"
#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::model::testing {

namespace L = nn::layers;

// The guide's MNIST MLP shape: image_floats [784] -> 64 relu -> dropout ->
// 64 relu -> dropout -> 10 logits.
inline nn::Sequential MakeMlp(uint64_t seed = 1) {
  nn::Sequential m("mnist_mlp", seed);
  EXPECT_TRUE(m.Add(L::InputLayer({784}, "image_floats")).ok());
  EXPECT_TRUE(m.Add(L::Dense(64, {.activation = "relu"})).ok());
  EXPECT_TRUE(m.Add(L::Dropout(0.2f)).ok());
  EXPECT_TRUE(m.Add(L::Dense(64, {.activation = "relu"})).ok());
  EXPECT_TRUE(m.Add(L::Dropout(0.2f)).ok());
  EXPECT_TRUE(m.Add(L::Dense(10)).ok());
  return m;
}

// Two named inputs "a" [8] and "b" [4]; a skip connection (a + Dense(a)),
// batch normalisation, a concatenation with b, and two outputs.
inline nn::Model MakeTwoInputModel(uint64_t seed = 2) {
  auto a = nn::Input({8}, "a");
  auto b = nn::Input({4}, "b");
  EXPECT_TRUE(a.ok() && b.ok());
  auto h = nn::Apply(L::Dense(8, {.activation = "tanh", .name = "hidden"}), {*a});
  EXPECT_TRUE(h.ok());
  auto s = nn::Apply(L::AddLayer("skip"), {*a, *h});
  EXPECT_TRUE(s.ok());
  auto bn = nn::Apply(L::BatchNormalization({.momentum = 0.9f}), {*s});
  EXPECT_TRUE(bn.ok());
  auto c = nn::Apply(L::Concatenate(-1), {*bn, *b});
  EXPECT_TRUE(c.ok());
  auto logits = nn::Apply(L::Dense(3, {.name = "logits"}), {*c});
  EXPECT_TRUE(logits.ok());
  auto probs = nn::Apply(L::Softmax("probs"), {*logits});
  EXPECT_TRUE(probs.ok());
  auto m = nn::Model::Create({*a, *b}, {*logits, *probs}, "two_inputs", seed);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(m).value();
}

// A float32 [n, dims...] array of uniform values in [-1, 1).
inline Array RandomArray(std::vector<int64_t> shape, uint32_t seed) {
  auto a = Array::Zeros(DType::kFloat32, std::move(shape));
  EXPECT_TRUE(a.ok());
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : a->data<float>()) v = dist(gen);
  return std::move(a).value();
}

// All outputs of model.Call on one batch (inference mode), as Arrays.
inline std::vector<Array> CallModel(const nn::Model& model, const std::vector<Array>& inputs) {
  std::vector<nn::Var> feeds;
  for (const Array& a : inputs) {
    auto t = nn::Tensor::FromArray(a);
    EXPECT_TRUE(t.ok());
    feeds.push_back(nn::Var::Constant(*t));
  }
  nn::NoGradGuard no_grad;
  auto out = model.Call(feeds, nn::CallContext{});
  EXPECT_TRUE(out.ok()) << out.status();
  std::vector<Array> arrays;
  if (out.ok()) {
    for (const nn::Var& v : *out) arrays.push_back(v.value().ToArray());
  }
  return arrays;
}

// Same dtype, shape and bytes.
inline ::testing::AssertionResult BitIdentical(const Array& a, const Array& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) {
    return ::testing::AssertionFailure()
           << "shape " << ShapeToString(a.shape()) << " vs " << ShapeToString(b.shape());
  }
  if (a.num_bytes() != 0 && std::memcmp(a.raw_data(), b.raw_data(), a.num_bytes()) != 0) {
    return ::testing::AssertionFailure() << "contents differ";
  }
  return ::testing::AssertionSuccess();
}

}  // namespace edgepipe::model::testing

#endif  // EDGEPIPE_MODEL_TEST_MODELS_H_
