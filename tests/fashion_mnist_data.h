// Test helper: Fashion-MNIST from Debian's dataset-fashion-mnist (gzip IDX
// files in /usr/share/datasets/fashion-mnist/), for the integration tests.
#ifndef EDGEPIPE_TESTS_FASHION_MNIST_DATA_H_
#define EDGEPIPE_TESTS_FASHION_MNIST_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/compression.h"

namespace edgepipe::testing {

inline constexpr char kFashionMnistDir[] = "/usr/share/datasets/fashion-mnist/";

inline Result<std::string> ReadWholeFile(const std::string& path) {
  ASSIGN_OR_RETURN(auto file, data::OpenMaybeGzip(path));
  std::string out;
  std::vector<char> buf(1 << 16);
  while (true) {
    ASSIGN_OR_RETURN(size_t n, file->Read(buf.data(), buf.size()));
    if (n == 0) break;
    out.append(buf.data(), n);
  }
  return out;
}

inline uint32_t BigEndian32(const std::string& s, size_t at) {
  return (uint32_t{static_cast<uint8_t>(s[at])} << 24) |
         (uint32_t{static_cast<uint8_t>(s[at + 1])} << 16) |
         (uint32_t{static_cast<uint8_t>(s[at + 2])} << 8) |
         uint32_t{static_cast<uint8_t>(s[at + 3])};
}

// IDX: 0x00 0x00 type(0x08 = uint8) rank, then rank big-endian uint32 dims,
// then the data. Images become float32 [N, rows*cols] in [0, 1]; labels
// int64 [N].
inline Result<Array> ReadIdx(const std::string& path, bool images) {
  ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(path));
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08) {
    return Status::DataLoss(path + ": not a uint8 IDX file");
  }
  const int rank = static_cast<uint8_t>(bytes[3]);
  size_t offset = 4 + 4 * static_cast<size_t>(rank);
  if (rank < 1 || bytes.size() < offset) return Status::DataLoss(path + ": truncated header");
  std::vector<int64_t> dims;
  int64_t count = 1;
  for (int i = 0; i < rank; ++i) {
    dims.push_back(BigEndian32(bytes, 4 + 4 * static_cast<size_t>(i)));
    count *= dims.back();
  }
  if (bytes.size() - offset != static_cast<size_t>(count)) {
    return Status::DataLoss(path + ": data size does not match the header");
  }
  const auto* src = reinterpret_cast<const uint8_t*>(bytes.data() + offset);
  if (images) {
    if (dims[0] == 0) return Status::DataLoss(path + ": no images");
    ASSIGN_OR_RETURN(Array a, Array::Zeros(DType::kFloat32, {dims[0], count / dims[0]}));
    float* p = a.data<float>().data();
    for (int64_t i = 0; i < count; ++i) p[i] = static_cast<float>(src[i]) / 255.0f;
    return a;
  }
  ASSIGN_OR_RETURN(Array a, Array::Zeros(DType::kInt64, {dims[0]}));
  int64_t* p = a.data<int64_t>().data();
  for (int64_t i = 0; i < count; ++i) p[i] = src[i];
  return a;
}

// The four arrays of the dataset: images [N, 784] float32, labels [N] int64.
struct FashionMnist {
  Array train_x, train_y, test_x, test_y;
};

inline Result<FashionMnist> LoadFashionMnist() {
  const std::string dir = kFashionMnistDir;
  FashionMnist d;
  ASSIGN_OR_RETURN(d.train_x, ReadIdx(dir + "train-images-idx3-ubyte.gz", true));
  ASSIGN_OR_RETURN(d.train_y, ReadIdx(dir + "train-labels-idx1-ubyte.gz", false));
  ASSIGN_OR_RETURN(d.test_x, ReadIdx(dir + "t10k-images-idx3-ubyte.gz", true));
  ASSIGN_OR_RETURN(d.test_y, ReadIdx(dir + "t10k-labels-idx1-ubyte.gz", false));
  return d;
}

}  // namespace edgepipe::testing

#endif  // EDGEPIPE_TESTS_FASHION_MNIST_DATA_H_
