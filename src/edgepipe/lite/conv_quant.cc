// Quantized convolution loops (see conv_quant.h).
#include "edgepipe/lite/conv_quant.h"

#include <algorithm>
#include <cstring>

#include "edgepipe/lite/fully_connected_fast.h"

namespace edgepipe::lite {
namespace {

// Two's-complement wrapping int32 arithmetic (the reference's int32
// accumulator never overflows on real models; wrapping keeps the fast loops
// equal to it and free of signed-overflow UB).
inline int32_t WrapMulAdd(int32_t acc, int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(acc) +
                              static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}

template <typename T>
void Reference(const ConvQuant& q, const ConvGeometry& s, bool depthwise, const T* input,
               const T* filter, const int32_t* bias, T* output) {
  const bool per_channel = q.multiplier.size() > 1;
  for (int b = 0; b < s.batches; ++b) {
    for (int oy = 0; oy < s.out_h; ++oy) {
      for (int ox = 0; ox < s.out_w; ++ox) {
        T* out = output + ((static_cast<size_t>(b) * s.out_h + oy) * s.out_w + ox) * s.out_c;
        for (int oc = 0; oc < s.out_c; ++oc) {
          int32_t acc = 0;
          for (int ky = 0; ky < s.k_h; ++ky) {
            const int iy = oy * s.stride_h - s.pad_h + ky * s.dil_h;
            if (iy < 0 || iy >= s.in_h) continue;
            for (int kx = 0; kx < s.k_w; ++kx) {
              const int ix = ox * s.stride_w - s.pad_w + kx * s.dil_w;
              if (ix < 0 || ix >= s.in_w) continue;
              const T* in = input + ((static_cast<size_t>(b) * s.in_h + iy) * s.in_w + ix) * s.in_c;
              if (depthwise) {
                const int32_t w = filter[(static_cast<size_t>(ky) * s.k_w + kx) * s.out_c + oc];
                acc = WrapMulAdd(acc, w + q.filter_offset, in[oc / s.multiplier] + q.input_offset);
              } else {
                const T* w =
                    filter + ((static_cast<size_t>(oc) * s.k_h + ky) * s.k_w + kx) * s.in_c;
                for (int ic = 0; ic < s.in_c; ++ic) {
                  acc = WrapMulAdd(acc, w[ic] + q.filter_offset, in[ic] + q.input_offset);
                }
              }
            }
          }
          if (bias) acc = WrapMulAdd(acc, bias[oc], 1);
          out[oc] = static_cast<T>(q.Requantize(acc, per_channel ? static_cast<size_t>(oc) : 0));
        }
      }
    }
  }
}

template <typename T>
void ConvFast(const ConvQuant& q, const ConvGeometry& g, const T* input, const T* filter,
              const int32_t* row_sums, const int32_t* bias, T* output, const FcPackedFilter* packed,
              std::vector<int16_t>* scratch, const GemmInt8Weights* gemm,
              GemmInt8Scratch* gemm_scratch) {
  const int depth = g.k_h * g.k_w * g.in_c;
  const bool use_packed =
      packed != nullptr && scratch != nullptr && FullyConnectedQuantPackedAvailable();
  const bool use_gemm = gemm != nullptr && gemm_scratch != nullptr;
  auto fc = [&](const FcShape& s, const T* in, T* out) {
    if (use_gemm) {
      GemmInt8(q, *gemm, s.batches, in, out, gemm_scratch);
    } else if (use_packed) {
      FullyConnectedQuantPacked(q, s, in, *packed, bias, out, scratch);
    } else {
      FullyConnectedQuantFast(q, s, in, filter, row_sums, bias, out);
    }
  };
  if (g.k_h == 1 && g.k_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 &&
      g.pad_w == 0 && g.out_h == g.in_h && g.out_w == g.in_w) {
    fc({g.batches * g.in_h * g.in_w, depth, g.out_c}, input, output);
    return;
  }
  constexpr int kRows = 64;
  const T pad = static_cast<T>(-q.input_offset);
  std::vector<T> cols(static_cast<size_t>(kRows) * depth);
  const int pixels = g.out_h * g.out_w;
  const size_t row_bytes = sizeof(T) * static_cast<size_t>(g.in_c);
  for (int b = 0; b < g.batches; ++b) {
    const T* in_b = input + static_cast<size_t>(b) * g.in_h * g.in_w * g.in_c;
    for (int p0 = 0; p0 < pixels; p0 += kRows) {
      const int rows = std::min(kRows, pixels - p0);
      for (int r = 0; r < rows; ++r) {
        const int oy = (p0 + r) / g.out_w, ox = (p0 + r) % g.out_w;
        T* dst = cols.data() + static_cast<size_t>(r) * depth;
        for (int ky = 0; ky < g.k_h; ++ky) {
          const int iy = oy * g.stride_h - g.pad_h + ky * g.dil_h;
          for (int kx = 0; kx < g.k_w; ++kx, dst += g.in_c) {
            const int ix = ox * g.stride_w - g.pad_w + kx * g.dil_w;
            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) {
              std::fill(dst, dst + g.in_c, pad);
            } else if (g.in_c < 16) {
              // A few channels (e.g. RGB): a loop beats a memcpy call per tap.
              const T* src = in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c;
              for (int c = 0; c < g.in_c; ++c) dst[c] = src[c];
            } else {
              std::memcpy(dst, in_b + (static_cast<size_t>(iy) * g.in_w + ix) * g.in_c, row_bytes);
            }
          }
        }
      }
      T* out = output + (static_cast<size_t>(b) * pixels + p0) * g.out_c;
      fc({rows, depth, g.out_c}, cols.data(), out);
    }
  }
}

}  // namespace

void ConvQuantReference(const ConvQuant& q, const ConvGeometry& g, bool depthwise,
                        const int8_t* input, const int8_t* filter, const int32_t* bias,
                        int8_t* output) {
  Reference(q, g, depthwise, input, filter, bias, output);
}
void ConvQuantReference(const ConvQuant& q, const ConvGeometry& g, bool depthwise,
                        const uint8_t* input, const uint8_t* filter, const int32_t* bias,
                        uint8_t* output) {
  Reference(q, g, depthwise, input, filter, bias, output);
}
void ConvQuantFast(const ConvQuant& q, const ConvGeometry& g, const int8_t* input,
                   const int8_t* filter, const int32_t* row_sums, const int32_t* bias,
                   int8_t* output, const FcPackedFilter* packed, std::vector<int16_t>* scratch,
                   const GemmInt8Weights* gemm, GemmInt8Scratch* gemm_scratch) {
  ConvFast(q, g, input, filter, row_sums, bias, output, packed, scratch, gemm, gemm_scratch);
}
void ConvQuantFast(const ConvQuant& q, const ConvGeometry& g, const uint8_t* input,
                   const uint8_t* filter, const int32_t* row_sums, const int32_t* bias,
                   uint8_t* output, const FcPackedFilter* packed, std::vector<int16_t>* scratch,
                   const GemmInt8Weights* gemm, GemmInt8Scratch* gemm_scratch) {
  ConvFast(q, g, input, filter, row_sums, bias, output, packed, scratch, gemm, gemm_scratch);
}
// DepthwiseQuantFast: depthwise_quant.cc.

}  // namespace edgepipe::lite
