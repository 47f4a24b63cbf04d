// The intra-op thread pool of nn/ kernels.
//
// Kernels split large work (matrix products, convolutions) into a few tasks
// with ParallelFor; the calling thread runs tasks too. Eigen's own threading
// is not used (it is compiled without OpenMP). Small ops stay on the caller:
// waking a thread costs microseconds.
//
// Thread safety: all functions are thread-safe. One ParallelFor runs at a
// time; a ParallelFor issued from inside a task runs inline.
#ifndef EDGEPIPE_NN_PARALLEL_H_
#define EDGEPIPE_NN_PARALLEL_H_

#include <cstdint>
#include <functional>

namespace edgepipe::nn {

// Threads nn kernels may use, >= 1 (default: the hardware's cores, at most
// 8; or the EDGEPIPE_NUM_THREADS environment variable). Takes effect at the
// next ParallelFor.
void SetNumThreads(int n);
int NumThreads();

// Runs fn(0) .. fn(n - 1), possibly concurrently, and returns when all are
// done. fn must not throw.
void ParallelFor(int64_t n, const std::function<void(int64_t)>& fn);

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_PARALLEL_H_
