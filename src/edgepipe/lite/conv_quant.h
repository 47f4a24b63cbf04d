// Quantized CONV_2D and DEPTHWISE_CONV_2D loops (NHWC, int8 / uint8): the
// reference loop (TFLite's reference kernel order of operations) and fast
// loops with bit-identical outputs.
//
// For every output element, acc = sum over in-bounds taps of
// (filter + q.filter_offset) * (input + q.input_offset), in int32 (wrapping
// modulo 2^32), + bias[oc]; output = q.Requantize(acc, c) with c = oc for
// per-channel quantization (q.multiplier.size() > 1), else 0.
//
// ConvQuantFast (CONV_2D): the 1x1 stride-1 unpadded case is a
// FULLY_CONNECTED over [batches*H*W, C]; every other case gathers blocks of
// output pixels' receptive fields into rows (im2col; taps outside the input
// hold the input zero point, so (x + input_offset) = 0 as in the reference's
// skipped taps), then runs FullyConnectedQuantFast. Integer sums are
// order-free, so the outputs are bit-identical.
// DepthwiseQuantFast: the fastest path of depthwise_quant.h (defined in
// depthwise_quant.cc): channel blocks in vector registers, vectorized
// bit-exact requantization.
//
// Units: shapes in elements; input [N, H, W, C]; CONV_2D filter
// [O, KH, KW, C]; DEPTHWISE filter [1, KH, KW, C*M]; bias [O] or null.
// Thread safety: pure functions over caller-owned buffers; no state.
#ifndef EDGEPIPE_LITE_CONV_QUANT_H_
#define EDGEPIPE_LITE_CONV_QUANT_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "edgepipe/lite/fully_connected_packed.h"
#include "edgepipe/lite/gemm_int8.h"
#include "edgepipe/lite/kernel.h"

namespace edgepipe::lite {

struct ConvGeometry {
  int batches = 0, in_h = 0, in_w = 0, in_c = 0;
  int out_h = 0, out_w = 0, out_c = 0;
  int k_h = 0, k_w = 0;
  int stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int pad_h = 0, pad_w = 0;
  int multiplier = 1;  // depthwise channel multiplier (out_c = in_c * multiplier)
};

// The reference loops.
void ConvQuantReference(const ConvQuant& q, const ConvGeometry& g, bool depthwise,
                        const int8_t* input, const int8_t* filter, const int32_t* bias,
                        int8_t* output);
void ConvQuantReference(const ConvQuant& q, const ConvGeometry& g, bool depthwise,
                        const uint8_t* input, const uint8_t* filter, const int32_t* bias,
                        uint8_t* output);

// CONV_2D fast loop. `row_sums` is FcFilterRowSums(filter, out_c,
// k_h * k_w * in_c) (fully_connected_fast.h), not null. Allocates a scratch
// block of at most 64 im2col rows per call. With `packed` (FcPackQuantFilter
// of the same filter as [out_c, k_h * k_w * in_c], q.filter_offset) and
// `scratch`, and FullyConnectedQuantPackedAvailable(), the rows go through
// FullyConnectedQuantPacked instead (same outputs). With `gemm` (GemmInt8Pack
// of the same filter as [out_c, k_h * k_w * in_c] with q and bias) and
// `gemm_scratch`, the rows go through GemmInt8 (gemm_int8.h), which takes
// precedence over `packed` (same outputs).
void ConvQuantFast(const ConvQuant& q, const ConvGeometry& g, const int8_t* input,
                   const int8_t* filter, const int32_t* row_sums, const int32_t* bias,
                   int8_t* output, const FcPackedFilter* packed = nullptr,
                   std::vector<int16_t>* scratch = nullptr, const GemmInt8Weights* gemm = nullptr,
                   GemmInt8Scratch* gemm_scratch = nullptr);
void ConvQuantFast(const ConvQuant& q, const ConvGeometry& g, const uint8_t* input,
                   const uint8_t* filter, const int32_t* row_sums, const int32_t* bias,
                   uint8_t* output, const FcPackedFilter* packed = nullptr,
                   std::vector<int16_t>* scratch = nullptr, const GemmInt8Weights* gemm = nullptr,
                   GemmInt8Scratch* gemm_scratch = nullptr);

// DEPTHWISE_CONV_2D fast loop (DepthwiseQuantIsa with DepthwiseBestIsa()).
void DepthwiseQuantFast(const ConvQuant& q, const ConvGeometry& g, const int8_t* input,
                        const int8_t* filter, const int32_t* bias, int8_t* output);
void DepthwiseQuantFast(const ConvQuant& q, const ConvGeometry& g, const uint8_t* input,
                        const uint8_t* filter, const int32_t* bias, uint8_t* output);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_CONV_QUANT_H_
