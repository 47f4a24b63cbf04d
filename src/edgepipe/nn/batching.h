// Batches for Model's Fit / Evaluate / Predict loops.
//
// BatchFeed is what the loops consume: model inputs (in the model's input
// order) and labels, batch by batch, pass by pass. Two feeds exist: ArrayFeed
// (here) over in-memory arrays, and DatasetFeed (dataset_feed.h) over a
// data::Dataset. The loops are written once against BatchFeed.
//
// BatchStream yields example indices batch by batch: per epoch (the last
// batch may be short), or as an endless stream of full batches that
// reshuffles whenever it wraps. GatherFeatures / GatherRows copy the chosen
// rows into a fresh float32 Tensor / same-dtype Array.
//
// Not thread-safe.
#ifndef EDGEPIPE_NN_BATCHING_H_
#define EDGEPIPE_NN_BATCHING_H_

#include <cstdint>
#include <span>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/nn/random.h"
#include "edgepipe/nn/tensor.h"

namespace edgepipe::nn {

class BatchStream {
 public:
  // n > 0 examples, batch > 0.
  BatchStream(int64_t n, int64_t batch, bool shuffle, uint64_t seed, bool full_batches);
  int64_t BatchesPerEpoch() const { return (n_ + batch_ - 1) / batch_; }
  // Restarts at the beginning of a (re)shuffled order.
  void StartEpoch();
  // The next batch's indices; valid until the next call.
  std::span<const int64_t> Next();

 private:
  void Shuffle();
  int64_t n_, batch_;
  bool shuffle_, full_batches_;
  Rng rng_;
  std::vector<int64_t> order_, current_;
  int64_t pos_ = 0;
};

// Rows idx of `a` (any numeric dtype) as float32 [idx.size(), ...].
Tensor GatherFeatures(const Array& a, std::span<const int64_t> idx);
// Rows idx of `a`, same dtype.
Array GatherRows(const Array& a, std::span<const int64_t> idx);

// One batch as the loops consume it.
struct FeedBatch {
  // float32, one per model input in the model's input order, [size, ...].
  std::vector<Tensor> inputs;
  // [size, ...] in the feed's dtype; empty (no elements) for a feed without labels.
  Array labels;
  int64_t size = 0;
  // -1 when the feed validated all labels up front; otherwise the 0-based
  // position of this batch's first example in the current pass, so that the
  // loop checks the labels and names a bad one by its position.
  int64_t first_example = -1;
};

// A source of FeedBatches. Not thread-safe.
class BatchFeed {
 public:
  virtual ~BatchFeed() = default;
  // Starts a pass from the beginning (shuffling feeds reshuffle, except
  // before the very first batch).
  virtual Status Restart() = 0;
  // Batches in one pass, or -1 when unknown or endless (progress display).
  virtual int64_t BatchesPerPass() const = 0;
  // Stores the next batch in *batch; false at the end of a pass.
  virtual Result<bool> Next(FeedBatch* batch) = 0;
};

// Rows of in-memory arrays. `xs` (one per model input, all with the same
// leading dim n > 0) and `y` (labels, or null) are borrowed and must outlive
// the feed; shapes are the caller's to check. With `endless`, a pass never
// ends and every batch is full (BatchStream's full_batches).
class ArrayFeed final : public BatchFeed {
 public:
  ArrayFeed(std::vector<const Array*> xs, const Array* y, int64_t batch, bool shuffle,
            uint64_t seed, bool endless);
  Status Restart() override;
  int64_t BatchesPerPass() const override;
  Result<bool> Next(FeedBatch* batch) override;

 private:
  std::vector<const Array*> xs_;
  const Array* y_;
  bool endless_;
  BatchStream stream_;
  int64_t served_ = 0;  // batches of the current pass
};

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_BATCHING_H_
