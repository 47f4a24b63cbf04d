// Input pipelines for training and evaluation, in the manner of tf.data:
//
//   records (RecordSource) -> ShuffleRecords -> RepeatRecords
//       -> NewExampleDataset (batch + parse by FeatureSpec) -> Dataset of Batches
//   Arrays in memory -> NewArrayDataset -> Dataset of Batches
//
// Everything is pull-based and single-threaded: a stage pulls from the stage
// before it when its Next() is called. Given the same seeds and inputs, every
// pipeline yields the same sequence on every platform (the shuffles use their
// own generator, not <random>'s distributions).
//
// Ownership: each stage owns the stage before it (std::unique_ptr).
// Thread safety: none; use a pipeline from one thread at a time.
#ifndef EDGEPIPE_DATA_DATASET_H_
#define EDGEPIPE_DATA_DATASET_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/feature_spec.h"

namespace edgepipe::data {

// A stream of serialized records (e.g. the payloads of TFRecord files).
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  // Stores the next record in *record and returns true, or returns false at
  // the end of the stream (then keeps returning false until Reset()).
  virtual Result<bool> Next(std::string* record) = 0;
  // Restarts the stream from its first record (the next epoch).
  virtual Status Reset() = 0;
};

// Records held in memory, yielded in order. The vector is shared, so many
// sources over one data set cost no copies.
class MemoryRecordSource final : public RecordSource {
 public:
  explicit MemoryRecordSource(std::vector<std::string> records);
  explicit MemoryRecordSource(std::shared_ptr<const std::vector<std::string>> records);
  Result<bool> Next(std::string* record) override;
  Status Reset() override;

 private:
  std::shared_ptr<const std::vector<std::string>> records_;
  size_t pos_ = 0;
};

// A shuffle buffer as tf.data's Dataset.shuffle: holds up to `buffer_size`
// records and yields a uniformly chosen one, refilling from `input`. A
// buffer of 1 keeps the input order; a buffer at least the data set size
// gives a uniform permutation. The order is a function of `seed` and the
// epoch: each Reset() starts a new epoch whose seed is derived from `seed`
// and the epoch number when `reshuffle_each_iteration` (tf.data's default),
// else every epoch repeats the first one's order. Memory: up to buffer_size
// records. InvalidArgument when buffer_size is 0.
Result<std::unique_ptr<RecordSource>> ShuffleRecords(std::unique_ptr<RecordSource> input,
                                                     size_t buffer_size, uint64_t seed,
                                                     bool reshuffle_each_iteration = true);

// Yields `input` `count` times (Reset() between passes), or forever when
// count is -1. A pass over an empty input ends the stream even when repeating
// forever (as tf.data does). InvalidArgument when count < -1.
Result<std::unique_ptr<RecordSource>> RepeatRecords(std::unique_ptr<RecordSource> input,
                                                    int64_t count);

// A stream of Batches.
class Dataset {
 public:
  virtual ~Dataset() = default;
  // The next batch, or std::nullopt at the end (and on every later call
  // until Reset()). An error leaves the dataset at an unspecified position.
  virtual Result<std::optional<Batch>> Next() = 0;
  // Restarts from the beginning; shuffling stages start a new epoch.
  virtual Status Reset() = 0;
};

struct BatchOptions {
  int64_t batch_size = 32;
  // Drop a final batch with fewer than batch_size records (otherwise it is
  // yielded as it is, with Batch::size < batch_size).
  bool drop_remainder = false;
};

// Groups `records` into batches and parses each by `specs` (ExampleParser).
// Parse errors name the record by its 0-based position in the stream seen
// here (after any shuffle/repeat). InvalidArgument for batch_size < 1 or bad
// specs.
Result<std::unique_ptr<Dataset>> NewExampleDataset(std::unique_ptr<RecordSource> records,
                                                   std::vector<FeatureSpec> specs,
                                                   const BatchOptions& options);

// Applies `fn` to every batch of `input` (e.g. scaling, one-hot labels); an
// error from `fn` is returned by Next().
std::unique_ptr<Dataset> MapBatches(std::unique_ptr<Dataset> input,
                                    std::function<Status(Batch*)> fn);

// Yields `input` `count` times (Reset() between passes), or forever when -1;
// stops after a pass that yields nothing. InvalidArgument when count < -1.
Result<std::unique_ptr<Dataset>> RepeatBatches(std::unique_ptr<Dataset> input, int64_t count);

// The usual training input in one call: shuffle (when shuffle_buffer > 0)
// -> repeat -> batch + parse. Batches may span epoch boundaries, as with
// tf.data's shuffle().repeat().batch().
struct ExampleDatasetOptions {
  BatchOptions batch;
  size_t shuffle_buffer = 0;  // 0: keep the input order
  uint64_t seed = 0;
  bool reshuffle_each_iteration = true;
  int64_t repeat = 1;  // -1: forever
};
Result<std::unique_ptr<Dataset>> MakeExampleDataset(std::unique_ptr<RecordSource> records,
                                                    std::vector<FeatureSpec> specs,
                                                    const ExampleDatasetOptions& options);

// Training on arrays held in memory. Every column has the same leading
// dimension (the item count) and becomes a Batch::arrays entry of shape
// [batch, ...rest] with the column's dtype. One epoch visits every item once:
// in order, or in a uniform random permutation (Fisher-Yates) when
// `shuffle`; epoch e uses a seed derived from `seed` and e. Batches do not
// span epochs (each epoch ends with its own remainder batch unless
// drop_remainder). `epochs` passes are made, -1 = forever.
struct ArrayDatasetOptions {
  BatchOptions batch;
  bool shuffle = false;
  uint64_t seed = 0;
  int64_t epochs = 1;
};
// InvalidArgument on no columns, a rank-0 column, differing item counts,
// batch_size < 1 or epochs < -1. The arrays are moved in (no copy).
Result<std::unique_ptr<Dataset>> NewArrayDataset(std::map<std::string, Array> columns,
                                                 const ArrayDatasetOptions& options);

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_DATASET_H_
