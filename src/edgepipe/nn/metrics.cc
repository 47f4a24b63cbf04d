#include "edgepipe/nn/metrics.h"

#include <algorithm>

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

AUC::AUC(int num_thresholds, std::string name) : Metric(std::move(name)) {
  const int n = std::max(num_thresholds, 3);
  constexpr double kEpsilon = 1e-7;
  thresholds_.push_back(0.0 - kEpsilon);
  for (int i = 0; i < n - 2; ++i) thresholds_.push_back((i + 1) * 1.0 / (n - 1));
  thresholds_.push_back(1.0 + kEpsilon);
  Reset();
}

void AUC::Reset() {
  Metric::Reset();
  for (auto* v : {&tp_, &fp_, &tn_, &fn_}) v->assign(thresholds_.size(), 0.0);
}

Status AUC::Update(const Tensor& y_pred, const Array& y_true) {
  if (y_pred.size() != y_true.num_elements()) return CountMismatch(type(), y_pred, y_true);
  ASSIGN_OR_RETURN(Tensor labels, Tensor::FromArray(y_true));
  for (int64_t i = 0; i < y_pred.size(); ++i) {
    const double p = y_pred.data()[i];
    const bool positive = labels.data()[i] > 0.5f;
    for (size_t t = 0; t < thresholds_.size(); ++t) {
      const bool predicted = p > thresholds_[t];
      if (positive) {
        (predicted ? tp_ : fn_)[t] += 1;
      } else {
        (predicted ? fp_ : tn_)[t] += 1;
      }
    }
  }
  return Status::Ok();
}

double AUC::Result() const {
  auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
  double auc = 0;
  for (size_t t = 0; t + 1 < thresholds_.size(); ++t) {
    const double x0 = ratio(fp_[t], fp_[t] + tn_[t]),
                 x1 = ratio(fp_[t + 1], fp_[t + 1] + tn_[t + 1]);
    const double y0 = ratio(tp_[t], tp_[t] + fn_[t]),
                 y1 = ratio(tp_[t + 1], tp_[t + 1] + fn_[t + 1]);
    auc += (x0 - x1) * (y0 + y1) / 2;
  }
  return auc;
}

}  // namespace edgepipe::nn
