#include "edgepipe/nn/gradient_check.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "edgepipe/nn/random.h"

namespace edgepipe::nn {
namespace {

// L = sum(y * w) in double.
double WeightedSum(const Tensor& y, const std::vector<float>& w) {
  double s = 0;
  for (int64_t i = 0; i < y.size(); ++i) s += double(y.data()[i]) * w[static_cast<size_t>(i)];
  return s;
}

}  // namespace

Status CheckGradients(const OpUnderTest& f, const std::vector<Tensor>& inputs,
                      const GradCheckOptions& options) {
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.push_back(Var::Parameter(t.Clone()));
  ASSIGN_OR_RETURN(Var y, f(vars));
  Rng rng(options.seed);
  std::vector<float> w(static_cast<size_t>(y.value().size()));
  for (float& v : w) v = rng.Uniform(-1.0f, 1.0f);
  Tensor wt = Tensor::Empty(y.shape());
  std::copy(w.begin(), w.end(), wt.data());
  // Analytic: seed y's gradient with w through a weighted-sum op.
  Var loss = MakeOpResult(Tensor::Zeros({}), {y}, [wt](Node& self) {
    if (Tensor* g = self.InputGrad(0)) {
      for (int64_t i = 0; i < g->size(); ++i) g->data()[i] += self.grad.data()[0] * wt.data()[i];
    }
  });
  RETURN_IF_ERROR(Backward(loss));

  for (size_t k = 0; k < vars.size(); ++k) {
    Tensor analytic = vars[k].grad().defined() ? vars[k].grad() : Tensor::Zeros(vars[k].shape());
    Tensor& x = vars[k].mutable_value();
    for (int64_t i = 0; i < x.size(); ++i) {
      const float orig = x.data()[i];
      double lp, lm;
      {
        NoGradGuard no_grad;
        x.data()[i] = orig + options.eps;
        ASSIGN_OR_RETURN(Var yp, f(vars));
        lp = WeightedSum(yp.value(), w);
        x.data()[i] = orig - options.eps;
        ASSIGN_OR_RETURN(Var ym, f(vars));
        lm = WeightedSum(ym.value(), w);
      }
      x.data()[i] = orig;
      const double numeric = (lp - lm) / (2.0 * options.eps);
      const double a = analytic.data()[i];
      const double tol = options.atol + options.rtol * std::max(std::abs(a), std::abs(numeric));
      if (!(std::abs(a - numeric) <= tol)) {
        return Status::InvalidArgument("gradient of input " + std::to_string(k) + " element " +
                                       std::to_string(i) + ": analytic " + std::to_string(a) +
                                       " vs numeric " + std::to_string(numeric));
      }
    }
  }
  return Status::Ok();
}

}  // namespace edgepipe::nn
