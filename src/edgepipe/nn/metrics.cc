#include "edgepipe/nn/metrics.h"

namespace edgepipe::nn {
namespace {

Status CountMismatch(std::string_view metric, const Tensor& y_pred, const Array& y_true) {
  return Status::InvalidArgument(std::string(metric) + ": predictions of shape " +
                                 ShapeToString(y_pred.shape()) + " do not match labels of shape " +
                                 ShapeToString(y_true.shape()));
}

}  // namespace

Status SparseCategoricalAccuracy::Update(const Tensor& y_pred, const Array& y_true) {
  if (y_pred.rank() != 2 || y_pred.dim(0) != y_true.num_elements()) {
    return CountMismatch(type(), y_pred, y_true);
  }
  ASSIGN_OR_RETURN(Tensor labels, Tensor::FromArray(y_true));
  const int64_t n = y_pred.dim(0), c = y_pred.dim(1);
  int64_t correct = 0;
  for (int64_t r = 0; r < n; ++r) {
    const float* row = y_pred.data() + r * c;
    int64_t best = 0;
    for (int64_t j = 1; j < c; ++j) {
      if (row[j] > row[best]) best = j;
    }
    if (static_cast<float>(best) == labels.data()[r]) ++correct;
  }
  if (n > 0)
    Accumulate(static_cast<double>(correct) / static_cast<double>(n), static_cast<double>(n));
  return Status::Ok();
}

Status Accuracy::Update(const Tensor& y_pred, const Array& y_true) {
  if (y_pred.size() != y_true.num_elements()) return CountMismatch(type(), y_pred, y_true);
  ASSIGN_OR_RETURN(Tensor labels, Tensor::FromArray(y_true));
  int64_t equal = 0;
  for (int64_t i = 0; i < y_pred.size(); ++i) equal += y_pred.data()[i] == labels.data()[i];
  if (y_pred.size() > 0) {
    Accumulate(static_cast<double>(equal) / static_cast<double>(y_pred.size()),
               static_cast<double>(y_pred.size()));
  }
  return Status::Ok();
}

Status BinaryAccuracy::Update(const Tensor& y_pred, const Array& y_true) {
  if (y_pred.size() != y_true.num_elements()) return CountMismatch(type(), y_pred, y_true);
  ASSIGN_OR_RETURN(Tensor labels, Tensor::FromArray(y_true));
  int64_t equal = 0;
  for (int64_t i = 0; i < y_pred.size(); ++i) {
    equal += (y_pred.data()[i] > threshold_) == (labels.data()[i] > threshold_);
  }
  if (y_pred.size() > 0) {
    Accumulate(static_cast<double>(equal) / static_cast<double>(y_pred.size()),
               static_cast<double>(y_pred.size()));
  }
  return Status::Ok();
}

}  // namespace edgepipe::nn
