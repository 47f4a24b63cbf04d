// Quantized FULLY_CONNECTED over a pre-packed filter (AVX2): the int8/uint8
// filter, with its zero point already applied, widened to int16 and packed
// in panels of 8 output units x 2 depths, so one vpmaddwd multiplies a
// broadcast pair of (input + input_offset) values by 8 units' filter pairs.
// The input rows are widened to int16 (+ input_offset) into a scratch
// buffer first. Every product (|a|, |b| <= 255) and pair sum fits, so the
// int32 accumulators hold exactly the reference's
//   acc = sum_d (filter[o, d] + filter_offset) * (input[b, d] + input_offset)
// (modulo 2^32), then + bias[o] and the same ConvQuant::Requantize call:
// outputs are bit-identical to FullyConnectedQuantReference
// (fully_connected_fast.h). Tiles: 4 batch rows x 16 units. FULLY_CONNECTED
// and CONV_2D use it on AVX2 CPUs without VNNI; with VNNI they use the int8
// GEMM core (gemm_int8.h) instead.
//
// Units: shapes in elements; input [batches, depth], filter [units, depth],
// bias [units] or null, output [batches, units], row-major.
// Thread safety: pure functions; the scratch buffer belongs to the caller
// (one per concurrent call).
#ifndef EDGEPIPE_LITE_FULLY_CONNECTED_PACKED_H_
#define EDGEPIPE_LITE_FULLY_CONNECTED_PACKED_H_

#include <cstdint>
#include <vector>

#include "edgepipe/lite/fully_connected_fast.h"

namespace edgepipe::lite {

struct FcPackedFilter {
  int units = 0;
  int depth = 0;
  int depth_pairs = 0;        // ceil(depth / 2)
  std::vector<int16_t> data;  // ceil(units / 8) panels x depth_pairs x 16
};

// Packs filter [units, depth] with `filter_offset` (= -filter zero point)
// added: element (o, d) at ((o / 8) * depth_pairs + d / 2) * 16 + (o % 8) * 2
// + d % 2; padding (odd depth, last panel) is 0. Allocates.
FcPackedFilter FcPackQuantFilter(const int8_t* filter, int units, int depth, int32_t filter_offset);
FcPackedFilter FcPackQuantFilter(const uint8_t* filter, int units, int depth,
                                 int32_t filter_offset);

// True when the CPU runs FullyConnectedQuantPacked (AVX2). Callers use
// FullyConnectedQuantFast otherwise.
bool FullyConnectedQuantPackedAvailable();

// The packed loop; requires FullyConnectedQuantPackedAvailable(). `f` must
// come from FcPackQuantFilter with q.filter_offset and s.units / s.depth.
// `scratch` is resized to batches * depth_pairs * 2 int16 (reused across
// calls; does not allocate once large enough).
void FullyConnectedQuantPacked(const ConvQuant& q, const FcShape& s, const int8_t* input,
                               const FcPackedFilter& f, const int32_t* bias, int8_t* output,
                               std::vector<int16_t>* scratch);
void FullyConnectedQuantPacked(const ConvQuant& q, const FcShape& s, const uint8_t* input,
                               const FcPackedFilter& f, const int32_t* bias, uint8_t* output,
                               std::vector<int16_t>* scratch);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_FULLY_CONNECTED_PACKED_H_
