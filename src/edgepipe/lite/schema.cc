#include "edgepipe/lite/schema.h"

#include <fmt/format.h>

#include <algorithm>

namespace edgepipe::lite {

Result<DType> ArrayDTypeOf(tflite::TensorType t) {
  switch (t) {
    case tflite::TensorType::FLOAT32:
      return DType::kFloat32;
    case tflite::TensorType::INT8:
      return DType::kInt8;
    case tflite::TensorType::UINT8:
      return DType::kUInt8;
    case tflite::TensorType::INT32:
      return DType::kInt32;
    case tflite::TensorType::INT64:
      return DType::kInt64;
    case tflite::TensorType::BOOL:
      return DType::kBool;
    default:
      return Status::Unimplemented(
          fmt::format("tensor type {} has no Array dtype", TensorTypeName(t)));
  }
}

size_t TensorTypeSize(tflite::TensorType type) {
  using T = tflite::TensorType;
  switch (type) {
    case T::FLOAT32:
    case T::INT32:
    case T::UINT32:
      return 4;
    case T::FLOAT16:
    case T::INT16:
    case T::UINT16:
      return 2;
    case T::UINT8:
    case T::INT8:
    case T::BOOL:
      return 1;
    case T::INT64:
    case T::UINT64:
    case T::FLOAT64:
    case T::COMPLEX64:
      return 8;
    case T::COMPLEX128:
      return 16;
    default:
      return 0;
  }
}

std::string TensorTypeName(tflite::TensorType type) {
  const auto v = static_cast<int>(type);
  if (v < static_cast<int>(tflite::TensorType::MIN) ||
      v > static_cast<int>(tflite::TensorType::MAX)) {
    return fmt::format("type({})", v);
  }
  std::string name = tflite::EnumNameTensorType(type);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::string BuiltinOperatorName(int32_t code) {
  if (code < static_cast<int32_t>(tflite::BuiltinOperator::MIN) ||
      code > static_cast<int32_t>(tflite::BuiltinOperator::MAX)) {
    return fmt::format("BUILTIN({})", code);
  }
  return tflite::EnumNameBuiltinOperator(static_cast<tflite::BuiltinOperator>(code));
}

int32_t EffectiveBuiltinCode(const tflite::OperatorCode& code) {
  return std::max(static_cast<int32_t>(code.deprecated_builtin_code()),
                  static_cast<int32_t>(code.builtin_code()));
}

}  // namespace edgepipe::lite
