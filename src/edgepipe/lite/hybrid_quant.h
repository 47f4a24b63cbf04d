// Run-time input quantization of TFLite's hybrid kernels (float activations,
// int8 weights): each batch row of the float input is quantized to int8 on
// the fly, the products are accumulated in int32 and scaled back to float.
// These two functions are TFLite's tensor_utils::AsymmetricQuantizeFloats and
// SymmetricQuantizeFloats, bit for bit. Pure; thread-safe.
#ifndef EDGEPIPE_LITE_HYBRID_QUANT_H_
#define EDGEPIPE_LITE_HYBRID_QUANT_H_

#include <cstdint>
#include <span>

namespace edgepipe::lite {

// Asymmetric: range [min(0, min x), max(0, max x)] over int8 [-128, 127];
// scale = range / 255 (double, stored as float), the zero point taken from
// whichever end has the smaller rounding error, nudged into [-128, 127];
// q = clamp(round(offset + x * (1 / scale))) with float arithmetic. An
// all-zero row gives q = 0, scale 1, offset 0. `q.size()` == `x.size()`.
void AsymmetricQuantizeFloats(std::span<const float> x, std::span<int8_t> q, float* scale,
                              int32_t* offset);

// Symmetric: scale = max|x| / 127, q = clamp(round(x * (127 / max|x|)),
// -127, 127); an all-zero row gives scale 1.
void SymmetricQuantizeFloats(std::span<const float> x, std::span<int8_t> q, float* scale);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_HYBRID_QUANT_H_
