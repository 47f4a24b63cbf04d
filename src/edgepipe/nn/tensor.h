// Tensor: the float32 compute buffer of nn/ (row-major, 64-byte aligned).
//
// A Tensor is a handle: copies share the storage (like a shared_ptr); use
// Clone() for a deep copy. Storage comes from a process-wide pool of freed
// buffers keyed by size, so a training loop that allocates the same shapes
// every step stops calling malloc after the first step.
//
// Shapes carry the batch dimension first. In model-level shapes (layer output
// shapes) a batch dimension of -1 means "any" (Keras' None); a Tensor's own
// shape is always concrete.
//
// Thread safety: distinct Tensors may be used from distinct threads; the pool
// is thread-safe. Concurrent writes to one storage are the caller's problem.
#ifndef EDGEPIPE_NN_TENSOR_H_
#define EDGEPIPE_NN_TENSOR_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"

namespace edgepipe::nn {

using Shape = std::vector<int64_t>;

// "(None, 28, 28, 1)" as Keras prints shapes (-1 prints as None).
std::string KerasShapeString(const Shape& shape);
// Product of dims (no overflow check: callers pass validated shapes).
int64_t ShapeSize(const Shape& shape);

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage, empty shape

  // Uninitialised contents. Precondition: every dim >= 0.
  static Tensor Empty(Shape shape);
  static Tensor Zeros(Shape shape);
  static Tensor Filled(Shape shape, float value);
  // Fails when values.size() differs from the shape's element count.
  static Result<Tensor> FromVector(Shape shape, std::span<const float> values);
  // Converts any numeric Array to float32 (bool as 0/1).
  static Result<Tensor> FromArray(const Array& array);
  // A float32 Array copy.
  Array ToArray() const;

  bool defined() const { return data_ != nullptr; }
  const Shape& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  // Negative i counts from the end (-1 is the last dim).
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i < 0 ? i + rank() : i)]; }
  int64_t size() const { return size_; }

  float* data() { return data_.get(); }
  const float* data() const { return data_.get(); }
  std::span<float> span() { return {data_.get(), static_cast<size_t>(size_)}; }
  std::span<const float> span() const { return {data_.get(), static_cast<size_t>(size_)}; }
  std::vector<float> ToVector() const { return {data(), data() + size_}; }

  // Deep copy.
  Tensor Clone() const;
  // Same storage, new shape. Precondition: ShapeSize(shape) == size().
  Tensor Reshaped(Shape shape) const;
  void Fill(float value);
  // this += other (same size).
  void AddFrom(const Tensor& other);
  void CopyFrom(const Tensor& other);

 private:
  Shape shape_;
  int64_t size_ = 0;
  std::shared_ptr<float> data_;
};

// Bytes currently cached by the buffer pool (for tests and diagnostics).
size_t TensorPoolCachedBytes();
// Buffers the pool has obtained from the system allocator so far (a training
// loop in steady state adds none).
int64_t TensorPoolSystemAllocations();

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_TENSOR_H_
