// Float -> int8 / uint8 quantization of model inputs, vectorized.
//
// QuantizeFloats computes, for every element, exactly QuantizeValue(x, scale,
// zero_point, qmin, qmax) of model_runner.h: q = x / scale in float32 (a true
// IEEE division, never a multiplication by 1 / scale), rounded half away from
// zero, plus zero_point, clamped to the type's range; NaN gives qmin, +inf
// qmax, -inf qmin. On x86-64 CPUs with AVX2 it processes 8 floats per step
// (the rounding is done exactly in float: trunc, then +-1 when the dropped
// fraction is >= 0.5); elsewhere, and for zero points outside +-2^20, it runs
// the scalar QuantizeValue loop. Both are tested bit-equal.
//
// Pure functions: thread-safe; `src` and `dst` are borrowed, `count` elements
// each, and must not overlap. scale must be > 0.
#ifndef EDGEPIPE_EVAL_INPUT_QUANTIZE_H_
#define EDGEPIPE_EVAL_INPUT_QUANTIZE_H_

#include <cstdint>

namespace edgepipe::eval {

void QuantizeFloats(const float* src, int64_t count, float scale, int32_t zero_point, int8_t* dst);
void QuantizeFloats(const float* src, int64_t count, float scale, int32_t zero_point, uint8_t* dst);

// The scalar reference (QuantizeValue per element), for tests and benchmarks.
void QuantizeFloatsScalar(const float* src, int64_t count, float scale, int32_t zero_point,
                          int8_t* dst);
void QuantizeFloatsScalar(const float* src, int64_t count, float scale, int32_t zero_point,
                          uint8_t* dst);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_INPUT_QUANTIZE_H_
