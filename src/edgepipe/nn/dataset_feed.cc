#include "edgepipe/nn/dataset_feed.h"

#include <algorithm>
#include <utility>

namespace edgepipe::nn {
namespace {

// "a, b, c" over the names of a batch's numeric and string features, sorted.
std::string FeatureNames(const data::Batch& batch) {
  std::vector<std::string> names;
  for (const auto& [name, array] : batch.arrays) names.push_back(name);
  for (const auto& [name, strings] : batch.strings) names.push_back(name);
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

DatasetFeed::DatasetFeed(data::Dataset* dataset, std::string model_name,
                         std::vector<std::string> input_names, std::vector<Shape> input_shapes,
                         std::string label_key)
    : dataset_(dataset),
      model_name_(std::move(model_name)),
      input_names_(std::move(input_names)),
      input_shapes_(std::move(input_shapes)),
      label_key_(std::move(label_key)) {}

Status DatasetFeed::Restart() {
  examples_ = 0;
  return dataset_->Reset();
}

Result<bool> DatasetFeed::Next(FeedBatch* out) {
  ASSIGN_OR_RETURN(std::optional<data::Batch> batch, dataset_->Next());
  if (!batch.has_value()) return false;
  const std::string model = "model \"" + model_name_ + "\": ";
  out->inputs.resize(input_names_.size());
  for (size_t k = 0; k < input_names_.size(); ++k) {
    const std::string& name = input_names_[k];
    const Shape& want = input_shapes_[k];
    auto it = batch->arrays.find(name);
    if (it == batch->arrays.end()) {
      const bool is_string = batch->strings.count(name) > 0;
      return Status::InvalidArgument(
          model + "input \"" + name + "\" " +
          (is_string ? "needs numbers, but feature \"" + name + "\" holds strings"
                     : "is not a feature of the batch") +
          " (model inputs: " + Join(input_names_) + "; batch features: " + FeatureNames(*batch) +
          ")");
    }
    const Array& got = it->second;
    bool ok = got.rank() == static_cast<int>(want.size()) && got.dim(0) == batch->size;
    for (size_t d = 1; ok && d < want.size(); ++d) ok = got.shape()[d] == want[d];
    if (!ok) {
      return Status::InvalidArgument(model + "input \"" + name + "\" expects shape " +
                                     KerasShapeString(want) + ", feature \"" + name + "\" is " +
                                     std::string(DTypeName(got.dtype())) + " " +
                                     ShapeToString(got.shape()));
    }
    ASSIGN_OR_RETURN(out->inputs[k], Tensor::FromArray(got));
  }
  out->labels = Array();
  if (!label_key_.empty()) {
    auto it = batch->arrays.find(label_key_);
    if (it == batch->arrays.end()) {
      const bool is_string = batch->strings.count(label_key_) > 0;
      return Status::InvalidArgument(
          "label \"" + label_key_ + "\" " +
          (is_string ? "holds strings; labels must be numeric" : "is not a feature of the batch") +
          " (batch features: " + FeatureNames(*batch) + ")");
    }
    if (it->second.rank() == 0 || it->second.dim(0) != batch->size) {
      return Status::InvalidArgument("label \"" + label_key_ + "\" has shape " +
                                     ShapeToString(it->second.shape()) + " for a batch of " +
                                     std::to_string(batch->size));
    }
    out->labels = std::move(it->second);
  }
  out->size = batch->size;
  out->first_example = examples_;
  examples_ += batch->size;
  return true;
}

}  // namespace edgepipe::nn
