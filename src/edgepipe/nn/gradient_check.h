// Finite-difference gradient checking for ops and layers (used by tests).
//
// CheckGradients builds f(inputs), reduces it to the scalar
// L = sum(f(x) * w) with fixed pseudo-random weights w (so that symmetric
// errors cannot cancel), runs Backward, and compares every input element's
// gradient with the central difference (L(x+eps) - L(x-eps)) / (2 eps),
// evaluated in double from float forward passes. An element passes when
// |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
//
// Not thread-safe (builds graphs on the calling thread).
#ifndef EDGEPIPE_NN_GRADIENT_CHECK_H_
#define EDGEPIPE_NN_GRADIENT_CHECK_H_

#include <functional>
#include <span>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/nn/autodiff.h"

namespace edgepipe::nn {

struct GradCheckOptions {
  float eps = 1e-2f;
  double atol = 2e-3;
  double rtol = 2e-2;
  uint64_t seed = 7;
};

using OpUnderTest = std::function<Result<Var>(std::span<const Var>)>;

// Checks d sum(f(x) * w) / d x_i for every input (each a Parameter built from
// `inputs`). Returns OK, or InvalidArgument naming the first failing input,
// element index and both values.
Status CheckGradients(const OpUnderTest& f, const std::vector<Tensor>& inputs,
                      const GradCheckOptions& options = {});

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_GRADIENT_CHECK_H_
