// Float CONV_2D loops (see conv_float.h).
#include "edgepipe/lite/conv_float.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>

#include "edgepipe/lite/fully_connected_float.h"

namespace edgepipe::lite {

bool ConvPackFloatFilter(const ConvGeometry& g, const float* filter, std::vector<float>* packed) {
  const int depth = g.k_h * g.k_w * g.in_c;
  const size_t n = static_cast<size_t>(g.out_c) * depth;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(filter[i])) {
      packed->clear();
      return false;
    }
  }
  FcPackFloatFilterInto(filter, g.out_c, depth, packed);
  return true;
}

void ConvFloatReference(const ConvGeometry& g, const float* input, const float* filter,
                        const float* bias, float fmin, float fmax, float* output) {
  for (int b = 0; b < g.batches; ++b) {
    for (int oy = 0; oy < g.out_h; ++oy) {
      for (int ox = 0; ox < g.out_w; ++ox) {
        float* out = output + ((static_cast<size_t>(b) * g.out_h + oy) * g.out_w + ox) * g.out_c;
        for (int oc = 0; oc < g.out_c; ++oc) {
          float acc = 0;
          for (int ky = 0; ky < g.k_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
            if (iy < 0 || iy >= g.in_h) continue;
            for (int kx = 0; kx < g.k_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
              if (ix < 0 || ix >= g.in_w) continue;
              const float* in =
                  input + ((static_cast<size_t>(b) * g.in_h + iy) * g.in_w + ix) * g.in_c;
              const float* w =
                  filter + ((static_cast<size_t>(oc) * g.k_h + ky) * g.k_w + kx) * g.in_c;
              for (int ic = 0; ic < g.in_c; ++ic) acc += w[ic] * in[ic];
            }
          }
          out[oc] = std::clamp(acc + (bias ? bias[oc] : 0.0f), fmin, fmax);
        }
      }
    }
  }
}

void ConvFloatFast(const ConvGeometry& g, const float* input, const float* packed_filter,
                   const float* bias, float fmin, float fmax, float* output,
                   std::vector<float>* scratch) {
  const int depth = g.k_h * g.k_w * g.in_c;
  if (g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
      g.pad_w == 0 && g.out_h == g.in_h && g.out_w == g.in_w) {
    FullyConnectedFloatFast({g.batches * g.in_h * g.in_w, depth, g.out_c}, input, packed_filter,
                            bias, fmin, fmax, output);
    return;
  }
  // A multiple of the GEMM's 6-row tiles (and of 8); 96 rows of the
  // fashion CNN's second conv (depth 288) are 110 KB, within L2.
  constexpr int kRows = 96;
  const int pixels = g.out_h * g.out_w;
  const size_t need = static_cast<size_t>(std::min(kRows, pixels)) * depth;
  if (scratch->size() < need) scratch->resize(need);
  const size_t row_bytes = sizeof(float) * static_cast<size_t>(g.in_c);
  for (int b = 0; b < g.batches; ++b) {
    const float* in_b = input + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_c;
    for (int p0 = 0; p0 < pixels; p0 += kRows) {
      const int rows = std::min(kRows, pixels - p0);
      for (int r = 0; r < rows; ++r) {
        const int oy = (p0 + r) / g.out_w, ox = (p0 + r) % g.out_w;
        float* dst = scratch->data() + static_cast<size_t>(r) * depth;
        for (int ky = 0; ky < g.k_h; ++ky) {
          const int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
          for (int kx = 0; kx < g.k_w; ++kx, dst += g.in_c) {
            const int ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
              std::fill(dst, dst + g.in_c, 0.0f);
            } else {
              std::memcpy(dst, in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c, row_bytes);
            }
          }
        }
      }
      float* out = output + (static_cast<size_t>(b) * pixels + p0) * g.out_c;
      FullyConnectedFloatFast({rows, depth, g.out_c}, scratch->data(), packed_filter, bias, fmin,
                              fmax, out);
    }
  }
}

}  // namespace edgepipe::lite
