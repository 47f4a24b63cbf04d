#include "edgepipe/lite/hybrid_quant.h"

#include <algorithm>
#include <cmath>

namespace edgepipe::lite {

void AsymmetricQuantizeFloats(std::span<const float> x, std::span<int8_t> q, float* scale,
                              int32_t* offset) {
  constexpr double kQMin = -128.0;
  constexpr double kQMax = 127.0;
  float lo = 0.0f;
  float hi = 0.0f;
  if (!x.empty()) {
    const auto [mn, mx] = std::minmax_element(x.begin(), x.end());
    lo = *mn;
    hi = *mx;
  }
  const double rmin = std::fmin(0.0, static_cast<double>(lo));
  const double rmax = std::fmax(0.0, static_cast<double>(hi));
  if (rmin == rmax) {
    std::fill(q.begin(), q.end(), int8_t{0});
    *scale = 1.0f;
    *offset = 0;
    return;
  }
  const double s = (rmax - rmin) / (kQMax - kQMin);
  // Zero point from the end whose terms add up to the smaller error.
  const double zp_from_min = kQMin - rmin / s;
  const double zp_from_max = kQMax - rmax / s;
  const double err_min = std::abs(kQMin) + std::abs(rmin / s);
  const double err_max = std::abs(kQMax) + std::abs(rmax / s);
  const double zp = err_min < err_max ? zp_from_min : zp_from_max;
  int32_t nudged = 0;
  if (zp <= kQMin) {
    nudged = -128;
  } else if (zp >= kQMax) {
    nudged = 127;
  } else {
    nudged = static_cast<int32_t>(std::round(zp));
  }
  *scale = static_cast<float>(s);
  *offset = nudged;
  const float inv = 1.0f / *scale;
  for (size_t i = 0; i < x.size(); ++i) {
    const float v = static_cast<float>(nudged) + x[i] * inv;
    const int32_t r = static_cast<int32_t>(std::round(v));
    q[i] = static_cast<int8_t>(std::clamp(r, -128, 127));
  }
}

void SymmetricQuantizeFloats(std::span<const float> x, std::span<int8_t> q, float* scale) {
  float lo = 0.0f;
  float hi = 0.0f;
  if (!x.empty()) {
    const auto [mn, mx] = std::minmax_element(x.begin(), x.end());
    lo = *mn;
    hi = *mx;
  }
  const float range = std::max(std::abs(lo), std::abs(hi));
  if (range == 0.0f) {
    std::fill(q.begin(), q.end(), int8_t{0});
    *scale = 1.0f;
    return;
  }
  *scale = range / 127.0f;
  const float inv = 127.0f / range;
  for (size_t i = 0; i < x.size(); ++i) {
    const int32_t r = static_cast<int32_t>(std::round(x[i] * inv));
    q[i] = static_cast<int8_t>(std::clamp(r, -127, 127));
  }
}

}  // namespace edgepipe::lite
