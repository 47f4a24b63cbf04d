// The generated FlatBuffers accessors for edgepipe's TFLite schema subset
// (tflite_schema.fbs), plus small helpers over its enums.
#ifndef EDGEPIPE_LITE_SCHEMA_H_
#define EDGEPIPE_LITE_SCHEMA_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/lite/tflite_schema_generated.h"

namespace edgepipe::lite {

// Bytes per element of `type`, or 0 for types without a fixed element size
// (STRING, RESOURCE, VARIANT, INT4 packed) and values outside the enum.
size_t TensorTypeSize(tflite::TensorType type);

// "float32", "int8", ...; "type(<n>)" for values outside the enum.
std::string TensorTypeName(tflite::TensorType type);

// The Array dtype holding values of tensor type `type` (float32, int8, uint8,
// int32, int64, bool); Unimplemented naming the type for the others.
Result<DType> ArrayDTypeOf(tflite::TensorType type);

// "FULLY_CONNECTED", ...; "BUILTIN(<n>)" for codes outside our enum subset.
std::string BuiltinOperatorName(int32_t code);

// The operator code of `code`: max(deprecated_builtin_code, builtin_code), so
// that files written before and after the field was widened both read right.
int32_t EffectiveBuiltinCode(const tflite::OperatorCode& code);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_SCHEMA_H_
