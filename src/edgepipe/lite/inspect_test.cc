#include "edgepipe/lite/inspect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "edgepipe/core/file.h"

namespace edgepipe::lite {
namespace {

using ::testing::HasSubstr;

TEST(InspectTest, ListsOpsTensorsQuantAndSections) {
  auto m = Model::Load(std::string(EDGEPIPE_SHARED_DIR) +
                       "/fixtures/tflite/micro_speech_quantized.tflite");
  ASSERT_TRUE(m.ok());
  const std::string text = InspectText(**m);
  EXPECT_THAT(text, HasSubstr("DEPTHWISE_CONV_2D"));
  EXPECT_THAT(text, HasSubstr("SOFTMAX"));
  EXPECT_THAT(text, HasSubstr("\"labels_softmax\""));
  EXPECT_THAT(text, HasSubstr("int8"));
  EXPECT_THAT(text, HasSubstr("zero_point"));
  EXPECT_THAT(text, HasSubstr("constant buffers"));
}

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

TEST(InspectTest, SectionsAddUpAndCountConstantData) {
  auto m = Model::Load(Fixture("mobilenet_v2_quantized_1x3x224x224.tflite"));
  ASSERT_TRUE(m.ok()) << m.status();
  const SectionSizes s = ComputeSections(**m);
  EXPECT_EQ(s.file, (*m)->file_size());
  EXPECT_EQ(s.tensor_data + s.metadata + s.unreferenced_buffers + s.graph, s.file);
  // Constant data of every tensor, summed independently through the Model.
  size_t consts = 0;
  const auto* tensors = (*m)->subgraph(0).tensors();
  ASSERT_NE(tensors, nullptr);
  std::vector<uint32_t> seen;
  for (uint32_t t = 0; t < tensors->size(); ++t) {
    const uint32_t b = tensors->Get(t)->buffer();
    if (std::find(seen.begin(), seen.end(), b) != seen.end()) continue;
    seen.push_back(b);
    consts += (*m)->TensorData(0, static_cast<int>(t)).size();
  }
  EXPECT_EQ(s.tensor_data, consts);
  // A 3.5M-parameter int8 network: the weights are most of the file.
  EXPECT_GT(s.tensor_data, s.file * 8 / 10);
}

TEST(InspectTest, JsonHasOpsTensorsAndQuantization) {
  auto m = Model::Load(Fixture("micro_speech_quantized.tflite"));
  ASSERT_TRUE(m.ok());
  const auto doc = nlohmann::json::parse(InspectJson(**m));
  EXPECT_EQ(doc["file_bytes"].get<size_t>(), (*m)->file_size());
  const auto& sg = doc["subgraphs"][0];
  ASSERT_EQ(sg["operators"].size(), 4u);
  EXPECT_EQ(sg["operators"][1]["op"], "DEPTHWISE_CONV_2D");
  EXPECT_EQ(sg["op_counts"]["FULLY_CONNECTED"], 1);
  const int out = sg["outputs"][0].get<int>();
  const auto& t = sg["tensors"][static_cast<size_t>(out)];
  EXPECT_EQ(t["name"], "labels_softmax");
  EXPECT_EQ(t["type"], "int8");
  EXPECT_EQ(t["shape"], nlohmann::json::array({1, 4}));
  ASSERT_TRUE(t.contains("quantization"));
  EXPECT_EQ(t["quantization"]["scale"].size(), 1u);
  EXPECT_FLOAT_EQ(t["quantization"]["scale"][0].get<float>(), (*m)->TensorQuant(0, out).scale[0]);
}

TEST(InspectTest, TextCountsOpsByType) {
  auto m = Model::Load(Fixture("hello_world_float.tflite"));
  ASSERT_TRUE(m.ok());
  const std::string text = InspectText(**m);
  EXPECT_THAT(text, HasSubstr("operators (3): FULLY_CONNECTED x3"));
  EXPECT_THAT(text, HasSubstr("signature \"serving_default\""));
}

}  // namespace
}  // namespace edgepipe::lite
