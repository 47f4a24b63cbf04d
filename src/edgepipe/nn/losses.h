// Keras losses: each reduces to the mean over the batch
// ("sum_over_batch_size") and returns a scalar Var for Backward.
//
// y_true is the batch's labels as a core Array: int32/int64 class ids [N] for
// SparseCategoricalCrossentropy, float (or any numeric) targets shaped like
// y_pred for the others (a [N] target also matches a [N, 1] prediction).
// Thread safety: losses are stateless after construction.
#ifndef EDGEPIPE_NN_LOSSES_H_
#define EDGEPIPE_NN_LOSSES_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/autodiff.h"

namespace edgepipe::nn {

class Loss {
 public:
  virtual ~Loss() = default;
  // Keras class name, e.g. "SparseCategoricalCrossentropy".
  virtual std::string_view type() const = 0;
  // Scalar mean loss over the batch. Fails on shape mismatch or labels out of
  // range, naming both.
  virtual Result<Var> Compute(const Var& y_pred, const Array& y_true) const = 0;
  virtual nlohmann::json Config() const = 0;
};

// Probabilities are clipped to [1e-7, 1 - 1e-7] (Keras' epsilon) when
// from_logits is false.
class SparseCategoricalCrossentropy : public Loss {
 public:
  explicit SparseCategoricalCrossentropy(bool from_logits = false) : from_logits_(from_logits) {}
  std::string_view type() const override { return "SparseCategoricalCrossentropy"; }
  Result<Var> Compute(const Var& y_pred, const Array& y_true) const override;
  nlohmann::json Config() const override { return {{"from_logits", from_logits_}}; }

 private:
  bool from_logits_;
};

// One-hot (or soft) targets [N, C].
class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(bool from_logits = false) : from_logits_(from_logits) {}
  std::string_view type() const override { return "CategoricalCrossentropy"; }
  Result<Var> Compute(const Var& y_pred, const Array& y_true) const override;
  nlohmann::json Config() const override { return {{"from_logits", from_logits_}}; }

 private:
  bool from_logits_;
};

// Mean over the last axis, then over the batch. With probabilities, Keras 2's
// formula: -(z log(p + 1e-7) + (1 - z) log(1 - p + 1e-7)), p clipped.
class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(bool from_logits = false) : from_logits_(from_logits) {}
  std::string_view type() const override { return "BinaryCrossentropy"; }
  Result<Var> Compute(const Var& y_pred, const Array& y_true) const override;
  nlohmann::json Config() const override { return {{"from_logits", from_logits_}}; }

 private:
  bool from_logits_;
};

class MeanSquaredError : public Loss {
 public:
  std::string_view type() const override { return "MeanSquaredError"; }
  Result<Var> Compute(const Var& y_pred, const Array& y_true) const override;
  nlohmann::json Config() const override { return nlohmann::json::object(); }
};

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_LOSSES_H_
