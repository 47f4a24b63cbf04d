// IEEE 754 binary16 ("half", TFLite's FLOAT16) conversions, bit-exact.
//
//   Float16ToFloat: exact (every half is a float), including subnormals,
//     infinities and NaN (payload kept in the high mantissa bits).
//   FloatToFloat16: round to nearest, ties to even; values beyond the half
//     range become infinity; NaN stays NaN (quiet).
// Pure functions; thread-safe.
#ifndef EDGEPIPE_LITE_FLOAT16_H_
#define EDGEPIPE_LITE_FLOAT16_H_

#include <bit>
#include <cstdint>

namespace edgepipe::lite {

inline float Float16ToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  uint32_t bits = 0;
  if (exp == 0x1F) {  // inf / NaN
    bits = sign | 0x7F800000u | (mant << 13);
  } else if (exp != 0) {  // normal: rebias 15 -> 127
    bits = sign | ((exp + 112u) << 23) | (mant << 13);
  } else if (mant == 0) {  // signed zero
    bits = sign;
  } else {  // subnormal: mant * 2^-24, normalised for float
    int e = -1;
    do {
      mant <<= 1;
      ++e;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

inline uint16_t FloatToFloat16(float f) {
  const uint32_t x = std::bit_cast<uint32_t>(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t abs = x & 0x7FFFFFFFu;
  if (abs >= 0x7F800000u) {  // inf or NaN
    return static_cast<uint16_t>(sign | 0x7C00u | (abs > 0x7F800000u ? 0x200u : 0u));
  }
  if (abs >= 0x477FF000u) return static_cast<uint16_t>(sign | 0x7C00u);  // rounds past 65504
  const int exp = static_cast<int>(abs >> 23) - 127;
  if (exp >= -14) {  // normal half: drop 13 mantissa bits, ties to even
    const uint32_t mant = abs & 0x7FFFFFu;
    uint32_t h = (static_cast<uint32_t>(exp + 15) << 10) | (mant >> 13);
    const uint32_t rest = mant & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;  // may carry into exponent
    return static_cast<uint16_t>(sign | h);
  }
  if (exp < -25) return sign;  // below half the smallest subnormal: zero
  // Subnormal half: value = m * 2^-24 with m = round(full_mantissa * 2^(exp + 1)).
  const uint32_t full = (abs & 0x7FFFFFu) | 0x800000u;  // 24 significant bits
  const int s = -exp - 1;  // 14..24: right shift of `full` to units of 2^-24
  uint32_t m = full >> s;
  const uint32_t rest = full & ((1u << s) - 1u);
  const uint32_t half = 1u << (s - 1);
  if (rest > half || (rest == half && (m & 1u))) ++m;
  return static_cast<uint16_t>(sign | m);
}

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_FLOAT16_H_
