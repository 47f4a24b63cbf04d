// Keras metrics, accumulated over batches (sample-weighted means).
//
// Update() takes a batch's predictions and labels (labels as in losses.h);
// Result() is the mean so far; Reset() starts over. Thread safety: one
// thread at a time.
#ifndef EDGEPIPE_NN_METRICS_H_
#define EDGEPIPE_NN_METRICS_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/tensor.h"

namespace edgepipe::nn {

class Metric {
 public:
  explicit Metric(std::string name) : name_(std::move(name)) {}
  virtual ~Metric() = default;
  virtual std::string_view type() const = 0;
  // The key in History and progress lines ("sparse_categorical_accuracy").
  const std::string& name() const { return name_; }
  virtual Status Update(const Tensor& y_pred, const Array& y_true) = 0;
  virtual double Result() const { return count_ > 0 ? total_ / count_ : 0.0; }
  virtual void Reset() { total_ = count_ = 0; }
  // Adds `value` with weight `weight` (what Mean does).
  void Accumulate(double value, double weight) {
    total_ += value * weight;
    count_ += weight;
  }

 private:
  std::string name_;
  double total_ = 0, count_ = 0;
};

// Mean of the values passed to Accumulate (e.g. the loss, weighted by the
// batch size). Update() is not meaningful for it and fails.
class Mean : public Metric {
 public:
  explicit Mean(std::string name = "mean") : Metric(std::move(name)) {}
  std::string_view type() const override { return "Mean"; }
  Status Update(const Tensor&, const Array&) override {
    return Status::FailedPrecondition("Mean \"" + name() + "\": use Accumulate");
  }
};

// argmax(y_pred) == label, y_pred [N, C], labels [N] integer.
class SparseCategoricalAccuracy : public Metric {
 public:
  explicit SparseCategoricalAccuracy(std::string name = "sparse_categorical_accuracy")
      : Metric(std::move(name)) {}
  std::string_view type() const override { return "SparseCategoricalAccuracy"; }
  Status Update(const Tensor& y_pred, const Array& y_true) override;
};

// y_pred == y_true elementwise (same element count).
class Accuracy : public Metric {
 public:
  explicit Accuracy(std::string name = "accuracy") : Metric(std::move(name)) {}
  std::string_view type() const override { return "Accuracy"; }
  Status Update(const Tensor& y_pred, const Array& y_true) override;
};

// (y_pred > threshold) == (y_true > threshold) elementwise; threshold 0.5.
class BinaryAccuracy : public Metric {
 public:
  explicit BinaryAccuracy(float threshold = 0.5f, std::string name = "binary_accuracy")
      : Metric(std::move(name)), threshold_(threshold) {}
  std::string_view type() const override { return "BinaryAccuracy"; }
  Status Update(const Tensor& y_pred, const Array& y_true) override;

 private:
  float threshold_;
};

// Keras' AUC (ROC curve, "interpolation" summation): labels > 0.5 are
// positives; predictions (probabilities) are compared against thresholds
// {-1e-7, 1/(n-1), ..., (n-2)/(n-1), 1 + 1e-7} (prediction > threshold is a
// positive); the ROC curve through those points is integrated with the
// trapezoidal rule. Default n = 200 thresholds.
class AUC : public Metric {
 public:
  explicit AUC(int num_thresholds = 200, std::string name = "auc");
  std::string_view type() const override { return "AUC"; }
  Status Update(const Tensor& y_pred, const Array& y_true) override;
  double Result() const override;
  void Reset() override;

 private:
  std::vector<double> thresholds_;
  std::vector<double> tp_, fp_, tn_, fn_;
};

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_METRICS_H_
