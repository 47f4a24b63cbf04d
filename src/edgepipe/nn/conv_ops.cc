#include "edgepipe/nn/conv_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "edgepipe/nn/gemm.h"
#include "edgepipe/nn/ops.h"
#include "edgepipe/nn/parallel.h"

namespace edgepipe::nn {
namespace {

// Spatial geometry of a windowed op on x [n, h, w, c].
struct Geo {
  int64_t n, h, w, c, kh, kw, sh, sw, oh, ow, pt, pl;
};

Result<Geo> MakeGeo(const char* op, const Shape& xs, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                    Padding padding) {
  if (xs.size() != 4) {
    return Status::InvalidArgument(std::string(op) + ": input must be NHWC [N, H, W, C], got " +
                                   ShapeToString(xs));
  }
  if (kh <= 0 || kw <= 0 || sh <= 0 || sw <= 0) {
    return Status::InvalidArgument(std::string(op) + ": window " + std::to_string(kh) + "x" +
                                   std::to_string(kw) + " and strides " + std::to_string(sh) + "x" +
                                   std::to_string(sw) + " must be positive");
  }
  Geo g{xs[0], xs[1], xs[2], xs[3], kh, kw, sh, sw, 0, 0, 0, 0};
  Result<int64_t> oh = ConvOutputSize(g.h, kh, sh, padding);
  Result<int64_t> ow = ConvOutputSize(g.w, kw, sw, padding);
  if (!oh.ok() || !ow.ok()) {
    return Status::InvalidArgument(std::string(op) + ": window " + std::to_string(kh) + "x" +
                                   std::to_string(kw) + " does not fit input " + ShapeToString(xs) +
                                   " with padding " + std::string(PaddingName(padding)));
  }
  g.oh = *oh;
  g.ow = *ow;
  if (padding == Padding::kSame) {
    g.pt = std::max<int64_t>((g.oh - 1) * sh + kh - g.h, 0) / 2;
    g.pl = std::max<int64_t>((g.ow - 1) * sw + kw - g.w, 0) / 2;
  }
  return g;
}

// Work big enough to split over threads (in multiply-adds).
bool Parallel(int64_t work) { return NumThreads() > 1 && work >= (1 << 17); }

void ForEachImage(const Geo& g, int64_t work, const std::function<void(int64_t)>& fn) {
  if (Parallel(work)) {
    ParallelFor(g.n, fn);
  } else {
    for (int64_t i = 0; i < g.n; ++i) fn(i);
  }
}

// The columns [x0, x1) of output column ox's window that fall inside the
// image (kx = x0 .. x1 - 1); consecutive kx are adjacent in NHWC memory.
inline void InsideColumns(const Geo& g, int64_t ox, int64_t& x0, int64_t& x1) {
  const int64_t ix0 = ox * g.sw - g.pl;
  x0 = std::clamp<int64_t>(-ix0, 0, g.kw);
  x1 = std::clamp<int64_t>(g.w - ix0, x0, g.kw);
}

// patches [n*oh*ow, kh*kw*c], zeros where the window leaves the image.
Tensor Im2Col(const Tensor& x, const Geo& g) {
  const int64_t kdim = g.kh * g.kw * g.c;
  Tensor p = Tensor::Empty({g.n * g.oh * g.ow, kdim});
  ForEachImage(g, g.oh * g.ow * kdim, [&](int64_t n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float* row = p.data() + ((n * g.oh + oy) * g.ow + ox) * kdim;
        int64_t x0, x1;
        InsideColumns(g, ox, x0, x1);
        const int64_t ix0 = ox * g.sw - g.pl;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = oy * g.sh - g.pt + ky;
          float* dst = row + ky * g.kw * g.c;
          if (iy < 0 || iy >= g.h) {
            std::fill_n(dst, g.kw * g.c, 0.0f);
            continue;
          }
          std::fill_n(dst, x0 * g.c, 0.0f);
          // Window columns inside the image are one contiguous run of x.
          const float* src = x.data() + ((n * g.h + iy) * g.w + ix0 + x0) * g.c;
          float* run = dst + x0 * g.c;
          const int64_t len = (x1 - x0) * g.c;
          for (int64_t i = 0; i < len; ++i) run[i] = src[i];
          std::fill_n(dst + x1 * g.c, (g.kw - x1) * g.c, 0.0f);
        }
      }
    }
  });
  return p;
}

// dx += scatter of patch gradients (inverse of Im2Col).
void Col2ImAdd(const Tensor& dp, const Geo& g, Tensor& dx) {
  const int64_t kdim = g.kh * g.kw * g.c;
  ForEachImage(g, g.oh * g.ow * kdim, [&](int64_t n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        const float* row = dp.data() + ((n * g.oh + oy) * g.ow + ox) * kdim;
        int64_t x0, x1;
        InsideColumns(g, ox, x0, x1);
        const int64_t ix0 = ox * g.sw - g.pl;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = oy * g.sh - g.pt + ky;
          if (iy < 0 || iy >= g.h) continue;
          const float* __restrict src = row + (ky * g.kw + x0) * g.c;
          float* __restrict dst = dx.data() + ((n * g.h + iy) * g.w + ix0 + x0) * g.c;
          const int64_t len = (x1 - x0) * g.c;
          for (int64_t i = 0; i < len; ++i) dst[i] += src[i];
        }
      }
    }
  });
}

}  // namespace

Result<Padding> ParsePadding(std::string_view name) {
  if (name == "valid") return Padding::kValid;
  if (name == "same") return Padding::kSame;
  return Status::InvalidArgument("padding \"" + std::string(name) + "\" must be valid or same");
}

std::string_view PaddingName(Padding p) { return p == Padding::kSame ? "same" : "valid"; }

Result<int64_t> ConvOutputSize(int64_t in, int64_t k, int64_t s, Padding p) {
  if (p == Padding::kSame) return (in + s - 1) / s;
  if (in < k) return Status::InvalidArgument("window larger than input");
  return (in - k) / s + 1;
}

namespace ops {

Result<Var> Conv2D(const Var& x, const Var& kernel, int64_t stride_h, int64_t stride_w,
                   Padding padding) {
  const Shape& ks = kernel.shape();
  if (ks.size() != 4 || x.shape().size() != 4 || ks[2] != x.shape()[3]) {
    return Status::InvalidArgument("Conv2D: needs x [N, H, W, C] and kernel [KH, KW, C, OC], got " +
                                   ShapeToString(x.shape()) + " and " + ShapeToString(ks));
  }
  ASSIGN_OR_RETURN(Geo g, MakeGeo("Conv2D", x.shape(), ks[0], ks[1], stride_h, stride_w, padding));
  const int64_t kdim = g.kh * g.kw * g.c, oc = ks[3], rows = g.n * g.oh * g.ow;
  const bool direct = g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1;
  Tensor patches = direct ? x.value() : Im2Col(x.value(), g);
  Tensor y = Tensor::Empty({g.n, g.oh, g.ow, oc});
  // y [rows, oc] = patches [rows, kdim] kernel [kdim, oc].
  Sgemm(rows, oc, kdim, {patches.data(), kdim}, {kernel.value().data(), oc}, y.data(), oc, false);
  return MakeOpResult(std::move(y), {x, kernel}, [g, patches, direct, rows, kdim, oc](Node& self) {
    const float* grad = self.grad.data();
    const float* k = self.inputs[1]->value.data();
    if (Tensor* gk = self.InputGrad(1)) {
      // gk [kdim, oc] += patches^T grad.
      Sgemm(kdim, oc, rows, {patches.data(), kdim, true}, {grad, oc}, gk->data(), oc, true);
    }
    if (Tensor* gx = self.InputGrad(0)) {
      // d patches [rows, kdim] = grad kernel^T, scattered back onto x.
      if (direct) {
        Sgemm(rows, kdim, oc, {grad, oc}, {k, oc, true}, gx->data(), kdim, true);
      } else {
        Tensor dp = Tensor::Empty(patches.shape());
        Sgemm(rows, kdim, oc, {grad, oc}, {k, oc, true}, dp.data(), kdim, false);
        Col2ImAdd(dp, g, *gx);
      }
    }
  });
}

Result<Var> DepthwiseConv2D(const Var& x, const Var& kernel, int64_t stride_h, int64_t stride_w,
                            Padding padding) {
  const Shape& ks = kernel.shape();
  if (ks.size() != 4 || x.shape().size() != 4 || ks[2] != x.shape()[3]) {
    return Status::InvalidArgument(
        "DepthwiseConv2D: needs x [N, H, W, C] and kernel [KH, KW, C, M], got " +
        ShapeToString(x.shape()) + " and " + ShapeToString(ks));
  }
  ASSIGN_OR_RETURN(
      Geo g, MakeGeo("DepthwiseConv2D", x.shape(), ks[0], ks[1], stride_h, stride_w, padding));
  const int64_t m = ks[3], cm = g.c * m;
  Tensor y = Tensor::Zeros({g.n, g.oh, g.ow, cm});
  const float* xp = x.value().data();
  const float* kp = kernel.value().data();
  ForEachImage(g, g.oh * g.ow * g.kh * g.kw * cm, [&](int64_t n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        float* yr = y.data() + ((n * g.oh + oy) * g.ow + ox) * cm;
        for (int64_t ky = 0; ky < g.kh; ++ky) {
          const int64_t iy = oy * g.sh - g.pt + ky;
          if (iy < 0 || iy >= g.h) continue;
          for (int64_t kx = 0; kx < g.kw; ++kx) {
            const int64_t ix = ox * g.sw - g.pl + kx;
            if (ix < 0 || ix >= g.w) continue;
            const float* xr = xp + ((n * g.h + iy) * g.w + ix) * g.c;
            const float* kr = kp + (ky * g.kw + kx) * cm;
            for (int64_t c = 0; c < g.c; ++c) {
              for (int64_t j = 0; j < m; ++j) yr[c * m + j] += xr[c] * kr[c * m + j];
            }
          }
        }
      }
    }
  });
  return MakeOpResult(std::move(y), {x, kernel}, [g, m, cm](Node& self) {
    const float* gr_base = self.grad.data();
    const float* xv = self.inputs[0]->value.data();
    const float* kv = self.inputs[1]->value.data();
    Tensor* gx = self.InputGrad(0);
    Tensor* gk = self.InputGrad(1);
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          const float* gr = gr_base + ((n * g.oh + oy) * g.ow + ox) * cm;
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.sh - g.pt + ky;
            if (iy < 0 || iy >= g.h) continue;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const int64_t ix = ox * g.sw - g.pl + kx;
              if (ix < 0 || ix >= g.w) continue;
              const int64_t xo = ((n * g.h + iy) * g.w + ix) * g.c;
              const int64_t ko = (ky * g.kw + kx) * cm;
              for (int64_t c = 0; c < g.c; ++c) {
                for (int64_t j = 0; j < m; ++j) {
                  const float gv = gr[c * m + j];
                  if (gx) gx->data()[xo + c] += gv * kv[ko + c * m + j];
                  if (gk) gk->data()[ko + c * m + j] += gv * xv[xo + c];
                }
              }
            }
          }
        }
      }
    }
  });
}

namespace {

// Max pool of image n: y = the window maximum (the first one; NaN wins and
// then sticks, as in TensorFlow), pos = its element offset within image n of
// x, so that the backward pass routes gradients without searching again.
void MaxPoolImage(const Geo& g, const float* xp, int64_t n, float* yp, int32_t* pos) {
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    for (int64_t ox = 0; ox < g.ow; ++ox) {
      const int64_t o = ((n * g.oh + oy) * g.ow + ox) * g.c;
      float* yr = yp + o;
      int32_t* pr = pos + o;
      bool first = true;
      for (int64_t ky = 0; ky < g.kh; ++ky) {
        const int64_t iy = oy * g.sh - g.pt + ky;
        if (iy < 0 || iy >= g.h) continue;
        for (int64_t kx = 0; kx < g.kw; ++kx) {
          const int64_t ix = ox * g.sw - g.pl + kx;
          if (ix < 0 || ix >= g.w) continue;
          const int64_t offset = (iy * g.w + ix) * g.c;
          const float* xr = xp + n * g.h * g.w * g.c + offset;
          if (first) {
            for (int64_t c = 0; c < g.c; ++c) {
              yr[c] = xr[c];
              pr[c] = static_cast<int32_t>(offset + c);
            }
            first = false;
            continue;
          }
          for (int64_t c = 0; c < g.c; ++c) {
            const float v = xr[c], bv = yr[c];
            const bool take = (v > bv || v != v) && bv == bv;
            yr[c] = take ? v : bv;
            pr[c] = take ? static_cast<int32_t>(offset + c) : pr[c];
          }
        }
      }
    }
  }
}

}  // namespace

Result<Var> MaxPool2D(const Var& x, const Window2D& wnd) {
  ASSIGN_OR_RETURN(Geo g,
                   MakeGeo("MaxPool2D", x.shape(), wnd.kh, wnd.kw, wnd.sh, wnd.sw, wnd.padding));
  if (g.h * g.w * g.c > std::numeric_limits<int32_t>::max()) {
    return Status::InvalidArgument("MaxPool2D: image " + ShapeToString(x.shape()) +
                                   " has more than 2^31 - 1 elements per example");
  }
  Tensor y = Tensor::Empty({g.n, g.oh, g.ow, g.c});
  std::vector<int32_t> pos(static_cast<size_t>(y.size()));
  const float* xp = x.value().data();
  float* yp = y.data();
  ForEachImage(g, g.oh * g.ow * g.kh * g.kw * g.c,
               [&](int64_t n) { MaxPoolImage(g, xp, n, yp, pos.data()); });
  return MakeOpResult(std::move(y), {x}, [g, pos = std::move(pos)](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    const float* gp = self.grad.data();
    float* dp = gx->data();
    // Each image's outputs route only into that image: safe to split.
    const int64_t out_size = g.oh * g.ow * g.c;
    ForEachImage(g, out_size, [&](int64_t n) {
      float* dn = dp + n * g.h * g.w * g.c;
      const int32_t* pn = pos.data() + n * out_size;
      const float* gn = gp + n * out_size;
      for (int64_t i = 0; i < out_size; ++i) dn[pn[i]] += gn[i];
    });
  });
}

Result<Var> AvgPool2D(const Var& x, const Window2D& wnd) {
  ASSIGN_OR_RETURN(Geo g,
                   MakeGeo("AvgPool2D", x.shape(), wnd.kh, wnd.kw, wnd.sh, wnd.sw, wnd.padding));
  // Each output's window, clipped to the image: [y0, y1) x [x0, x1).
  auto visit = [g](int64_t oy, int64_t ox, int64_t& y0, int64_t& y1, int64_t& x0, int64_t& x1) {
    y0 = std::max<int64_t>(oy * g.sh - g.pt, 0);
    y1 = std::min<int64_t>(oy * g.sh - g.pt + g.kh, g.h);
    x0 = std::max<int64_t>(ox * g.sw - g.pl, 0);
    x1 = std::min<int64_t>(ox * g.sw - g.pl + g.kw, g.w);
  };
  Tensor y = Tensor::Zeros({g.n, g.oh, g.ow, g.c});
  const float* xp = x.value().data();
  ForEachImage(g, g.oh * g.ow * g.kh * g.kw * g.c, [&](int64_t n) {
    for (int64_t oy = 0; oy < g.oh; ++oy) {
      for (int64_t ox = 0; ox < g.ow; ++ox) {
        int64_t y0, y1, x0, x1;
        visit(oy, ox, y0, y1, x0, x1);
        float* yr = y.data() + ((n * g.oh + oy) * g.ow + ox) * g.c;
        for (int64_t iy = y0; iy < y1; ++iy) {
          for (int64_t ix = x0; ix < x1; ++ix) {
            const float* xr = xp + ((n * g.h + iy) * g.w + ix) * g.c;
            for (int64_t c = 0; c < g.c; ++c) yr[c] += xr[c];
          }
        }
        const float inv = 1.0f / static_cast<float>(std::max<int64_t>((y1 - y0) * (x1 - x0), 1));
        for (int64_t c = 0; c < g.c; ++c) yr[c] *= inv;
      }
    }
  });
  return MakeOpResult(std::move(y), {x}, [g, visit](Node& self) {
    Tensor* gx = self.InputGrad(0);
    if (gx == nullptr) return;
    for (int64_t n = 0; n < g.n; ++n) {
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        for (int64_t ox = 0; ox < g.ow; ++ox) {
          int64_t y0, y1, x0, x1;
          visit(oy, ox, y0, y1, x0, x1);
          const float inv = 1.0f / static_cast<float>(std::max<int64_t>((y1 - y0) * (x1 - x0), 1));
          const float* gr = self.grad.data() + ((n * g.oh + oy) * g.ow + ox) * g.c;
          for (int64_t iy = y0; iy < y1; ++iy) {
            for (int64_t ix = x0; ix < x1; ++ix) {
              float* dr = gx->data() + ((n * g.h + iy) * g.w + ix) * g.c;
              for (int64_t c = 0; c < g.c; ++c) dr[c] += gr[c] * inv;
            }
          }
        }
      }
    }
  });
}

Result<Var> GlobalAvgPool2D(const Var& x) {
  const Shape& xs = x.shape();
  if (xs.size() != 4) {
    return Status::InvalidArgument("GlobalAvgPool2D: input must be NHWC [N, H, W, C], got " +
                                   ShapeToString(xs));
  }
  ASSIGN_OR_RETURN(Var flat, Reshape(x, {xs[0], xs[1] * xs[2], xs[3]}));
  return ReduceMean(flat, 1);
}

namespace {

Status CheckNormShapes(const char* op, const Var& x, const Shape& param) {
  if (x.shape().size() < 2 || param.size() != 1 || param[0] != x.shape().back()) {
    return Status::InvalidArgument(std::string(op) + ": needs x [..., C] and parameters [C], got " +
                                   ShapeToString(x.shape()) + " and " + ShapeToString(param));
  }
  return Status::Ok();
}

}  // namespace

Result<Var> BatchNormTraining(const Var& x, const Var& gamma, const Var& beta, float epsilon,
                              Tensor* batch_mean, Tensor* batch_var) {
  RETURN_IF_ERROR(CheckNormShapes("BatchNormTraining", x, gamma.shape()));
  RETURN_IF_ERROR(CheckNormShapes("BatchNormTraining", x, beta.shape()));
  const int64_t c = x.shape().back();
  const int64_t rows = x.value().size() / c;
  if (rows == 0) return Status::InvalidArgument("BatchNormTraining: empty batch");
  std::vector<double> mean(static_cast<size_t>(c), 0.0), var(static_cast<size_t>(c), 0.0);
  const float* xp = x.value().data();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) mean[static_cast<size_t>(j)] += xp[r * c + j];
  }
  for (double& v : mean) v /= static_cast<double>(rows);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      const double d = xp[r * c + j] - mean[static_cast<size_t>(j)];
      var[static_cast<size_t>(j)] += d * d;
    }
  }
  for (double& v : var) v /= static_cast<double>(rows);
  Tensor inv_std = Tensor::Empty({c});
  Tensor xhat = Tensor::Empty(x.shape());
  Tensor y = Tensor::Empty(x.shape());
  for (int64_t j = 0; j < c; ++j) {
    inv_std.data()[j] = static_cast<float>(1.0 / std::sqrt(var[static_cast<size_t>(j)] + epsilon));
  }
  const float* gp = gamma.value().data();
  const float* bp = beta.value().data();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      const float h =
          (xp[r * c + j] - static_cast<float>(mean[static_cast<size_t>(j)])) * inv_std.data()[j];
      xhat.data()[r * c + j] = h;
      y.data()[r * c + j] = gp[j] * h + bp[j];
    }
  }
  if (batch_mean != nullptr) {
    *batch_mean = Tensor::Empty({c});
    for (int64_t j = 0; j < c; ++j)
      batch_mean->data()[j] = static_cast<float>(mean[static_cast<size_t>(j)]);
  }
  if (batch_var != nullptr) {
    *batch_var = Tensor::Empty({c});
    for (int64_t j = 0; j < c; ++j)
      batch_var->data()[j] = static_cast<float>(var[static_cast<size_t>(j)]);
  }
  return MakeOpResult(std::move(y), {x, gamma, beta}, [xhat, inv_std, rows, c](Node& self) {
    const float* g = self.grad.data();
    std::vector<float> sum_g(static_cast<size_t>(c), 0.0f), sum_gh(static_cast<size_t>(c), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < c; ++j) {
        sum_g[static_cast<size_t>(j)] += g[r * c + j];
        sum_gh[static_cast<size_t>(j)] += g[r * c + j] * xhat.data()[r * c + j];
      }
    }
    if (Tensor* gb = self.InputGrad(2)) {
      for (int64_t j = 0; j < c; ++j) gb->data()[j] += sum_g[static_cast<size_t>(j)];
    }
    if (Tensor* gg = self.InputGrad(1)) {
      for (int64_t j = 0; j < c; ++j) gg->data()[j] += sum_gh[static_cast<size_t>(j)];
    }
    if (Tensor* gx = self.InputGrad(0)) {
      // dx = gamma inv_std / M * (M g - sum g - xhat sum(g xhat)).
      const float* gamma_v = self.inputs[1]->value.data();
      const float m = static_cast<float>(rows);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = 0; j < c; ++j) {
          const size_t sj = static_cast<size_t>(j);
          gx->data()[r * c + j] +=
              gamma_v[j] * inv_std.data()[j] / m *
              (m * g[r * c + j] - sum_g[sj] - xhat.data()[r * c + j] * sum_gh[sj]);
        }
      }
    }
  });
}

Result<Var> BatchNormInference(const Var& x, const Var& gamma, const Var& beta, const Tensor& mean,
                               const Tensor& var, float epsilon) {
  RETURN_IF_ERROR(CheckNormShapes("BatchNormInference", x, gamma.shape()));
  RETURN_IF_ERROR(CheckNormShapes("BatchNormInference", x, beta.shape()));
  RETURN_IF_ERROR(CheckNormShapes("BatchNormInference", x, mean.shape()));
  RETURN_IF_ERROR(CheckNormShapes("BatchNormInference", x, var.shape()));
  const int64_t c = x.shape().back();
  const int64_t rows = x.value().size() / c;
  Tensor inv_std = Tensor::Empty({c});
  for (int64_t j = 0; j < c; ++j) inv_std.data()[j] = 1.0f / std::sqrt(var.data()[j] + epsilon);
  Tensor y = Tensor::Empty(x.shape());
  const float* xp = x.value().data();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t j = 0; j < c; ++j) {
      y.data()[r * c + j] =
          gamma.value().data()[j] * (xp[r * c + j] - mean.data()[j]) * inv_std.data()[j] +
          beta.value().data()[j];
    }
  }
  return MakeOpResult(std::move(y), {x, gamma, beta}, [mean, inv_std, rows, c](Node& self) {
    const float* g = self.grad.data();
    const float* xv = self.inputs[0]->value.data();
    const float* gamma_v = self.inputs[1]->value.data();
    Tensor* gx = self.InputGrad(0);
    Tensor* gg = self.InputGrad(1);
    Tensor* gb = self.InputGrad(2);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < c; ++j) {
        const float gv = g[r * c + j];
        if (gx) gx->data()[r * c + j] += gv * gamma_v[j] * inv_std.data()[j];
        if (gg) gg->data()[j] += gv * (xv[r * c + j] - mean.data()[j]) * inv_std.data()[j];
        if (gb) gb->data()[j] += gv;
      }
    }
  });
}

}  // namespace ops
}  // namespace edgepipe::nn
