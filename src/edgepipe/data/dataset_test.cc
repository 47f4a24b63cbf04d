#include "edgepipe/data/dataset.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "edgepipe/data/example.pb.h"

namespace edgepipe::data {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Numbered(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) v.push_back(std::to_string(i));
  return v;
}

// Drains a source; fails the test on error.
std::vector<std::string> Drain(RecordSource& src, size_t limit = 1000000) {
  std::vector<std::string> out;
  std::string r;
  while (out.size() < limit) {
    Result<bool> ok = src.Next(&r);
    EXPECT_TRUE(ok.ok()) << ok.status();
    if (!ok.ok() || !*ok) break;
    out.push_back(r);
  }
  return out;
}

std::unique_ptr<RecordSource> Memory(std::vector<std::string> v) {
  return std::make_unique<MemoryRecordSource>(std::move(v));
}

std::vector<std::string> Shuffled(int n, size_t buffer, uint64_t seed) {
  auto s = ShuffleRecords(Memory(Numbered(n)), buffer, seed);
  EXPECT_TRUE(s.ok());
  return Drain(**s);
}

bool IsPermutationOf(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

TEST(RecordSourceTest, MemorySourceYieldsInOrderAndResets) {
  MemoryRecordSource src(Numbered(3));
  EXPECT_THAT(Drain(src), ElementsAre("0", "1", "2"));
  EXPECT_TRUE(Drain(src).empty());  // stays at the end
  ASSERT_TRUE(src.Reset().ok());
  EXPECT_THAT(Drain(src), ElementsAre("0", "1", "2"));
}

TEST(ShuffleTest, IsAPermutationDeterministicPerSeedAndDiffersAcrossSeeds) {
  const auto in = Numbered(200);
  const auto a = Shuffled(200, 1000, 42);
  EXPECT_TRUE(IsPermutationOf(a, in));
  EXPECT_NE(a, in);
  EXPECT_EQ(Shuffled(200, 1000, 42), a);
  EXPECT_NE(Shuffled(200, 1000, 43), a);
  // A small buffer also gives a permutation (and a different one).
  const auto small = Shuffled(200, 10, 42);
  EXPECT_TRUE(IsPermutationOf(small, in));
  EXPECT_NE(small, in);
}

TEST(ShuffleTest, BufferOfOneKeepsOrder) {
  EXPECT_EQ(Shuffled(50, 1, 7), Numbered(50));
  EXPECT_EQ(ShuffleRecords(Memory(Numbered(3)), 0, 1).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ShuffleTest, SmallBufferOnlyMovesItemsWithinItsWindow) {
  // With buffer b, the item at output position p entered the buffer by then:
  // its input index is at most p + b - 1.
  const size_t b = 8;
  const auto out = Shuffled(300, b, 5);
  ASSERT_EQ(out.size(), 300u);
  for (size_t p = 0; p < out.size(); ++p) EXPECT_LE(std::stoul(out[p]), p + b - 1) << p;
}

TEST(ShuffleTest, FirstPositionIsRoughlyUniform) {
  // 4 items, full buffer, 4000 seeds: each item should come first ~1000
  // times (binomial sd ~27; the bounds are ~9 sd wide).
  int first[4] = {};
  for (uint64_t seed = 0; seed < 4000; ++seed) ++first[std::stoi(Shuffled(4, 4, seed)[0])];
  for (int c : first) {
    EXPECT_GT(c, 750);
    EXPECT_LT(c, 1250);
  }
}

TEST(ShuffleTest, ReshufflesEachEpochUnlessAskedNotTo) {
  for (bool reshuffle : {true, false}) {
    auto s = ShuffleRecords(Memory(Numbered(100)), 100, 9, reshuffle);
    ASSERT_TRUE(s.ok());
    auto r = RepeatRecords(std::move(*s), 3);
    ASSERT_TRUE(r.ok());
    auto all = Drain(**r);
    ASSERT_EQ(all.size(), 300u);
    std::vector<std::string> e0(all.begin(), all.begin() + 100),
        e1(all.begin() + 100, all.begin() + 200), e2(all.begin() + 200, all.end());
    EXPECT_TRUE(IsPermutationOf(e0, Numbered(100)));
    EXPECT_TRUE(IsPermutationOf(e1, Numbered(100)));
    EXPECT_TRUE(IsPermutationOf(e2, Numbered(100)));
    if (reshuffle) {
      EXPECT_NE(e0, e1);
      EXPECT_NE(e1, e2);
    } else {
      EXPECT_EQ(e0, e1);
      EXPECT_EQ(e1, e2);
    }
  }
}

TEST(RepeatTest, Counts) {
  auto r = RepeatRecords(Memory(Numbered(3)), 2);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(Drain(**r), ElementsAre("0", "1", "2", "0", "1", "2"));
  EXPECT_TRUE(Drain(**r).empty());
  ASSERT_TRUE((*r)->Reset().ok());
  EXPECT_EQ(Drain(**r).size(), 6u);

  r = RepeatRecords(Memory(Numbered(3)), 0);
  EXPECT_TRUE(Drain(**r).empty());
  r = RepeatRecords(Memory(Numbered(3)), 1);
  EXPECT_EQ(Drain(**r).size(), 3u);
  r = RepeatRecords(Memory(Numbered(3)), -1);
  auto many = Drain(**r, 3001);
  EXPECT_EQ(many.size(), 3001u);
  EXPECT_EQ(many[3000], "0");
  r = RepeatRecords(Memory({}), -1);  // forever over nothing ends
  EXPECT_TRUE(Drain(**r).empty());
  EXPECT_EQ(RepeatRecords(Memory({}), -2).status().code(), StatusCode::kInvalidArgument);
}

// Records with features "id" (int64 scalar), "x" (float32 [2] = {id, -id})
// and "name" (string).
std::vector<std::string> ExampleRecords(int n) {
  std::vector<std::string> v;
  for (int i = 0; i < n; ++i) {
    tf::Example ex;
    auto& f = *ex.mutable_features()->mutable_feature();
    f["id"].mutable_int64_list()->add_value(i);
    f["x"].mutable_float_list()->add_value(static_cast<float>(i));
    f["x"].mutable_float_list()->add_value(static_cast<float>(-i));
    std::string name = std::to_string(i);
    name.insert(name.begin(), 'n');  // not "n" + ...: GCC 12 -Wrestrict false positive
    f["name"].mutable_bytes_list()->add_value(name);
    v.push_back(ex.SerializeAsString());
  }
  return v;
}

std::vector<FeatureSpec> Specs() {
  return {FeatureSpec::Int64("id"), FeatureSpec::Float32("x", {2}), FeatureSpec::String("name")};
}

// Drains a dataset into per-batch id lists; fails the test on error.
std::vector<std::vector<int64_t>> BatchIds(Dataset& ds, size_t limit = 100000) {
  std::vector<std::vector<int64_t>> out;
  while (out.size() < limit) {
    auto b = ds.Next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok() || !b->has_value()) break;
    auto ids = (*b)->arrays.at("id").data<int64_t>();
    out.emplace_back(ids.begin(), ids.end());
  }
  return out;
}

TEST(ExampleDatasetTest, BatchesWithAndWithoutRemainder) {
  auto ds = NewExampleDataset(Memory(ExampleRecords(10)), Specs(), {.batch_size = 4});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_THAT(BatchIds(**ds),
              ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7), ElementsAre(8, 9)));
  auto end = (*ds)->Next();  // stays at the end
  ASSERT_TRUE(end.ok());
  EXPECT_FALSE(end->has_value());

  ds = NewExampleDataset(Memory(ExampleRecords(10)), Specs(),
                         {.batch_size = 4, .drop_remainder = true});
  ASSERT_TRUE(ds.ok());
  EXPECT_THAT(BatchIds(**ds), ElementsAre(ElementsAre(0, 1, 2, 3), ElementsAre(4, 5, 6, 7)));
  ASSERT_TRUE((*ds)->Reset().ok());
  EXPECT_EQ(BatchIds(**ds).size(), 2u);

  // Exact multiple: no remainder either way.
  ds = NewExampleDataset(Memory(ExampleRecords(8)), Specs(), {.batch_size = 4});
  EXPECT_EQ(BatchIds(**ds).size(), 2u);
  EXPECT_EQ(NewExampleDataset(Memory({}), Specs(), {.batch_size = 0}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(ExampleDatasetTest, BatchContentsIncludingStrings) {
  auto ds = NewExampleDataset(Memory(ExampleRecords(5)), Specs(), {.batch_size = 3});
  ASSERT_TRUE(ds.ok());
  auto b = (*ds)->Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  const Batch& batch = **b;
  EXPECT_EQ(batch.size, 3);
  EXPECT_EQ(batch.arrays.at("x").shape(), (std::vector<int64_t>{3, 2}));
  auto x = batch.arrays.at("x").data<float>();
  EXPECT_THAT(std::vector<float>(x.begin(), x.end()), ElementsAre(0, -0.f, 1, -1, 2, -2));
  EXPECT_THAT(batch.strings.at("name"), ElementsAre("n0", "n1", "n2"));
  b = (*ds)->Next();
  ASSERT_TRUE(b.ok() && b->has_value());
  EXPECT_EQ((*b)->size, 2);
  EXPECT_THAT((*b)->strings.at("name"), ElementsAre("n3", "n4"));
}

TEST(ExampleDatasetTest, ParseErrorNamesStreamPosition) {
  auto recs = ExampleRecords(8);
  recs[6] = ExampleRecords(1)[0].substr(0, 5);  // cut inside a field: invalid
  auto ds = NewExampleDataset(Memory(recs), Specs(), {.batch_size = 4});
  ASSERT_TRUE(ds.ok());
  auto b = (*ds)->Next();
  ASSERT_TRUE(b.ok()) << b.status();
  b = (*ds)->Next();
  EXPECT_EQ(b.status().message(), "record 6: not a valid serialized tf.Example");

  // Wrong spec for the data.
  ds = NewExampleDataset(Memory(ExampleRecords(2)), {FeatureSpec::Float32("x", {3})},
                         {.batch_size = 2});
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ((*ds)->Next().status().message(), "record 0: feature x has 2 values, spec needs 3");
}

TEST(ExampleDatasetTest, MapAndRepeatBatches) {
  auto ds = NewExampleDataset(Memory(ExampleRecords(5)), Specs(), {.batch_size = 2});
  ASSERT_TRUE(ds.ok());
  auto mapped = MapBatches(std::move(*ds), [](Batch* b) -> Status {
    ASSIGN_OR_RETURN(Array * ids, b->GetMutableArray("id"));
    for (int64_t& v : ids->data<int64_t>()) v *= 10;
    return Status::Ok();
  });
  auto rep = RepeatBatches(std::move(mapped), 2);
  ASSERT_TRUE(rep.ok());
  EXPECT_THAT(BatchIds(**rep),
              ElementsAre(ElementsAre(0, 10), ElementsAre(20, 30), ElementsAre(40),
                          ElementsAre(0, 10), ElementsAre(20, 30), ElementsAre(40)));

  ds = NewExampleDataset(Memory(ExampleRecords(3)), Specs(), {.batch_size = 2});
  auto failing = MapBatches(std::move(*ds), [](Batch*) { return Status::Internal("boom"); });
  EXPECT_EQ(failing->Next().status().message(), "boom");

  ds = NewExampleDataset(Memory({}), Specs(), {.batch_size = 2});
  rep = RepeatBatches(std::move(*ds), -1);  // forever over nothing ends
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(BatchIds(**rep).empty());
}

TEST(ExampleDatasetTest, MakeExampleDatasetShufflesRepeatsAndBatches) {
  ExampleDatasetOptions opt;
  opt.batch = {.batch_size = 7, .drop_remainder = true};
  opt.shuffle_buffer = 64;
  opt.seed = 1234;
  opt.repeat = -1;
  auto run = [&](uint64_t seed) {
    ExampleDatasetOptions o = opt;
    o.seed = seed;
    auto ds = MakeExampleDataset(Memory(ExampleRecords(50)), Specs(), o);
    EXPECT_TRUE(ds.ok());
    return BatchIds(**ds, 30);  // 210 records = 4.2 epochs
  };
  auto a = run(1234);
  ASSERT_EQ(a.size(), 30u);
  std::vector<int64_t> flat;
  for (auto& b : a) {
    EXPECT_EQ(b.size(), 7u);
    flat.insert(flat.end(), b.begin(), b.end());
  }
  // Each of the first four epochs (50 records each) is a permutation.
  for (int e = 0; e < 4; ++e) {
    std::vector<int64_t> epoch(flat.begin() + 50 * e, flat.begin() + 50 * (e + 1));
    std::sort(epoch.begin(), epoch.end());
    for (int i = 0; i < 50; ++i) ASSERT_EQ(epoch[i], i) << "epoch " << e;
  }
  EXPECT_EQ(run(1234), a);
  EXPECT_NE(run(99), a);
  opt.shuffle_buffer = 0;
  opt.repeat = 1;
  auto plain = MakeExampleDataset(Memory(ExampleRecords(5)), Specs(), opt);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(BatchIds(**plain).empty());  // 5 records < batch 7, remainder dropped
  opt.batch.drop_remainder = false;
  plain = MakeExampleDataset(Memory(ExampleRecords(5)), Specs(), opt);
  ASSERT_TRUE(plain.ok());
  EXPECT_THAT(BatchIds(**plain), ElementsAre(ElementsAre(0, 1, 2, 3, 4)));
}

// Columns: "image" uint8 [n, 2, 2] filled with the item index, "label"
// int64 [n] = index * 3, so rows can be checked for consistency.
std::map<std::string, Array> ArrayColumns(int n) {
  std::vector<uint8_t> img;
  std::vector<int64_t> lab;
  for (int i = 0; i < n; ++i) {
    for (int k = 0; k < 4; ++k) img.push_back(static_cast<uint8_t>(i));
    lab.push_back(3 * i);
  }
  std::map<std::string, Array> cols;
  cols.emplace("image", *Array::FromVector<uint8_t>({n, 2, 2}, img));
  cols.emplace("label", *Array::FromVector<int64_t>({n}, lab));
  return cols;
}

// Drains an array dataset into per-batch item lists, checking that each
// row's image and label belong to the same item.
std::vector<std::vector<int64_t>> ArrayBatchItems(Dataset& ds, size_t limit = 100000) {
  std::vector<std::vector<int64_t>> out;
  while (out.size() < limit) {
    auto b = ds.Next();
    EXPECT_TRUE(b.ok()) << b.status();
    if (!b.ok() || !b->has_value()) break;
    const Array& img = (*b)->arrays.at("image");
    const Array& lab = (*b)->arrays.at("label");
    EXPECT_EQ(img.dtype(), DType::kUInt8);
    EXPECT_EQ(img.shape(), (std::vector<int64_t>{(*b)->size, 2, 2}));
    std::vector<int64_t> items;
    for (int64_t r = 0; r < (*b)->size; ++r) {
      const int64_t item = lab.data<int64_t>()[r] / 3;
      for (int k = 0; k < 4; ++k) EXPECT_EQ(img.data<uint8_t>()[r * 4 + k], item);
      items.push_back(item);
    }
    out.push_back(items);
  }
  return out;
}

TEST(ArrayDatasetTest, InOrderBatchesWithRemainderBothWays) {
  auto ds = NewArrayDataset(ArrayColumns(5), {.batch = {.batch_size = 2}});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_THAT(ArrayBatchItems(**ds),
              ElementsAre(ElementsAre(0, 1), ElementsAre(2, 3), ElementsAre(4)));
  ds = NewArrayDataset(ArrayColumns(5),
                       {.batch = {.batch_size = 2, .drop_remainder = true}, .epochs = 2});
  ASSERT_TRUE(ds.ok());
  // Batches do not span epochs.
  EXPECT_THAT(ArrayBatchItems(**ds), ElementsAre(ElementsAre(0, 1), ElementsAre(2, 3),
                                                 ElementsAre(0, 1), ElementsAre(2, 3)));
  ASSERT_TRUE((*ds)->Reset().ok());
  EXPECT_EQ(ArrayBatchItems(**ds).size(), 4u);
  ds = NewArrayDataset(ArrayColumns(3),
                       {.batch = {.batch_size = 4, .drop_remainder = true}, .epochs = -1});
  ASSERT_TRUE(ds.ok());
  EXPECT_TRUE(ArrayBatchItems(**ds).empty());  // nothing to yield, even forever
  ds = NewArrayDataset(ArrayColumns(3), {.batch = {.batch_size = 4}, .epochs = 0});
  EXPECT_TRUE(ArrayBatchItems(**ds).empty());
}

TEST(ArrayDatasetTest, ShuffledEpochsArePermutationsDeterministicPerSeed) {
  auto run = [](uint64_t seed) {
    auto ds = NewArrayDataset(
        ArrayColumns(40), {.batch = {.batch_size = 8}, .shuffle = true, .seed = seed, .epochs = 3});
    EXPECT_TRUE(ds.ok());
    std::vector<int64_t> flat;
    for (auto& b : ArrayBatchItems(**ds)) flat.insert(flat.end(), b.begin(), b.end());
    return flat;
  };
  auto a = run(5);
  ASSERT_EQ(a.size(), 120u);
  std::vector<std::vector<int64_t>> epochs;
  for (int e = 0; e < 3; ++e) {
    std::vector<int64_t> ep(a.begin() + 40 * e, a.begin() + 40 * (e + 1));
    epochs.push_back(ep);
    std::sort(ep.begin(), ep.end());
    for (int i = 0; i < 40; ++i) ASSERT_EQ(ep[i], i);
  }
  EXPECT_NE(epochs[0], epochs[1]);  // reshuffled each epoch
  EXPECT_NE(epochs[1], epochs[2]);
  std::vector<int64_t> ordered(40);
  for (int i = 0; i < 40; ++i) ordered[i] = i;
  EXPECT_NE(epochs[0], ordered);
  EXPECT_EQ(run(5), a);
  EXPECT_NE(run(6), a);
}

TEST(ArrayDatasetTest, ForeverKeepsGoing) {
  auto ds = NewArrayDataset(ArrayColumns(3), {.batch = {.batch_size = 2}, .epochs = -1});
  ASSERT_TRUE(ds.ok());
  auto items = ArrayBatchItems(**ds, 100);
  EXPECT_EQ(items.size(), 100u);
  EXPECT_THAT(items[98], ElementsAre(0, 1));  // epoch 49 starts at batch 98
}

TEST(ArrayDatasetTest, RejectsBadColumnsAndOptions) {
  EXPECT_EQ(NewArrayDataset({}, {}).status().message(), "array dataset has no columns");
  auto cols = ArrayColumns(4);
  cols.emplace("short", *Array::Zeros(DType::kFloat32, {3, 5}));
  EXPECT_EQ(NewArrayDataset(std::move(cols), {}).status().message(),
            "array dataset column short has 3 items but column image has 4");
  cols = ArrayColumns(4);
  cols.emplace("scalar", *Array::Zeros(DType::kFloat32, {}));
  EXPECT_THAT(NewArrayDataset(std::move(cols), {}).status().message(), HasSubstr("scalar"));
  EXPECT_EQ(NewArrayDataset(ArrayColumns(2), {.batch = {.batch_size = 0}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(NewArrayDataset(ArrayColumns(2), {.batch = {}, .epochs = -3}).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgepipe::data
