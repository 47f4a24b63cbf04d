// Test-only models for the converter's tests (header-only; not part of the
// library API).
#ifndef EDGEPIPE_LITE_CONVERTER_TESTING_H_
#define EDGEPIPE_LITE_CONVERTER_TESTING_H_

#include <gtest/gtest.h>

#include <random>

#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::lite::testing {

namespace L = nn::layers;

// Non-trivial batch-norm statistics (the defaults make BN almost identity).
inline void RandomizeBatchNorms(nn::Model& m, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> d(0.5f, 1.5f), s(-0.5f, 0.5f);
  for (nn::Layer* l : m.layers()) {
    if (l->type() != "BatchNormalization" && l->type() != "Normalization") continue;
    for (nn::Weight& w : l->weights()) {
      const bool positive =
          w.name == "gamma" || w.name == "moving_variance" || w.name == "variance";
      for (float& v : w.var.mutable_value().span()) v = positive ? d(gen) : s(gen);
    }
  }
}

// The small CNN with every batch-norm variant: after Conv2D (folded),
// after DepthwiseConv2D (folded), after a pool (MUL + ADD), before an
// activation that then fuses.
inline nn::Model MakeCnn(uint64_t seed) {
  auto x = nn::Input({12, 12, 1}, "image");
  auto h = nn::Apply(L::Rescaling(1.0f / 255.0f, 0.0f), {*x});
  h = nn::Apply(L::Conv2D(4, 3, {.padding = "same"}), {*h});
  h = nn::Apply(L::BatchNormalization(), {*h});
  h = nn::Apply(L::ReLU(), {*h});
  h = nn::Apply(L::DepthwiseConv2D(3, {.strides = 2, .padding = "same", .depth_multiplier = 2}),
                {*h});
  h = nn::Apply(L::BatchNormalization(), {*h});
  h = nn::Apply(L::ReLU6(), {*h});
  h = nn::Apply(L::MaxPooling2D(2), {*h});
  h = nn::Apply(L::Conv2D(6, 2, {.activation = "relu"}), {*h});
  h = nn::Apply(L::AveragePooling2D(2, 1, "same"), {*h});
  h = nn::Apply(L::BatchNormalization({.center = false}), {*h});
  auto g = nn::Apply(L::GlobalAveragePooling2D(), {*h});
  auto f = nn::Apply(L::Flatten(), {*h});
  auto d1 = nn::Apply(L::Dense(5), {*g});
  auto d2 = nn::Apply(L::Dense(5), {*f});
  auto s = nn::Apply(L::AddLayer(), {*d1, *d2});
  auto out = nn::Apply(L::Dense(10, {.name = "logits"}), {*s});
  auto m = nn::Model::Create({*x}, {*out}, "small_cnn", seed);
  EXPECT_TRUE(m.ok()) << m.status();
  return std::move(*m);
}

}  // namespace edgepipe::lite::testing

#endif  // EDGEPIPE_LITE_CONVERTER_TESTING_H_
