// Model's Fit / Evaluate / Predict over a data::Dataset: the dataset feeds the
// same loops as the in-memory arrays (model.cc) through a DatasetFeed.
#include <optional>
#include <string>

#include "edgepipe/data/dataset.h"
#include "edgepipe/nn/dataset_feed.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::nn {

Result<History> Model::Fit(data::Dataset& train, const DatasetFitOptions& options) {
  RETURN_IF_ERROR(RequireCompiled("Fit"));
  if (options.label_key.empty()) {
    return Status::InvalidArgument(
        "Fit: DatasetFitOptions.label_key is empty; name the label feature");
  }
  if (options.validation_steps < 0) {
    return Status::InvalidArgument("Fit: validation_steps " +
                                   std::to_string(options.validation_steps) + " must be >= 0");
  }
  DatasetFeed feed(&train, name_, input_names(), input_shapes(), options.label_key);
  std::optional<DatasetFeed> validation;
  if (options.validation != nullptr) {
    validation.emplace(options.validation, name_, input_names(), input_shapes(), options.label_key);
  }
  return TrainLoop(feed, {.epochs = options.epochs,
                          .steps_per_epoch = options.steps_per_epoch,
                          .seed = options.seed,
                          .verbose = options.verbose,
                          .early_stopping = &options.early_stopping,
                          .validation = validation ? &*validation : nullptr,
                          .validation_steps = options.validation_steps});
}

Result<std::map<std::string, double>> Model::Evaluate(data::Dataset& dataset,
                                                      std::string_view label_key, int64_t steps) {
  RETURN_IF_ERROR(RequireCompiled("Evaluate"));
  if (label_key.empty()) return Status::InvalidArgument("Evaluate: label_key is empty");
  if (steps < 0) {
    return Status::InvalidArgument("Evaluate: steps " + std::to_string(steps) + " must be >= 0");
  }
  DatasetFeed feed(&dataset, name_, input_names(), input_shapes(), std::string(label_key));
  return EvaluateLoop(feed, steps, "Evaluate");
}

Result<Tensor> Model::Predict(data::Dataset& dataset, int64_t steps) const {
  if (steps < 0) {
    return Status::InvalidArgument("Predict: steps " + std::to_string(steps) + " must be >= 0");
  }
  DatasetFeed feed(&dataset, name_, input_names(), input_shapes(), /*label_key=*/"");
  return PredictLoop(feed, steps);
}

}  // namespace edgepipe::nn
