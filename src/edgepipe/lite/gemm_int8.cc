// Packing, input re-basing, dispatch and the portable path of the int8 GEMM
// core (see gemm_int8.h); the VNNI kernels are in gemm_int8_x86.cc.
#include "edgepipe/lite/gemm_int8.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <type_traits>

#include "edgepipe/lite/gemm_int8_internal.h"

namespace edgepipe::lite {
namespace {

using gemm_int8_internal::Args;

int32_t WrapAdd(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
int32_t WrapMul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

// The re-based operands (gemm_int8.h): u = x + 128 for int8 input, x for
// uint8; s = w for int8 filters, w - 128 for uint8.
int32_t InputRebase(bool is_uint8) { return is_uint8 ? 0 : 128; }
int32_t FilterRebase(bool is_uint8) { return is_uint8 ? -128 : 0; }

template <typename T>
GemmInt8Weights Pack(const ConvQuant& q, const T* filter, int units, int depth,
                     const int32_t* bias) {
  constexpr int kP = GemmInt8Weights::kPanel;
  constexpr bool kU8 = std::is_same_v<T, uint8_t>;
  GemmInt8Weights w;
  w.units = units;
  w.depth = depth;
  w.quads = (depth + 3) / 4;
  w.panels = (units + kP - 1) / kP;
  w.is_uint8 = kU8;
  w.per_channel = q.multiplier.size() > 1 && q.multiplier.size() == static_cast<size_t>(units);
  // x + input_offset = u + u_off; w + filter_offset = s + s_off.
  const int32_t u_off = q.input_offset - InputRebase(kU8);
  w.s_off = q.filter_offset - FilterRebase(kU8);
  const size_t padded = static_cast<size_t>(w.panels) * kP;
  w.data.assign(padded * static_cast<size_t>(w.quads) * 4, 0);
  w.unit_const.assign(padded, 0);
  w.multiplier.assign(padded, 0);
  w.left_shift.assign(padded, 0);
  w.right_shift.assign(padded, 0);
  bool fp32_finite = !q.fp32_scale.empty();
  for (float f : q.fp32_scale) fp32_finite = fp32_finite && std::isfinite(f);
  if (fp32_finite) w.fp32_scale.assign(padded, 0.0f);
  const int32_t depth_term = WrapMul(WrapMul(depth, u_off), w.s_off);
  for (int o = 0; o < units; ++o) {
    const T* row = filter + static_cast<size_t>(o) * depth;
    uint32_t sum_s = 0;
    for (int d = 0; d < depth; ++d) {
      const auto s = static_cast<int8_t>(static_cast<int32_t>(row[d]) + FilterRebase(kU8));
      sum_s += static_cast<uint32_t>(static_cast<int32_t>(s));
      const size_t at = ((static_cast<size_t>(o / kP) * w.quads + d / 4) * kP + o % kP) * 4 + d % 4;
      w.data[at] = s;
    }
    int32_t c = WrapAdd(WrapMul(u_off, static_cast<int32_t>(sum_s)), depth_term);
    if (bias) c = WrapAdd(c, bias[o]);
    w.unit_const[static_cast<size_t>(o)] = c;
    const size_t qc = w.per_channel ? static_cast<size_t>(o) : 0;
    if (qc < q.multiplier.size() && qc < q.shift.size()) {
      w.multiplier[static_cast<size_t>(o)] = q.multiplier[qc];
      w.left_shift[static_cast<size_t>(o)] = std::max(q.shift[qc], 0);
      w.right_shift[static_cast<size_t>(o)] = std::max(-q.shift[qc], 0);
    }
    if (fp32_finite) {
      w.fp32_scale[static_cast<size_t>(o)] = q.fp32_scale[std::min(qc, q.fp32_scale.size() - 1)];
    }
  }
  return w;
}

// u[d] = x[d] ^ flip for d < depth, 0 up to stride.
void RebaseRow(const uint8_t* __restrict x, size_t depth, size_t stride, uint8_t flip,
               uint8_t* __restrict u) {
  for (size_t d = 0; d < depth; ++d) u[d] = x[d] ^ flip;
  for (size_t d = depth; d < stride; ++d) u[d] = 0;
}

// Re-bases `batches` input rows into scratch (u, padded with 0 to quads * 4)
// and, when w.s_off != 0, computes the per-row terms s_off * sum(u).
template <typename T>
void Rebase(const GemmInt8Weights& w, int batches, const T* input, GemmInt8Scratch* scratch) {
  const size_t stride = static_cast<size_t>(w.quads) * 4;
  const size_t need = static_cast<size_t>(batches) * stride;
  if (scratch->rows.size() < need) scratch->rows.resize(need);
  const bool terms = w.s_off != 0;
  if (terms && scratch->row_terms.size() < static_cast<size_t>(batches)) {
    scratch->row_terms.resize(static_cast<size_t>(batches));
  }
  const uint8_t flip = std::is_same_v<T, uint8_t> ? 0 : 0x80;
  const auto* src = reinterpret_cast<const uint8_t*>(input);
  const size_t depth = static_cast<size_t>(w.depth);  // locals: no aliasing with the stores
  const int32_t s_off = w.s_off;
  uint8_t* rows = scratch->rows.data();
  int32_t* row_terms = scratch->row_terms.data();
  for (int b = 0; b < batches; ++b) {
    RebaseRow(src + static_cast<size_t>(b) * depth, depth, stride, flip,
              rows + static_cast<size_t>(b) * stride);
    if (terms) {
      const uint8_t* u = rows + static_cast<size_t>(b) * stride;
      uint32_t sum = 0;
      for (size_t d = 0; d < depth; ++d) sum += u[d];
      row_terms[b] = WrapMul(s_off, static_cast<int32_t>(sum));
    }
  }
}

// The portable path: the same packed layout, scalar sums.
void RunScalar(const Args& a) {
  constexpr int kP = GemmInt8Weights::kPanel;
  const GemmInt8Weights& w = *a.w;
  const size_t stride = static_cast<size_t>(w.quads) * 4;
  for (int b = 0; b < a.batches; ++b) {
    const uint8_t* u = a.rows + static_cast<size_t>(b) * stride;
    uint8_t* out = a.out + static_cast<size_t>(b) * w.units;
    for (int o = 0; o < w.units; ++o) {
      const int8_t* s = w.data.data() + static_cast<size_t>(o / kP) * w.quads * kP * 4 +
                        static_cast<size_t>(o % kP) * 4;
      int32_t acc = 0;
      for (int k = 0; k < w.quads; ++k) {
        for (int i = 0; i < 4; ++i) {
          acc = WrapAdd(
              acc, static_cast<int32_t>(u[4 * k + i]) * s[static_cast<size_t>(k) * kP * 4 + i]);
        }
      }
      acc = WrapAdd(acc, w.unit_const[static_cast<size_t>(o)]);
      if (a.row_terms) acc = WrapAdd(acc, a.row_terms[b]);
      out[o] = gemm_int8_internal::RequantizeScalar(a, acc, o);
    }
  }
}

template <typename T>
void Run(const ConvQuant& q, const GemmInt8Weights& w, int batches, const T* input, T* output,
         GemmInt8Scratch* scratch, GemmInt8Path path) {
  if (batches <= 0 || w.units <= 0) return;
  Rebase(w, batches, input, scratch);
  Args a;
  a.q = &q;
  a.w = &w;
  a.batches = batches;
  a.rows = scratch->rows.data();
  a.row_terms = w.s_off != 0 ? scratch->row_terms.data() : nullptr;
  a.out = reinterpret_cast<uint8_t*>(output);
  if (path == GemmInt8Path::kAuto) path = GemmInt8BestPath();
  switch (path) {
    case GemmInt8Path::kAvx512Vnni:
      gemm_int8_internal::RunAvx512Vnni(a);
      return;
    case GemmInt8Path::kAvxVnni:
      gemm_int8_internal::RunAvxVnni(a);
      return;
    default:
      RunScalar(a);
      return;
  }
}

}  // namespace

bool GemmInt8PathSupported(GemmInt8Path path) {
  switch (path) {
    case GemmInt8Path::kAvx512Vnni:
      return gemm_int8_internal::HasAvx512Vnni();
    case GemmInt8Path::kAvxVnni:
      return gemm_int8_internal::HasAvxVnni();
    default:
      return true;
  }
}

GemmInt8Path GemmInt8BestPath() {
  static const GemmInt8Path best = gemm_int8_internal::HasAvx512Vnni() ? GemmInt8Path::kAvx512Vnni
                                   : gemm_int8_internal::HasAvxVnni()  ? GemmInt8Path::kAvxVnni
                                                                       : GemmInt8Path::kScalar;
  return best;
}

const char* GemmInt8PathName(GemmInt8Path path) {
  switch (path) {
    case GemmInt8Path::kAuto:
      return "auto";
    case GemmInt8Path::kScalar:
      return "scalar";
    case GemmInt8Path::kAvxVnni:
      return "avxvnni";
    case GemmInt8Path::kAvx512Vnni:
      return "avx512vnni";
  }
  return "?";
}

bool GemmInt8HasVnni() { return GemmInt8BestPath() != GemmInt8Path::kScalar; }

GemmInt8Weights GemmInt8Pack(const ConvQuant& q, const int8_t* filter, int units, int depth,
                             const int32_t* bias) {
  return Pack(q, filter, units, depth, bias);
}
GemmInt8Weights GemmInt8Pack(const ConvQuant& q, const uint8_t* filter, int units, int depth,
                             const int32_t* bias) {
  return Pack(q, filter, units, depth, bias);
}

void GemmInt8(const ConvQuant& q, const GemmInt8Weights& w, int batches, const int8_t* input,
              int8_t* output, GemmInt8Scratch* scratch, GemmInt8Path path) {
  Run(q, w, batches, input, output, scratch, path);
}
void GemmInt8(const ConvQuant& q, const GemmInt8Weights& w, int batches, const uint8_t* input,
              uint8_t* output, GemmInt8Scratch* scratch, GemmInt8Path path) {
  Run(q, w, batches, input, output, scratch, path);
}

}  // namespace edgepipe::lite
