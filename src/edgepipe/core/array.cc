#include "edgepipe/core/array.h"

#include <limits>

namespace edgepipe {

size_t DTypeSize(DType t) {
  switch (t) {
    case DType::kFloat32:
      return 4;
    case DType::kInt8:
      return 1;
    case DType::kUInt8:
      return 1;
    case DType::kInt32:
      return 4;
    case DType::kInt64:
      return 8;
    case DType::kBool:
      return 1;
  }
  return 0;
}

std::string_view DTypeName(DType t) {
  switch (t) {
    case DType::kFloat32:
      return "float32";
    case DType::kInt8:
      return "int8";
    case DType::kUInt8:
      return "uint8";
    case DType::kInt32:
      return "int32";
    case DType::kInt64:
      return "int64";
    case DType::kBool:
      return "bool";
  }
  return "unknown";
}

Result<DType> ParseDType(std::string_view name) {
  for (DType t :
       {DType::kFloat32, DType::kInt8, DType::kUInt8, DType::kInt32, DType::kInt64, DType::kBool}) {
    if (DTypeName(t) == name) return t;
  }
  return Status::InvalidArgument("unknown dtype \"" + std::string(name) +
                                 "\" (expected float32, int8, uint8, int32, int64 or bool)");
}

Result<int64_t> NumElements(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      return Status::InvalidArgument("shape " + ShapeToString(shape) + " has a negative dimension");
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) {
      return Status::InvalidArgument("shape " + ShapeToString(shape) + " overflows int64");
    }
    n *= d;
  }
  return n;
}

std::string ShapeToString(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<Array> Array::Zeros(DType dtype, std::vector<int64_t> shape) {
  return Allocate(dtype, std::move(shape), /*zero=*/true);
}

Result<Array> Array::Uninitialized(DType dtype, std::vector<int64_t> shape) {
  return Allocate(dtype, std::move(shape), /*zero=*/false);
}

Result<Array> Array::Allocate(DType dtype, std::vector<int64_t> shape, bool zero) {
  ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  const size_t elem = DTypeSize(dtype);
  if (static_cast<uint64_t>(n) > (std::numeric_limits<size_t>::max() / 2) / elem) {
    return Status::InvalidArgument("array of shape " + ShapeToString(shape) + " is too large");
  }
  Array a;
  a.dtype_ = dtype;
  a.shape_ = std::move(shape);
  a.num_elements_ = n;
  size_t bytes = static_cast<size_t>(n) * elem;
  size_t padded = (bytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  void* p = std::aligned_alloc(64, padded);
  if (p == nullptr) {
    return Status::Internal("out of memory allocating " + std::to_string(padded) + " bytes");
  }
  if (zero) {
    std::memset(p, 0, padded);
  } else if (padded > bytes) {
    std::memset(static_cast<char*>(p) + bytes, 0, padded - bytes);  // keep the tail defined
  }
  a.data_.reset(p);
  return a;
}

Array::Array(const Array& other) { *this = other; }

Array& Array::operator=(const Array& other) {
  if (this == &other) return *this;
  if (!other.data_) {
    dtype_ = other.dtype_;
    shape_ = other.shape_;
    num_elements_ = other.num_elements_;
    data_.reset();
    return *this;
  }
  Result<Array> copy = Uninitialized(other.dtype_, other.shape_);
  // Allocation of an existing array's size can only fail when memory is out.
  if (!copy.ok()) std::abort();
  std::memcpy(copy->raw_data(), other.raw_data(), other.num_bytes());
  *this = std::move(copy).value();
  return *this;
}

Status Array::Reshape(std::vector<int64_t> shape) {
  ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (n != num_elements_) {
    return Status::InvalidArgument("cannot reshape " + ShapeToString(shape_) + " (" +
                                   std::to_string(num_elements_) + " elements) to " +
                                   ShapeToString(shape));
  }
  shape_ = std::move(shape);
  return Status::Ok();
}

}  // namespace edgepipe
