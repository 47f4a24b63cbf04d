// Slicing: overall, feature keys (one slice per value; several values),
// feature values, crosses, examples missing a sliced feature counted per
// spec, min_slice_size.
#include "edgepipe/eval/slicer.h"

#include <gmock/gmock.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

namespace edgepipe::eval {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

EvalConfig Config(const std::string& text) {
  EvalConfig c;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &c)) << text;
  return c;
}

SliceKey Key(std::vector<std::pair<std::string, std::string>> f) { return SliceKey{std::move(f)}; }

// Rows: island values and sex values per example ({} = missing).
ExtractedChunk Chunk(const Slicer& s,
                     const std::map<std::string, std::vector<std::vector<std::string>>>& cols) {
  ExtractedChunk c;
  c.size = static_cast<int64_t>(cols.begin()->second.size());
  for (const std::string& k : s.feature_keys()) c.slice_values.push_back(cols.at(k));
  return c;
}

TEST(SlicerTest, NoSpecIsTheOverallSliceOnly) {
  auto s = Slicer::Create(EvalConfig());
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->feature_keys().empty());
  ExtractedChunk c;
  c.size = 3;
  ChunkSlices out;
  s->Assign(c, &out);
  EXPECT_TRUE(out.has_overall);
  EXPECT_TRUE(out.rows.empty());
}

TEST(SlicerTest, FeatureKeysValuesAndMissing) {
  auto s = Slicer::Create(Config(R"(
    slicing_specs {}
    slicing_specs { feature_keys: "island" }
    slicing_specs { feature_values { key: "sex" value: "male" } }
  )"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(s->feature_keys(), ElementsAre("island", "sex"));
  ASSERT_EQ(s->spec_names().size(), 2u);
  ExtractedChunk c = Chunk(*s, {{"island", {{"Biscoe"}, {"Dream"}, {}, {"Biscoe", "Dream"}}},
                                {"sex", {{"male"}, {"female"}, {"male"}, {}}}});
  ChunkSlices out;
  s->Assign(c, &out);
  EXPECT_TRUE(out.has_overall);
  EXPECT_THAT(out.rows, ElementsAre(Pair(Key({{"island", "Biscoe"}}), ElementsAre(0, 3)),
                                    Pair(Key({{"island", "Dream"}}), ElementsAre(1, 3)),
                                    Pair(Key({{"sex", "male"}}), ElementsAre(0, 2))));
  EXPECT_THAT(out.missing, ElementsAre(1, 1));  // row 2 lacks island, row 3 lacks sex
  EXPECT_EQ(s->SpecIndexOf(Key({{"island", "Dream"}})), 0);
  EXPECT_EQ(s->SpecIndexOf(Key({{"sex", "male"}})), 1);
  EXPECT_EQ(s->SpecIndexOf(SliceKey{}), -1);
}

TEST(SlicerTest, ASliceNamedByTwoSpecsHoldsEachRowOnce) {
  auto s = Slicer::Create(Config(R"(
    slicing_specs { feature_keys: "island" }
    slicing_specs { feature_values { key: "island" value: "Dream" } }
  )"));
  ASSERT_TRUE(s.ok()) << s.status();
  ExtractedChunk c = Chunk(*s, {{"island", {{"Dream"}, {"Biscoe"}, {"Dream"}}}});
  ChunkSlices out;
  s->Assign(c, &out);
  EXPECT_THAT(out.rows, ElementsAre(Pair(Key({{"island", "Biscoe"}}), ElementsAre(1)),
                                    Pair(Key({{"island", "Dream"}}), ElementsAre(0, 2))));
}

TEST(SlicerTest, CrossesAreSortedByFeatureAndNeedEveryFeature) {
  auto s = Slicer::Create(Config(R"(
    cross_slicing_specs {
      baseline_spec { feature_keys: "sex" }
      slicing_specs { feature_keys: "island" }
    }
  )"));
  ASSERT_TRUE(s.ok()) << s.status();
  ExtractedChunk c = Chunk(*s, {{"island", {{"Biscoe"}, {"Dream"}, {}, {"Biscoe", "Dream"}}},
                                {"sex", {{"male"}, {"male"}, {"male"}, {"female"}}}});
  ChunkSlices out;
  s->Assign(c, &out);
  EXPECT_FALSE(out.has_overall);  // no empty slicing spec
  EXPECT_THAT(out.rows,
              ElementsAre(Pair(Key({{"island", "Biscoe"}, {"sex", "female"}}), ElementsAre(3)),
                          Pair(Key({{"island", "Biscoe"}, {"sex", "male"}}), ElementsAre(0)),
                          Pair(Key({{"island", "Dream"}, {"sex", "female"}}), ElementsAre(3)),
                          Pair(Key({{"island", "Dream"}, {"sex", "male"}}), ElementsAre(1))));
  EXPECT_THAT(out.missing, ElementsAre(1));
  EXPECT_EQ(Key({{"island", "Dream"}, {"sex", "male"}}).ToString(), "island:Dream;sex:male");
}

TEST(SlicerTest, BadSpecsAreErrors) {
  EXPECT_FALSE(Slicer::Create(Config(R"(slicing_specs { feature_keys: "" })")).ok());
  EXPECT_FALSE(Slicer::Create(Config(R"(
    slicing_specs { feature_keys: "a" feature_values { key: "a" value: "1" } })"))
                   .ok());
  auto cross = Slicer::Create(Config(R"(
    cross_slicing_specs { baseline_spec { feature_keys: "a" }
                          slicing_specs { feature_keys: "a" } })"));
  EXPECT_THAT(cross.status().message(), ::testing::HasSubstr("also in the baseline_spec"));
}

TEST(SlicerTest, DropSmallSlicesKeepsOverall) {
  std::vector<SliceResult> r(3);
  r[0].example_count = 2;  // overall
  r[1].slice = Key({{"a", "1"}});
  r[1].example_count = 5;
  r[2].slice = Key({{"a", "2"}});
  r[2].example_count = 4;
  auto dropped = DropSmallSlices(&r, 5);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(r[0].slice.overall());
  EXPECT_EQ(r[1].slice, Key({{"a", "1"}}));
  EXPECT_THAT(dropped, ElementsAre(Pair(Key({{"a", "2"}}), 4.0)));
  EXPECT_TRUE(DropSmallSlices(&r, 0).empty());
}

}  // namespace
}  // namespace edgepipe::eval
