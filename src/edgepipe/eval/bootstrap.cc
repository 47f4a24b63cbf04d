#include "edgepipe/eval/bootstrap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/core/hash.h"

namespace edgepipe::eval {
namespace {

constexpr int kMaxPoisson = 24;  // P(k > 24) < 1e-25: never drawn from 53-bit uniforms

// cdf[k] = P(X <= k) for X ~ Poisson(1).
const std::array<double, kMaxPoisson>& PoissonCdf() {
  static const std::array<double, kMaxPoisson> cdf = [] {
    std::array<double, kMaxPoisson> c{};
    double p = std::exp(-1.0), sum = 0;
    for (int k = 0; k < kMaxPoisson; ++k) {
      sum += p;
      c[k] = sum;
      p /= (k + 1);
    }
    return c;
  }();
  return cdf;
}

// The per-replica part of the hash key.
uint64_t ReplicaKey(uint64_t seed, int replica) {
  return Mix64(seed ^ Mix64(static_cast<uint64_t>(replica) + 0x9E3779B97F4A7C15ull));
}

inline int PoissonFromKey(uint64_t replica_key, int64_t example_id,
                          const std::array<double, kMaxPoisson>& cdf) {
  const uint64_t h = Mix64(replica_key ^ Mix64(static_cast<uint64_t>(example_id)));
  const double u = static_cast<double>(h >> 11) * 0x1.0p-53;  // [0, 1)
  int k = 0;
  while (k < kMaxPoisson - 1 && u >= cdf[k]) ++k;
  return k;
}

// p-th quantile (p in [0, 1]) of sorted values, linear between order statistics.
double Quantile(const std::vector<double>& sorted, double p) {
  const double pos = p * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

class BootstrapAccumulator final : public MetricAccumulator {
 public:
  BootstrapAccumulator(std::shared_ptr<const Metric> metric, const BootstrapOptions& options)
      : metric_(std::move(metric)), options_(options), point_(metric_->NewAccumulator()) {
    replicas_.reserve(options.num_replicas);
    replica_keys_.reserve(options.num_replicas);
    for (int k = 0; k < options.num_replicas; ++k) {
      replicas_.push_back(metric_->NewAccumulator());
      replica_keys_.push_back(ReplicaKey(options.seed, k));
    }
  }

  Status Add(const BatchView& batch) override {
    // The point accumulator checks the batch; replicas see the same batch
    // with other (valid) weights, so they accept it too.
    RETURN_IF_ERROR(point_->Add(batch));
    const auto& cdf = PoissonCdf();
    if (weights_.size() < static_cast<size_t>(batch.size)) weights_.resize(batch.size);
    BatchView view = batch;
    view.weights = weights_.data();
    for (size_t k = 0; k < replicas_.size(); ++k) {
      const uint64_t key = replica_keys_[k];
      auto fill = [&](int64_t r) {
        const int64_t id = batch.example_ids != nullptr ? batch.example_ids[r] : rows_seen_ + r;
        const float w = batch.weights != nullptr ? batch.weights[r] : 1.0f;
        weights_[r] = w * static_cast<float>(PoissonFromKey(key, id, cdf));
      };
      if (batch.rows.empty()) {
        for (int64_t r = 0; r < batch.size; ++r) fill(r);
      } else {
        for (int32_t r : batch.rows) fill(r);
      }
      Status s = replicas_[k]->Add(view);
      if (!s.ok())
        return Status::Internal("bootstrap replica " + std::to_string(k) + ": " + s.message());
    }
    rows_seen_ += batch.size;
    return Status::Ok();
  }

  Status Merge(const MetricAccumulator& other) override {
    const auto* o = dynamic_cast<const BootstrapAccumulator*>(&other);
    if (o == nullptr || o->replicas_.size() != replicas_.size() ||
        o->options_.seed != options_.seed) {
      return Status::InvalidArgument(std::string(metric_->class_name()) +
                                     ": cannot merge a bootstrap accumulator with a different "
                                     "metric, seed or number of replicas");
    }
    RETURN_IF_ERROR(point_->Merge(*o->point_));
    for (size_t k = 0; k < replicas_.size(); ++k) {
      RETURN_IF_ERROR(replicas_[k]->Merge(*o->replicas_[k]));
    }
    rows_seen_ += o->rows_seen_;
    return Status::Ok();
  }

  void Finish(const std::string& model_name, MetricMap* metrics, Plots* plots) const override {
    MetricMap point;
    point_->Finish(model_name, &point, plots);
    std::vector<MetricMap> replica_values(replicas_.size());
    Plots ignored;
    for (size_t k = 0; k < replicas_.size(); ++k) {
      replicas_[k]->Finish(model_name, &replica_values[k], &ignored);
    }
    std::vector<double> values;
    for (auto& [key, value] : point) {
      MetricValue out = value;
      values.clear();
      for (const MetricMap& m : replica_values) {
        auto it = m.find(key);
        if (it != m.end() && std::isfinite(it->second.value)) values.push_back(it->second.value);
      }
      if (std::isfinite(value.value) && values.size() >= 2) {
        std::sort(values.begin(), values.end());
        double mean = 0;
        for (double v : values) mean += v;
        mean /= static_cast<double>(values.size());
        double ss = 0;
        for (double v : values) ss += (v - mean) * (v - mean);
        ConfidenceInterval ci;
        ci.lower = Quantile(values, 0.025);
        ci.upper = Quantile(values, 0.975);
        ci.std_error = std::sqrt(ss / static_cast<double>(values.size() - 1));
        out.ci = ci;
      }
      (*metrics)[key] = out;
    }
  }

 private:
  std::shared_ptr<const Metric> metric_;
  BootstrapOptions options_;
  std::unique_ptr<MetricAccumulator> point_;
  std::vector<std::unique_ptr<MetricAccumulator>> replicas_;
  std::vector<uint64_t> replica_keys_;
  std::vector<float> weights_;  // per batch row, reused
  int64_t rows_seen_ = 0;
};

class BootstrapMetric final : public Metric {
 public:
  BootstrapMetric(std::shared_ptr<const Metric> metric, const BootstrapOptions& options)
      : metric_(std::move(metric)), options_(options) {}
  std::string_view class_name() const override { return metric_->class_name(); }
  std::vector<std::string> metric_names() const override { return metric_->metric_names(); }
  bool is_diff() const override { return metric_->is_diff(); }
  std::unique_ptr<MetricAccumulator> NewAccumulator() const override {
    return std::make_unique<BootstrapAccumulator>(metric_, options_);
  }

 private:
  std::shared_ptr<const Metric> metric_;
  BootstrapOptions options_;
};

}  // namespace

int PoissonWeight(uint64_t seed, int replica, int64_t example_id) {
  return PoissonFromKey(ReplicaKey(seed, replica), example_id, PoissonCdf());
}

Result<std::unique_ptr<Metric>> MakeBootstrapMetric(std::shared_ptr<const Metric> metric,
                                                    const BootstrapOptions& options) {
  if (metric == nullptr) return Status::InvalidArgument("bootstrap: no metric given");
  if (options.num_replicas < 2 || options.num_replicas > 10000) {
    return Status::InvalidArgument(std::string(metric->class_name()) + ": bootstrap num_replicas " +
                                   std::to_string(options.num_replicas) + " must be in [2, 10000]");
  }
  return std::unique_ptr<Metric>(std::make_unique<BootstrapMetric>(std::move(metric), options));
}

}  // namespace edgepipe::eval
