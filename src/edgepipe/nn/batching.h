// Batching of in-memory arrays for Fit / Evaluate / Predict.
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

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_BATCHING_H_
