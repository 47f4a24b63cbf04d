// Reading and extracting examples: file / folder / Examples artifact
// resolution, chunks that never span files, labels / weights / features /
// slice values per example, and the errors for bad input (naming the file
// and the example index).
#include "edgepipe/eval/extract.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/eval_testing.h"

namespace edgepipe::eval {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ExtractSpec Spec() {
  ExtractSpec s;
  s.label_key = "label";
  s.example_weight_key = "weight";
  s.num_classes = testing::kClasses;
  s.slice_keys = {"group", "label"};
  s.features = {data::FeatureSpec::Float32("x", {testing::kFeatures})};
  return s;
}

TEST(ExtractTest, ResolvesFilesFoldersAndArtifacts) {
  TempDir tmp;
  const std::string art = tmp.Join("examples");
  testing::WriteExamples(JoinPath(art, "Split-train/data-0.gz"), 0, 3);
  testing::WriteExamples(JoinPath(art, "Split-eval/data-1.gz"), 3, 2);
  testing::WriteExamples(JoinPath(art, "Split-eval/data-0.gz"), 0, 3);
  ASSERT_TRUE(WriteFileAtomic(JoinPath(art, "Split-eval/_SUCCESS"), "").ok());
  auto files = ResolveExampleFiles(art);
  ASSERT_TRUE(files.ok()) << files.status();
  EXPECT_THAT(*files, ElementsAre(JoinPath(art, "Split-eval/data-0.gz"),
                                  JoinPath(art, "Split-eval/data-1.gz")));
  auto train = ResolveExampleFiles(art, "train");
  ASSERT_TRUE(train.ok());
  EXPECT_EQ(train->size(), 1u);
  auto none = ResolveExampleFiles(art, "test");
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("Split-eval, Split-train"));
  auto folder = ResolveExampleFiles(JoinPath(art, "Split-eval"));
  ASSERT_TRUE(folder.ok());
  EXPECT_EQ(folder->size(), 2u);
  EXPECT_EQ(ResolveExampleFiles(tmp.Join("nope")).status().code(), StatusCode::kNotFound);
}

TEST(ExtractTest, ChunksStayWithinAFileAndCountGlobally) {
  TempDir tmp;
  testing::WriteExamples(tmp.Join("d/a.tfrecord"), 0, 5);
  testing::WriteExamples(tmp.Join("d/b.tfrecord.gz"), 5, 3);
  auto reader = ExampleReader::Open(tmp.Join("d"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  ExampleChunk c;
  std::vector<std::tuple<std::string, int64_t, int64_t, size_t>> seen;
  while (true) {
    auto more = (*reader)->Next(2, &c);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    seen.emplace_back(std::string(Basename(c.file)), c.first_index, c.first_in_file,
                      static_cast<size_t>(c.size()));
  }
  using T = std::tuple<std::string, int64_t, int64_t, size_t>;
  EXPECT_THAT(seen, ElementsAre(T{"a.tfrecord", 0, 0, 2}, T{"a.tfrecord", 2, 2, 2},
                                T{"a.tfrecord", 4, 4, 1}, T{"b.tfrecord.gz", 5, 0, 2},
                                T{"b.tfrecord.gz", 7, 2, 1}));
  EXPECT_EQ((*reader)->records_read(), 8);
}

// ExampleReader hands out views into its buffer blocks: they stay valid
// while the chunk holds them (small blocks force many), equal the records,
// and with defer_data_crc a corrupt record passes Next but fails Extract
// with the message the verifying reader gives.
TEST(ExtractTest, ChunksAreViewsAndDeferredCrcsFailInExtract) {
  TempDir tmp;
  const std::string path = tmp.Join("e.tfrecord");
  testing::WriteExamples(path, 0, 20);
  std::vector<ExampleChunk> chunks;
  {
    auto reader = ExampleReader::Open(path, {.defer_data_crc = true, .block_size = 300});
    ASSERT_TRUE(reader.ok()) << reader.status();
    while (true) {
      ExampleChunk c;
      auto more = (*reader)->Next(3, &c);
      ASSERT_TRUE(more.ok()) << more.status();
      if (!*more) break;
      EXPECT_TRUE(c.records.empty());
      EXPECT_TRUE(c.crc_pending);
      EXPECT_FALSE(c.blocks.empty());
      chunks.push_back(std::move(c));
    }
  }  // the reader is gone: the chunks' blocks keep the views alive
  int64_t i = 0;
  for (ExampleChunk& c : chunks) {
    for (int64_t r = 0; r < c.size(); ++r, ++i) EXPECT_EQ(c.record(r), testing::MakeExample(i));
    EXPECT_TRUE(c.VerifyDataCrcs().ok());
  }
  EXPECT_EQ(i, 20);

  // Record 5 (chunk 1, row 2) with a flipped data byte.
  ASSERT_GE(chunks.size(), 2u);
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  const uint64_t offset = chunks[1].offsets[2];
  (*bytes)[offset + data::kTFRecordHeaderSize + 5] ^= 0x01;
  const std::string bad = tmp.Join("bad.tfrecord");
  ASSERT_TRUE(WriteFileAtomic(bad, *bytes).ok());
  auto verifying = data::TFRecordReader::Open(bad);
  ASSERT_TRUE(verifying.ok());
  Status want;
  for (std::string rec;;) {
    auto more = (*verifying)->Next(&rec);
    if (!more.ok()) {
      want = more.status();
      break;
    }
    ASSERT_TRUE(*more) << "the corrupt record was not detected";
  }
  EXPECT_THAT(want.message(), HasSubstr("bad.tfrecord: record 5 at byte "));

  auto reader = ExampleReader::Open(bad, {.defer_data_crc = true});
  ASSERT_TRUE(reader.ok());
  auto ex = Extractor::Create(Spec());
  ASSERT_TRUE(ex.ok());
  ExampleChunk c;
  ExtractedChunk x;
  ASSERT_TRUE(*(*reader)->Next(3, &c));
  EXPECT_TRUE(ex->Extract(std::move(c), &x).ok());
  auto more = (*reader)->Next(3, &c);
  ASSERT_TRUE(more.ok() && *more) << "framing is intact: Next succeeds";
  EXPECT_EQ(ex->Extract(std::move(c), &x), want);

  // Not deferred: Next itself fails, as before.
  auto eager = ExampleReader::Open(bad);
  ASSERT_TRUE(eager.ok());
  ASSERT_TRUE(*(*eager)->Next(3, &c));
  EXPECT_FALSE(c.crc_pending);
  EXPECT_EQ((*eager)->Next(3, &c).status(), want);
}

// Extracting into a reused ExtractedChunk (a bigger chunk first, then a
// smaller one with other values) gives what a fresh one gets.
TEST(ExtractTest, ReusedOutputEqualsAFreshOne) {
  auto make = [](int64_t first, int64_t n) {
    ExampleChunk c;
    c.file = "mem";
    c.first_index = first;
    c.first_in_file = first;
    for (int64_t i = first; i < first + n; ++i) c.records.push_back(testing::MakeExample(i));
    return c;
  };
  for (bool fast : {true, false}) {
    SCOPED_TRACE(fast ? "wire path" : "protobuf path");
    ExtractSpec spec = Spec();
    spec.fast_parse = fast;
    auto ex = Extractor::Create(spec);
    ASSERT_TRUE(ex.ok());
    ExtractedChunk reused;
    ASSERT_TRUE(ex->Extract(make(0, 9), &reused).ok());
    for (auto [first, n] : {std::pair<int64_t, int64_t>{20, 4}, {40, 9}}) {
      ASSERT_TRUE(ex->Extract(make(first, n), &reused).ok());
      auto fresh = ex->Extract(make(first, n));
      ASSERT_TRUE(fresh.ok());
      EXPECT_EQ(reused.size, n);
      EXPECT_EQ(reused.example_ids, fresh->example_ids);
      EXPECT_EQ(reused.labels, fresh->labels);
      EXPECT_EQ(reused.weights, fresh->weights);
      EXPECT_EQ(reused.slice_values, fresh->slice_values);
      const Array& a = reused.features.arrays.at("x");
      const Array& b = fresh->features.arrays.at("x");
      EXPECT_EQ(a.shape(), b.shape());
      EXPECT_TRUE(std::equal(a.data<float>().begin(), a.data<float>().end(),
                             b.data<float>().begin(), b.data<float>().end()));
    }
  }
}

TEST(ExtractTest, ExtractsLabelsWeightsFeaturesAndSliceValues) {
  ExampleChunk c;
  c.file = "mem";
  c.first_index = 10;
  c.first_in_file = 10;
  for (int64_t i = 10; i < 17; ++i) c.records.push_back(testing::MakeExample(i));
  auto ex = Extractor::Create(Spec());
  ASSERT_TRUE(ex.ok()) << ex.status();
  auto got = ex->Extract(std::move(c));
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size, 7);
  EXPECT_EQ(got->label_width, 1);
  const Array& x = got->features.arrays.at("x");
  ASSERT_EQ(x.shape(), (std::vector<int64_t>{7, testing::kFeatures}));
  for (int64_t r = 0; r < 7; ++r) {
    const int64_t i = 10 + r;
    EXPECT_EQ(got->example_ids[static_cast<size_t>(r)], i);
    const std::vector<float> want = testing::FeaturesOf(i);
    for (int j = 0; j < testing::kFeatures; ++j) {
      EXPECT_EQ(x.data<float>()[static_cast<size_t>(r * testing::kFeatures + j)],
                want[static_cast<size_t>(j)]);
    }
    EXPECT_EQ(got->labels[static_cast<size_t>(r)], static_cast<float>(testing::LabelOf(want)));
    EXPECT_EQ(got->weights[static_cast<size_t>(r)], 1.0f + static_cast<float>(i % 3));
    const auto& group = got->slice_values[0][static_cast<size_t>(r)];
    if (testing::HasGroup(i)) {
      EXPECT_THAT(group, ElementsAre(testing::GroupOf(i)));
    } else {
      EXPECT_TRUE(group.empty()) << i;  // missing, not defaulted
    }
    EXPECT_THAT(got->slice_values[1][static_cast<size_t>(r)],
                ElementsAre(std::to_string(testing::LabelOf(want))));
  }
  EXPECT_TRUE(got->records.empty());  // keep_serialized is off
}

TEST(ExtractTest, SliceValuesAreTextDeduplicated) {
  tf::Example e;
  const float f[] = {0.5f, 2.0f, 0.5f};
  data::SetFloats(&e, "f", f);
  const int64_t label = 1;
  data::SetInt64s(&e, "label", std::span<const int64_t>(&label, 1));
  ExtractSpec s;
  s.label_key = "label";
  s.slice_keys = {"f"};
  ExampleChunk c{.file = "mem",
                 .first_index = 0,
                 .first_in_file = 0,
                 .records = {data::SerializeDeterministic(e)}};
  auto ex = Extractor::Create(s);
  ASSERT_TRUE(ex.ok());
  auto got = ex->Extract(std::move(c));
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->slice_values[0][0], ElementsAre("0.5", "2"));
}

// One example built by `edit` from example 0, extracted as example 4 of f.tfrecord.
Status ExtractEdited(const std::function<void(tf::Example*)>& edit, ExtractSpec spec = Spec()) {
  tf::Example e;
  EXPECT_TRUE(e.ParseFromString(testing::MakeExample(0)));
  edit(&e);
  ExampleChunk c{.file = "f.tfrecord",
                 .first_index = 4,
                 .first_in_file = 4,
                 .records = {testing::MakeExample(1), data::SerializeDeterministic(e)}};
  auto ex = Extractor::Create(std::move(spec));
  EXPECT_TRUE(ex.ok());
  return ex->Extract(std::move(c)).status();
}

TEST(ExtractTest, BadExamplesNameTheFileTheExampleAndTheRule) {
  auto erase = [](const char* name) {
    return [name](tf::Example* e) { e->mutable_features()->mutable_feature()->erase(name); };
  };
  Status s = ExtractEdited(erase("label"));
  EXPECT_THAT(s.message(), HasSubstr("f.tfrecord: example 5: label \"label\" is missing"));
  EXPECT_THAT(s.message(), HasSubstr("features: group, weight, x"));

  s = ExtractEdited([](tf::Example* e) {
    const int64_t v = 3;
    data::SetInt64s(e, "label", std::span<const int64_t>(&v, 1));
  });
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange);
  EXPECT_THAT(s.message(), HasSubstr("example 5: label \"label\" is 3"));
  EXPECT_THAT(s.message(), HasSubstr("[0, 3)"));

  s = ExtractEdited([](tf::Example* e) {
    const float v = 1.5f;
    data::SetFloats(e, "label", std::span<const float>(&v, 1));
  });
  EXPECT_THAT(s.message(), HasSubstr("is 1.5"));

  s = ExtractEdited([](tf::Example* e) {
    const std::string v = "cat";
    data::SetBytes(e, "label", std::span<const std::string>(&v, 1));
  });
  EXPECT_THAT(s.message(), HasSubstr("is bytes"));

  s = ExtractEdited([](tf::Example* e) {
    const int64_t v[] = {0, 1};
    data::SetInt64s(e, "label", v);
  });
  EXPECT_THAT(s.message(), HasSubstr("has 2 values; 1 expected"));

  s = ExtractEdited(erase("weight"));
  EXPECT_THAT(s.message(), HasSubstr("example 5: example weight \"weight\" is missing"));
  s = ExtractEdited([](tf::Example* e) {
    const float v = -1;
    data::SetFloats(e, "weight", std::span<const float>(&v, 1));
  });
  EXPECT_THAT(s.message(), HasSubstr("must be >= 0"));

  s = ExtractEdited(erase("x"));
  EXPECT_THAT(s.message(), HasSubstr("example 5: model input feature \"x\" is missing"));
  s = ExtractEdited([](tf::Example* e) {
    const float v[] = {1, 2};
    data::SetFloats(e, "x", v);
  });
  EXPECT_THAT(s.message(), HasSubstr("has 2"));
  EXPECT_THAT(s.message(), HasSubstr("needs 4"));

  // A missing slice feature is not an error.
  EXPECT_TRUE(ExtractEdited(erase("group")).ok());

  ExampleChunk garbage{.file = "g.tfrecord",
                       .first_index = 0,
                       .first_in_file = 0,
                       .records = {std::string("\xff\xff\xff", 3)}};
  auto ex = Extractor::Create(Spec());
  ASSERT_TRUE(ex.ok());
  EXPECT_THAT(ex->Extract(std::move(garbage)).status().message(),
              HasSubstr("g.tfrecord: example 0: not a valid serialized tf.Example"));
  ExtractSpec no_label = Spec();
  no_label.label_key.clear();
  EXPECT_FALSE(Extractor::Create(no_label).ok());
}

TEST(ExtractTest, FeatureNamesOfAnExample) {
  auto names = FeatureNamesOf(testing::MakeExample(3));  // 3 has no group
  ASSERT_TRUE(names.ok());
  EXPECT_THAT(*names, ElementsAre("label", "weight", "x"));
}

}  // namespace
}  // namespace edgepipe::eval
