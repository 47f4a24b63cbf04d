#include "edgepipe/lite/quant_math.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace edgepipe::lite {
namespace {

constexpr int32_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int32_t kInt32Max = std::numeric_limits<int32_t>::max();

// Wrapping two's-complement add/sub, as the fixed-point code assumes.
int32_t Add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t Sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
// Fixed-point product: Qa.x * Qb.y -> Q(a+b), raw = SRDHM.
int32_t Mul(int32_t a, int32_t b) { return SaturatingRoundingDoublingHighMul(a, b); }

// Rescales a raw value from `src` to `dst` integer bits.
int32_t Rescale(int32_t x, int src, int dst) {
  return SaturatingRoundingMultiplyByPOT(x, src - dst);
}

// exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor series around -1/8.
int32_t ExpOnIntervalNegQuarterToZero(int32_t a) {
  const int32_t kExpMinusOneEighth = 1895147668;  // round(exp(-1/8) * 2^31)
  const int32_t kOneThird = 715827883;            // round(2^31 / 3)
  const int32_t x = Add(a, int32_t{1} << 28);     // a + 1/8
  const int32_t x2 = Mul(x, x);
  const int32_t x3 = Mul(x2, x);
  const int32_t x4 = Mul(x2, x2);
  const int32_t x4_over_4 = SaturatingRoundingMultiplyByPOT(x4, -2);
  const int32_t poly =
      SaturatingRoundingMultiplyByPOT(Add(Mul(Add(x4_over_4, x3), kOneThird), x2), -1);
  return Add(kExpMinusOneEighth, Mul(kExpMinusOneEighth, Add(x, poly)));
}

}  // namespace

void QuantizeMultiplier(double real_multiplier, int32_t* quantized_multiplier, int* shift) {
  if (real_multiplier == 0.0) {
    *quantized_multiplier = 0;
    *shift = 0;
    return;
  }
  const double q = std::frexp(real_multiplier, shift);
  auto q_fixed = static_cast<int64_t>(std::round(q * static_cast<double>(int64_t{1} << 31)));
  if (q_fixed == (int64_t{1} << 31)) {
    q_fixed /= 2;
    ++*shift;
  }
  if (*shift < -31) {
    *shift = 0;
    q_fixed = 0;
  }
  if (*shift > 30) {
    *shift = 30;
    q_fixed = (int64_t{1} << 31) - 1;
  }
  *quantized_multiplier = static_cast<int32_t>(q_fixed);
}

int32_t SaturatingRoundingDoublingHighMul(int32_t a, int32_t b) {
  if (a == kInt32Min && b == kInt32Min) return kInt32Max;
  const int64_t ab = static_cast<int64_t>(a) * static_cast<int64_t>(b);
  const int64_t nudge = ab >= 0 ? (int64_t{1} << 30) : (1 - (int64_t{1} << 30));
  // Division truncating toward zero, as in gemmlowp.
  return static_cast<int32_t>((ab + nudge) / (int64_t{1} << 31));
}

int32_t RoundingDivideByPOT(int32_t x, int exponent) {
  const int32_t mask = static_cast<int32_t>((int64_t{1} << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t MultiplyByQuantizedMultiplier(int32_t x, int32_t quantized_multiplier, int shift) {
  const int left_shift = shift > 0 ? shift : 0;
  const int right_shift = shift > 0 ? 0 : -shift;
  const auto shifted = static_cast<int32_t>(static_cast<uint32_t>(x) << left_shift);
  return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(shifted, quantized_multiplier),
                             right_shift);
}

int32_t SaturatingRoundingMultiplyByPOT(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return RoundingDivideByPOT(x, -exponent);
  const int32_t threshold = static_cast<int32_t>((int64_t{1} << (31 - exponent)) - 1);
  if (x > threshold) return kInt32Max;
  if (x < -threshold) return kInt32Min;
  return static_cast<int32_t>(static_cast<uint32_t>(x) << exponent);
}

int32_t ExpOnNegativeValues(int32_t a, int integer_bits) {
  const int fractional_bits = 31 - integer_bits;
  const int32_t one_quarter = int32_t{1} << (fractional_bits - 2);
  const int32_t mask = one_quarter - 1;
  const int32_t a_mod_quarter_minus_quarter = Sub(a & mask, one_quarter);
  int32_t result =
      ExpOnIntervalNegQuarterToZero(Rescale(a_mod_quarter_minus_quarter, integer_bits, 0));
  const int32_t remainder = Sub(a_mod_quarter_minus_quarter, a);
  // round(exp(-2^k) * 2^31) for k = -2 .. 4.
  static constexpr int32_t kExpOfMinusPowerOfTwo[7] = {1672461947, 1302514674, 790015084, 290630308,
                                                       39332535,   720401,     242};
  for (int k = -2; k <= 4; ++k) {
    if (integer_bits > k) {
      const int bit = fractional_bits + k;
      if (remainder & (int32_t{1} << bit)) result = Mul(result, kExpOfMinusPowerOfTwo[k + 2]);
    }
  }
  if (integer_bits > 5) {
    // exp(a) underflows Q0.31 for a < -32.
    const int32_t clamp = -(int32_t{1} << (36 - integer_bits));
    if (a < clamp) result = 0;
  }
  if (a == 0) result = kInt32Max;  // exp(0) = 1, the largest Q0.31 value
  return result;
}

int32_t OneOverOnePlusX(int32_t x) {
  // half_denominator = (x + 1) / 2 in Q0.31, rounded half away from zero.
  const int64_t sum = static_cast<int64_t>(x) + kInt32Max;
  const auto half_denominator = static_cast<int32_t>((sum + (sum >= 0 ? 1 : -1)) / 2);
  // Q2.29 Newton-Raphson for 1 / half_denominator, starting at 48/17 - 32/17 d.
  const int32_t k48Over17 = 1515870810;
  const int32_t kNeg32Over17 = -1010580540;
  const int32_t kOneQ2 = int32_t{1} << 29;
  int32_t y = Add(k48Over17, Mul(half_denominator, kNeg32Over17));
  for (int i = 0; i < 3; ++i) {
    const int32_t half_denominator_times_y = Mul(half_denominator, y);  // Q2
    const int32_t one_minus = Sub(kOneQ2, half_denominator_times_y);    // Q2
    y = Add(y, Rescale(Mul(y, one_minus), 4, 2));                       // Q4 -> Q2
  }
  // y / 2 reinterpreted as Q1, rescaled to Q0.
  return Rescale(y, 1, 0);
}

int32_t GetReciprocal(int32_t x, int integer_bits, int* num_bits_over_unit) {
  const int headroom_plus_one = std::countl_zero(static_cast<uint32_t>(x));
  *num_bits_over_unit = integer_bits - headroom_plus_one;
  const auto shifted_minus_one =
      static_cast<int32_t>((static_cast<uint32_t>(x) << headroom_plus_one) - (uint32_t{1} << 31));
  return OneOverOnePlusX(shifted_minus_one);
}

void PreprocessSoftmaxScaling(double beta, double input_scale, int input_integer_bits,
                              int32_t* quantized_multiplier, int* left_shift) {
  const double real = std::min<double>(
      beta * input_scale * static_cast<double>(int64_t{1} << (31 - input_integer_bits)),
      static_cast<double>((int64_t{1} << 31) - 1));
  QuantizeMultiplier(real, quantized_multiplier, left_shift);
}

int CalculateInputRadius(int input_integer_bits, int input_left_shift) {
  const double max_input_rescaled = 1.0 * static_cast<double>((1 << input_integer_bits) - 1) *
                                    static_cast<double>(int64_t{1} << (31 - input_integer_bits)) /
                                    static_cast<double>(int64_t{1} << input_left_shift);
  return static_cast<int>(std::floor(max_input_rescaled));
}

float Fp32RequantScale(float a, float b, float c) {
  const float ab = a * b;
  return ab / c;
}

int32_t RequantizeFp32(int32_t acc, float scale) {
  const float v = static_cast<float>(acc) * scale;
  // Clamp first (as XNNPACK does against the output range), so the
  // conversion below is defined.
  const float lim = 2147483520.0f;  // largest float below 2^31
  const float c = std::clamp(v, -lim, lim);
  // Ties to even: the default rounding mode; std::nearbyint uses it.
  return static_cast<int32_t>(std::nearbyint(c));
}

bool ComputeXnnAddParams(float a_scale, int32_t a_zp, float b_scale, int32_t b_zp, float out_scale,
                         Fp32AddParams* p) {
  const float ra = a_scale / out_scale;
  const float rb = b_scale / out_scale;
  const auto ok = [](float r) { return r >= 0x1.0p-10f && r < 0x1.0p+8f; };
  if (!ok(ra) || !ok(rb)) return false;
  const float max_r = std::max(ra, rb);
  const int exponent = static_cast<int>(std::bit_cast<uint32_t>(max_r) >> 23) - 127;
  p->shift = 20 - exponent;
  // r * 2^shift is exact in float (an exponent change), then rounded to the
  // nearest integer, ties to even.
  const auto mult = [&](float r) {
    return static_cast<int32_t>(std::nearbyint(std::ldexp(r, p->shift)));
  };
  p->a_multiplier = mult(ra);
  p->b_multiplier = mult(rb);
  p->bias = (int32_t{1} << (p->shift - 1)) - p->a_multiplier * a_zp - p->b_multiplier * b_zp;
  return true;
}

}  // namespace edgepipe::lite
