#include "edgepipe/lite/inspect.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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

}  // namespace
}  // namespace edgepipe::lite
