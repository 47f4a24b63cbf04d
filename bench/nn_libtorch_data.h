// Data sets of the LibTorch side-by-side benchmarks, as plain Arrays that
// both engines read (LibTorch wraps the same memory with from_blob).
//
//   images: float32 [N, 784] (MLP) or [N, 28, 28, 1] (CNN; with one channel
//           the bytes are also LibTorch's NCHW [N, 1, 28, 28]);
//   labels: int64 [N], 0..9.
//
// Thread safety: the functions are reentrant.
#ifndef EDGEPIPE_BENCH_NN_LIBTORCH_DATA_H_
#define EDGEPIPE_BENCH_NN_LIBTORCH_DATA_H_

#include <cstdint>
#include <string>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"

namespace edgepipe::bench {

struct LabeledImages {
  Array x;  // float32 [N, 784]
  Array y;  // int64 [N]
};

struct TrainTest {
  LabeledImages train, test;
};

// `n` uniform [0, 1) images with uniform labels, from `seed`.
Result<LabeledImages> SyntheticImages(int64_t n, uint64_t seed);

// The MNIST digits of `idx_dir` (an IDX folder as ExampleGen reads it, e.g.
// data/mnist with 10,000 digits) split exactly as ExampleGen splits them by
// default: each record's serialized tf.Example is hashed (Fingerprint64) into
// 3 buckets, 0-1 train and 2 eval. Pixels are ExampleGen's image_floats,
// pixel / 255 - 0.5.
Result<TrainTest> LoadMnistExampleGenSplit(const std::string& idx_dir);

// Fashion-MNIST from `dir` (Debian's dataset-fashion-mnist gzip IDX files):
// the 60,000 train and 10,000 t10k images, pixel / 255 in [0, 1], as in
// tests/fashion_mnist_mlp_test.cc.
Result<TrainTest> LoadFashionMnist(const std::string& dir);

// Reshapes images to [N, 28, 28, 1] for the CNN.
Status ToImageShape(LabeledImages* data);

}  // namespace edgepipe::bench

#endif  // EDGEPIPE_BENCH_NN_LIBTORCH_DATA_H_
