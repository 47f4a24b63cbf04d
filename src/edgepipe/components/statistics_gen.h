// StatisticsGen: per-split, per-feature statistics of an Examples artifact,
// as TFX's StatisticsGen (TFDV) computes them.
//
// Output layout (the ExampleStatistics artifact, as TFX writes it):
//   <output>/Split-<name>/FeatureStats.pb   binary DatasetFeatureStatisticsList
//                                          (statistics.proto, TFMD field numbers)
//                                          with one dataset named <name>
// Per feature: presence (num_non_missing / num_missing) and value counts
// (min/max/avg/total per example); numeric features (INT, FLOAT): min, max,
// mean, std_dev (population), num_zeros, median and a 10-bucket equal-width
// histogram over [min, max]; bytes features: unique count, top values, a rank
// histogram (type STRING when every value is UTF-8, BYTES otherwise, as TFDV).
// See docs/formats.md "Statistics, schema, anomalies".
//
// One pass over the data: each shard is read by a worker (core/thread_pool)
// into a per-shard accumulator, then the accumulators of a split are merged.
// Histogram and median come from a mergeable power-of-two grid of fine bins
// (at most 2048 per feature) that remembers each bin's mean; a fine bin falls
// wholly into the output bucket holding its mean, so counts are integers and
// exact unless one fine bin holds values on both sides of a bucket edge.
#ifndef EDGEPIPE_COMPONENTS_STATISTICS_GEN_H_
#define EDGEPIPE_COMPONENTS_STATISTICS_GEN_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/components/statistics.pb.h"
#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/example.pb.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

struct StatisticsOptions {
  int num_histogram_buckets = 10;
  int num_top_values = 20;  // StringStatistics.top_values
  // Rank histogram buckets (one per distinct value, most frequent first);
  // SchemaGen infers string domains and ExampleValidator checks them from it.
  int num_rank_histogram_buckets = 1000;
};

// Accumulates statistics of tf.Examples, one example at a time. Mergeable:
// shards are accumulated separately and merged. Not thread-safe; distinct
// objects are independent.
class StatisticsAccumulator {
 public:
  explicit StatisticsAccumulator(StatisticsOptions options = {});
  ~StatisticsAccumulator();
  StatisticsAccumulator(StatisticsAccumulator&&) noexcept;
  StatisticsAccumulator& operator=(StatisticsAccumulator&&) noexcept;

  // InvalidArgument when a feature's kind (float/int64/bytes) differs from
  // the kind it had in an earlier example: `feature "x" is float, was int64`.
  Status Add(const tf::Example& example);
  // Adds `other`'s examples to this one (same error as Add on a kind clash).
  Status Merge(StatisticsAccumulator&& other);
  int64_t num_examples() const;

  // The statistics of the examples so far, features in name order.
  tfmd::DatasetFeatureStatistics Finish(std::string_view dataset_name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Statistics of serialized tf.Examples in TFRecord files (gzip or not), one
// worker per file, then merged. Errors name the file and record.
Result<tfmd::DatasetFeatureStatistics> ComputeStatistics(
    const std::vector<std::string>& tfrecord_files, std::string_view dataset_name,
    const StatisticsOptions& options = {}, Env* env = Env::Default());

struct StatisticsGenOptions {
  std::string examples;  // an Examples artifact folder (Split-<name>/...)
  std::string output;    // the ExampleStatistics folder; created if missing
  // Splits to compute; empty means every Split-* folder of `examples`.
  std::vector<std::string> splits;
  std::vector<std::string> exclude_splits;
  StatisticsOptions stats;
};

struct StatisticsGenSummary {
  std::vector<std::string> splits;  // in the order written
  std::vector<int64_t> num_examples;
};

// Runs StatisticsGen. NotFound naming the folder when `examples` or a
// requested split is missing. Each FeatureStats.pb is written atomically.
Result<StatisticsGenSummary> RunStatisticsGen(const StatisticsGenOptions& options,
                                              Env* env = Env::Default());

// Reads <artifact>/Split-<split>/FeatureStats.pb. Errors name the file.
Result<tfmd::DatasetFeatureStatisticsList> ReadStatistics(const std::string& artifact_dir,
                                                          std::string_view split,
                                                          Env* env = Env::Default());

// --- the component ---------------------------------------------------------
// Inputs: examples (Examples). Outputs: statistics (ExampleStatistics, with
// property split_names). Params: exclude_splits (string, JSON list, default
// "[]"), num_histogram_buckets (int, 10), num_top_values (int, 20).
const pipeline::ComponentSpec& StatisticsGenSpec();
std::unique_ptr<pipeline::Executor> MakeStatisticsGenExecutor();
// The DSL node: StatisticsGen(example_gen.outputs()["examples"]).
pipeline::Node StatisticsGen(pipeline::Channel examples, pipeline::Params params = {});

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_STATISTICS_GEN_H_
