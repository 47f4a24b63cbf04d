// Array: a dense, row-major, typed n-d buffer owned by value.
//
// The common currency between layers that must not depend on nn/: .npy files,
// parsed dataset batches, interpreter inputs. The buffer is 64-byte aligned.
// Not thread-safe for concurrent mutation; copies are deep.
#ifndef EDGEPIPE_CORE_ARRAY_H_
#define EDGEPIPE_CORE_ARRAY_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"

namespace edgepipe {

enum class DType : uint8_t { kFloat32, kInt8, kUInt8, kInt32, kInt64, kBool };

// Size of one element in bytes.
size_t DTypeSize(DType t);
// "float32", "int8", ...
std::string_view DTypeName(DType t);
Result<DType> ParseDType(std::string_view name);

template <typename T>
constexpr DType DTypeOf();
template <>
constexpr DType DTypeOf<float>() {
  return DType::kFloat32;
}
template <>
constexpr DType DTypeOf<int8_t>() {
  return DType::kInt8;
}
template <>
constexpr DType DTypeOf<uint8_t>() {
  return DType::kUInt8;
}
template <>
constexpr DType DTypeOf<int32_t>() {
  return DType::kInt32;
}
template <>
constexpr DType DTypeOf<int64_t>() {
  return DType::kInt64;
}
template <>
constexpr DType DTypeOf<bool>() {
  return DType::kBool;
}

// Product of dims; returns an error on a negative dim or int64 overflow.
Result<int64_t> NumElements(std::span<const int64_t> shape);
// "[2, 784]".
std::string ShapeToString(std::span<const int64_t> shape);

class Array {
 public:
  Array() = default;
  // Zero-filled array. Fails on a negative dim or a size that overflows.
  static Result<Array> Zeros(DType dtype, std::vector<int64_t> shape);
  // Like Zeros but leaves the contents unspecified: for callers that write
  // every element right away (file readers), sparing a pass over memory.
  static Result<Array> Uninitialized(DType dtype, std::vector<int64_t> shape);
  template <typename T>
  static Result<Array> FromVector(std::vector<int64_t> shape, std::span<const T> values) {
    ASSIGN_OR_RETURN(Array a, Zeros(DTypeOf<T>(), std::move(shape)));
    if (static_cast<int64_t>(values.size()) != a.num_elements()) {
      return Status::InvalidArgument("array of shape " + ShapeToString(a.shape()) + " needs " +
                                     std::to_string(a.num_elements()) + " values, got " +
                                     std::to_string(values.size()));
    }
    if (!values.empty()) std::memcpy(a.raw_data(), values.data(), values.size_bytes());
    return a;
  }

  Array(const Array& other);
  Array& operator=(const Array& other);
  Array(Array&&) noexcept = default;
  Array& operator=(Array&&) noexcept = default;

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int rank() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_[static_cast<size_t>(i)]; }
  int64_t num_elements() const { return num_elements_; }
  size_t num_bytes() const { return static_cast<size_t>(num_elements_) * DTypeSize(dtype_); }

  void* raw_data() { return data_.get(); }
  const void* raw_data() const { return data_.get(); }
  // Typed views. Precondition: DTypeOf<T>() == dtype().
  template <typename T>
  std::span<T> data() {
    return {static_cast<T*>(raw_data()), static_cast<size_t>(num_elements_)};
  }
  template <typename T>
  std::span<const T> data() const {
    return {static_cast<const T*>(raw_data()), static_cast<size_t>(num_elements_)};
  }

  // Same elements, new shape of equal element count.
  Status Reshape(std::vector<int64_t> shape);

 private:
  static Result<Array> Allocate(DType dtype, std::vector<int64_t> shape, bool zero);
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  DType dtype_ = DType::kFloat32;
  std::vector<int64_t> shape_;
  int64_t num_elements_ = 0;
  std::unique_ptr<void, Free> data_;
};

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_ARRAY_H_
