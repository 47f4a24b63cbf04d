// Packed int8 / uint8 GEMM core for quantized FULLY_CONNECTED and CONV_2D
// (1x1 and im2col), built around the VNNI instruction vpdpbusd (unsigned
// 8-bit x signed 8-bit products, 4 per int32 lane, summed into int32; 64
// multiply-adds per 512-bit instruction).
//
// For input rows x [batches, depth] and filter w [units, depth] (same 8-bit
// type T), every output is the reference's
//   acc[b, o] = sum_d (w[o, d] + filter_offset) * (x[b, d] + input_offset)
//               + bias[o]                                   (int32, mod 2^32)
//   out[b, o] = q.Requantize(acc[b, o], per_channel ? o : 0)
// bit for bit. The operands are re-based to what vpdpbusd multiplies:
//   u = x as uint8 (T = uint8) or x ^ 0x80 = x + 128 (T = int8),
//   s = w as int8  (T = int8)  or w ^ 0x80 = w - 128 (T = uint8),
// so x + input_offset = u + u_off and w + filter_offset = s + s_off, and
//   acc = sum_d u*s + s_off * sum_d u                 (per row; 0 when s_off = 0)
//         + u_off * sum_d s + depth * u_off * s_off + bias[o]   (per unit)
// The per-unit part is folded into one constant at pack time; the per-row
// part is only computed when s_off != 0 (int8 filters with a zero point,
// uint8 filters). Every term wraps modulo 2^32 as the reference's int32
// accumulator does (vpdpbusd does not saturate), so the int32 sums are
// exactly the reference's. Requantization (kReference mode) is vectorized
// and bit-identical to MultiplyByQuantizedMultiplier + offset + clamp;
// so is kLiteRt mode (q.fp32_scale set: float product, round to nearest
// even) in the AVX512-VNNI path; other paths requantize kLiteRt through
// ConvQuant::Requantize.
//
// Paths (chosen at run time): AVX512-VNNI (tiles of up to 4 rows x 64
// units), AVX-VNNI (256-bit, up to 4 rows x 32 units) and a portable scalar
// loop over the same packed layout (always available).
//
// Units: shapes in elements; input [batches, depth] and output
// [batches, units], row-major, contiguous.
// Thread safety: GemmInt8Weights is immutable after packing and may be
// shared by concurrent calls; each concurrent call needs its own
// GemmInt8Scratch.
#ifndef EDGEPIPE_LITE_GEMM_INT8_H_
#define EDGEPIPE_LITE_GEMM_INT8_H_

#include <cstdint>
#include <vector>

#include "edgepipe/lite/kernel.h"

namespace edgepipe::lite {

// Filter, bias and requantization constants packed for GemmInt8. Owns its
// buffers; copyable. Valid only with the ConvQuant it was packed with.
struct GemmInt8Weights {
  static constexpr int kPanel = 16;  // units per panel (one 512-bit vector)
  int units = 0;
  int depth = 0;
  int quads = 0;   // ceil(depth / 4): depth groups of 4
  int panels = 0;  // ceil(units / kPanel)
  bool is_uint8 = false;
  bool per_channel = false;  // q.multiplier.size() == units > 1
  int32_t s_off = 0;         // filter re-base (see above); 0 skips the row term
  // Panel p, quad k, unit j of the panel, depth i of the quad at
  // ((p * quads + k) * kPanel + j) * 4 + i; padding (depth and units) is 0.
  std::vector<int8_t> data;
  // Per unit, padded to panels * kPanel (padding 0 / multiplier 0):
  std::vector<int32_t> unit_const;   // u_off * sum(s) + depth * u_off * s_off + bias
  std::vector<int32_t> multiplier;   // kReference requantization, per unit
  std::vector<int32_t> left_shift;   // max(shift, 0)
  std::vector<int32_t> right_shift;  // max(-shift, 0)
  // kLiteRt requantization (q.fp32_scale set) with finite scales: the scale
  // per unit; empty otherwise (then ConvQuant::Requantize per element).
  std::vector<float> fp32_scale;
};

// Per-call scratch (input rows re-based to uint8, per-row terms). Reused
// across calls; grows to batches * quads * 4 bytes, then does not allocate.
struct GemmInt8Scratch {
  std::vector<uint8_t> rows;
  std::vector<int32_t> row_terms;
};

// Dispatch paths; kAuto picks the fastest one the CPU supports. Tests force
// each supported path.
enum class GemmInt8Path { kAuto, kScalar, kAvxVnni, kAvx512Vnni };

// True when `path` runs on this CPU (kAuto and kScalar always do).
bool GemmInt8PathSupported(GemmInt8Path path);
// The path kAuto resolves to on this CPU.
GemmInt8Path GemmInt8BestPath();
// "auto", "scalar", "avxvnni", "avx512vnni".
const char* GemmInt8PathName(GemmInt8Path path);
// True when kAuto uses a VNNI path (callers without it may prefer the AVX2
// loop of fully_connected_packed.h, which is faster than kScalar).
bool GemmInt8HasVnni();

// Packs filter [units, depth] (units, depth >= 1) with q (its input_offset,
// filter_offset, multiplier / shift, per channel when q.multiplier.size() ==
// units > 1) and bias [units] (or null), which must be the values used at
// run time. Allocates.
GemmInt8Weights GemmInt8Pack(const ConvQuant& q, const int8_t* filter, int units, int depth,
                             const int32_t* bias);
GemmInt8Weights GemmInt8Pack(const ConvQuant& q, const uint8_t* filter, int units, int depth,
                             const int32_t* bias);

// out[b, o] for b < batches, o < w.units (see above). `q` must be the one
// given to GemmInt8Pack; `w` must have been packed from the same type T.
// `path` must satisfy GemmInt8PathSupported. Does not allocate once
// `scratch` is large enough.
void GemmInt8(const ConvQuant& q, const GemmInt8Weights& w, int batches, const int8_t* input,
              int8_t* output, GemmInt8Scratch* scratch, GemmInt8Path path = GemmInt8Path::kAuto);
void GemmInt8(const ConvQuant& q, const GemmInt8Weights& w, int batches, const uint8_t* input,
              uint8_t* output, GemmInt8Scratch* scratch, GemmInt8Path path = GemmInt8Path::kAuto);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_GEMM_INT8_H_
