// The two benchmark networks of issue 3, built twice: in edgepipe's nn/ and
// in LibTorch's C++ frontend, with the same architecture, initialisation,
// loss, optimizer and batching, so the benchmarks compare the engines.
//
//   kMlp: the guide's MNIST model: 784 -> Dense 64 relu -> Dropout 0.2 ->
//         Dense 64 relu -> Dropout 0.2 -> Dense 10 (logits);
//         RMSprop(lr 0.0015, rho 0.9, eps 1e-7).
//   kCnn: Conv2D 32 3x3 relu -> MaxPool 2 -> Conv2D 64 3x3 relu -> MaxPool 2
//         -> Flatten -> Dropout 0.5 -> Dense 10; Adam(1e-3, 0.9, 0.999, 1e-7).
//   Both: sparse categorical cross-entropy from logits (mean over the batch),
//         Keras initialisation (glorot_uniform kernels, zero biases).
//
// Semantic differences that remain (both negligible at these epsilons):
//   RMSprop: LibTorch's alpha is Keras' rho; both engines here divide by
//     sqrt(ms) + eps. (TensorFlow's fused ApplyRMSProp that Keras 2 used
//     divides by sqrt(ms + eps) instead.)
//   Adam: Keras adds eps to sqrt(v) before bias correction ("epsilon hat"),
//     LibTorch after: torch's eps acts as Keras' eps * sqrt(1 - beta_2^t).
//   CNN layout: ours NHWC, LibTorch NCHW, so Flatten orders the 1600 features
//     differently (same function class, different weight layout).
//
// LibTorch sits behind a pimpl so that only nn_libtorch_models.cc includes
// its (large) headers. Thread safety: one TorchNet per thread; the thread
// settings are process-wide.
#ifndef EDGEPIPE_BENCH_NN_LIBTORCH_MODELS_H_
#define EDGEPIPE_BENCH_NN_LIBTORCH_MODELS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "bench/nn_libtorch_data.h"
#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::bench {

enum class Net { kMlp, kCnn };
std::string_view NetName(Net net);  // "mlp" | "cnn"

// Our model, built and compiled, weights drawn from `seed`.
Result<nn::Sequential> MakeOursModel(Net net, uint64_t seed);

// The training run whose peak RSS the benchmark measures, the same on both
// sides: `examples` synthetic images (SyntheticImages seed 3), model seed 1,
// `steps` steps of `batch` with Fit's steps_per_epoch stream.
struct RssRun {
  int64_t examples = 4096;  // 12.8 MB of float32 images
  int64_t batch = 0;
  int64_t steps = 0;
};
RssRun RssRunFor(Net net);  // MLP: batch 256, 100 steps; CNN: batch 64, 30 steps

// This process's peak RSS in KiB since its last exec (VmHWM of
// /proc/self/status), -1 when unreadable. Unlike a child's ru_maxrss, which
// Linux carries over from the pre-exec (forked) image, so that a child of a
// 160 MB process reports at least what it inherited, VmHWM belongs to the new
// address space only.
int64_t PeakRssKiB();
// Prints "peak_rss_kib <PeakRssKiB()>" on stdout: the RSS children's report.
void ReportPeakRss();

// LibTorch's two thread pools: its intra-op OpenMP pool (at::set_num_threads)
// and OpenBLAS's own pthread pool (openblas_set_num_threads, looked up with
// dlsym so that another libblas.so.3 still links).
struct TorchThreads {
  int torch = 1;
  int blas = 1;
};
std::string ToString(TorchThreads t);  // "torch 2 / blas 1"
// Applies both (the BLAS part only when the BLAS is OpenBLAS).
void SetTorchThreads(TorchThreads t);
// Whether libblas.so.3 is OpenBLAS (else blas threads cannot be set).
bool HasOpenBlas();
// "LibTorch 1.13.1, OpenBLAS 0.3.21 ..." for the benchmark header.
std::string TorchDescription();

// The LibTorch twin of MakeOursModel. Data arrays are wrapped, not copied:
// they must outlive the call that receives them.
class TorchNet {
 public:
  // Seeds LibTorch's global generator with `seed` (init, dropout, shuffles).
  static Result<std::unique_ptr<TorchNet>> Create(Net net, uint64_t seed);
  ~TorchNet();

  // `steps` optimizer steps of full batches from an endless stream over
  // `data` that reshuffles at every pass (what Fit with steps_per_epoch
  // does). The stream's position carries over to the next call on the same
  // data size. Keeps a running loss and accuracy, as Fit does.
  Status TrainSteps(const LabeledImages& data, int64_t batch, int64_t steps);
  // `epochs` passes over `data`, shuffled each epoch, the last batch short.
  Status TrainEpochs(const LabeledImages& data, int64_t batch, int64_t epochs);
  // Fraction of `data` classified right (inference mode).
  Result<double> Accuracy(const LabeledImages& data, int64_t batch);
  // Logits of every image into `out` (float32 [N, 10], allocated by the
  // caller), in batches, inference mode.
  Status Predict(const Array& x, int64_t batch, Array* out);

 private:
  struct Impl;
  explicit TorchNet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgepipe::bench

#endif  // EDGEPIPE_BENCH_NN_LIBTORCH_MODELS_H_
