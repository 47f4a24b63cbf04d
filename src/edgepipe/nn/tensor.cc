#include "edgepipe/nn/tensor.h"

#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

namespace edgepipe::nn {
namespace {

// Free buffers by padded byte size. Buffers beyond kMaxCachedBytes go back to
// the allocator.
class BufferPool {
 public:
  static BufferPool& Get() {
    static BufferPool* pool = new BufferPool();  // never destroyed
    return *pool;
  }

  float* Allocate(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return static_cast<float*>(p);
      }
    }
    void* p = std::aligned_alloc(64, bytes);
    if (p == nullptr) throw std::bad_alloc();
    system_allocations_.fetch_add(1, std::memory_order_relaxed);
    return static_cast<float*>(p);
  }

  void Release(float* p, size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cached_ + bytes <= kMaxCachedBytes) {
        free_[bytes].push_back(p);
        cached_ += bytes;
        return;
      }
    }
    std::free(p);
  }

  int64_t system_allocations() const { return system_allocations_.load(); }

  size_t cached() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_;
  }

 private:
  static constexpr size_t kMaxCachedBytes = size_t{512} << 20;
  std::mutex mu_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_ = 0;
  std::atomic<int64_t> system_allocations_{0};
};

}  // namespace

std::string KerasShapeString(const Shape& shape) {
  std::string s = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += shape[i] < 0 ? "None" : std::to_string(shape[i]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

int64_t ShapeSize(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Tensor Tensor::Empty(Shape shape) {
  Tensor t;
  t.size_ = ShapeSize(shape);
  assert(t.size_ >= 0);
  t.shape_ = std::move(shape);
  size_t bytes = (static_cast<size_t>(t.size_) * sizeof(float) + 63) / 64 * 64;
  if (bytes == 0) bytes = 64;
  float* p = BufferPool::Get().Allocate(bytes);
  t.data_ = std::shared_ptr<float>(p, [bytes](float* q) { BufferPool::Get().Release(q, bytes); });
  return t;
}

Tensor Tensor::Zeros(Shape shape) { return Filled(std::move(shape), 0.0f); }

Tensor Tensor::Filled(Shape shape, float value) {
  Tensor t = Empty(std::move(shape));
  t.Fill(value);
  return t;
}

Result<Tensor> Tensor::FromVector(Shape shape, std::span<const float> values) {
  ASSIGN_OR_RETURN(int64_t n, NumElements(shape));
  if (n != static_cast<int64_t>(values.size())) {
    return Status::InvalidArgument("tensor of shape " + ShapeToString(shape) + " needs " +
                                   std::to_string(n) + " values, got " +
                                   std::to_string(values.size()));
  }
  Tensor t = Empty(std::move(shape));
  if (n > 0) std::memcpy(t.data(), values.data(), values.size_bytes());
  return t;
}

namespace {
template <typename T>
void ConvertTo(const Array& a, float* out) {
  auto src = a.data<T>();
  for (size_t i = 0; i < src.size(); ++i) out[i] = static_cast<float>(src[i]);
}
}  // namespace

Result<Tensor> Tensor::FromArray(const Array& array) {
  Tensor t = Empty(array.shape());
  switch (array.dtype()) {
    case DType::kFloat32:
      if (t.size_ > 0) std::memcpy(t.data(), array.raw_data(), array.num_bytes());
      break;
    case DType::kInt8:
      ConvertTo<int8_t>(array, t.data());
      break;
    case DType::kUInt8:
      ConvertTo<uint8_t>(array, t.data());
      break;
    case DType::kInt32:
      ConvertTo<int32_t>(array, t.data());
      break;
    case DType::kInt64:
      ConvertTo<int64_t>(array, t.data());
      break;
    case DType::kBool:
      ConvertTo<bool>(array, t.data());
      break;
  }
  return t;
}

Array Tensor::ToArray() const {
  Result<Array> a = Array::Zeros(DType::kFloat32, shape_);
  if (!a.ok()) throw std::bad_alloc();  // shape of an existing tensor is valid
  if (size_ > 0) std::memcpy(a->raw_data(), data(), static_cast<size_t>(size_) * sizeof(float));
  return std::move(a).value();
}

Tensor Tensor::Clone() const {
  if (!defined()) return {};
  Tensor t = Empty(shape_);
  t.CopyFrom(*this);
  return t;
}

Tensor Tensor::Reshaped(Shape shape) const {
  assert(ShapeSize(shape) == size_);
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

void Tensor::Fill(float value) {
  float* p = data();
  for (int64_t i = 0; i < size_; ++i) p[i] = value;
}

void Tensor::AddFrom(const Tensor& other) {
  assert(other.size_ == size_);
  float* p = data();
  const float* q = other.data();
  for (int64_t i = 0; i < size_; ++i) p[i] += q[i];
}

void Tensor::CopyFrom(const Tensor& other) {
  assert(other.size_ == size_);
  if (size_ > 0) std::memcpy(data(), other.data(), static_cast<size_t>(size_) * sizeof(float));
}

size_t TensorPoolCachedBytes() { return BufferPool::Get().cached(); }
int64_t TensorPoolSystemAllocations() { return BufferPool::Get().system_allocations(); }

}  // namespace edgepipe::nn
