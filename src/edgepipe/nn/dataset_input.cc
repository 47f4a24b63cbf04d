#include "edgepipe/nn/dataset_input.h"

#include <algorithm>
#include <set>
#include <utility>

namespace edgepipe::nn {
namespace {

class TFRecordSource final : public data::RecordSource {
 public:
  TFRecordSource(std::vector<std::string> paths, const data::TFRecordReaderOptions& options,
                 Env* env)
      : paths_(std::move(paths)), options_(options), env_(env) {}

  Status Open() {
    ASSIGN_OR_RETURN(reader_, data::TFRecordFileSetReader::Open(paths_, options_, env_));
    return Status::Ok();
  }

  Result<bool> Next(std::string* record) override { return reader_->Next(record); }
  Status Reset() override { return Open(); }

 private:
  std::vector<std::string> paths_;
  data::TFRecordReaderOptions options_;
  Env* env_;
  std::unique_ptr<data::TFRecordFileSetReader> reader_;
};

}  // namespace

Result<std::unique_ptr<data::RecordSource>> NewTFRecordSource(
    std::vector<std::string> paths, const data::TFRecordReaderOptions& options, Env* env) {
  auto source = std::make_unique<TFRecordSource>(std::move(paths), options, env);
  RETURN_IF_ERROR(source->Open());
  return std::unique_ptr<data::RecordSource>(std::move(source));
}

Result<std::unique_ptr<data::Dataset>> MakeInputDataset(
    const std::vector<std::string>& file_patterns, std::vector<data::FeatureSpec> specs,
    std::string_view label_key, const InputDatasetOptions& options) {
  RETURN_IF_ERROR(data::ValidateFeatureSpecs(specs));
  const bool has_label = std::any_of(
      specs.begin(), specs.end(), [&](const data::FeatureSpec& f) { return f.name == label_key; });
  if (!has_label) {
    std::string names;
    for (const data::FeatureSpec& f : specs) names += (names.empty() ? "" : ", ") + f.name;
    return Status::InvalidArgument("input dataset: label_key \"" + std::string(label_key) +
                                   "\" is not among the feature specs (" + names + ")");
  }
  if (file_patterns.empty()) {
    return Status::InvalidArgument("input dataset: no file patterns given");
  }
  std::vector<std::string> paths;
  std::set<std::string> seen;
  for (const std::string& pattern : file_patterns) {
    ASSIGN_OR_RETURN(std::vector<std::string> matched, data::MatchFiles(pattern, options.env));
    for (std::string& p : matched) {
      if (seen.insert(p).second) paths.push_back(std::move(p));
    }
  }
  ASSIGN_OR_RETURN(std::unique_ptr<data::RecordSource> records,
                   NewTFRecordSource(std::move(paths), {}, options.env));
  return data::MakeExampleDataset(
      std::move(records), std::move(specs),
      {.batch = {.batch_size = options.batch_size, .drop_remainder = options.drop_remainder},
       .shuffle_buffer = options.shuffle_buffer,
       .seed = options.seed,
       .repeat = options.num_epochs});
}

}  // namespace edgepipe::nn
