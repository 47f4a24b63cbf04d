#include "edgepipe/components/statistics_gen.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "edgepipe/components/component_util.h"
#include "edgepipe/components/example_sources.h"
#include "edgepipe/core/thread_pool.h"
#include "edgepipe/data/tfrecord.h"

namespace edgepipe::components {
namespace {

constexpr char kStatsFile[] = "FeatureStats.pb";

// Accumulates the examples of one TFRecord file.
Result<StatisticsAccumulator> AccumulateFile(const std::string& path,
                                             const StatisticsOptions& options, Env* env) {
  StatisticsAccumulator acc(options);
  ASSIGN_OR_RETURN(auto reader, data::TFRecordReader::Open(path, {}, env));
  tf::Example example;
  std::string_view record;
  while (true) {
    uint64_t index = reader->record_index();
    ASSIGN_OR_RETURN(bool more, reader->Next(&record));
    if (!more) break;
    if (!example.ParseFromArray(record.data(), static_cast<int>(record.size()))) {
      return Status::DataLoss(path + ": record " + std::to_string(index) +
                              ": not a valid tf.Example");
    }
    Status s = acc.Add(example);
    if (!s.ok()) {
      return Status::InvalidArgument(path + ": record " + std::to_string(index) + ": " +
                                     s.message());
    }
  }
  return acc;
}

struct FileTask {
  size_t group;  // index of the dataset (split) the file belongs to
  std::string path;
};

// Accumulates every file on the default pool (one task per file) and merges
// the files of each group in file order.
Result<std::vector<StatisticsAccumulator>> AccumulateGroups(const std::vector<FileTask>& tasks,
                                                            size_t num_groups,
                                                            const StatisticsOptions& options,
                                                            Env* env) {
  std::vector<std::optional<Result<StatisticsAccumulator>>> results(tasks.size());
  ThreadPool::Default()->ParallelFor(
      static_cast<int64_t>(tasks.size()), 1, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          auto k = static_cast<size_t>(i);
          results[k].emplace(AccumulateFile(tasks[k].path, options, env));
        }
      });
  std::vector<StatisticsAccumulator> groups;
  for (size_t g = 0; g < num_groups; ++g) groups.emplace_back(options);
  for (size_t k = 0; k < tasks.size(); ++k) {
    Result<StatisticsAccumulator>& r = *results[k];
    if (!r.ok()) return r.status();
    Status s = groups[tasks[k].group].Merge(std::move(r).value());
    if (!s.ok()) return Status::InvalidArgument(tasks[k].path + ": " + s.message());
  }
  return groups;
}

Status ValidateOptions(const StatisticsOptions& o) {
  if (o.num_histogram_buckets < 1) {
    return Status::InvalidArgument("num_histogram_buckets " +
                                   std::to_string(o.num_histogram_buckets) + " must be >= 1");
  }
  if (o.num_top_values < 0) {
    return Status::InvalidArgument("num_top_values " + std::to_string(o.num_top_values) +
                                   " must be >= 0");
  }
  return Status::Ok();
}

bool Contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

Result<tfmd::DatasetFeatureStatistics> ComputeStatistics(
    const std::vector<std::string>& tfrecord_files, std::string_view dataset_name,
    const StatisticsOptions& options, Env* env) {
  RETURN_IF_ERROR(ValidateOptions(options));
  std::vector<FileTask> tasks;
  for (const std::string& f : tfrecord_files) tasks.push_back({0, f});
  ASSIGN_OR_RETURN(auto groups, AccumulateGroups(tasks, 1, options, env));
  return groups.front().Finish(dataset_name);
}

Result<StatisticsGenSummary> RunStatisticsGen(const StatisticsGenOptions& options, Env* env) {
  RETURN_IF_ERROR(ValidateOptions(options.stats));
  ASSIGN_OR_RETURN(std::vector<std::string> available, ListSplits(options.examples, env));
  std::vector<std::string> splits = options.splits.empty() ? available : options.splits;
  std::erase_if(splits, [&](const std::string& s) { return Contains(options.exclude_splits, s); });
  if (splits.empty()) {
    return Status::NotFound(options.examples + ": no Split-* folders to compute statistics of");
  }
  std::vector<FileTask> tasks;
  for (size_t g = 0; g < splits.size(); ++g) {
    std::string dir = SplitDir(options.examples, splits[g]);
    if (!env->IsDirectory(dir)) return Status::NotFound(dir + ": split folder does not exist");
    ASSIGN_OR_RETURN(std::vector<std::string> files, ListExampleFiles(dir, env));
    for (std::string& f : files) tasks.push_back({g, std::move(f)});
  }
  ASSIGN_OR_RETURN(auto groups, AccumulateGroups(tasks, splits.size(), options.stats, env));

  RETURN_IF_ERROR(env->CreateDirs(options.output));
  StatisticsGenSummary summary;
  for (size_t g = 0; g < splits.size(); ++g) {
    tfmd::DatasetFeatureStatisticsList list;
    *list.add_datasets() = groups[g].Finish(splits[g]);
    std::string dir = SplitDir(options.output, splits[g]);
    RETURN_IF_ERROR(env->CreateDirs(dir));
    std::string bytes;
    if (!list.SerializeToString(&bytes)) {
      return Status::Internal(JoinPath(dir, kStatsFile) + ": could not serialize statistics");
    }
    RETURN_IF_ERROR(WriteFileAtomic(JoinPath(dir, kStatsFile), bytes, env));
    summary.splits.push_back(splits[g]);
    summary.num_examples.push_back(groups[g].num_examples());
  }
  return summary;
}

Result<tfmd::DatasetFeatureStatisticsList> ReadStatistics(const std::string& artifact_dir,
                                                          std::string_view split, Env* env) {
  std::string path = JoinPath(SplitDir(artifact_dir, split), kStatsFile);
  if (!env->Exists(path)) return Status::NotFound(path + ": statistics file does not exist");
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, env));
  tfmd::DatasetFeatureStatisticsList list;
  if (!list.ParseFromString(bytes)) {
    return Status::DataLoss(path + ": not a DatasetFeatureStatisticsList (binary protobuf)");
  }
  if (list.datasets_size() != 1) {
    return Status::DataLoss(path + ": expected 1 dataset, found " +
                            std::to_string(list.datasets_size()));
  }
  return list;
}

// --- the component ---------------------------------------------------------

namespace {

class StatisticsGenExecutor : public pipeline::Executor {
 public:
  Status Do(pipeline::ExecutionContext& context) override { return DoImpl(context); }

 private:
  Status DoImpl(pipeline::ExecutionContext& context) {
    Env* env = context.env;
    ASSIGN_OR_RETURN(const pipeline::Artifact* examples, SingleInput(context, "examples", env));
    ASSIGN_OR_RETURN(pipeline::Artifact * out, SingleOutput(context, "statistics"));
    StatisticsGenOptions options;
    options.examples = examples->uri;
    options.output = out->uri;
    ASSIGN_OR_RETURN(std::string exclude, StringParamOr(context, "exclude_splits", "[]"));
    ASSIGN_OR_RETURN(options.exclude_splits, ParseSplitNamesJson(exclude));
    ASSIGN_OR_RETURN(int64_t buckets, IntParamOr(context, "num_histogram_buckets", 10));
    ASSIGN_OR_RETURN(int64_t top, IntParamOr(context, "num_top_values", 20));
    options.stats.num_histogram_buckets =
        static_cast<int>(std::clamp<int64_t>(buckets, -1, 1000000));
    options.stats.num_top_values = static_cast<int>(std::clamp<int64_t>(top, -1, 1000000));
    if (context.progress) context.progress(-1, "computing statistics");
    ASSIGN_OR_RETURN(StatisticsGenSummary summary, RunStatisticsGen(options, env));
    out->properties["split_names"] = SplitNamesJson(summary.splits);
    return Status::Ok();
  }
};

}  // namespace

const pipeline::ComponentSpec& StatisticsGenSpec() {
  static const pipeline::ComponentSpec* spec = [] {
    auto* s = new pipeline::ComponentSpec;
    s->type = "StatisticsGen";
    s->params = {
        {"exclude_splits", pipeline::ParamType::kString, false, pipeline::Value{std::string("[]")}},
        {"num_histogram_buckets", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{10}}},
        {"num_top_values", pipeline::ParamType::kInt, false, pipeline::Value{int64_t{20}}},
    };
    s->inputs = {{"examples", std::string(pipeline::artifact_type::kExamples), false}};
    s->outputs = {{"statistics", std::string(pipeline::artifact_type::kExampleStatistics), false}};
    s->executor_version = "1";
    return s;
  }();
  return *spec;
}

std::unique_ptr<pipeline::Executor> MakeStatisticsGenExecutor() {
  return std::make_unique<StatisticsGenExecutor>();
}

pipeline::Node StatisticsGen(pipeline::Channel examples, pipeline::Params params) {
  return pipeline::Node(StatisticsGenSpec(), MakeStatisticsGenExecutor, std::move(params),
                        {{"examples", std::move(examples)}});
}

}  // namespace edgepipe::components
