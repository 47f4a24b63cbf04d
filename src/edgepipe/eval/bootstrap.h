// Poisson-bootstrap confidence intervals for any Metric.
//
// A bootstrap accumulator feeds every batch to the metric's point accumulator
// and to `num_replicas` replica accumulators; replica k sees each row with its
// weight multiplied by a Poisson(1) draw that is a pure function of (seed, k,
// example id), so the intervals do not depend on how the data was batched,
// sliced or sharded, and accumulators merge like the metric's own. The example
// id is BatchView.example_ids[row]; when the batch has none, it is the row's
// position among all rows this accumulator was given (sum of earlier batch
// sizes + row), which is deterministic only for the same batching.
//
// Finish writes the point accumulator's metrics and plots, each metric value
// with a ConfidenceInterval over the replicas' values of the same key: lower /
// upper = 2.5th / 97.5th percentiles (linear interpolation between order
// statistics), std_error = sample standard deviation of the replicas.
// Replicas whose value is NaN are left out; with fewer than 2 finite replica
// values, or a NaN point value, no interval is written.
//
// Thread safety: as metric.h. Cost: (1 + num_replicas) times the metric's.
#ifndef EDGEPIPE_EVAL_BOOTSTRAP_H_
#define EDGEPIPE_EVAL_BOOTSTRAP_H_

#include <cstdint>
#include <memory>

#include "edgepipe/core/status.h"
#include "edgepipe/eval/metric.h"

namespace edgepipe::eval {

struct BootstrapOptions {
  int num_replicas = 20;  // TFMA's default number of bootstrap samples
  uint64_t seed = 0;
};

// The Poisson(1) resampling multiplier of example `example_id` in replica
// `replica`: a value in {0, 1, 2, ...} with P(k) = e^-1 / k!. Pure; thread-safe.
int PoissonWeight(uint64_t seed, int replica, int64_t example_id);

// Wraps `metric` (shared: the result keeps it alive) so that its accumulators
// are bootstrap accumulators. Same class_name, metric_names and is_diff.
// InvalidArgument when num_replicas < 2 or > 10000, or metric is null.
Result<std::unique_ptr<Metric>> MakeBootstrapMetric(std::shared_ptr<const Metric> metric,
                                                    const BootstrapOptions& options);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_BOOTSTRAP_H_
