#include "edgepipe/lite/model_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/lite/interpreter.h"

// The checks below walk FlatBuffers accessors of a model that Model has
// verified; GCC's -Wnull-dereference cannot see that the optional fields
// exist (every one was written by the builder and is asserted where it
// matters).
#pragma GCC diagnostic ignored "-Wnull-dereference"

namespace edgepipe::lite {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using TT = tflite::TensorType;
using Op = tflite::BuiltinOperator;

// y = relu(x W^T + b) with W 2x3, written, loaded, run; result by hand.
TEST(ModelBuilderTest, FullyConnectedRoundTripsAndRuns) {
  ModelBuilder b;
  const int x = b.AddInput("x", TT::FLOAT32, {1, 3});
  const int w = b.AddConstant("w", TT::FLOAT32, {2, 3},
                              std::vector<float>{1.0f, 2.0f, 3.0f, -1.0f, 0.5f, 0.0f});
  const int bias = b.AddConstant("b", TT::FLOAT32, {2}, std::vector<float>{0.5f, -4.0f});
  const int y = b.AddTensor("y", TT::FLOAT32, {1, 2});
  b.AddOperator(Op::FULLY_CONNECTED, {x, w, bias}, {y},
                FullyConnectedOpts(tflite::ActivationFunctionType::RELU));
  b.AddOutput("y", y);
  auto bytes = b.Finish();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  ASSERT_GE(bytes->size(), 8u);
  EXPECT_EQ(bytes->substr(4, 4), "TFL3");

  auto model = Model::FromBytes(*bytes, "fc");
  ASSERT_TRUE(model.ok()) << model.status();
  const tflite::Model& fb = (*model)->fb();
  EXPECT_EQ(fb.version(), 3u);
  ASSERT_NE(fb.buffers(), nullptr);
  EXPECT_EQ(fb.buffers()->size(), 3u);  // sentinel + w + b
  EXPECT_EQ((*model)->OpCode(0, 0), static_cast<int32_t>(Op::FULLY_CONNECTED));
  auto wdata = (*model)->TensorData(0, w);
  ASSERT_EQ(wdata.size(), 24u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(wdata.data()) % 16, 0u);
  ASSERT_NE(fb.signature_defs(), nullptr);
  ASSERT_EQ(fb.signature_defs()->size(), 1u);
  const auto* sig = fb.signature_defs()->Get(0);
  EXPECT_EQ(sig->signature_key()->str(), "serving_default");
  EXPECT_EQ(sig->inputs()->Get(0)->name()->str(), "x");
  EXPECT_EQ(sig->inputs()->Get(0)->tensor_index(), static_cast<uint32_t>(x));
  EXPECT_EQ(sig->outputs()->Get(0)->name()->str(), "y");
  EXPECT_EQ((*model)->subgraph(0).tensors()->Get(static_cast<uint32_t>(x))->name()->str(),
            "serving_default_x:0");

  auto interp =
      Interpreter::Create(std::shared_ptr<const Model>(std::move(*model)), BuiltinOpResolver());
  ASSERT_TRUE(interp.ok()) << interp.status();
  ASSERT_TRUE((*interp)->AllocateTensors().ok());
  Array in = *Array::Zeros(DType::kFloat32, {1, 3});
  auto v = in.data<float>();
  v[0] = 2.0f;
  v[1] = -1.0f;
  v[2] = 1.0f;
  ASSERT_TRUE((*interp)->SetInput(0, in).ok());
  ASSERT_TRUE((*interp)->Invoke().ok());
  auto out = (*interp)->GetOutput(0);
  ASSERT_TRUE(out.ok());
  // 2 - 2 + 3 + 0.5 = 3.5; relu(-2 - 0.5 + 0 - 4) = 0.
  EXPECT_THAT(out->data<float>(), ElementsAre(3.5f, 0.0f));
}

TEST(ModelBuilderTest, QuantizationAndOptionsRoundTrip) {
  ModelBuilder b("serve");
  QuantParams wq{{0.5f, 0.25f}, {0, 0}, 0};
  const int x = b.AddInput("img", TT::INT8, {1, 4, 4, 1}, QuantParams{{0.1f}, {-3}, 0});
  const int w = b.AddConstant("w", TT::INT8, {2, 1, 1, 1}, std::vector<int8_t>{1, -2}, wq);
  const int y = b.AddTensor("y", TT::INT8, {1, 2, 2, 2}, QuantParams{{0.2f}, {4}, 0});
  b.AddOperator(Op::CONV_2D, {x, w, -1}, {y},
                Conv2DOpts(tflite::Padding::VALID, 2, 2, tflite::ActivationFunctionType::RELU6), 3);
  b.AddOutput("out", y);
  auto bytes = b.Finish();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  auto model = Model::FromBytes(*bytes, "conv");
  ASSERT_TRUE(model.ok()) << model.status();
  const QuantParams& q = (*model)->TensorQuant(0, w);
  EXPECT_THAT(q.scale, ElementsAre(0.5f, 0.25f));
  EXPECT_EQ(q.axis, 0);
  EXPECT_THAT((*model)->TensorQuant(0, x).zero_point, ElementsAre(-3));
  const auto* op = (*model)->subgraph(0).operators()->Get(0);
  ASSERT_NE(op->builtin_options_as_Conv2DOptions(), nullptr);
  EXPECT_EQ(op->builtin_options_as_Conv2DOptions()->stride_w(), 2);
  EXPECT_EQ(op->builtin_options_as_Conv2DOptions()->fused_activation_function(),
            tflite::ActivationFunctionType::RELU6);
  EXPECT_THAT(std::vector<int32_t>(op->inputs()->begin(), op->inputs()->end()),
              ElementsAre(x, w, -1));
  EXPECT_EQ((*model)->fb().operator_codes()->Get(0)->version(), 3);
  EXPECT_EQ((*model)->fb().signature_defs()->Get(0)->signature_key()->str(), "serve");
  EXPECT_EQ((*model)->subgraph(0).tensors()->Get(static_cast<uint32_t>(x))->name()->str(),
            "serve_img:0");
}

TEST(ModelBuilderTest, OpCodesAreSharedAndWideCodesUsePlaceholder) {
  ModelBuilder b;
  const int x = b.AddInput("x", TT::FLOAT32, {4});
  const int y = b.AddTensor("y", TT::FLOAT32, {4});
  const int z = b.AddTensor("z", TT::FLOAT32, {4});
  b.AddOperator(Op::RELU, {x}, {y});
  b.AddOperator(Op::RELU, {y}, {z});
  b.AddOutput("z", z);
  auto bytes = b.Finish();
  ASSERT_TRUE(bytes.ok());
  auto model = Model::FromBytes(*bytes, "relu");
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ((*model)->fb().operator_codes()->size(), 1u);
}

TEST(ModelBuilderTest, FinishRejectsBadDataAndIndices) {
  {
    ModelBuilder b;
    b.AddConstant("w", TT::FLOAT32, {2, 3}, std::vector<float>{1.0f, 2.0f});
    auto bytes = b.Finish();
    ASSERT_FALSE(bytes.ok());
    EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(bytes.status().message(), HasSubstr("'w'"));
    EXPECT_THAT(bytes.status().message(), HasSubstr("8 data bytes"));
    EXPECT_THAT(bytes.status().message(), HasSubstr("24"));
  }
  {
    ModelBuilder b;
    const int x = b.AddInput("x", TT::FLOAT32, {4});
    b.AddOperator(Op::RELU, {x}, {7});
    auto bytes = b.Finish();
    ASSERT_FALSE(bytes.ok());
    EXPECT_THAT(bytes.status().message(), HasSubstr("operator 0 output tensor 7 out of range"));
  }
  {
    ModelBuilder b;
    b.AddOutput("y", 3);
    EXPECT_FALSE(b.Finish().ok());
  }
}

}  // namespace
}  // namespace edgepipe::lite
