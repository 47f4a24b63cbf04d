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
