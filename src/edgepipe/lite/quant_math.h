// Integer arithmetic of TFLite's quantized reference kernels, bit for bit.
//
// A real multiplier M is held as a Q0.31 mantissa q in [2^30, 2^31) and a
// power-of-two exponent: M = q * 2^(shift - 31). Products are rounded as the
// reference kernels round them (gemmlowp's rounding doubling high multiply,
// then a rounding right shift with ties away from zero), so results equal
// TFLite's reference kernels exactly. Pure functions; thread-safe.
#ifndef EDGEPIPE_LITE_QUANT_MATH_H_
#define EDGEPIPE_LITE_QUANT_MATH_H_

#include <cstdint>

namespace edgepipe::lite {

// Splits `real_multiplier` (>= 0) into a Q0.31 mantissa and exponent (via
// frexp), as TFLite's QuantizeMultiplier: 0 gives (0, 0); exponents below -31
// flush to (0, 0); exponents above 30 saturate to (2^31 - 1, 30).
void QuantizeMultiplier(double real_multiplier, int32_t* quantized_multiplier, int* shift);

// round(a * b / 2^31) with ties away from zero, saturating the one overflow
// case a == b == INT32_MIN (gemmlowp's SaturatingRoundingDoublingHighMul).
int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b);

// x / 2^exponent rounded to nearest, ties away from zero; 0 <= exponent <= 31.
int32_t RoundingDivideByPOT(int32_t x, int exponent);

// x * M for M = quantized_multiplier * 2^(shift - 31): left shift first (for
// shift > 0), then the doubling high multiply, then a rounding right shift.
int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t quantized_multiplier, int shift);

// XNNPACK's fp32 requantization scale: a * b / c evaluated in float, in
// that order (input_scale * filter_scale / output_scale).
float Fp32RequantScale(float a, float b, float c);

// XNNPACK's fp32 requantization of an int32 accumulator: float(acc) * scale
// in float, rounded to nearest with ties to even (XNNPACK adds and
// subtracts the magic number 1.5 * 2^23 for this). The result is saturated
// to int32 range; callers add the zero point and clamp.
int32_t RequantizeFp32(int32_t acc, float scale);

// XNNPACK's quantized ADD (as LiteRT runs int8 ADD): with float ratios
// ra = a_scale / out_scale and rb = b_scale / out_scale, shift = 20 - the
// binary exponent of max(ra, rb), multipliers round(r * 2^shift) (ties to
// even), and bias = 2^(shift-1) - a_mult * a_zp - b_mult * b_zp. Then
// out = (bias + a * a_mult + b * b_mult) >> shift (arithmetic shift, i.e.
// rounding half up) + out_zp, clamped. Requires both ratios in
// [2^-10, 2^8) (XNNPACK's own precondition); returns false otherwise.
struct Fp32AddParams {
  int32_t a_multiplier = 0;
  int32_t b_multiplier = 0;
  int32_t bias = 0;
  int shift = 0;
};
bool ComputeXnnAddParams(float a_scale, int32_t a_zp, float b_scale, int32_t b_zp, float out_scale,
                         Fp32AddParams* p);

// Saturating x * 2^exponent for exponent > 0; RoundingDivideByPOT for < 0.
int32_t SaturatingRoundingMultiplyByPOT(int32_t x, int exponent);

// exp(a) for a <= 0, where a is a fixed-point number with `integer_bits`
// integer bits (Q(integer_bits).(31 - integer_bits)); result in Q0.31.
// gemmlowp's exp_on_negative_values: a Taylor polynomial on [-1/4, 0) times a
// product of exp(-2^k) constants picked by the bits of the remainder.
int32_t ExpOnNegativeValues(int32_t a, int integer_bits);

// 1 / (1 + x) for x in [0, 1) given and returned in Q0.31 (Newton-Raphson, 3
// iterations, as gemmlowp's one_over_one_plus_x_for_x_in_0_1).
int32_t OneOverOnePlusX(int32_t x);

// Reciprocal of the positive fixed-point number x with `integer_bits` integer
// bits, as TFLite's GetReciprocal: returns a Q0.31 mantissa and sets
// *num_bits_over_unit so that 1/x = mantissa * 2^-num_bits_over_unit.
int32_t GetReciprocal(int32_t x, int integer_bits, int* num_bits_over_unit);

// Softmax input scaling (TFLite's PreprocessSoftmaxScaling): the multiplier
// for beta * input_scale into Q(input_integer_bits), as a multiplier >= 1.
void PreprocessSoftmaxScaling(double beta, double input_scale, int input_integer_bits,
                              int32_t* quantized_multiplier, int* left_shift);

// Largest |input - max| still worth exponentiating (TFLite's
// CalculateInputRadius for 31 total signed bits).
int CalculateInputRadius(int input_integer_bits, int input_left_shift);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_QUANT_MATH_H_
