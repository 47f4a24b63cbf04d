// Float FULLY_CONNECTED loops (see fully_connected_float.h): packing, the
// reference loop, the portable loop and the run-time kernel choice; the
// SIMD kernels are in gemm_float_x86.cc.
#include "edgepipe/lite/fully_connected_float.h"

#include <algorithm>
#include <atomic>
#include <cstddef>

#include "edgepipe/lite/gemm_float_x86.h"

namespace edgepipe::lite {

void FcPackFloatFilterInto(const float* filter, int units, int depth, std::vector<float>* out) {
  const int panels = (units + kFcFloatPanel - 1) / kFcFloatPanel;
  out->assign(static_cast<size_t>(panels) * kFcFloatPanel * depth, 0.0f);
  for (int o = 0; o < units; ++o) {
    float* dst = out->data() + static_cast<size_t>(o / kFcFloatPanel) * depth * kFcFloatPanel +
                 o % kFcFloatPanel;
    const float* src = filter + static_cast<size_t>(o) * depth;
    for (int d = 0; d < depth; ++d) dst[static_cast<size_t>(d) * kFcFloatPanel] = src[d];
  }
}

std::vector<float> FcPackFloatFilter(const float* filter, int units, int depth) {
  std::vector<float> packed;
  FcPackFloatFilterInto(filter, units, depth, &packed);
  return packed;
}

void FullyConnectedFloatReference(const FcShape& s, const float* input, const float* filter,
                                  const float* bias, float fmin, float fmax, float* output) {
  for (int b = 0; b < s.batches; ++b) {
    for (int o = 0; o < s.units; ++o) {
      float total = 0;
      const float* x = input + static_cast<size_t>(b) * s.depth;
      const float* w = filter + static_cast<size_t>(o) * s.depth;
      for (int d = 0; d < s.depth; ++d) total += x[d] * w[d];
      const float v = total + (bias ? bias[o] : 0.0f);
      output[static_cast<size_t>(b) * s.units + o] = std::clamp(v, fmin, fmax);
    }
  }
}

namespace {

// The portable loop: one row x one 16-unit panel at a time, sums in depth
// order (the compiler vectorizes across the panel's units).
void Portable(const FcShape& s, const float* input, const float* packed, const float* bias,
              float fmin, float fmax, float* output) {
  const int panels = (s.units + kFcFloatPanel - 1) / kFcFloatPanel;
  for (int b = 0; b < s.batches; ++b) {
    const float* x = input + static_cast<size_t>(b) * s.depth;
    for (int p = 0; p < panels; ++p) {
      const float* w = packed + static_cast<size_t>(p) * s.depth * kFcFloatPanel;
      float acc[kFcFloatPanel] = {};
      for (int d = 0; d < s.depth; ++d) {
        const float xd = x[d];
        const float* wd = w + static_cast<size_t>(d) * kFcFloatPanel;
        for (int j = 0; j < kFcFloatPanel; ++j) acc[j] += xd * wd[j];
      }
      const int n = std::min(kFcFloatPanel, s.units - p * kFcFloatPanel);
      for (int j = 0; j < n; ++j) {
        const int o = p * kFcFloatPanel + j;
        const float v = acc[j] + (bias ? bias[o] : 0.0f);
        output[static_cast<size_t>(b) * s.units + o] = std::clamp(v, fmin, fmax);
      }
    }
  }
}

// -1: no kernel forced; else the FcFloatKernel value.
std::atomic<int> g_forced{-1};

FcFloatKernel BestKernel() {
  static const FcFloatKernel best = [] {
    if (FcFloatKernelSupported(FcFloatKernel::kAvx512)) return FcFloatKernel::kAvx512;
    if (FcFloatKernelSupported(FcFloatKernel::kAvx2Fma)) return FcFloatKernel::kAvx2Fma;
    return FcFloatKernel::kPortable;
  }();
  return best;
}

}  // namespace

const char* FcFloatKernelName(FcFloatKernel k) {
  switch (k) {
    case FcFloatKernel::kPortable:
      return "portable";
    case FcFloatKernel::kAvx2Fma:
      return "avx2_fma";
    case FcFloatKernel::kAvx512:
      return "avx512";
  }
  return "unknown";
}

bool FcFloatKernelSupported(FcFloatKernel k) {
  switch (k) {
    case FcFloatKernel::kPortable:
      return true;
#ifdef EDGEPIPE_GEMM_FLOAT_X86
    case FcFloatKernel::kAvx2Fma:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case FcFloatKernel::kAvx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
#endif
    default:
      return false;
  }
}

FcFloatKernel FcFloatActiveKernel() {
  const int forced = g_forced.load(std::memory_order_relaxed);
  return forced >= 0 ? static_cast<FcFloatKernel>(forced) : BestKernel();
}

bool FcFloatForceKernelForTesting(FcFloatKernel k) {
  if (!FcFloatKernelSupported(k)) return false;
  g_forced.store(static_cast<int>(k), std::memory_order_relaxed);
  return true;
}

void FcFloatClearForcedKernel() { g_forced.store(-1, std::memory_order_relaxed); }

bool FullyConnectedFloatHasAvx2() { return BestKernel() != FcFloatKernel::kPortable; }

void FullyConnectedFloatFast(const FcShape& s, const float* input, const float* packed_filter,
                             const float* bias, float fmin, float fmax, float* output) {
  if (s.batches <= 0 || s.units <= 0) return;
  if (s.depth <= 0) {
    // Outputs are the clamped bias; the (empty) filter is never read.
    return FullyConnectedFloatReference(s, input, packed_filter, bias, fmin, fmax, output);
  }
  switch (FcFloatActiveKernel()) {
#ifdef EDGEPIPE_GEMM_FLOAT_X86
    case FcFloatKernel::kAvx512:
      return internal::GemmFloatAvx512(s, input, packed_filter, bias, fmin, fmax, output);
    case FcFloatKernel::kAvx2Fma:
      return internal::GemmFloatAvx2Fma(s, input, packed_filter, bias, fmin, fmax, output);
#endif
    default:
      return Portable(s, input, packed_filter, bias, fmin, fmax, output);
  }
}

}  // namespace edgepipe::lite
