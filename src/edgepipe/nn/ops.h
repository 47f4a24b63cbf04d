// Differentiable math ops on Vars (namespace nn::ops, apart from the
// same-named Keras layers in nn::layers) (see autodiff.h): dense algebra,
// activations, softmax, dropout, reshape/concat and reductions.
//
// Every op checks its operands' shapes and fails with a message naming the op
// and the shapes; on success the result records its backward function (when
// gradients are being recorded). Softmax-type ops and BiasAdd act on the last
// axis. Results are fresh tensors except Reshape, which shares its input's
// storage.
//
// Thread safety: as autodiff.h (one thread per graph).
#ifndef EDGEPIPE_NN_OPS_H_
#define EDGEPIPE_NN_OPS_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/nn/autodiff.h"
#include "edgepipe/nn/random.h"

namespace edgepipe::nn::ops {

// a [..., K] x b [K, N] -> [..., N] (leading dims of a are flattened).
Result<Var> MatMul(const Var& a, const Var& b);
// Dense layer in one op: relu?(x [..., K] kernel [K, N] + bias [N]) ->
// [..., N]; `bias` may be undefined (no bias). Forward is one product and
// one pass for bias and ReLU; backward masks the output gradient in place
// and runs the two products (no transposed copies) and the bias sum.
Result<Var> Dense(const Var& x, const Var& kernel, const Var& bias, bool relu);
// x [..., C] + bias [C].
Result<Var> BiasAdd(const Var& x, const Var& bias);
// Elementwise, equal shapes.
Result<Var> Add(const Var& a, const Var& b);
Result<Var> Mul(const Var& a, const Var& b);
// x * scale + offset with scalar constants (Rescaling).
Var ScaleShift(const Var& x, float scale, float offset);
// x * scale[c] + shift[c] over the last axis with constant per-channel
// tensors [C] (Normalization). Gradient flows to x only.
Result<Var> ChannelAffine(const Var& x, const Tensor& scale, const Tensor& shift);

Var Relu(const Var& x);
Var Relu6(const Var& x);
Var Sigmoid(const Var& x);
Var Tanh(const Var& x);
// Over the last axis.
Var Softmax(const Var& x);
Var LogSoftmax(const Var& x);

// Inverted dropout: each element is zeroed with probability `rate` and the
// rest scaled by 1/(1-rate). rate in [0, 1). Takes two 32-bit draws from
// `rng` per call (the key of a counter-based mask, train_kernels.h), so
// equal seeds give equal masks on every platform and ISA path.
Result<Var> Dropout(const Var& x, float rate, Rng& rng);

// One dim of `shape` may be -1 (inferred). Shares storage with x.
Result<Var> Reshape(const Var& x, Shape shape);
// Along `axis` (negative counts from the end); other dims must agree.
Result<Var> Concat(std::span<const Var> xs, int axis);

// Over one axis (removed from the shape unless keepdims), or over all
// elements (a scalar of shape []) when axis is nullopt.
Result<Var> ReduceSum(const Var& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
Result<Var> ReduceMean(const Var& x, std::optional<int> axis = std::nullopt, bool keepdims = false);

// Per-example -log softmax(logits)[label]: logits [N, C], labels N values in
// [0, C) -> [N]. Fails naming the first label out of range.
Result<Var> SparseSoftmaxCrossEntropy(const Var& logits, std::span<const int64_t> labels);

}  // namespace edgepipe::nn::ops

#endif  // EDGEPIPE_NN_OPS_H_
