// Quantized DEPTHWISE_CONV_2D (NHWC, int8 / uint8) with explicit
// instruction-set paths, bit-identical to ConvQuantReference(depthwise).
//
// Per output pixel the in-image taps form a rectangle of the kernel (its
// bounds computed once per pixel: interior pixels run every tap, border
// pixels only the in-image ones, which is what the reference's skipped
// taps amount to). Channels are processed in vector blocks (8 int32 lanes
// on AVX2, 16 on AVX-512) with the accumulators in registers across the
// taps, then requantized in the same registers: the gemmlowp fixed-point
// multiplier (64-bit products, rounding right shift per channel) or, in
// kLiteRt mode, XNNPACK's fp32 scale with round-to-nearest-even, both
// bit-exact with ConvQuant::Requantize. Integer sums are order-free
// (wrapping int32), so the outputs equal the reference's.
//
// Depth multipliers other than 1 (and a per-channel multiplier of INT32_MIN,
// which only a hand-made ConvQuant has) run the reference loop on every
// path.
//
// Thread safety: pure functions over caller-owned buffers; each thread keeps
// its own scratch (a thread_local block of (k_h * k_w + 6) * out_c words that
// only grows).
#ifndef EDGEPIPE_LITE_DEPTHWISE_QUANT_H_
#define EDGEPIPE_LITE_DEPTHWISE_QUANT_H_

#include <cstdint>
#include <string_view>

#include "edgepipe/lite/conv_quant.h"
#include "edgepipe/lite/kernel.h"

namespace edgepipe::lite {

enum class DepthwiseIsa {
  kPortable,  // plain C++ (vectorized by the compiler where it can)
  kAvx2,      // AVX2: 8 channels per block
  kAvx512,    // AVX-512 F/BW/VL: 16 channels per block, masked tails
  // + AVX512-VNNI: interior pixels (every tap in-image) take 32 channels per
  // block, taps in pairs through vpdpwssd (int16 inputs and weights, exact
  // int32 sums), the input offset folded into the bias; border pixels as
  // kAvx512.
  kAvx512Vnni,
};

// Whether this CPU (and build) can run `isa`; kPortable always.
bool DepthwiseIsaSupported(DepthwiseIsa isa);
// The fastest supported path (what DepthwiseQuantFast runs).
DepthwiseIsa DepthwiseBestIsa();
// "portable", "avx2", "avx512", "avx512vnni".
std::string_view DepthwiseIsaName(DepthwiseIsa isa);

// DEPTHWISE_CONV_2D on path `isa` (must be supported; an unsupported one
// runs kPortable). Shapes as in conv_quant.h: input [N, H, W, C], filter
// [1, KH, KW, C*M], bias [C*M] or null, output [N, OH, OW, C*M].
void DepthwiseQuantIsa(const ConvQuant& q, const ConvGeometry& g, const int8_t* input,
                       const int8_t* filter, const int32_t* bias, int8_t* output, DepthwiseIsa isa);
void DepthwiseQuantIsa(const ConvQuant& q, const ConvGeometry& g, const uint8_t* input,
                       const uint8_t* filter, const int32_t* bias, uint8_t* output,
                       DepthwiseIsa isa);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_DEPTHWISE_QUANT_H_
