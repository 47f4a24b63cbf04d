// MakeInputDataset / NewTFRecordSource: shards matched by pattern, shuffled,
// repeated and parsed; files re-read on Reset; errors for patterns, labels
// and broken files; and a model trained from TFRecord shards end to end.
#include "edgepipe/nn/dataset_input.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/data/example_util.h"
#include "edgepipe/data/test_env.h"
#include "edgepipe/data/tfrecord.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::nn {
namespace {

using data::FeatureSpec;
using ::testing::HasSubstr;

// Example i: v = {i, -i} (float), label = i (int64), name = "n<i>" (bytes).
std::string MakeRecord(int64_t i) {
  tf::Example ex;
  const float v[2] = {static_cast<float>(i), -static_cast<float>(i)};
  data::SetFloats(&ex, "v", v);
  data::SetInt64s(&ex, "label", std::span<const int64_t>(&i, 1));
  std::string name = std::to_string(i);
  name.insert(0, 1, 'n');
  data::SetBytes(&ex, "name", std::span<const std::string>(&name, 1));
  return data::SerializeDeterministic(ex);
}

// Writes examples [first, first + count) to `path` (gzip when it ends in .gz).
void WriteShard(const std::string& path, int64_t first, int64_t count) {
  auto w = data::TFRecordWriter::Open(path);
  ASSERT_TRUE(w.ok()) << w.status();
  for (int64_t i = first; i < first + count; ++i) ASSERT_TRUE((*w)->Write(MakeRecord(i)).ok());
  ASSERT_TRUE((*w)->Close().ok());
}

const std::vector<FeatureSpec> kSpecs = {FeatureSpec::Float32("v", {2}),
                                         FeatureSpec::Int64("label")};

// Labels of every batch until the end (at most `max_batches`); checks that
// v matches the label on every row.
std::vector<int64_t> Drain(data::Dataset& ds, int64_t max_batches = 1000) {
  std::vector<int64_t> labels;
  for (int64_t b = 0; b < max_batches; ++b) {
    auto batch = ds.Next();
    EXPECT_TRUE(batch.ok()) << batch.status();
    if (!batch.ok() || !batch->has_value()) break;
    const Array& l = *(*batch)->GetArray("label").value();
    const Array& v = *(*batch)->GetArray("v").value();
    EXPECT_EQ(v.shape(), (std::vector<int64_t>{(*batch)->size, 2}));
    for (int64_t r = 0; r < (*batch)->size; ++r) {
      const int64_t label = l.data<int64_t>()[static_cast<size_t>(r)];
      EXPECT_EQ(v.data<float>()[static_cast<size_t>(2 * r)], static_cast<float>(label));
      EXPECT_EQ(v.data<float>()[static_cast<size_t>(2 * r + 1)], -static_cast<float>(label));
      labels.push_back(label);
    }
  }
  return labels;
}

std::vector<int64_t> Iota(int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), 0);
  return out;
}

TEST(DatasetInputTest, ShufflesEveryPassOverAllShards) {
  TempDir tmp;
  WriteShard(tmp.Join("data-00000-of-00003.gz"), 0, 10);
  WriteShard(tmp.Join("data-00001-of-00003.gz"), 10, 10);
  WriteShard(tmp.Join("data-00002-of-00003"), 20, 5);  // plain, not gzip
  WriteShard(tmp.Join("other.gz"), 100, 3);            // not matched
  auto ds = MakeInputDataset({tmp.Join("data-*")}, kSpecs, "label",
                             {.batch_size = 4, .seed = 7, .num_epochs = 1});
  ASSERT_TRUE(ds.ok()) << ds.status();
  std::vector<int64_t> first = Drain(**ds);
  ASSERT_EQ(first.size(), 25u);
  EXPECT_NE(first, Iota(25));  // shuffled
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, Iota(25));  // a permutation: every record once
  // Reset re-reads the files; the new pass has its own order.
  ASSERT_TRUE((*ds)->Reset().ok());
  std::vector<int64_t> second = Drain(**ds);
  ASSERT_EQ(second.size(), 25u);
  EXPECT_NE(second, first);
  std::sort(second.begin(), second.end());
  EXPECT_EQ(second, Iota(25));
  // Equal seeds, equal streams.
  auto again = MakeInputDataset({tmp.Join("data-*")}, kSpecs, "label",
                                {.batch_size = 4, .seed = 7, .num_epochs = 1});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Drain(**again), first);
}

TEST(DatasetInputTest, OrderWithoutShuffleAndRepeatForever) {
  TempDir tmp;
  WriteShard(tmp.Join("b.gz"), 6, 4);
  WriteShard(tmp.Join("a.gz"), 0, 6);
  // Two patterns, the second overlapping the first: each file once, in
  // pattern order (sorted within a pattern).
  auto ds = MakeInputDataset({tmp.Join("a.gz"), tmp.Join("*.gz")}, kSpecs, "label",
                             {.batch_size = 3, .shuffle_buffer = 0});
  ASSERT_TRUE(ds.ok()) << ds.status();
  // Endless: 10 records per pass, batches span passes (as tf.data's
  // repeat().batch()).
  std::vector<int64_t> labels = Drain(**ds, 8);
  ASSERT_EQ(labels.size(), 24u);
  for (size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(labels[i], static_cast<int64_t>(i % 10));
}

TEST(DatasetInputTest, BadPatternsLabelsAndOptions) {
  TempDir tmp;
  WriteShard(tmp.Join("a.gz"), 0, 3);
  auto none = MakeInputDataset({tmp.Join("nothing-*")}, kSpecs, "label");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(none.status().message(), HasSubstr("nothing-*"));
  auto label = MakeInputDataset({tmp.Join("a.gz")}, kSpecs, "image_class");
  ASSERT_FALSE(label.ok());
  EXPECT_EQ(label.status().message(),
            "input dataset: label_key \"image_class\" is not among the feature specs (v, label)");
  EXPECT_EQ(MakeInputDataset({}, kSpecs, "label").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      MakeInputDataset({tmp.Join("a.gz")}, kSpecs, "label", {.batch_size = 0}).status().code(),
      StatusCode::kInvalidArgument);
  // A record whose v has 3 values does not parse: the error names the record.
  auto wrong_spec = MakeInputDataset({tmp.Join("a.gz")},
                                     {FeatureSpec::Float32("v", {3}), FeatureSpec::Int64("label")},
                                     "label", {.shuffle_buffer = 0});
  ASSERT_TRUE(wrong_spec.ok());
  auto b = (*wrong_spec)->Next();
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("record 0: feature v has 2 values, spec needs 3"));
}

TEST(DatasetInputTest, BrokenFilesAreDataLossOrIoErrorNamingTheFile) {
  TempDir tmp;
  WriteShard(tmp.Join("a"), 0, 5);
  auto bytes = ReadFileToString(tmp.Join("a"));
  ASSERT_TRUE(bytes.ok());
  std::string corrupt = *bytes;
  corrupt[corrupt.size() - 20] ^= 0x40;  // inside the last record's data
  ASSERT_TRUE(WriteFileAtomic(tmp.Join("a"), corrupt).ok());
  auto src = NewTFRecordSource({tmp.Join("a")});
  ASSERT_TRUE(src.ok()) << src.status();
  std::string record;
  Status error;
  for (int i = 0; i < 10 && error.ok(); ++i) {
    Result<bool> got = (*src)->Next(&record);
    if (!got.ok()) error = got.status();
  }
  EXPECT_EQ(error.code(), StatusCode::kDataLoss);
  EXPECT_THAT(error.message(), HasSubstr(tmp.Join("a") + ": record 4"));
  EXPECT_EQ(NewTFRecordSource({tmp.Join("missing")}).status().code(), StatusCode::kNotFound);

  WriteShard(tmp.Join("b"), 0, 50);
  data::testing::FailingReadEnv env(/*fail_after=*/1000);
  auto ds = MakeInputDataset({tmp.Join("b")}, kSpecs, "label", {.shuffle_buffer = 0, .env = &env});
  ASSERT_TRUE(ds.ok()) << ds.status();
  Status read_error;
  for (int i = 0; i < 100 && read_error.ok(); ++i) {
    auto batch = (*ds)->Next();
    if (!batch.ok()) read_error = batch.status();
  }
  EXPECT_EQ(read_error.code(), StatusCode::kIoError);
  EXPECT_THAT(read_error.message(), HasSubstr("injected read failure"));
}

TEST(DatasetInputTest, TrainsAModelFromTFRecordShards) {
  // Blobs as tf.Examples: "x" float [4], "y" int64 in {0, 1}.
  TempDir tmp;
  Rng rng(3);
  for (int shard = 0; shard < 2; ++shard) {
    auto w = data::TFRecordWriter::Open(tmp.Join(shard == 0 ? "train-0.gz" : "train-1.gz"));
    ASSERT_TRUE(w.ok());
    for (int i = 0; i < 200; ++i) {
      const int64_t label = static_cast<int64_t>(rng.Below(2));
      float x[4];
      for (int j = 0; j < 4; ++j) {
        x[j] = (label ? 1.0f : -1.0f) * (j % 2 ? 1.0f : -0.5f) + 0.7f * rng.Uniform(-1.5f, 1.5f);
      }
      tf::Example ex;
      data::SetFloats(&ex, "x", x);
      data::SetInt64s(&ex, "y", std::span<const int64_t>(&label, 1));
      ASSERT_TRUE((*w)->Write(data::SerializeDeterministic(ex)).ok());
    }
    ASSERT_TRUE((*w)->Close().ok());
  }
  const std::vector<FeatureSpec> specs = {FeatureSpec::Float32("x", {4}), FeatureSpec::Int64("y")};
  auto train = MakeInputDataset({tmp.Join("train-*")}, specs, "y", {.batch_size = 16, .seed = 1});
  ASSERT_TRUE(train.ok()) << train.status();
  auto eval = MakeInputDataset({tmp.Join("train-1.gz")}, specs, "y",
                               {.batch_size = 50, .shuffle_buffer = 0, .num_epochs = 1});
  ASSERT_TRUE(eval.ok()) << eval.status();
  Sequential m("blobs", 4);
  ASSERT_EQ(m.Add(layers::InputLayer({4}, "x")), Status::Ok());
  ASSERT_EQ(m.Add(layers::Dense(8, {.activation = "relu"})), Status::Ok());
  ASSERT_EQ(m.Add(layers::Dense(2)), Status::Ok());
  ASSERT_EQ(
      m.Compile(Adam(0.02f), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy()),
      Status::Ok());
  Result<History> h = m.Fit(
      **train, {.label_key = "y", .epochs = 2, .steps_per_epoch = 60, .validation = eval->get()});
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->steps, 120);
  EXPECT_GT(h->history.at("val_sparse_categorical_accuracy").back(), 0.9);
  Result<std::map<std::string, double>> e = m.Evaluate(**eval, "y");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->at("sparse_categorical_accuracy"),
            h->history.at("val_sparse_categorical_accuracy").back());
  // The label feature is also a float spec by mistake: the loss says so.
  auto float_label =
      MakeInputDataset({tmp.Join("train-*")},
                       {FeatureSpec::Float32("x", {4}), FeatureSpec::Int64("y"),
                        FeatureSpec::Float32("x2", {4}).WithDefault(std::vector<float>{0.0f})},
                       "x2", {.batch_size = 4});
  ASSERT_TRUE(float_label.ok()) << float_label.status();
  Result<History> bad = m.Fit(**float_label, {.label_key = "x2", .steps_per_epoch = 1});
  ASSERT_FALSE(bad.ok());
}

}  // namespace
}  // namespace edgepipe::nn
