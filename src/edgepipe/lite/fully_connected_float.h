// Float FULLY_CONNECTED inner loops: the reference loop and a fast loop
// (a register-blocked GEMM with fused multiply-add, as XNNPACK and LiteRT).
//
// Both compute, for every batch row b and output unit o,
//   total = sum over d of input[b, d] * filter[o, d]
//   output[b, o] = clamp(total + bias[o], fmin, fmax)      (bias 0 if absent)
// The reference rounds each product and adds in depth order, as TFLite's
// reference kernel. The fast loop fuses multiply and add (one rounding) and
// may split the sum (depth blocks; two interleaved partial sums for single
// rows), so it is not bit-identical: the float contract (issue 4,
// docs/formats.md "Kernel exactness") is
//   |fast - reference| <= 1e-5 * (sum_d |input[b, d] * filter[o, d]| + |bias[o]|)
// per output (plus denormal-sized slack), NaN where the reference is NaN and
// the same infinity where it is infinite. int8 kernels stay bit-exact.
//
// Kernels (picked at run time, FcFloatActiveKernel):
//   kAvx512   AVX-512F, 6 rows x 64 units register tile (24 zmm accumulators)
//   kAvx2Fma  AVX2 + FMA, 6 rows x 16 units (12 ymm accumulators), 1-2 rows
//             x 32 units
//   kPortable plain C++ over the same packed filter (any CPU)
// All read the filter packed by FcPackFloatFilter and do not allocate.
//
// Units: shapes in elements; input is [batches, depth], filter [units,
// depth], bias [units] or null, output [batches, units], all row-major.
// Thread safety: pure functions over caller-owned buffers; the only global
// state is the test hook FcFloatForceKernelForTesting (atomic).
#ifndef EDGEPIPE_LITE_FULLY_CONNECTED_FLOAT_H_
#define EDGEPIPE_LITE_FULLY_CONNECTED_FLOAT_H_

#include <vector>

#include "edgepipe/lite/fully_connected_fast.h"

namespace edgepipe::lite {

// Number of output units per packed panel (one zmm, two ymm registers).
inline constexpr int kFcFloatPanel = 16;

// The filter [units, depth] as panels of kFcFloatPanel units: element
// (o, d) at ((o / 16) * depth + d) * 16 + o % 16; the last panel
// zero-padded. Size ceil(units / 16) * 16 * depth. Allocates; call once per
// Prepare for a constant filter.
std::vector<float> FcPackFloatFilter(const float* filter, int units, int depth);
// The same into `*out` (resized; no allocation once large enough).
void FcPackFloatFilterInto(const float* filter, int units, int depth, std::vector<float>* out);

// The reference loop (TFLite's reference kernel order of operations).
void FullyConnectedFloatReference(const FcShape& s, const float* input, const float* filter,
                                  const float* bias, float fmin, float fmax, float* output);

// The fast loop over a FcPackFloatFilter-packed filter, on the active
// kernel. Does not allocate. Exact to the contract above.
void FullyConnectedFloatFast(const FcShape& s, const float* input, const float* packed_filter,
                             const float* bias, float fmin, float fmax, float* output);

// True when this CPU runs a SIMD kernel (AVX2 + FMA or better): callers use
// it to decide whether packing a filter per Eval pays.
bool FullyConnectedFloatHasAvx2();

enum class FcFloatKernel { kPortable, kAvx2Fma, kAvx512 };

// "portable", "avx2_fma", "avx512".
const char* FcFloatKernelName(FcFloatKernel k);
// Whether this CPU (and OS) can run `k`.
bool FcFloatKernelSupported(FcFloatKernel k);
// The kernel FullyConnectedFloatFast runs: the forced one if set, else the
// best supported.
FcFloatKernel FcFloatActiveKernel();
// Test hook: makes FullyConnectedFloatFast (and so ConvFloatFast) run `k`
// from now on, process-wide. Returns false (and changes nothing) when `k`
// is not supported here. FcFloatClearForcedKernel restores the default.
bool FcFloatForceKernelForTesting(FcFloatKernel k);
void FcFloatClearForcedKernel();

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_FULLY_CONNECTED_FLOAT_H_
