// Quantized FULLY_CONNECTED inner loops: the reference loop (offsets applied
// inside the dot product, as TFLite's reference kernel) and a fast loop that
// gives bit-identical results.
//
// Both compute, for every batch row b and output unit o,
//   acc = sum_d (filter[o, d] + q.filter_offset) * (input[b, d] + q.input_offset)
//         + bias[o]
// in int32 (wrapping modulo 2^32, as the reference's int32 accumulator does
// on real models, where it never overflows) and write
// output[b, o] = q.Requantize(acc, c) with c = o for per-channel
// quantization (q.multiplier.size() == units > 1), else 0.
//
// The fast loop expands the product:
//   acc = sum(x*w) + input_offset * sum(w) + filter_offset * sum(x)
//         + depth * input_offset * filter_offset
// with sum(w) per output unit precomputed once (FcFilterRowSums), sum(x*w)
// by a widening int8/uint8 -> int32 loop that the compiler vectorizes (an
// AVX2 build of it is picked at run time when the CPU supports it), and up
// to four batch rows per filter row for cache reuse. Requantization and
// clamping are the same ConvQuant::Requantize call as in the reference.
//
// Units: shapes in elements; input is [batches, depth], filter [units,
// depth], bias [units] or null, output [batches, units], all row-major.
// Thread safety: pure functions over caller-owned buffers; no state.
#ifndef EDGEPIPE_LITE_FULLY_CONNECTED_FAST_H_
#define EDGEPIPE_LITE_FULLY_CONNECTED_FAST_H_

#include <cstdint>
#include <vector>

#include "edgepipe/lite/kernel.h"

namespace edgepipe::lite {

struct FcShape {
  int batches = 0;
  int depth = 0;
  int units = 0;
};

// sum_d filter[o, d] for each of the `units` rows (size units). Allocates;
// call once per Prepare for constant filters.
std::vector<int32_t> FcFilterRowSums(const int8_t* filter, int units, int depth);
std::vector<int32_t> FcFilterRowSums(const uint8_t* filter, int units, int depth);

// The reference loop (TFLite's reference kernel order of operations).
void FullyConnectedQuantReference(const ConvQuant& q, const FcShape& s, const int8_t* input,
                                  const int8_t* filter, const int32_t* bias, int8_t* output);
void FullyConnectedQuantReference(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                                  const uint8_t* filter, const int32_t* bias, uint8_t* output);

// The fast loop. `row_sums` is FcFilterRowSums(filter, ...) (size
// s.units); it must not be null. Does not allocate. Output is bit-identical
// to FullyConnectedQuantReference.
void FullyConnectedQuantFast(const ConvQuant& q, const FcShape& s, const int8_t* input,
                             const int8_t* filter, const int32_t* row_sums, const int32_t* bias,
                             int8_t* output);
void FullyConnectedQuantFast(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                             const uint8_t* filter, const int32_t* row_sums, const int32_t* bias,
                             uint8_t* output);

// The fast loop without the AVX2 dot products (the path taken on CPUs
// without AVX2), callable anywhere so that tests cover it. Same contract.
void FullyConnectedQuantFastPortable(const ConvQuant& q, const FcShape& s, const int8_t* input,
                                     const int8_t* filter, const int32_t* row_sums,
                                     const int32_t* bias, int8_t* output);
void FullyConnectedQuantFastPortable(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                                     const uint8_t* filter, const int32_t* row_sums,
                                     const int32_t* bias, uint8_t* output);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_FULLY_CONNECTED_FAST_H_
