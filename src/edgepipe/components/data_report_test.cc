#include "edgepipe/components/data_report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/components/component_testing.h"
#include "edgepipe/components/example_validator.h"
#include "edgepipe/components/schema_gen.h"
#include "edgepipe/components/statistics_gen.h"

namespace edgepipe::components {
namespace {

using testing::ExampleBuilder;
using ::testing::HasSubstr;

tfmd::DatasetFeatureStatistics Stats() {
  StatisticsAccumulator acc;
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(acc.Add(ExampleBuilder()
                            .Floats("x", {static_cast<float>(i)})
                            .Bytes("color", {i % 2 ? "red" : "blue"})
                            .Build())
                    .ok());
  }
  return acc.Finish("train");
}

TEST(DataReportTest, StatisticsShowNumbersAndTopValues) {
  std::string text = FormatStatistics(Stats());
  EXPECT_THAT(text, HasSubstr("Split \"train\": 4 examples, 2 features"));
  EXPECT_THAT(text, HasSubstr("histogram [0, 3] in 10 buckets: 1 0 0 1 0 0 1 0 0 1"));
  EXPECT_THAT(text, HasSubstr("\"blue\" (2), \"red\" (2)"));
  EXPECT_THAT(text, HasSubstr("1.5"));  // the mean of x
}

TEST(DataReportTest, SchemaShowsShapeAndDomain) {
  std::string text = FormatSchema(InferSchema(Stats()));
  EXPECT_THAT(text, HasSubstr("x"));
  EXPECT_THAT(text, HasSubstr("FLOAT  required   [1]"));
  EXPECT_THAT(text, HasSubstr("{\"blue\", \"red\"}"));
}

TEST(DataReportTest, AnomaliesOneLinePerReason) {
  tfmd::Schema schema = InferSchema(Stats());
  StatisticsAccumulator acc;
  ASSERT_TRUE(acc.Add(ExampleBuilder().Bytes("color", {"green"}).Build()).ok());
  std::string text = FormatAnomalies(ValidateStatistics(acc.Finish("eval"), schema));
  EXPECT_THAT(text,
              HasSubstr("color: Unexpected string values [ENUM_TYPE_UNEXPECTED_STRING_VALUES]"));
  EXPECT_THAT(text, HasSubstr("x: Column dropped [SCHEMA_MISSING_COLUMN]"));
  EXPECT_EQ(FormatAnomalies(ValidateStatistics(Stats(), schema)), "No anomalies.\n");
}

}  // namespace
}  // namespace edgepipe::components
