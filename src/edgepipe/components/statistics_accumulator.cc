// StatisticsAccumulator (declared in statistics_gen.h): one-pass, mergeable
// per-feature statistics of tf.Examples.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edgepipe/components/statistics_gen.h"

namespace edgepipe::components {
namespace {

enum class Kind { kNone, kFloat, kInt, kBytes };

std::string_view KindName(Kind k) {
  switch (k) {
    case Kind::kFloat:
      return "float";
    case Kind::kInt:
      return "int64";
    case Kind::kBytes:
      return "bytes";
    case Kind::kNone:
      break;
  }
  return "empty";
}

// Equal-width fine bins of width 2^exp_ on a grid anchored at 0: value x is in
// bin floor(x / 2^exp_). When the used bins would span more than kMaxBins, the
// width doubles (pairs of bins merge) until they fit, so two grids merge
// exactly and the final width does not depend on the order of the values.
// Each bin keeps its count and the sum of its values.
class GridHistogram {
 public:
  struct Bin {
    uint64_t count = 0;
    double sum = 0;
  };
  static constexpr int64_t kMaxBins = 2048;

  // Precondition: x is finite.
  void Add(double x) {
    if (bins_.empty()) Init(x);
    int64_t i = IndexOf(x);
    if (i < base_ || i >= base_ + Size()) {
      Cover(i, i);
      i = IndexOf(x);
    }
    used_lo_ = std::min(used_lo_, i);
    used_hi_ = std::max(used_hi_, i);
    Bin& b = bins_[static_cast<size_t>(i - base_)];
    ++b.count;
    b.sum += x;
  }

  void Merge(const GridHistogram& o) {
    if (o.bins_.empty()) return;
    if (bins_.empty()) {
      *this = o;
      return;
    }
    GridHistogram other = o;
    if (other.exp_ < exp_) other.Coarsen(exp_ - other.exp_);
    if (exp_ < other.exp_) Coarsen(other.exp_ - exp_);
    Cover(other.used_lo_, other.used_hi_);  // may coarsen this grid further
    if (other.exp_ < exp_) other.Coarsen(exp_ - other.exp_);
    used_lo_ = std::min(used_lo_, other.used_lo_);
    used_hi_ = std::max(used_hi_, other.used_hi_);
    for (int64_t i = other.used_lo_; i <= other.used_hi_; ++i) {
      const Bin& from = other.bins_[static_cast<size_t>(i - other.base_)];
      if (from.count == 0) continue;
      Bin& to = bins_[static_cast<size_t>(i - base_)];
      to.count += from.count;
      to.sum += from.sum;
    }
  }

  // Non-empty bins in increasing order, as (mean, count).
  std::vector<std::pair<double, uint64_t>> Means() const {
    std::vector<std::pair<double, uint64_t>> out;
    for (const Bin& b : bins_) {
      if (b.count > 0) out.emplace_back(b.sum / static_cast<double>(b.count), b.count);
    }
    return out;
  }

 private:
  int64_t Size() const { return static_cast<int64_t>(bins_.size()); }

  void Init(double x) {
    // Start fine (2^-40 of |x|); coarsened as the values spread. The floor
    // of -1000 keeps 2^-exp_ finite.
    SetExp(x == 0 ? -1000 : std::max(-1000, std::ilogb(x) - 40));
    base_ = used_lo_ = used_hi_ = Floor(x);
    bins_.assign(1, Bin{});
  }

  void SetExp(int e) {
    exp_ = e;
    scale_ = std::ldexp(1.0, -e);
  }

  // floor(x / 2^exp_), inline (std::floor may be a libm call).
  int64_t Floor(double x) const {
    double d = x * scale_;
    auto i = static_cast<int64_t>(d);
    return i - (static_cast<double>(i) > d ? 1 : 0);
  }

  // Coarsens first when |x| / 2^exp_ would not stay below 2^61.
  int64_t IndexOf(double x) {
    if (!(std::fabs(x * scale_) < 0x1p61)) Coarsen(std::ilogb(x) - exp_ - 60);
    return Floor(x);
  }

  // floor(v / 2^s) for any s >= 0.
  static int64_t Shr(int64_t v, int s) { return s >= 63 ? (v < 0 ? -1 : 0) : v >> s; }

  // Doubles the bin width `shift` times.
  void Coarsen(int shift) {
    if (shift <= 0) return;
    SetExp(exp_ + shift);
    if (bins_.empty()) return;
    int64_t new_lo = Shr(used_lo_, shift);
    int64_t new_hi = Shr(used_hi_, shift);
    std::vector<Bin> nb(static_cast<size_t>(new_hi - new_lo + 1));
    for (int64_t i = used_lo_; i <= used_hi_; ++i) {
      const Bin& b = bins_[static_cast<size_t>(i - base_)];
      Bin& to = nb[static_cast<size_t>(Shr(i, shift) - new_lo)];
      to.count += b.count;
      to.sum += b.sum;
    }
    bins_ = std::move(nb);
    base_ = used_lo_ = new_lo;
    used_hi_ = new_hi;
  }

  // Makes the bins cover indices [lo, hi], coarsening when the used range
  // would exceed kMaxBins. New room gets slack in the direction of growth
  // (as much again, within kMaxBins) so that growth is amortized.
  void Cover(int64_t lo, int64_t hi) {
    int64_t ulo = std::min(lo, used_lo_), uhi = std::max(hi, used_hi_);
    int shift = 0;
    while (Shr(uhi, shift) - Shr(ulo, shift) + 1 > kMaxBins) ++shift;
    if (shift > 0) {
      Coarsen(shift);
      lo = Shr(lo, shift);
      hi = Shr(hi, shift);
      ulo = std::min(lo, used_lo_);
      uhi = std::max(hi, used_hi_);
    }
    if (lo >= base_ && hi < base_ + Size()) return;
    int64_t span = uhi - ulo + 1;
    int64_t slack = std::min(span, kMaxBins - span);
    int64_t new_lo = ulo, new_hi = uhi;
    if (lo < base_) {
      new_lo -= slack;
    } else {
      new_hi += slack;
    }
    std::vector<Bin> nb(static_cast<size_t>(new_hi - new_lo + 1));
    for (int64_t i = used_lo_; i <= used_hi_; ++i) {
      nb[static_cast<size_t>(i - new_lo)] = bins_[static_cast<size_t>(i - base_)];
    }
    bins_ = std::move(nb);
    base_ = new_lo;
  }

  int exp_ = 0;
  double scale_ = 1;     // 2^-exp_
  int64_t base_ = 0;     // index of bins_[0]
  int64_t used_lo_ = 0;  // lowest and highest index that may hold values
  int64_t used_hi_ = 0;
  std::vector<Bin> bins_;
};

struct NumericAcc {
  uint64_t num_nan = 0;
  uint64_t num_pos_inf = 0;
  uint64_t num_neg_inf = 0;
  uint64_t num_zeros = 0;
  uint64_t n = 0;  // finite values
  double shift = 0;
  double s1 = 0;  // sum of (x - shift) over finite values
  double s2 = 0;  // sum of (x - shift)^2
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  GridHistogram grid;

  void Add(double x) {
    if (std::isnan(x)) {
      ++num_nan;
      return;
    }
    if (x == 0) ++num_zeros;
    if (std::isinf(x)) {
      ++(x > 0 ? num_pos_inf : num_neg_inf);
      return;
    }
    if (n == 0) shift = x;
    ++n;
    double y = x - shift;
    s1 += y;
    s2 += y * y;
    min = std::min(min, x);
    max = std::max(max, x);
    grid.Add(x);
  }

  // As Add() for each value; the sums live in locals so that they stay in
  // registers across the histogram's stores.
  template <typename T>
  void AddAll(const google::protobuf::RepeatedField<T>& values) {
    if (n == 0) {
      for (T v : values) {
        if (std::isfinite(static_cast<double>(v))) {
          shift = static_cast<double>(v);
          break;
        }
      }
    }
    uint64_t zeros = 0, count = 0;
    double sum1 = 0, sum2 = 0, lo = min, hi = max;
    const double k = shift;
    for (T v : values) {
      double x = static_cast<double>(v);
      if (!std::isfinite(x)) {
        Add(x);  // NaN or infinity: counted apart
        continue;
      }
      zeros += x == 0 ? 1 : 0;
      ++count;
      double y = x - k;
      sum1 += y;
      sum2 += y * y;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
      grid.Add(x);
    }
    num_zeros += zeros;
    n += count;
    s1 += sum1;
    s2 += sum2;
    min = lo;
    max = hi;
  }

  void Merge(const NumericAcc& o) {
    num_nan += o.num_nan;
    num_pos_inf += o.num_pos_inf;
    num_neg_inf += o.num_neg_inf;
    num_zeros += o.num_zeros;
    if (o.n > 0) {
      if (n == 0) shift = o.shift;
      // Re-express o's sums around this shift: x - shift = y + d.
      double d = o.shift - shift;
      double on = static_cast<double>(o.n);
      s2 += o.s2 + 2 * d * o.s1 + on * d * d;
      s1 += o.s1 + on * d;
      n += o.n;
      min = std::min(min, o.min);
      max = std::max(max, o.max);
    }
    grid.Merge(o.grid);
  }
};

// Heterogeneous lookup by string_view, so a value is copied only when new.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    int len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + static_cast<size_t>(len) > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xc0) != 0x80) return false;
    }
    i += static_cast<size_t>(len);
  }
  return true;
}

struct BytesAcc {
  std::unordered_map<std::string, uint64_t, StringHash, std::equal_to<>> counts;
  uint64_t total_bytes = 0;
  uint64_t min_bytes = std::numeric_limits<uint64_t>::max();
  uint64_t max_bytes = 0;
  bool all_utf8 = true;

  void Add(std::string_view v) {
    auto it = counts.find(v);
    if (it == counts.end()) {
      counts.emplace(std::string(v), 1);
      if (all_utf8 && !IsUtf8(v)) all_utf8 = false;
    } else {
      ++it->second;
    }
    total_bytes += v.size();
    min_bytes = std::min<uint64_t>(min_bytes, v.size());
    max_bytes = std::max<uint64_t>(max_bytes, v.size());
  }

  void Merge(const BytesAcc& o) {
    for (const auto& [v, c] : o.counts) counts[v] += c;
    total_bytes += o.total_bytes;
    min_bytes = std::min(min_bytes, o.min_bytes);
    max_bytes = std::max(max_bytes, o.max_bytes);
    all_utf8 = all_utf8 && o.all_utf8;
  }
};

struct FeatureAcc {
  Kind kind = Kind::kNone;
  uint64_t num_present = 0;
  uint64_t min_values = std::numeric_limits<uint64_t>::max();
  uint64_t max_values = 0;
  uint64_t tot_values = 0;
  NumericAcc numeric;
  BytesAcc bytes;

  void CountValues(uint64_t k) {
    ++num_present;
    min_values = std::min(min_values, k);
    max_values = std::max(max_values, k);
    tot_values += k;
  }
};

Kind KindOf(const tf::Feature& f) {
  switch (f.kind_case()) {
    case tf::Feature::kFloatList:
      return Kind::kFloat;
    case tf::Feature::kInt64List:
      return Kind::kInt;
    case tf::Feature::kBytesList:
      return Kind::kBytes;
    case tf::Feature::KIND_NOT_SET:
      break;
  }
  return Kind::kNone;
}

Status KindClash(std::string_view name, Kind now, Kind before) {
  return Status::InvalidArgument("feature \"" + std::string(name) + "\" is " +
                                 std::string(KindName(now)) + ", was " +
                                 std::string(KindName(before)) + " in an earlier example");
}

void FillCommon(const FeatureAcc& f, uint64_t num_examples, tfmd::CommonStatistics* c) {
  c->set_num_non_missing(f.num_present);
  c->set_num_missing(num_examples - f.num_present);
  c->set_min_num_values(f.num_present > 0 ? f.min_values : 0);
  c->set_max_num_values(f.max_values);
  c->set_avg_num_values(f.num_present > 0 ? static_cast<float>(static_cast<double>(f.tot_values) /
                                                               static_cast<double>(f.num_present))
                                          : 0.0f);
  c->set_tot_num_values(f.tot_values);
}

void FillNumeric(const NumericAcc& a, int num_buckets, tfmd::NumericStatistics* s) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (a.n > 0) {
    double n = static_cast<double>(a.n);
    double mean_y = a.s1 / n;
    s->set_mean(a.shift + mean_y);
    s->set_std_dev(std::sqrt(std::max(0.0, a.s2 / n - mean_y * mean_y)));
  }
  s->set_num_zeros(a.num_zeros);
  bool any = a.n + a.num_pos_inf + a.num_neg_inf > 0;
  s->set_min(!any ? 0 : a.num_neg_inf > 0 ? -kInf : a.n > 0 ? a.min : kInf);
  s->set_max(!any ? 0 : a.num_pos_inf > 0 ? kInf : a.n > 0 ? a.max : -kInf);

  std::vector<std::pair<double, uint64_t>> bins = a.grid.Means();
  // Median: the mean of the fine bin holding the middle finite value.
  if (a.n > 0) {
    uint64_t target = (a.n - 1) / 2, seen = 0;
    for (const auto& [mean, count] : bins) {
      seen += count;
      if (seen > target) {
        s->set_median(mean);
        break;
      }
    }
  }

  tfmd::Histogram* h = s->add_histograms();
  h->set_type(tfmd::Histogram::STANDARD);
  h->set_num_nan(a.num_nan);
  if (!any) return;
  int nb = a.n == 0 || a.min == a.max ? 1 : std::max(1, num_buckets);
  double lo = a.n > 0 ? a.min : 0, hi = a.n > 0 ? a.max : 0;
  double width = (hi - lo) / nb;
  std::vector<double> counts(static_cast<size_t>(nb), 0.0);
  for (const auto& [mean, count] : bins) {
    int b = width > 0 ? static_cast<int>(std::floor((mean - lo) / width)) : 0;
    counts[static_cast<size_t>(std::clamp(b, 0, nb - 1))] += static_cast<double>(count);
  }
  counts.front() += static_cast<double>(a.num_neg_inf);
  counts.back() += static_cast<double>(a.num_pos_inf);
  for (int b = 0; b < nb; ++b) {
    tfmd::Histogram::Bucket* bucket = h->add_buckets();
    bucket->set_low_value(b == 0 ? (a.num_neg_inf > 0 ? -kInf : lo) : lo + width * b);
    bucket->set_high_value(b == nb - 1 ? (a.num_pos_inf > 0 ? kInf : hi) : lo + width * (b + 1));
    bucket->set_sample_count(counts[static_cast<size_t>(b)]);
  }
}

void FillBytes(const BytesAcc& a, const StatisticsOptions& options,
               tfmd::FeatureNameStatistics* out) {
  std::vector<std::pair<std::string_view, uint64_t>> sorted;
  sorted.reserve(a.counts.size());
  for (const auto& [v, c] : a.counts) sorted.emplace_back(v, c);
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) {
    return x.second != y.second ? x.second > y.second : x.first < y.first;
  });
  uint64_t total = 0;
  for (const auto& [v, c] : sorted) total += c;
  if (!a.all_utf8) {
    out->set_type(tfmd::FeatureNameStatistics::BYTES);
    tfmd::BytesStatistics* b = out->mutable_bytes_stats();
    b->set_unique(sorted.size());
    if (total > 0) {
      b->set_avg_num_bytes(
          static_cast<float>(static_cast<double>(a.total_bytes) / static_cast<double>(total)));
      b->set_min_num_bytes(static_cast<float>(a.min_bytes));
      b->set_max_num_bytes(static_cast<float>(a.max_bytes));
    }
    return;
  }
  out->set_type(tfmd::FeatureNameStatistics::STRING);
  tfmd::StringStatistics* s = out->mutable_string_stats();
  s->set_unique(sorted.size());
  if (total > 0) {
    s->set_avg_length(
        static_cast<float>(static_cast<double>(a.total_bytes) / static_cast<double>(total)));
  }
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i < static_cast<size_t>(std::max(0, options.num_top_values))) {
      auto* tv = s->add_top_values();
      tv->set_value(std::string(sorted[i].first));
      tv->set_frequency(static_cast<double>(sorted[i].second));
    }
    if (i < static_cast<size_t>(std::max(0, options.num_rank_histogram_buckets))) {
      auto* rb = s->mutable_rank_histogram()->add_buckets();
      rb->set_low_rank(i);
      rb->set_high_rank(i);
      rb->set_label(std::string(sorted[i].first));
      rb->set_sample_count(static_cast<double>(sorted[i].second));
    }
  }
}

}  // namespace

struct StatisticsAccumulator::Impl {
  StatisticsOptions options;
  uint64_t num_examples = 0;
  std::map<std::string, FeatureAcc, std::less<>> features;
};

StatisticsAccumulator::StatisticsAccumulator(StatisticsOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
}
StatisticsAccumulator::~StatisticsAccumulator() = default;
StatisticsAccumulator::StatisticsAccumulator(StatisticsAccumulator&&) noexcept = default;
StatisticsAccumulator& StatisticsAccumulator::operator=(StatisticsAccumulator&&) noexcept = default;

int64_t StatisticsAccumulator::num_examples() const {
  return static_cast<int64_t>(impl_->num_examples);
}

Status StatisticsAccumulator::Add(const tf::Example& example) {
  for (const auto& [name, feature] : example.features().feature()) {
    auto it = impl_->features.find(name);
    if (it == impl_->features.end()) it = impl_->features.emplace(name, FeatureAcc{}).first;
    FeatureAcc& f = it->second;
    Kind kind = KindOf(feature);
    if (kind != Kind::kNone) {
      if (f.kind == Kind::kNone) {
        f.kind = kind;
      } else if (f.kind != kind) {
        return KindClash(name, kind, f.kind);
      }
    }
    switch (kind) {
      case Kind::kFloat: {
        const auto& v = feature.float_list().value();
        f.CountValues(static_cast<uint64_t>(v.size()));
        f.numeric.AddAll(v);
        break;
      }
      case Kind::kInt: {
        const auto& v = feature.int64_list().value();
        f.CountValues(static_cast<uint64_t>(v.size()));
        f.numeric.AddAll(v);
        break;
      }
      case Kind::kBytes: {
        const auto& v = feature.bytes_list().value();
        f.CountValues(static_cast<uint64_t>(v.size()));
        for (const std::string& x : v) f.bytes.Add(x);
        break;
      }
      case Kind::kNone:
        f.CountValues(0);
        break;
    }
  }
  ++impl_->num_examples;
  return Status::Ok();
}

Status StatisticsAccumulator::Merge(StatisticsAccumulator&& other) {
  for (auto& [name, o] : other.impl_->features) {
    auto it = impl_->features.find(name);
    if (it == impl_->features.end()) {
      impl_->features.emplace(name, std::move(o));
      continue;
    }
    FeatureAcc& f = it->second;
    if (f.kind != Kind::kNone && o.kind != Kind::kNone && f.kind != o.kind) {
      return KindClash(name, o.kind, f.kind);
    }
    if (f.kind == Kind::kNone) f.kind = o.kind;
    f.num_present += o.num_present;
    f.min_values = std::min(f.min_values, o.min_values);
    f.max_values = std::max(f.max_values, o.max_values);
    f.tot_values += o.tot_values;
    f.numeric.Merge(o.numeric);
    f.bytes.Merge(o.bytes);
  }
  impl_->num_examples += other.impl_->num_examples;
  return Status::Ok();
}

tfmd::DatasetFeatureStatistics StatisticsAccumulator::Finish(std::string_view dataset_name) const {
  tfmd::DatasetFeatureStatistics out;
  out.set_name(std::string(dataset_name));
  out.set_num_examples(impl_->num_examples);
  for (const auto& [name, f] : impl_->features) {
    tfmd::FeatureNameStatistics* fs = out.add_features();
    fs->set_name(name);
    if (f.kind == Kind::kFloat || f.kind == Kind::kInt) {
      fs->set_type(f.kind == Kind::kFloat ? tfmd::FeatureNameStatistics::FLOAT
                                          : tfmd::FeatureNameStatistics::INT);
      tfmd::NumericStatistics* ns = fs->mutable_num_stats();
      FillCommon(f, impl_->num_examples, ns->mutable_common_stats());
      FillNumeric(f.numeric, impl_->options.num_histogram_buckets, ns);
    } else {
      // Bytes, or a feature that never had a kind (treated as strings).
      FillBytes(f.bytes, impl_->options, fs);
      tfmd::CommonStatistics* c = fs->has_bytes_stats()
                                      ? fs->mutable_bytes_stats()->mutable_common_stats()
                                      : fs->mutable_string_stats()->mutable_common_stats();
      FillCommon(f, impl_->num_examples, c);
    }
  }
  return out;
}

}  // namespace edgepipe::components
