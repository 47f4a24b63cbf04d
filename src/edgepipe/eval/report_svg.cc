#include "edgepipe/eval/report_svg.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "edgepipe/eval/report.h"

namespace edgepipe::eval::report_internal {
namespace {

// Coordinates with one decimal: enough for a screen, stable in tests.
std::string Px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

// Interpolates from white to `to` by f in [0, 1]; "#rrggbb".
std::string Shade(std::array<int, 3> to, double f) {
  f = std::isfinite(f) ? std::clamp(f, 0.0, 1.0) : 0.0;
  char buf[8];
  int c[3];
  for (int i = 0; i < 3; ++i) {
    c[i] = static_cast<int>(std::lround(255.0 + (to[i] - 255.0) * f));
  }
  std::snprintf(buf, sizeof(buf), "#%02x%02x%02x", c[0], c[1], c[2]);
  return buf;
}

constexpr std::array<int, 3> kCorrectRgb = {8, 81, 156};  // dark blue
constexpr std::array<int, 3> kErrorRgb = {203, 24, 29};   // dark red

}  // namespace

std::string FormatNumber(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[48];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof(buf), "%.0f", v);
  } else {
    std::snprintf(buf, sizeof(buf), "%.5g", v);
  }
  std::string s = buf;
  return s == "-0" ? "0" : s;
}

std::string FormatDiff(double v) {
  if (!std::isfinite(v)) return "n/a";
  if (v == 0) return "0";
  std::string s = FormatNumber(v);
  return v > 0 ? "+" + s : s;
}

std::string_view ModelColor(size_t i) {
  static constexpr std::array<std::string_view, 8> kColors = {
      "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};
  return kColors[i % kColors.size()];
}

std::string ConfusionHeatmapSvg(const ConfusionMatrix& m, std::string_view caption) {
  const int n = m.num_classes;
  const double cell = std::clamp(320.0 / n, 6.0, 40.0);
  const bool show_counts = n <= 12;
  const bool show_axis_labels = n <= 30;
  const double left = 44, top = 34, right = 8, bottom = 8;
  const double width = left + n * cell + right;
  const double height = top + n * cell + bottom;
  std::string s;
  s += "<svg class=\"chart heatmap\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Px(width) +
       "\" height=\"" + Px(height) + "\" viewBox=\"0 0 " + Px(width) + " " + Px(height) +
       "\" role=\"img\" aria-label=\"" + HtmlEscape(caption) + "\">";
  s += "<text class=\"axis-title\" x=\"" + Px(left + n * cell / 2) +
       "\" y=\"12\" text-anchor=\"middle\">predicted class</text>";
  s += "<text class=\"axis-title\" x=\"10\" y=\"" + Px(top + n * cell / 2) +
       "\" text-anchor=\"middle\" transform=\"rotate(-90 10 " + Px(top + n * cell / 2) +
       ")\">true class</text>";
  if (show_axis_labels) {
    for (int i = 0; i < n; ++i) {
      const std::string label = std::to_string(i);
      s += "<text class=\"tick\" x=\"" + Px(left + (i + 0.5) * cell) + "\" y=\"" + Px(top - 5) +
           "\" text-anchor=\"middle\">" + label + "</text>";
      s += "<text class=\"tick\" x=\"" + Px(left - 4) + "\" y=\"" + Px(top + (i + 0.5) * cell + 4) +
           "\" text-anchor=\"end\">" + label + "</text>";
    }
  }
  for (int r = 0; r < n; ++r) {
    double row_total = 0;
    for (int c = 0; c < n; ++c) row_total += m.counts[static_cast<size_t>(r) * n + c];
    for (int c = 0; c < n; ++c) {
      const double count = m.counts[static_cast<size_t>(r) * n + c];
      const double frac = row_total > 0 ? count / row_total : 0;
      const std::string fill = Shade(r == c ? kCorrectRgb : kErrorRgb, frac);
      const double x = left + c * cell, y = top + r * cell;
      s += "<rect class=\"mark cell\" x=\"" + Px(x) + "\" y=\"" + Px(y) + "\" width=\"" + Px(cell) +
           "\" height=\"" + Px(cell) + "\" fill=\"" + fill + "\"><title>true " + std::to_string(r) +
           ", predicted " + std::to_string(c) + ": " + FormatNumber(count) +
           (row_total > 0 ? " (" + FormatNumber(std::round(frac * 1000) / 10) + "% of row)" : "") +
           "</title></rect>";
      if (show_counts && count != 0) {
        s += "<text class=\"cell-count\" x=\"" + Px(x + cell / 2) + "\" y=\"" +
             Px(y + cell / 2 + 4) +
             "\" text-anchor=\"middle\" style=\"fill:" + (frac > 0.5 ? "#ffffff" : "#1f2328") +
             "\">" + FormatNumber(count) + "</text>";
      }
    }
  }
  s += "<rect x=\"" + Px(left) + "\" y=\"" + Px(top) + "\" width=\"" + Px(n * cell) +
       "\" height=\"" + Px(n * cell) + "\" fill=\"none\" stroke=\"#999999\"/>";
  s += "</svg>";
  return s;
}

std::string LineChartSvg(const LineChartSpec& spec, const std::vector<Series>& series) {
  double x_min = spec.x_min, x_max = spec.x_max, y_min = spec.y_min, y_max = spec.y_max;
  for (const Series& se : series) {
    for (const auto& [x, y] : se.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      x_min = std::min(x_min, x);
      x_max = std::max(x_max, x);
      y_min = std::min(y_min, y);
      y_max = std::max(y_max, y);
    }
  }
  if (x_max <= x_min) x_max = x_min + 1;
  if (y_max <= y_min) y_max = y_min + 1;
  const double left = 48, top = 26, plot_w = 300, plot_h = 220, bottom = 40;
  const double legend_h = 16.0 * static_cast<double>(series.size());
  const double width = left + plot_w + 12;
  const double height = top + plot_h + bottom + legend_h;
  auto sx = [&](double x) { return left + (x - x_min) / (x_max - x_min) * plot_w; };
  auto sy = [&](double y) { return top + plot_h - (y - y_min) / (y_max - y_min) * plot_h; };

  std::string s;
  s += "<svg class=\"chart line-chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Px(width) +
       "\" height=\"" + Px(height) + "\" viewBox=\"0 0 " + Px(width) + " " + Px(height) +
       "\" role=\"img\" aria-label=\"" + HtmlEscape(spec.title) + "\">";
  s += "<text class=\"chart-title\" x=\"" + Px(left) + "\" y=\"14\">" + HtmlEscape(spec.title) +
       "</text>";
  // Grid and ticks: 5 evenly spaced per axis.
  for (int i = 0; i <= 4; ++i) {
    const double xv = x_min + (x_max - x_min) * i / 4, yv = y_min + (y_max - y_min) * i / 4;
    s += "<line class=\"grid\" x1=\"" + Px(sx(xv)) + "\" y1=\"" + Px(top) + "\" x2=\"" +
         Px(sx(xv)) + "\" y2=\"" + Px(top + plot_h) + "\"/>";
    s += "<line class=\"grid\" x1=\"" + Px(left) + "\" y1=\"" + Px(sy(yv)) + "\" x2=\"" +
         Px(left + plot_w) + "\" y2=\"" + Px(sy(yv)) + "\"/>";
    s += "<text class=\"tick\" x=\"" + Px(sx(xv)) + "\" y=\"" + Px(top + plot_h + 14) +
         "\" text-anchor=\"middle\">" + FormatNumber(xv) + "</text>";
    s += "<text class=\"tick\" x=\"" + Px(left - 4) + "\" y=\"" + Px(sy(yv) + 4) +
         "\" text-anchor=\"end\">" + FormatNumber(yv) + "</text>";
  }
  s += "<rect x=\"" + Px(left) + "\" y=\"" + Px(top) + "\" width=\"" + Px(plot_w) + "\" height=\"" +
       Px(plot_h) + "\" fill=\"none\" stroke=\"#999999\"/>";
  s += "<text class=\"axis-title\" x=\"" + Px(left + plot_w / 2) + "\" y=\"" +
       Px(top + plot_h + 30) + "\" text-anchor=\"middle\">" + HtmlEscape(spec.x_label) + "</text>";
  s += "<text class=\"axis-title\" x=\"12\" y=\"" + Px(top + plot_h / 2) +
       "\" text-anchor=\"middle\" transform=\"rotate(-90 12 " + Px(top + plot_h / 2) + ")\">" +
       HtmlEscape(spec.y_label) + "</text>";
  if (spec.diagonal) {
    const double lo = std::max(x_min, y_min), hi = std::min(x_max, y_max);
    if (hi > lo) {
      s += "<line class=\"reference\" x1=\"" + Px(sx(lo)) + "\" y1=\"" + Px(sy(lo)) + "\" x2=\"" +
           Px(sx(hi)) + "\" y2=\"" + Px(sy(hi)) + "\"><title>perfect calibration</title></line>";
    }
  }
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& se = series[k];
    std::string points;
    std::string dots;
    int n = 0;
    for (const auto& [x, y] : se.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if (!points.empty()) points += ' ';
      points += Px(sx(x)) + "," + Px(sy(y));
      ++n;
      if (se.dots) {
        dots += "<circle class=\"mark dot\" cx=\"" + Px(sx(x)) + "\" cy=\"" + Px(sy(y)) +
                "\" r=\"3.5\" fill=\"" + std::string(se.color) + "\"><title>" +
                HtmlEscape(se.name) + ": (" + FormatNumber(x) + ", " + FormatNumber(y) +
                ")</title></circle>";
      }
    }
    if (n >= 2) {
      s += "<polyline class=\"mark curve\" fill=\"none\" stroke=\"" + std::string(se.color) +
           "\" stroke-width=\"2\"" + (se.dashed ? " stroke-dasharray=\"5 3\"" : "") + " points=\"" +
           points + "\"><title>" + HtmlEscape(se.name) + "</title></polyline>";
    }
    s += dots;
    // Legend entry.
    const double ly = top + plot_h + bottom + 16.0 * static_cast<double>(k) + 8;
    s += "<line x1=\"" + Px(left) + "\" y1=\"" + Px(ly) + "\" x2=\"" + Px(left + 22) + "\" y2=\"" +
         Px(ly) + "\" stroke=\"" + std::string(se.color) + "\" stroke-width=\"2\"" +
         (se.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>";
    s += "<text class=\"legend\" x=\"" + Px(left + 28) + "\" y=\"" + Px(ly + 4) + "\">" +
         HtmlEscape(se.name) + (n == 0 ? " (no defined points)" : "") + "</text>";
  }
  s += "</svg>";
  return s;
}

}  // namespace edgepipe::eval::report_internal
