// The Extractor's wire-format fast path (example_wire.h) against its
// protobuf path (ExtractSpec::fast_parse = false): identical chunks for
// ordinary examples of every feature kind, for records outside the fast
// subset (merged / duplicated fields, unpacked numbers, non-ASCII keys), and
// identical errors for bad examples. Plus WireExample on hand-made bytes.
#include "edgepipe/eval/example_wire.h"

#include <gtest/gtest.h>

#include <random>

#include "edgepipe/data/example.pb.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/eval/extract.h"

namespace edgepipe::eval {
namespace {

ExtractSpec Spec(bool fast) {
  ExtractSpec s;
  s.label_key = "label";
  s.example_weight_key = "w";
  s.num_classes = 5;
  s.slice_keys = {"group", "score", "tag", "absent"};
  s.features = {data::FeatureSpec::Float32("x", {6}), data::FeatureSpec::Int64("ids", {3}),
                data::FeatureSpec::Float32("xi", {2})};
  s.fast_parse = fast;
  return s;
}

std::string Record(std::mt19937& rng, int i) {
  tf::Example e;
  std::uniform_real_distribution<float> u(-5, 5);
  std::vector<float> x(6);
  for (float& v : x) v = u(rng);
  if (i % 7 == 0) x[0] = -0.0f;
  data::SetFloats(&e, "x", x);
  data::SetInt64s(&e, "ids", std::vector<int64_t>{i, -i, int64_t{1} << 40});
  data::SetInt64s(&e, "xi", std::vector<int64_t>{i * 3, -(int64_t{1} << 50)});
  if (i % 2) {
    data::SetInt64s(&e, "label", std::vector<int64_t>{i % 5});
  } else {
    data::SetFloats(&e, "label", std::vector<float>{static_cast<float>(i % 5)});
  }
  if (i % 3) {
    data::SetFloats(&e, "w", std::vector<float>{0.5f * static_cast<float>(i % 4)});
  } else {
    data::SetInt64s(&e, "w", std::vector<int64_t>{2});
  }
  if (i % 4 != 1) data::SetInt64s(&e, "group", std::vector<int64_t>{i % 3, 7, i % 3});
  data::SetFloats(&e, "score", std::vector<float>{u(rng), 1e-7f, 3.0f});
  (*e.mutable_features()->mutable_feature())["tag"].mutable_bytes_list()->add_value(
      i % 2 ? "b" : "a\x01z");
  if (i % 5 == 0) (*e.mutable_features()->mutable_feature())["empty"];
  (*e.mutable_features()->mutable_feature())["other"].mutable_bytes_list()->add_value("zz");
  return data::SerializeDeterministic(e);
}

Result<ExtractedChunk> Run(bool fast, const std::vector<std::string>& records) {
  ASSIGN_OR_RETURN(Extractor x, Extractor::Create(Spec(fast)));
  ExampleChunk c;
  c.file = "f.tfrecord";
  c.first_index = 10;
  c.first_in_file = 3;
  c.records = records;
  return x.Extract(std::move(c));
}

void ExpectSameChunks(const std::vector<std::string>& records) {
  Result<ExtractedChunk> a = Run(true, records);
  Result<ExtractedChunk> b = Run(false, records);
  ASSERT_EQ(a.ok(), b.ok()) << a.status() << " / " << b.status();
  if (!a.ok()) {
    EXPECT_EQ(a.status().ToString(), b.status().ToString());
    return;
  }
  EXPECT_EQ(a->size, b->size);
  EXPECT_EQ(a->example_ids, b->example_ids);
  EXPECT_EQ(a->labels, b->labels);
  EXPECT_EQ(a->label_width, b->label_width);
  EXPECT_EQ(a->weights, b->weights);
  EXPECT_EQ(a->slice_values, b->slice_values);
  for (const auto& [name, arr] : b->features.arrays) {
    auto it = a->features.arrays.find(name);
    ASSERT_NE(it, a->features.arrays.end()) << name;
    ASSERT_EQ(it->second.shape(), arr.shape());
    EXPECT_EQ(0, std::memcmp(it->second.raw_data(), arr.raw_data(), arr.num_bytes())) << name;
  }
}

TEST(ExampleWireTest, FastAndProtobufPathsAgreeOnOrdinaryExamples) {
  std::mt19937 rng(5);
  std::vector<std::string> records;
  for (int i = 0; i < 60; ++i) records.push_back(Record(rng, i));
  ExpectSameChunks(records);
  // And the fast path accepts them (it is not silently always falling back).
  WireExample w;
  ASSERT_TRUE(w.Parse(records[3]));
  const WireFeature* f = nullptr;
  ASSERT_TRUE(w.Find("x", &f));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->kind, WireFeature::Kind::kFloat);
  EXPECT_EQ(f->count, 6);
  ASSERT_TRUE(w.Find("ids", &f));
  ASSERT_NE(f, nullptr);
  int64_t ids[3];
  f->Int64s(ids);
  EXPECT_EQ(ids[0], 3);
  EXPECT_EQ(ids[1], -3);
  EXPECT_EQ(ids[2], int64_t{1} << 40);
  ASSERT_TRUE(w.Find("nope", &f));
  EXPECT_EQ(f, nullptr);
}

TEST(ExampleWireTest, RecordsOutsideTheFastSubsetKeepProtobufSemantics) {
  std::mt19937 rng(9);
  std::vector<std::string> records;
  // Two serialized Examples concatenated: protobuf merges them (the later
  // "x" wins); the fast path must refuse and fall back.
  const std::string merged = Record(rng, 1) + Record(rng, 2);
  WireExample w;
  EXPECT_FALSE(w.Parse(merged));
  records.push_back(merged);
  // Unpacked floats: field 1 wire type 5 per value.
  {
    tf::Example e;
    data::SetFloats(&e, "label", std::vector<float>{1});
    data::SetInt64s(&e, "ids", std::vector<int64_t>{1, 2, 3});
    data::SetFloats(&e, "xi", std::vector<float>{1, 2});
    data::SetFloats(&e, "w", std::vector<float>{1});
    tf::Features only_x;
    std::string list;  // FloatList, unpacked
    for (int i = 0; i < 6; ++i) {
      const float v = static_cast<float>(i) + 0.25f;
      list += '\x0d';
      list.append(reinterpret_cast<const char*>(&v), 4);
    }
    const std::string feature = std::string("\x12") + static_cast<char>(list.size()) + list;
    const std::string entry =
        std::string("\x0a\x01x\x12") + static_cast<char>(feature.size()) + feature;
    const std::string features = std::string("\x0a") + static_cast<char>(entry.size()) + entry;
    const std::string extra = std::string("\x0a") + static_cast<char>(features.size()) + features;
    const std::string rec = data::SerializeDeterministic(e) + extra;
    EXPECT_FALSE(w.Parse(rec));
    records.push_back(rec);
  }
  // A non-ASCII key elsewhere in the record.
  {
    std::string r = Record(rng, 3);
    tf::Example e;
    ASSERT_TRUE(e.ParseFromString(r));
    data::SetInt64s(&e, "caf\xc3\xa9", std::vector<int64_t>{1});
    r = data::SerializeDeterministic(e);
    EXPECT_FALSE(w.Parse(r));
    records.push_back(r);
  }
  records.push_back(Record(rng, 4));
  ExpectSameChunks(records);
}

TEST(ExampleWireTest, ErrorsAreTheProtobufPathsErrors) {
  std::mt19937 rng(3);
  const std::string good = Record(rng, 1);
  tf::Example e;
  ASSERT_TRUE(e.ParseFromString(good));
  auto with = [&](auto edit) {
    tf::Example c = e;
    edit(&c);
    return std::vector<std::string>{good, data::SerializeDeterministic(c)};
  };
  auto* m = e.mutable_features()->mutable_feature();
  (void)m;
  ExpectSameChunks(
      with([](tf::Example* c) { c->mutable_features()->mutable_feature()->erase("label"); }));
  ExpectSameChunks(
      with([](tf::Example* c) { data::SetInt64s(c, "label", std::vector<int64_t>{9}); }));
  ExpectSameChunks(
      with([](tf::Example* c) { data::SetFloats(c, "label", std::vector<float>{1.5f}); }));
  ExpectSameChunks(with([](tf::Example* c) {
    data::SetFloats(c, "label", std::vector<float>{1, 2});
  }));
  ExpectSameChunks(with([](tf::Example* c) { data::SetFloats(c, "w", std::vector<float>{-1}); }));
  ExpectSameChunks(with([](tf::Example* c) { data::SetFloats(c, "x", std::vector<float>{1, 2}); }));
  ExpectSameChunks(with([](tf::Example* c) {
    data::SetFloats(c, "ids", std::vector<float>{1, 2, 3});
  }));
  ExpectSameChunks(with([](tf::Example* c) {
    (*c->mutable_features()->mutable_feature())["label"].mutable_bytes_list()->add_value("1");
  }));
  ExpectSameChunks({good, std::string("\x0a\x05\x0a\x03\x0a", 5)});  // truncated
  ExpectSameChunks({good, std::string("\xff\xff", 2)});
}

}  // namespace
}  // namespace edgepipe::eval
