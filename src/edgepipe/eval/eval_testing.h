// Fixtures shared by the eval/ engine tests (header-only; not part of the
// library): a small classifier saved as a native model and rewritten to
// float and int8 TFLite, and TFRecord examples to evaluate them on.
#ifndef EDGEPIPE_EVAL_EVAL_TESTING_H_
#define EDGEPIPE_EVAL_EVAL_TESTING_H_

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/lite/rewriter.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::eval::testing {

inline constexpr int kFeatures = 4;
inline constexpr int kClasses = 3;

// x [4] -> Dense(8, relu) -> Dense(3) logits, untrained (seeded).
inline nn::Sequential MakeSmallMlp(uint64_t seed = 3) {
  namespace L = nn::layers;
  nn::Sequential m("small_mlp", seed);
  EXPECT_TRUE(m.Add(L::InputLayer({kFeatures}, "x")).ok());
  EXPECT_TRUE(m.Add(L::Dense(8, {.activation = "relu"})).ok());
  EXPECT_TRUE(m.Add(L::Dense(kClasses)).ok());
  return m;
}

// Features of example i: deterministic uniform values in [-1, 1).
inline std::vector<float> FeaturesOf(int64_t i) {
  std::mt19937 gen(static_cast<uint32_t>(1000 + i));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> x(kFeatures);
  for (float& v : x) v = dist(gen);
  return x;
}

// A label that does not depend on the model: argmax of a fixed linear map.
inline int64_t LabelOf(const std::vector<float>& x) {
  const float s[kClasses] = {x[0] - x[1], x[2] + 0.5f * x[3], -x[0] - x[2]};
  int64_t best = 0;
  for (int c = 1; c < kClasses; ++c) {
    if (s[c] > s[best]) best = c;
  }
  return best;
}

// "a" for even i, "b" for odd i; none when i % 7 == 3.
inline bool HasGroup(int64_t i) { return i % 7 != 3; }
inline std::string GroupOf(int64_t i) { return i % 2 == 0 ? "a" : "b"; }

inline std::string MakeExample(int64_t i) {
  tf::Example ex;
  const std::vector<float> x = FeaturesOf(i);
  data::SetFloats(&ex, "x", x);
  const int64_t label = LabelOf(x);
  data::SetInt64s(&ex, "label", std::span<const int64_t>(&label, 1));
  const float w = 1.0f + static_cast<float>(i % 3);
  data::SetFloats(&ex, "weight", std::span<const float>(&w, 1));
  if (HasGroup(i)) {
    const std::string g = GroupOf(i);
    data::SetBytes(&ex, "group", std::span<const std::string>(&g, 1));
  }
  return data::SerializeDeterministic(ex);
}

// Writes examples [first, first + n) to `path` (gzip when it ends in .gz),
// creating its folder.
inline void WriteExamples(const std::string& path, int64_t first, int64_t n) {
  ASSERT_TRUE(Env::Default()->CreateDirs(Dirname(path)).ok());
  auto w = data::TFRecordWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status();
  for (int64_t i = first; i < first + n; ++i) ASSERT_TRUE((*w)->Write(MakeExample(i)).ok());
  ASSERT_TRUE((*w)->Close().ok());
}

// Folders written by MakeModels under `dir`.
struct Models {
  std::string native;      // saved model, tensor signature "serving_default" on "x"
  std::string lite_float;  // folder holding `tflite` (float rewrite)
  std::string lite_int8;   // folder holding `tflite` (full integer, int8 I/O)
};

inline Models MakeModels(const std::string& dir) {
  Models m{JoinPath(dir, "native"), JoinPath(dir, "lite_float"), JoinPath(dir, "lite_int8")};
  nn::Sequential mlp = MakeSmallMlp();
  Status s = model::Save(mlp, m.native,
                         std::vector<model::Signature>{model::TensorSignature(
                             "serving_default", {{"x", DType::kFloat32, {-1, kFeatures}}})});
  EXPECT_TRUE(s.ok()) << s;
  lite::TFLiteRewriter float_rewriter({});
  s = lite::RewriteSavedModel(m.native, m.lite_float, float_rewriter);
  EXPECT_TRUE(s.ok()) << s;
  lite::TFLiteRewriterOptions q;
  q.quantization = lite::Quantization::kFullInteger;
  q.inference_input_type = lite::InferenceType::kInt8;
  q.inference_output_type = lite::InferenceType::kInt8;
  for (int b = 0; b < 4; ++b) {
    auto a = Array::Zeros(DType::kFloat32, {16, kFeatures});
    EXPECT_TRUE(a.ok());
    for (int64_t r = 0; r < 16; ++r) {
      const std::vector<float> x = FeaturesOf(b * 16 + r);
      std::copy(x.begin(), x.end(), a->data<float>().begin() + r * kFeatures);
    }
    q.representative_dataset.push_back({{"x", std::move(*a)}});
  }
  lite::TFLiteRewriter int8_rewriter(q);
  s = lite::RewriteSavedModel(m.native, m.lite_int8, int8_rewriter);
  EXPECT_TRUE(s.ok()) << s;
  return m;
}

}  // namespace edgepipe::eval::testing

#endif  // EDGEPIPE_EVAL_EVAL_TESTING_H_
