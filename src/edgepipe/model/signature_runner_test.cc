#include "edgepipe/model/signature_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/model/layer_factory.h"
#include "edgepipe/model/test_models.h"

namespace edgepipe::model {
namespace {

using testing::BitIdentical;
using testing::CallModel;
using ::testing::HasSubstr;
using testing::RandomArray;

// One serialized tf.Example per row of each named [N, d] array, plus a label.
std::vector<std::string> ToExamples(const std::map<std::string, const Array*>& features) {
  const int64_t n = features.begin()->second->dim(0);
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i) {
    tf::Example ex;
    for (const auto& [name, a] : features) {
      const int64_t d = a->dim(1);
      data::SetFloats(&ex, name,
                      a->data<float>().subspan(static_cast<size_t>(i * d), static_cast<size_t>(d)));
    }
    const int64_t label = i % 10;
    data::SetInt64s(&ex, "label", std::span<const int64_t>(&label, 1));
    out.push_back(data::SerializeDeterministic(ex));
  }
  return out;
}

TEST(SignatureRunnerTest, ExamplesAndTensorSignaturesOfLoadedModelMatchTheModel) {
  TempDir tmp;
  nn::Sequential m = testing::MakeMlp(4);
  std::vector<Signature> sigs = {
      ExampleSignature("serving_default", {data::FeatureSpec::Float32("image_floats", {784})}),
      TensorSignature("serving_tensors", {{"image_floats", DType::kFloat32, {-1, 784}}})};
  ASSERT_TRUE(Save(m, tmp.Join("m"), sigs).ok());
  auto loaded = Load(tmp.Join("m"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();

  const Array x = RandomArray({6, 784}, 3);
  const std::vector<Array> want = CallModel(m, {x});
  ASSERT_EQ(want.size(), 1u);

  auto by_examples = SignatureRunner::Create(*loaded, "serving_default");
  ASSERT_TRUE(by_examples.ok()) << by_examples.status();
  const std::vector<std::string> examples = ToExamples({{"image_floats", &x}});
  auto out = by_examples->Run(examples);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->count("dense_2"), 1u);
  EXPECT_TRUE(BitIdentical(out->at("dense_2"), want[0]));

  auto by_tensors = SignatureRunner::Create(*loaded, "serving_tensors");
  ASSERT_TRUE(by_tensors.ok());
  NamedArrays in;
  in["image_floats"] = x;
  auto out2 = by_tensors->Run(in);
  ASSERT_TRUE(out2.ok()) << out2.status();
  EXPECT_TRUE(BitIdentical(out2->at("dense_2"), want[0]));

  // Kinds are not interchangeable; unknown names are listed.
  EXPECT_THAT(by_tensors->Run(examples).status().message(), HasSubstr("not serialized examples"));
  EXPECT_THAT(by_examples->Run(in).status().message(), HasSubstr("not named tensors"));
  auto missing = SignatureRunner::Create(*loaded, "nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("has: serving_default, serving_tensors"));
}

TEST(SignatureRunnerTest, MissingFeatureIsAClearRunTimeError) {
  nn::Sequential m = testing::MakeMlp();
  auto r = SignatureRunner::Create(
      m, ExampleSignature("serving_default", {data::FeatureSpec::Float32("image_floats", {784})}));
  ASSERT_TRUE(r.ok());
  const Array x = RandomArray({3, 784}, 1);
  std::vector<std::string> examples = ToExamples({{"image_floats", &x}});
  tf::Example no_image;
  const int64_t label = 1;
  data::SetInt64s(&no_image, "label", std::span<const int64_t>(&label, 1));
  examples[1] = data::SerializeDeterministic(no_image);
  auto out = r->Run(examples);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.status().message(), HasSubstr("signature \"serving_default\": record 1"));
  EXPECT_THAT(out.status().message(), HasSubstr("image_floats is missing"));
}

TEST(SignatureRunnerTest, TwoInputModelByExamplesAndTensors) {
  nn::Model m = testing::MakeTwoInputModel();
  const Array a = RandomArray({4, 8}, 5), b = RandomArray({4, 4}, 6);
  const std::vector<Array> want = CallModel(m, {a, b});
  auto ex = SignatureRunner::Create(
      m, ExampleSignature("serving_default", {data::FeatureSpec::Float32("b", {4}),
                                              data::FeatureSpec::Float32("a", {8})}));
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto out = ex->Run(ToExamples({{"a", &a}, {"b", &b}}));
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(BitIdentical(out->at("logits"), want[0]));
  EXPECT_TRUE(BitIdentical(out->at("probs"), want[1]));

  auto t = SignatureRunner::Create(
      m, TensorSignature("t", {{"a", DType::kFloat32, {-1, 8}}, {"b", DType::kFloat32, {-1, 4}}}));
  ASSERT_TRUE(t.ok());
  NamedArrays in;
  in["a"] = a;
  in["b"] = RandomArray({3, 4}, 7);
  EXPECT_THAT(t->Run(in).status().message(), HasSubstr("batch size"));
  in["b"] = b;
  auto out2 = t->Run(in);
  ASSERT_TRUE(out2.ok()) << out2.status();
  EXPECT_TRUE(BitIdentical(out2->at("probs"), want[1]));
  in.erase("b");
  EXPECT_THAT(t->Run(in).status().message(), HasSubstr("input \"b\" is missing"));
  // A signature that leaves a model input unfed is rejected up front.
  auto partial =
      SignatureRunner::Create(m, TensorSignature("p", {{"a", DType::kFloat32, {-1, 8}}}));
  EXPECT_THAT(partial.status().message(), HasSubstr("model input \"b\" is not fed"));
}

TEST(SignatureRunnerTest, EmptyBatchAndWrongDtype) {
  nn::Sequential m = testing::MakeMlp();
  auto t = SignatureRunner::Create(
      m, TensorSignature("t", {{"image_floats", DType::kFloat32, {-1, 784}}}));
  ASSERT_TRUE(t.ok());
  NamedArrays in;
  in["image_floats"] = *Array::Zeros(DType::kFloat32, {0, 784});
  auto out = t->Run(in);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->at("dense_2").shape(), (std::vector<int64_t>{0, 10}));
  in["image_floats"] = *Array::Zeros(DType::kInt32, {2, 784});
  EXPECT_THAT(t->Run(in).status().message(), HasSubstr("has dtype int32, signature needs float32"));
}

TEST(LayerFactoryTest, EveryLayerClassRoundTripsItsConfig) {
  namespace L = nn::layers;
  std::vector<std::shared_ptr<nn::Layer>> layers = {
      std::make_shared<L::InputLayer>(nn::Shape{28, 28, 1}, "in"),
      std::make_shared<L::Dense>(
          5, L::DenseOptions{.activation = "sigmoid", .use_bias = false, .name = "d"}),
      std::make_shared<L::Dropout>(0.3f, "drop"),
      std::make_shared<L::Activation>("tanh", "act"),
      std::make_shared<L::ReLU>(6.0f, "r6"),
      std::make_shared<L::ReLU>(std::nullopt, "r"),
      std::make_shared<L::Softmax>("sm"),
      std::make_shared<L::Flatten>("f"),
      std::make_shared<L::Reshape>(nn::Shape{-1, 4}, "rs"),
      std::make_shared<L::AddLayer>("add"),
      std::make_shared<L::Concatenate>(1, "cat"),
      std::make_shared<L::Rescaling>(1.0f / 255.0f, 0.5f, "scale"),
      std::make_shared<L::Normalization>("norm"),
      std::make_shared<L::Conv2D>(
          8, L::Size2(3, 5), L::Conv2DOptions{.strides = 2, .padding = "same", .name = "conv"}),
      std::make_shared<L::DepthwiseConv2D>(
          3, L::DepthwiseConv2DOptions{.depth_multiplier = 2, .activation = "relu6", .name = "dw"}),
      std::make_shared<L::MaxPooling2D>(3, L::Size2(2), "same", "mp"),
      std::make_shared<L::AveragePooling2D>(2, std::nullopt, "valid", "ap"),
      std::make_shared<L::GlobalAveragePooling2D>("gap"),
      std::make_shared<L::BatchNormalization>(
          L::BatchNormalizationOptions{.momentum = 0.9f, .epsilon = 1e-5f, .name = "bn"}),
  };
  for (const auto& layer : layers) {
    auto rebuilt = CreateLayer(layer->type(), layer->Config());
    ASSERT_TRUE(rebuilt.ok()) << layer->type() << ": " << rebuilt.status();
    EXPECT_EQ((*rebuilt)->type(), layer->type());
    EXPECT_EQ((*rebuilt)->Config(), layer->Config()) << layer->type();
  }
  EXPECT_EQ(KnownLayerClasses().size(), 18u);
  auto bad = CreateLayer("Dense", Json{{"name", "d"}, {"units", "many"}}, "x");
  EXPECT_THAT(bad.status().message(), HasSubstr("x (Dense): field \"units\" must be an integer"));
}

}  // namespace
}  // namespace edgepipe::model
