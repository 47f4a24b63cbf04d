// Internal: Eigen views over Tensor storage. Include only from .cc files of
// nn/ (keeps Eigen out of the public headers).
#ifndef EDGEPIPE_NN_EIGEN_UTIL_H_
#define EDGEPIPE_NN_EIGEN_UTIL_H_

#include <Eigen/Core>

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

}  // namespace edgepipe::nn::internal

#endif  // EDGEPIPE_NN_EIGEN_UTIL_H_
