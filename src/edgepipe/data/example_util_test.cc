#include "edgepipe/data/example_util.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgepipe/data/tfrecord.h"

namespace edgepipe::data {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFixture = EDGEPIPE_SHARED_DIR "/fixtures/tfx/mnist.tfrecord";

TEST(ExampleUtilTest, SetAndGet) {
  tf::Example ex;
  const std::vector<float> floats = {0.25f, -1.5f, 3.0f};
  const std::vector<int64_t> ints = {7, -3, int64_t{1} << 40};
  const std::vector<std::string> bytes = {"a", std::string("\0b", 2)};
  SetFloats(&ex, "f", floats);
  SetInt64s(&ex, "i", ints);
  SetBytes(&ex, "b", bytes);
  auto f = GetFloats(ex, "f");
  ASSERT_TRUE(f.ok());
  EXPECT_THAT(*f, ElementsAre(0.25f, -1.5f, 3.0f));
  auto i = GetInt64s(ex, "i");
  ASSERT_TRUE(i.ok());
  EXPECT_THAT(*i, ElementsAre(7, -3, int64_t{1} << 40));
  auto b = GetBytes(ex, "b");
  ASSERT_TRUE(b.ok());
  EXPECT_THAT(*b, ElementsAre("a", std::string_view("\0b", 2)));

  // Replacing a feature replaces its kind too.
  const std::vector<std::string_view> views = {"x"};
  SetBytes(&ex, "f", views);
  EXPECT_EQ(GetFloats(ex, "f").status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(GetFloats(ex, "f").status().message(),
              HasSubstr("feature \"f\" is bytes, expected float"));
  EXPECT_THAT(*GetBytes(ex, "f"), ElementsAre("x"));
  EXPECT_EQ(ex.features().feature().size(), 3);
}

TEST(ExampleUtilTest, MissingFeatureListsAvailable) {
  tf::Example ex;
  auto none = GetFeature(ex, "x");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("available: (none)"));
  SetInt64s(&ex, "zeta", std::vector<int64_t>{1});
  SetInt64s(&ex, "alpha", std::vector<int64_t>{1});
  auto missing = GetFeature(ex, "label");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("feature \"label\" not found; available: alpha, zeta"));
  auto found = GetFeature(ex, "zeta");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(FeatureKindName(**found), "int64");
}

TEST(ExampleUtilTest, FormatsSortedAndTruncated) {
  tf::Example ex;
  std::vector<float> floats(784, -0.5f);
  floats[783] = 0.1f;
  floats[1] = 0.25f;
  SetFloats(&ex, "image_floats", floats);
  SetInt64s(&ex, "image_class", std::vector<int64_t>{9});
  SetBytes(&ex, "name", std::vector<std::string>{"say \"hi\"\n\x01", std::string(50, 'z')});
  SetFloats(&ex, "short", std::vector<float>{1.0f, 2.5f});
  (*ex.mutable_features()->mutable_feature())["empty"];  // no kind set
  EXPECT_EQ(FormatExample(ex),
            "empty: empty[0] = []\n"
            "image_class: int64[1] = [9]\n"
            "image_floats: float[784] = [-0.5, 0.25, -0.5, ..., -0.5, -0.5, 0.1]\n"
            "name: bytes[2] = [\"say \\\"hi\\\"\\n\\x01\", \"" +
                std::string(40, 'z') +
                "\"...]\n"
                "short: float[2] = [1, 2.5]\n");
  ExampleFormatOptions one;
  one.edge_values = 1;
  one.max_bytes_chars = 3;
  EXPECT_THAT(FormatExample(ex, one), HasSubstr("image_floats: float[784] = [-0.5, ..., 0.1]\n"));
  EXPECT_THAT(FormatExample(ex, one), HasSubstr("name: bytes[2] = [\"say\"..., \"zzz\"...]\n"));
}

// --- The fixture written by TensorFlow ---

class MnistFixtureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto reader = TFRecordReader::Open(kFixture);
    ASSERT_TRUE(reader.ok()) << reader.status();
    records_ = new std::vector<std::string>();
    std::string record;
    while (true) {
      auto more = (*reader)->Next(&record);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      records_->push_back(record);
    }
  }
  static void TearDownTestSuite() {
    delete records_;
    records_ = nullptr;
  }
  static std::vector<std::string>* records_;
};
std::vector<std::string>* MnistFixtureTest::records_ = nullptr;

TEST_F(MnistFixtureTest, EveryRecordIsAnMnistExample) {
  ASSERT_EQ(records_->size(), 1000u);
  std::map<int64_t, int> class_counts;
  for (size_t r = 0; r < records_->size(); ++r) {
    tf::Example ex;
    ASSERT_TRUE(ex.ParseFromString((*records_)[r])) << "record " << r;
    ASSERT_EQ(ex.features().feature().size(), 2) << "record " << r;
    auto pixels = GetFloats(ex, "image_floats");
    ASSERT_TRUE(pixels.ok()) << pixels.status();
    ASSERT_EQ(pixels->size(), 784u);
    for (float v : *pixels) ASSERT_TRUE(v >= -0.5f && v <= 0.5f) << v;
    auto label = GetInt64s(ex, "image_class");
    ASSERT_TRUE(label.ok()) << label.status();
    ASSERT_EQ(label->size(), 1u);
    ASSERT_TRUE((*label)[0] >= 0 && (*label)[0] <= 9);
    ++class_counts[(*label)[0]];
    if (r == 0) {
      EXPECT_EQ((*label)[0], 9);
    }
  }
  EXPECT_EQ(class_counts.size(), 10u);  // every digit occurs
}

TEST_F(MnistFixtureTest, FormatsFirstRecord) {
  tf::Example ex;
  ASSERT_TRUE(ex.ParseFromString(records_->front()));
  const std::string text = FormatExample(ex);
  EXPECT_THAT(text, HasSubstr("image_class: int64[1] = [9]\n"));
  EXPECT_THAT(text, HasSubstr("image_floats: float[784] = [-0.5, -0.5, -0.5, ..., "));
  EXPECT_LT(text.find("image_class"), text.find("image_floats"));
}

// TensorFlow writes map entries in sorted key order: deterministic
// serialization reproduces its bytes exactly. Plain serialization may order
// the entries otherwise; what always holds is that it parses back equal.
TEST_F(MnistFixtureTest, ReserializationInvariants) {
  int plain_identical = 0;
  for (size_t r = 0; r < records_->size(); ++r) {
    const std::string& theirs = (*records_)[r];
    tf::Example ex;
    ASSERT_TRUE(ex.ParseFromString(theirs));
    ASSERT_TRUE(SerializeDeterministic(ex) == theirs) << "record " << r;
    const std::string plain = ex.SerializeAsString();
    EXPECT_EQ(plain.size(), theirs.size());
    plain_identical += plain == theirs;
    tf::Example again;
    ASSERT_TRUE(again.ParseFromString(plain));
    ASSERT_TRUE(MessageDifferencer::Equals(again, ex)) << "record " << r;
  }
  std::cout << "plain SerializeToString byte-identical for " << plain_identical
            << " of 1000 records\n";
}

// The pixel scaling of image_floats: v == float(k / 255.0 - 0.5) with k an
// integer 0..255, the arithmetic done in double and rounded once to float.
TEST_F(MnistFixtureTest, PixelScalingIsKOver255MinusHalf) {
  std::set<float> distinct;
  for (const std::string& record : *records_) {
    tf::Example ex;
    ASSERT_TRUE(ex.ParseFromString(record));
    auto pixels = GetFloats(ex, "image_floats");
    ASSERT_TRUE(pixels.ok());
    for (float v : pixels.value()) distinct.insert(v);
  }
  std::set<int> ks;
  int float32_formula_matches = 0;
  for (float v : distinct) {
    const double k = std::round((static_cast<double>(v) + 0.5) * 255.0);
    ASSERT_TRUE(k >= 0 && k <= 255) << v;
    EXPECT_EQ(v, static_cast<float>(k / 255.0 - 0.5)) << "k " << k;
    float32_formula_matches += v == static_cast<float>(k) / 255.0f - 0.5f;
    ks.insert(static_cast<int>(k));
  }
  EXPECT_EQ(ks.size(), distinct.size());  // one value per k
  EXPECT_EQ(distinct.size(), 256u);       // all 256 grey levels occur
  std::cout << "float32 arithmetic (k / 255.0f - 0.5f) matches " << float32_formula_matches
            << " of " << distinct.size() << " values\n";
}

}  // namespace
}  // namespace edgepipe::data
