#include "edgepipe/data/dataset.h"

#include <cstring>
#include <numeric>
#include <utility>

namespace edgepipe::data {
namespace {

// SplitMix64 step: used to expand seeds (Steele, Lea, Flood 2014).
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// The seed of epoch `epoch` of a stage seeded with `seed`.
uint64_t EpochSeed(uint64_t seed, uint64_t epoch) {
  uint64_t s = seed;
  const uint64_t a = SplitMix64(&s);
  uint64_t t = a ^ (epoch * 0xD1B54A32D192ED03ull);
  return SplitMix64(&t);
}

// xoshiro256** (Blackman, Vigna): small, fast and identical everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) { Seed(seed); }
  void Seed(uint64_t seed) {
    for (uint64_t& w : s_) w = SplitMix64(&seed);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n), n > 0, without modulo bias: draws below 2^64 mod n
  // are rejected so that every residue is equally likely.
  uint64_t Below(uint64_t n) {
    const uint64_t threshold = (0 - n) % n;
    while (true) {
      const uint64_t r = Next();
      if (r >= threshold) return r % n;
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

class ShuffleSource final : public RecordSource {
 public:
  ShuffleSource(std::unique_ptr<RecordSource> input, size_t buffer_size, uint64_t seed,
                bool reshuffle)
      : input_(std::move(input)),
        buffer_size_(buffer_size),
        seed_(seed),
        reshuffle_(reshuffle),
        rng_(EpochSeed(seed, 0)) {}

  Result<bool> Next(std::string* record) override {
    while (!input_done_ && buffer_.size() < buffer_size_) {
      std::string r;
      ASSIGN_OR_RETURN(bool ok, input_->Next(&r));
      if (!ok) {
        input_done_ = true;
        break;
      }
      buffer_.push_back(std::move(r));
    }
    if (buffer_.empty()) return false;
    const size_t i = static_cast<size_t>(rng_.Below(buffer_.size()));
    std::swap(*record, buffer_[i]);
    // Keep the buffer dense: the last record takes the freed slot.
    if (i + 1 != buffer_.size()) buffer_[i] = std::move(buffer_.back());
    buffer_.pop_back();
    return true;
  }

  Status Reset() override {
    RETURN_IF_ERROR(input_->Reset());
    buffer_.clear();
    input_done_ = false;
    ++epoch_;
    rng_.Seed(EpochSeed(seed_, reshuffle_ ? epoch_ : 0));
    return Status::Ok();
  }

 private:
  std::unique_ptr<RecordSource> input_;
  size_t buffer_size_;
  uint64_t seed_;
  bool reshuffle_;
  uint64_t epoch_ = 0;
  Rng rng_;
  std::vector<std::string> buffer_;
  bool input_done_ = false;
};

// The pass counting shared by RepeatSource and RepeatDataset: drives `pull`
// (true when it produced an item) over `count` passes (-1 = forever), calling
// `reset` between passes. An empty pass ends the repetition, or "forever"
// over an empty input would spin.
class RepeatPasses {
 public:
  explicit RepeatPasses(int64_t count) : count_(count) {}

  template <typename Pull, typename ResetFn>
  Result<bool> Next(Pull pull, ResetFn reset) {
    while (!done_ && count_ != 0) {
      ASSIGN_OR_RETURN(bool got, pull());
      if (got) {
        produced_in_pass_ = true;
        return true;
      }
      ++passes_;
      if ((count_ >= 0 && passes_ >= count_) || !produced_in_pass_) break;
      produced_in_pass_ = false;
      RETURN_IF_ERROR(reset());
    }
    done_ = true;
    return false;
  }
  void Restart() {
    passes_ = 0;
    produced_in_pass_ = false;
    done_ = false;
  }

 private:
  int64_t count_;
  int64_t passes_ = 0;
  bool produced_in_pass_ = false;
  bool done_ = false;
};

class RepeatSource final : public RecordSource {
 public:
  RepeatSource(std::unique_ptr<RecordSource> input, int64_t count)
      : input_(std::move(input)), passes_(count) {}

  Result<bool> Next(std::string* record) override {
    return passes_.Next([&] { return input_->Next(record); }, [&] { return input_->Reset(); });
  }
  Status Reset() override {
    RETURN_IF_ERROR(input_->Reset());
    passes_.Restart();
    return Status::Ok();
  }

 private:
  std::unique_ptr<RecordSource> input_;
  RepeatPasses passes_;
};

class ExampleDataset final : public Dataset {
 public:
  ExampleDataset(std::unique_ptr<RecordSource> records, ExampleParser parser, BatchOptions options)
      : records_(std::move(records)),
        parser_(std::move(parser)),
        options_(options),
        pending_(static_cast<size_t>(options.batch_size)) {}

  Result<std::optional<Batch>> Next() override {
    if (done_) return std::optional<Batch>();
    size_t n = 0;
    while (n < pending_.size()) {
      ASSIGN_OR_RETURN(bool ok, records_->Next(&pending_[n]));
      if (!ok) {
        done_ = true;
        break;
      }
      ++n;
    }
    if (n == 0 || (n < pending_.size() && options_.drop_remainder)) {
      return std::optional<Batch>();
    }
    const int64_t first = position_;
    position_ += static_cast<int64_t>(n);
    ASSIGN_OR_RETURN(Batch b,
                     parser_.Parse(std::span<const std::string>(pending_.data(), n), first));
    return std::optional<Batch>(std::move(b));
  }

  Status Reset() override {
    RETURN_IF_ERROR(records_->Reset());
    done_ = false;
    position_ = 0;
    return Status::Ok();
  }

 private:
  std::unique_ptr<RecordSource> records_;
  ExampleParser parser_;
  BatchOptions options_;
  std::vector<std::string> pending_;  // reused: keeps record capacity
  int64_t position_ = 0;
  bool done_ = false;
};

class MapDataset final : public Dataset {
 public:
  MapDataset(std::unique_ptr<Dataset> input, std::function<Status(Batch*)> fn)
      : input_(std::move(input)), fn_(std::move(fn)) {}
  Result<std::optional<Batch>> Next() override {
    ASSIGN_OR_RETURN(std::optional<Batch> b, input_->Next());
    if (b.has_value()) RETURN_IF_ERROR(fn_(&*b));
    return b;
  }
  Status Reset() override { return input_->Reset(); }

 private:
  std::unique_ptr<Dataset> input_;
  std::function<Status(Batch*)> fn_;
};

class RepeatDataset final : public Dataset {
 public:
  RepeatDataset(std::unique_ptr<Dataset> input, int64_t count)
      : input_(std::move(input)), passes_(count) {}
  Result<std::optional<Batch>> Next() override {
    std::optional<Batch> batch;
    auto pull = [&]() -> Result<bool> {
      ASSIGN_OR_RETURN(batch, input_->Next());
      return batch.has_value();
    };
    ASSIGN_OR_RETURN(bool got, passes_.Next(pull, [&] { return input_->Reset(); }));
    if (!got) return std::optional<Batch>();
    return batch;
  }
  Status Reset() override {
    RETURN_IF_ERROR(input_->Reset());
    passes_.Restart();
    return Status::Ok();
  }

 private:
  std::unique_ptr<Dataset> input_;
  RepeatPasses passes_;
};

class ArrayDataset final : public Dataset {
 public:
  ArrayDataset(std::map<std::string, Array> columns, int64_t items, ArrayDatasetOptions options)
      : columns_(std::move(columns)), items_(items), options_(options), order_(items) {
    StartEpoch();
  }

  Result<std::optional<Batch>> Next() override {
    const int64_t bs = options_.batch.batch_size;
    // An epoch that yields nothing would make "forever" spin.
    if (items_ == 0 || (items_ < bs && options_.batch.drop_remainder)) {
      return std::optional<Batch>();
    }
    while (true) {
      if (options_.epochs >= 0 && epochs_done_ >= options_.epochs) return std::optional<Batch>();
      const int64_t left = items_ - cursor_;
      if (left >= bs || (left > 0 && !options_.batch.drop_remainder)) break;
      ++epochs_done_;  // end of an epoch
      StartEpoch();
    }
    const int64_t n = std::min(options_.batch.batch_size, items_ - cursor_);
    Batch b;
    b.size = n;
    for (const auto& [name, col] : columns_) {
      std::vector<int64_t> shape = col.shape();
      shape[0] = n;
      ASSIGN_OR_RETURN(Array out, Array::Zeros(col.dtype(), std::move(shape)));
      const size_t row_bytes = items_ == 0 ? 0 : col.num_bytes() / static_cast<size_t>(items_);
      const char* src = static_cast<const char*>(col.raw_data());
      char* dst = static_cast<char*>(out.raw_data());
      for (int64_t j = 0; j < n; ++j) {
        const auto item = static_cast<size_t>(order_[static_cast<size_t>(cursor_ + j)]);
        std::memcpy(dst + static_cast<size_t>(j) * row_bytes, src + item * row_bytes, row_bytes);
      }
      b.arrays.emplace(name, std::move(out));
    }
    cursor_ += n;
    return std::optional<Batch>(std::move(b));
  }

  Status Reset() override {
    epochs_done_ = 0;
    StartEpoch();
    return Status::Ok();
  }

 private:
  void StartEpoch() {
    std::iota(order_.begin(), order_.end(), int64_t{0});
    if (options_.shuffle) {
      Rng rng(EpochSeed(options_.seed, epoch_counter_));
      for (size_t i = order_.size(); i > 1; --i) {  // Fisher-Yates
        std::swap(order_[i - 1], order_[static_cast<size_t>(rng.Below(i))]);
      }
    }
    ++epoch_counter_;
    cursor_ = 0;
  }

  std::map<std::string, Array> columns_;
  int64_t items_;
  ArrayDatasetOptions options_;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;
  int64_t epochs_done_ = 0;
  uint64_t epoch_counter_ = 0;  // never reset: Reset() reshuffles
};

}  // namespace

MemoryRecordSource::MemoryRecordSource(std::vector<std::string> records)
    : records_(std::make_shared<const std::vector<std::string>>(std::move(records))) {}
MemoryRecordSource::MemoryRecordSource(std::shared_ptr<const std::vector<std::string>> records)
    : records_(std::move(records)) {}

Result<bool> MemoryRecordSource::Next(std::string* record) {
  if (records_ == nullptr || pos_ >= records_->size()) return false;
  record->assign((*records_)[pos_++]);
  return true;
}

Status MemoryRecordSource::Reset() {
  pos_ = 0;
  return Status::Ok();
}

Result<std::unique_ptr<RecordSource>> ShuffleRecords(std::unique_ptr<RecordSource> input,
                                                     size_t buffer_size, uint64_t seed,
                                                     bool reshuffle_each_iteration) {
  if (buffer_size == 0) {
    return Status::InvalidArgument("shuffle buffer_size is 0, must be at least 1");
  }
  return std::unique_ptr<RecordSource>(
      new ShuffleSource(std::move(input), buffer_size, seed, reshuffle_each_iteration));
}

Result<std::unique_ptr<RecordSource>> RepeatRecords(std::unique_ptr<RecordSource> input,
                                                    int64_t count) {
  if (count < -1) {
    return Status::InvalidArgument("repeat count " + std::to_string(count) +
                                   " is invalid, must be -1 (forever) or >= 0");
  }
  return std::unique_ptr<RecordSource>(new RepeatSource(std::move(input), count));
}

Result<std::unique_ptr<Dataset>> NewExampleDataset(std::unique_ptr<RecordSource> records,
                                                   std::vector<FeatureSpec> specs,
                                                   const BatchOptions& options) {
  if (options.batch_size < 1) {
    return Status::InvalidArgument("batch_size " + std::to_string(options.batch_size) +
                                   " must be at least 1");
  }
  ASSIGN_OR_RETURN(ExampleParser parser, ExampleParser::Create(std::move(specs)));
  return std::unique_ptr<Dataset>(
      new ExampleDataset(std::move(records), std::move(parser), options));
}

std::unique_ptr<Dataset> MapBatches(std::unique_ptr<Dataset> input,
                                    std::function<Status(Batch*)> fn) {
  return std::make_unique<MapDataset>(std::move(input), std::move(fn));
}

Result<std::unique_ptr<Dataset>> RepeatBatches(std::unique_ptr<Dataset> input, int64_t count) {
  if (count < -1) {
    return Status::InvalidArgument("repeat count " + std::to_string(count) +
                                   " is invalid, must be -1 (forever) or >= 0");
  }
  return std::unique_ptr<Dataset>(new RepeatDataset(std::move(input), count));
}

Result<std::unique_ptr<Dataset>> MakeExampleDataset(std::unique_ptr<RecordSource> records,
                                                    std::vector<FeatureSpec> specs,
                                                    const ExampleDatasetOptions& options) {
  if (options.shuffle_buffer > 0) {
    ASSIGN_OR_RETURN(records, ShuffleRecords(std::move(records), options.shuffle_buffer,
                                             options.seed, options.reshuffle_each_iteration));
  }
  if (options.repeat != 1) {
    ASSIGN_OR_RETURN(records, RepeatRecords(std::move(records), options.repeat));
  }
  return NewExampleDataset(std::move(records), std::move(specs), options.batch);
}

Result<std::unique_ptr<Dataset>> NewArrayDataset(std::map<std::string, Array> columns,
                                                 const ArrayDatasetOptions& options) {
  if (columns.empty()) return Status::InvalidArgument("array dataset has no columns");
  if (options.batch.batch_size < 1) {
    return Status::InvalidArgument("batch_size " + std::to_string(options.batch.batch_size) +
                                   " must be at least 1");
  }
  if (options.epochs < -1) {
    return Status::InvalidArgument("epochs " + std::to_string(options.epochs) +
                                   " is invalid, must be -1 (forever) or >= 0");
  }
  int64_t items = -1;
  std::string first;
  for (const auto& [name, col] : columns) {
    if (col.rank() == 0) {
      return Status::InvalidArgument("array dataset column " + name +
                                     " is a scalar, needs a leading item dimension");
    }
    if (items < 0) {
      items = col.dim(0);
      first = name;
    } else if (col.dim(0) != items) {
      return Status::InvalidArgument("array dataset column " + name + " has " +
                                     std::to_string(col.dim(0)) + " items but column " + first +
                                     " has " + std::to_string(items));
    }
  }
  return std::unique_ptr<Dataset>(new ArrayDataset(std::move(columns), items, options));
}

}  // namespace edgepipe::data
