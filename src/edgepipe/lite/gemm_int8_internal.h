// Internal to gemm_int8*.cc: the x86 VNNI kernels, called by GemmInt8 after
// the input rows have been re-based (see gemm_int8.h).
#ifndef EDGEPIPE_LITE_GEMM_INT8_INTERNAL_H_
#define EDGEPIPE_LITE_GEMM_INT8_INTERNAL_H_

#include <cstdint>

#include "edgepipe/lite/gemm_int8.h"

namespace edgepipe::lite::gemm_int8_internal {

// One call's operands. `rows` is [batches, w.quads * 4] uint8 (padding 0);
// `row_terms` is [batches] (s_off * sum(u)) or null when w.s_off == 0;
// `out` is [batches, w.units] bytes (int8 or uint8 representation).
struct Args {
  const ConvQuant* q = nullptr;
  const GemmInt8Weights* w = nullptr;
  int batches = 0;
  const uint8_t* rows = nullptr;
  const int32_t* row_terms = nullptr;
  uint8_t* out = nullptr;
};

// Whether the kernels were compiled in (x86-64 GCC/Clang) and the CPU has
// the instructions.
bool HasAvx512Vnni();
bool HasAvxVnni();

// The kernels; require the matching Has*() to be true.
void RunAvx512Vnni(const Args& a);
void RunAvxVnni(const Args& a);

// Scalar requantization of one accumulator (bias and all terms included)
// for unit o: ConvQuant::Requantize, as a byte.
inline uint8_t RequantizeScalar(const Args& a, int32_t acc, int o) {
  return static_cast<uint8_t>(a.q->Requantize(acc, a.w->per_channel ? static_cast<size_t>(o) : 0));
}

}  // namespace edgepipe::lite::gemm_int8_internal

#endif  // EDGEPIPE_LITE_GEMM_INT8_INTERNAL_H_
