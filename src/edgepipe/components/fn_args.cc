#include "edgepipe/components/fn_args.h"

#include <string>
#include <utility>

namespace edgepipe::components {
namespace {

Result<std::unique_ptr<data::Dataset>> SplitDataset(const FnArgs& args,
                                                    const std::vector<std::string>& files,
                                                    std::string_view split,
                                                    std::vector<data::FeatureSpec> specs,
                                                    std::string_view label_key,
                                                    nn::InputDatasetOptions options) {
  if (files.empty()) {
    return Status::InvalidArgument(std::string("FnArgs: no ") + std::string(split) + " files (" +
                                   std::string(split) + "_files is empty)");
  }
  if (options.env == Env::Default()) options.env = args.env;
  return nn::MakeInputDataset(files, std::move(specs), label_key, options);
}

}  // namespace

Result<std::unique_ptr<data::Dataset>> TrainDataset(const FnArgs& args,
                                                    std::vector<data::FeatureSpec> specs,
                                                    std::string_view label_key,
                                                    nn::InputDatasetOptions options) {
  return SplitDataset(args, args.train_files, "train", std::move(specs), label_key, options);
}

Result<std::unique_ptr<data::Dataset>> EvalDataset(const FnArgs& args,
                                                   std::vector<data::FeatureSpec> specs,
                                                   std::string_view label_key,
                                                   nn::InputDatasetOptions options) {
  return SplitDataset(args, args.eval_files, "eval", std::move(specs), label_key, options);
}

Result<model::Json> ParseCustomConfig(const FnArgs& args) {
  const std::string& text = args.custom_config;
  if (text.empty()) return model::Json::object();
  model::Json json = model::Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return Status::InvalidArgument("custom_config '" + text.substr(0, 200) + "' is not valid JSON");
  }
  if (!json.is_object()) {
    return Status::InvalidArgument("custom_config '" + text.substr(0, 200) +
                                   "' must be a JSON object, got a " + json.type_name());
  }
  return json;
}

Status WriteTrainingLog(const FnArgs& args, const nn::History& history,
                        const std::map<std::string, double>& eval_metrics) {
  if (args.model_run_dir.empty()) {
    return Status::InvalidArgument("WriteTrainingLog: FnArgs.model_run_dir is empty");
  }
  model::Json log = model::Json::object();
  model::Json epochs = model::Json::object();
  for (const auto& [name, values] : history.history) epochs[name] = values;
  log["history"] = std::move(epochs);
  log["steps"] = history.steps;
  log["seconds"] = history.seconds;
  if (history.stopped_epoch >= 0) log["stopped_epoch"] = history.stopped_epoch;
  model::Json eval = model::Json::object();
  for (const auto& [name, value] : eval_metrics) eval[name] = value;
  log["eval"] = std::move(eval);
  return WriteFileAtomic(JoinPath(args.model_run_dir, kTrainingLogName), log.dump(2) + "\n",
                         args.env);
}

}  // namespace edgepipe::components
