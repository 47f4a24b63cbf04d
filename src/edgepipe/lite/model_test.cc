#include "edgepipe/lite/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/core/file.h"

namespace edgepipe::lite {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  return std::string(EDGEPIPE_SHARED_DIR) + "/fixtures/tflite/" + name;
}

TEST(ModelTest, LoadsFixtures) {
  for (const char* f : {"hello_world_float.tflite", "hello_world_int8.tflite",
                        "micro_speech_quantized.tflite", "keyword_scrambled.tflite",
                        "trained_lstm.tflite", "mobilenet_v2_quantized_1x3x224x224.tflite"}) {
    auto m = Model::Load(Fixture(f));
    ASSERT_TRUE(m.ok()) << f << ": " << m.status();
    const auto* subgraphs = (*m)->fb().subgraphs();
    ASSERT_NE(subgraphs, nullptr);
    EXPECT_GE(subgraphs->size(), 1u);
  }
}

TEST(ModelTest, OpCodesUseTheLargerOfBothFields) {
  auto m = Model::Load(Fixture("micro_speech_quantized.tflite"));
  ASSERT_TRUE(m.ok());
  std::vector<std::string> ops;
  const auto* fb_ops = (*m)->subgraph(0).operators();
  ASSERT_NE(fb_ops, nullptr);
  for (int o = 0; o < static_cast<int>(fb_ops->size()); ++o) {
    ops.push_back(BuiltinOperatorName((*m)->OpCode(0, o)));
  }
  EXPECT_EQ(ops, (std::vector<std::string>{"RESHAPE", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED",
                                           "SOFTMAX"}));
}

// Google's runtimes reject person_detect.tflite: its per-channel int32 bias
// tensors (rank 1) name quantized_dimension 3. So do we, naming the tensor and
// the rule.
TEST(ModelTest, RejectsPersonDetectPerAxisQuantOnMissingAxis) {
  auto m = Model::Load(Fixture("person_detect.tflite"));
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(m.status().message(), HasSubstr("tensor"));
  EXPECT_THAT(m.status().message(), HasSubstr("quantized_dimension 3"));
  EXPECT_THAT(m.status().message(), HasSubstr("rank-1"));
}

TEST(ModelTest, RejectsTruncatedAndForeignBytes) {
  auto bytes = ReadFileToString(Fixture("hello_world_int8.tflite"));
  ASSERT_TRUE(bytes.ok());
  // Every truncation is rejected without crashing.
  for (size_t n = 0; n < bytes->size(); n += 7) {
    auto m = Model::FromBytes(std::string_view(*bytes).substr(0, n), "cut");
    EXPECT_FALSE(m.ok()) << n;
  }
  std::string wrong = *bytes;
  wrong[4] = 'X';
  auto m = Model::FromBytes(wrong, "wrong.tflite");
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(m.status().message(), HasSubstr("TFL3"));
}

TEST(ModelTest, CorruptedBytesNeverCrash) {
  auto bytes = ReadFileToString(Fixture("micro_speech_quantized.tflite"));
  ASSERT_TRUE(bytes.ok());
  uint32_t seed = 12345;
  int rejected = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string b = *bytes;
    for (int k = 0; k < 4; ++k) {
      seed = seed * 1664525u + 1013904223u;
      b[8 + seed % (b.size() - 8)] = static_cast<char>(seed >> 24);
    }
    auto m = Model::FromBytes(b, "fuzz");
    if (!m.ok()) ++rejected;
  }
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace edgepipe::lite
