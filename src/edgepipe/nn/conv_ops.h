// Differentiable NHWC image ops: conv2d, depthwise conv2d, max / average
// pooling, global average pooling; and batch normalisation.
//
// Layouts as Keras / TFLite: x [N, H, W, C]; conv kernel [KH, KW, C, OC];
// depthwise kernel [KH, KW, C, M] giving C*M output channels (channel c*M+m).
// Padding follows TensorFlow: VALID: out = floor((in - k) / s) + 1; SAME:
// out = ceil(in / s), padding total max((out - 1) s + k - in, 0) with the
// smaller half before. Padded positions are zeros for convolutions and are
// skipped by pooling (an average divides by the valid count).
//
// Thread safety: as autodiff.h. Large convolutions use ParallelFor.
#ifndef EDGEPIPE_NN_CONV_OPS_H_
#define EDGEPIPE_NN_CONV_OPS_H_

#include <cstdint>
#include <string_view>

#include "edgepipe/core/status.h"
#include "edgepipe/nn/autodiff.h"

namespace edgepipe::nn {

enum class Padding { kValid, kSame };
// "valid" / "same" (Keras spelling).
Result<Padding> ParsePadding(std::string_view name);
std::string_view PaddingName(Padding p);

struct Window2D {
  int64_t kh = 1, kw = 1;  // window (kernel or pool) size
  int64_t sh = 1, sw = 1;  // strides
  Padding padding = Padding::kValid;
};

// Output size of one spatial dim, or an error when the window does not fit.
Result<int64_t> ConvOutputSize(int64_t in, int64_t k, int64_t s, Padding p);

namespace ops {

Result<Var> Conv2D(const Var& x, const Var& kernel, int64_t stride_h, int64_t stride_w,
                   Padding padding);
Result<Var> DepthwiseConv2D(const Var& x, const Var& kernel, int64_t stride_h, int64_t stride_w,
                            Padding padding);
Result<Var> MaxPool2D(const Var& x, const Window2D& window);
Result<Var> AvgPool2D(const Var& x, const Window2D& window);
// [N, H, W, C] -> [N, C].
Result<Var> GlobalAvgPool2D(const Var& x);

// Training-mode batch norm over every axis but the last: y = gamma * (x -
// mean) / sqrt(var + eps) + beta with the batch's mean and biased variance,
// which are written to *batch_mean / *batch_var ([C]) for the caller's
// moving averages. Gradients flow to x, gamma and beta.
Result<Var> BatchNormTraining(const Var& x, const Var& gamma, const Var& beta, float epsilon,
                              Tensor* batch_mean, Tensor* batch_var);
// Inference-mode batch norm with given statistics (constants).
Result<Var> BatchNormInference(const Var& x, const Var& gamma, const Var& beta, const Tensor& mean,
                               const Tensor& var, float epsilon);

}  // namespace ops
}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_CONV_OPS_H_
