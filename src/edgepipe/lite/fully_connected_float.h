// Float FULLY_CONNECTED inner loops: the reference loop and a fast loop with
// bit-identical results.
//
// Both compute, for every batch row b and output unit o,
//   total = 0; for d in 0..depth-1: total += input[b, d] * filter[o, d]
//   output[b, o] = clamp(total + bias[o], fmin, fmax)
// in float32, each product rounded before the add (no fused multiply-add)
// and the sum in depth order. The fast loop keeps exactly that order per
// output: it vectorizes across output units (8 per AVX register, filter
// packed by FcPackFloatFilter into panels of 8 units) and across up to four
// batch rows, never across depth, so results are bit-identical to the
// reference. Without AVX2 at run time it runs the reference loop.
//
// Units: shapes in elements; input is [batches, depth], filter [units,
// depth], bias [units] or null, output [batches, units], all row-major.
// Thread safety: pure functions over caller-owned buffers; no state.
#ifndef EDGEPIPE_LITE_FULLY_CONNECTED_FLOAT_H_
#define EDGEPIPE_LITE_FULLY_CONNECTED_FLOAT_H_

#include <vector>

#include "edgepipe/lite/fully_connected_fast.h"

namespace edgepipe::lite {

// Number of output units per packed panel.
inline constexpr int kFcFloatPanel = 8;

// The filter [units, depth] as panels of kFcFloatPanel units: element
// (o, d) at ((o / 8) * depth + d) * 8 + o % 8; the last panel zero-padded.
// Size ceil(units / 8) * 8 * depth. Allocates; call once per Prepare for a
// constant filter.
std::vector<float> FcPackFloatFilter(const float* filter, int units, int depth);
// The same into `*out` (resized; no allocation once large enough).
void FcPackFloatFilterInto(const float* filter, int units, int depth, std::vector<float>* out);

// The reference loop (TFLite's reference kernel order of operations).
void FullyConnectedFloatReference(const FcShape& s, const float* input, const float* filter,
                                  const float* bias, float fmin, float fmax, float* output);

// The fast loop over a FcPackFloatFilter-packed filter. Does not allocate.
// Output is bit-identical to FullyConnectedFloatReference.
void FullyConnectedFloatFast(const FcShape& s, const float* input, const float* packed_filter,
                             const float* bias, float fmin, float fmax, float* output);

// True when FullyConnectedFloatFast runs its AVX2 loop on this CPU.
bool FullyConnectedFloatHasAvx2();

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_FULLY_CONNECTED_FLOAT_H_
