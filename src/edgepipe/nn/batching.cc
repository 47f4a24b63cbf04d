#include "edgepipe/nn/batching.h"

#include <cstring>
#include <numeric>
#include <utility>

namespace edgepipe::nn {

BatchStream::BatchStream(int64_t n, int64_t batch, bool shuffle, uint64_t seed, bool full_batches)
    : n_(n),
      batch_(batch),
      shuffle_(shuffle),
      full_batches_(full_batches),
      rng_(seed),
      order_(static_cast<size_t>(n)) {
  std::iota(order_.begin(), order_.end(), 0);
  current_.reserve(static_cast<size_t>(batch));
  Shuffle();
}

void BatchStream::Shuffle() {
  if (!shuffle_) return;
  // Fisher-Yates with our own generator: identical on every platform.
  for (int64_t i = n_ - 1; i > 0; --i) {
    const int64_t j = static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(i + 1)));
    std::swap(order_[static_cast<size_t>(i)], order_[static_cast<size_t>(j)]);
  }
}

void BatchStream::StartEpoch() {
  if (pos_ != 0) Shuffle();
  pos_ = 0;
}

std::span<const int64_t> BatchStream::Next() {
  current_.clear();
  if (full_batches_) {
    while (static_cast<int64_t>(current_.size()) < batch_) {
      if (pos_ == n_) {
        Shuffle();
        pos_ = 0;
      }
      current_.push_back(order_[static_cast<size_t>(pos_++)]);
    }
  } else {
    while (static_cast<int64_t>(current_.size()) < batch_ && pos_ < n_) {
      current_.push_back(order_[static_cast<size_t>(pos_++)]);
    }
  }
  return current_;
}

namespace {
template <typename T>
void ConvertRows(const Array& a, std::span<const int64_t> idx, int64_t row, float* out) {
  const T* src = a.data<T>().data();
  for (size_t i = 0; i < idx.size(); ++i) {
    const T* r = src + idx[i] * row;
    float* o = out + static_cast<int64_t>(i) * row;
    for (int64_t j = 0; j < row; ++j) o[j] = static_cast<float>(r[j]);
  }
}
}  // namespace

Tensor GatherFeatures(const Array& a, std::span<const int64_t> idx) {
  Shape shape = a.shape();
  shape[0] = static_cast<int64_t>(idx.size());
  Tensor t = Tensor::Empty(shape);
  const int64_t row = a.dim(0) == 0 ? 0 : a.num_elements() / a.dim(0);
  switch (a.dtype()) {
    case DType::kFloat32: {
      const float* src = a.data<float>().data();
      for (size_t i = 0; i < idx.size(); ++i) {
        std::memcpy(t.data() + static_cast<int64_t>(i) * row, src + idx[i] * row,
                    static_cast<size_t>(row) * sizeof(float));
      }
      break;
    }
    case DType::kUInt8:
      ConvertRows<uint8_t>(a, idx, row, t.data());
      break;
    case DType::kInt8:
      ConvertRows<int8_t>(a, idx, row, t.data());
      break;
    case DType::kInt32:
      ConvertRows<int32_t>(a, idx, row, t.data());
      break;
    case DType::kInt64:
      ConvertRows<int64_t>(a, idx, row, t.data());
      break;
    case DType::kBool:
      ConvertRows<bool>(a, idx, row, t.data());
      break;
  }
  return t;
}

Array GatherRows(const Array& a, std::span<const int64_t> idx) {
  std::vector<int64_t> shape = a.shape();
  shape[0] = static_cast<int64_t>(idx.size());
  Result<Array> out = Array::Zeros(a.dtype(), shape);
  if (!out.ok()) throw std::bad_alloc();  // a subset of an existing array
  const size_t row_bytes = a.dim(0) == 0 ? 0 : a.num_bytes() / static_cast<size_t>(a.dim(0));
  const char* src = static_cast<const char*>(a.raw_data());
  char* dst = static_cast<char*>(out->raw_data());
  for (size_t i = 0; i < idx.size(); ++i) {
    std::memcpy(dst + i * row_bytes, src + static_cast<size_t>(idx[i]) * row_bytes, row_bytes);
  }
  return std::move(out).value();
}

ArrayFeed::ArrayFeed(std::vector<const Array*> xs, const Array* y, int64_t batch, bool shuffle,
                     uint64_t seed, bool endless)
    : xs_(std::move(xs)),
      y_(y),
      endless_(endless),
      stream_(xs_.at(0)->dim(0), batch, shuffle, seed, endless) {}

Status ArrayFeed::Restart() {
  stream_.StartEpoch();
  served_ = 0;
  return Status::Ok();
}

int64_t ArrayFeed::BatchesPerPass() const { return endless_ ? -1 : stream_.BatchesPerEpoch(); }

Result<bool> ArrayFeed::Next(FeedBatch* batch) {
  if (!endless_ && served_ == stream_.BatchesPerEpoch()) return false;
  ++served_;
  std::span<const int64_t> idx = stream_.Next();
  batch->inputs.resize(xs_.size());
  for (size_t k = 0; k < xs_.size(); ++k) batch->inputs[k] = GatherFeatures(*xs_[k], idx);
  batch->labels = y_ != nullptr ? GatherRows(*y_, idx) : Array();
  batch->size = static_cast<int64_t>(idx.size());
  batch->first_example = -1;
  return true;
}

}  // namespace edgepipe::nn
