// Internal: Eigen views over Tensor storage. Include only from .cc files of
// nn/ (keeps Eigen out of the public headers).
#ifndef EDGEPIPE_NN_EIGEN_UTIL_H_
#define EDGEPIPE_NN_EIGEN_UTIL_H_

#include <Eigen/Core>
#include <algorithm>

#include "edgepipe/nn/parallel.h"
#include "edgepipe/nn/tensor.h"

namespace edgepipe::nn::internal {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using MatMap = Eigen::Map<RowMat>;
using CMatMap = Eigen::Map<const RowMat>;
using ArrMap = Eigen::Map<Eigen::ArrayXf>;
using CArrMap = Eigen::Map<const Eigen::ArrayXf>;

// t viewed as [rows, size/rows].
inline MatMap AsMat(Tensor& t, int64_t rows) {
  return MatMap(t.data(), rows, rows == 0 ? 0 : t.size() / rows);
}
inline CMatMap AsMat(const Tensor& t, int64_t rows) {
  return CMatMap(t.data(), rows, rows == 0 ? 0 : t.size() / rows);
}
inline ArrMap AsArr(Tensor& t) { return ArrMap(t.data(), t.size()); }
inline CArrMap AsArr(const Tensor& t) { return CArrMap(t.data(), t.size()); }

// dst (+)= lhs * rhs, split over NumThreads() tasks along dst's larger
// dimension when the product is big enough to pay for waking threads.
template <typename Dst, typename L, typename R>
void Product(Dst&& dst, const L& lhs, const R& rhs, bool accumulate) {
  constexpr int64_t kMinParallelMacs = 1 << 17;
  const int64_t m = dst.rows(), n = dst.cols(), k = lhs.cols();
  const int threads = NumThreads();
  if (threads <= 1 || m * n * k < kMinParallelMacs || std::max(m, n) < 2 * threads) {
    if (accumulate) {
      dst.noalias() += lhs * rhs;
    } else {
      dst.noalias() = lhs * rhs;
    }
    return;
  }
  const bool by_rows = m >= n;
  const int64_t total = by_rows ? m : n;
  // Multiples of 16 keep Eigen's packets whole.
  const int64_t chunk = ((total + threads - 1) / threads + 15) / 16 * 16;
  const int64_t tasks = (total + chunk - 1) / chunk;
  ParallelFor(tasks, [&](int64_t t) {
    const int64_t begin = t * chunk, len = std::min(chunk, total - begin);
    if (by_rows) {
      auto d = dst.middleRows(begin, len);
      if (accumulate) {
        d.noalias() += lhs.middleRows(begin, len) * rhs;
      } else {
        d.noalias() = lhs.middleRows(begin, len) * rhs;
      }
    } else {
      auto d = dst.middleCols(begin, len);
      if (accumulate) {
        d.noalias() += lhs * rhs.middleCols(begin, len);
      } else {
        d.noalias() = lhs * rhs.middleCols(begin, len);
      }
    }
  });
}

}  // namespace edgepipe::nn::internal

#endif  // EDGEPIPE_NN_EIGEN_UTIL_H_
