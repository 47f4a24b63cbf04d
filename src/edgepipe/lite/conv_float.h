// Float CONV_2D loops (NHWC, float32): the reference loop and a fast loop
// on the float FULLY_CONNECTED GEMM (fully_connected_float.h).
//
// Both compute, for every output element (b, oy, ox, oc),
//   acc = sum over ky, kx (taps inside the input only), ic of
//         input[b, iy, ix, ic] * filter[oc, ky, kx, ic]
//   output = clamp(acc + bias[oc], fmin, fmax)        (bias 0 when absent)
// The reference rounds each product and adds in (ky, kx, ic) order, as
// TFLite's reference kernel.
//
// ConvFloatFast: the 1x1 stride-1 unpadded case is a FULLY_CONNECTED over
// [batches*H*W, C]; every other case gathers blocks of output pixels'
// receptive fields into rows in (ky, kx, ic) order (im2col; taps outside
// the input hold 0.0f) and runs FullyConnectedFloatFast over them. Its
// fused multiply-adds make the outputs exact to the float contract of
// fully_connected_float.h (1e-5 relative to sum |x * w| + |bias|), not
// bit-identical. A padded tap adds 0 * w, which is +-0 only for finite w:
// ConvPackFloatFilter refuses filters with Inf / NaN (the caller then runs
// the reference loop, which skips padded taps).
//
// Units: shapes in elements; input [N, H, W, C], filter [O, KH, KW, C],
// bias [O] or null, output [N, OH, OW, O]. The geometry (ConvGeometry,
// conv_quant.h) must be consistent: out_h/out_w/pad_h/pad_w as TFLite's
// SAME / VALID padding computes them.
// Thread safety: pure functions over caller-owned buffers; no state.
#ifndef EDGEPIPE_LITE_CONV_FLOAT_H_
#define EDGEPIPE_LITE_CONV_FLOAT_H_

#include <vector>

#include "edgepipe/lite/conv_quant.h"

namespace edgepipe::lite {

// Packs the filter [out_c, k_h * k_w * in_c] for ConvFloatFast into
// `*packed` (FcPackFloatFilterInto layout; resized, no allocation once large
// enough). Returns false and leaves `*packed` empty when the filter holds a
// non-finite value (then ConvFloatFast would not match the reference).
bool ConvPackFloatFilter(const ConvGeometry& g, const float* filter, std::vector<float>* packed);

// The reference loop (TFLite's reference kernel order of operations).
void ConvFloatReference(const ConvGeometry& g, const float* input, const float* filter,
                        const float* bias, float fmin, float fmax, float* output);

// The fast loop over a ConvPackFloatFilter-packed filter. `scratch` holds
// the im2col block (at most 96 rows of k_h * k_w * in_c floats; resized
// once, reused across calls: one call at a time per scratch). Output meets
// the float contract against ConvFloatReference (see above).
void ConvFloatFast(const ConvGeometry& g, const float* input, const float* packed_filter,
                   const float* bias, float fmin, float fmax, float* output,
                   std::vector<float>* scratch);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_CONV_FLOAT_H_
