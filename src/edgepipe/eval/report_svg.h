// The charts of report.html, drawn as inline SVG text: confusion-matrix
// heatmaps, reliability diagrams and line charts. Internal to eval/report.cc
// (exposed for its tests).
//
// Every drawn data element (cell, point, line) carries class "mark", and every
// chart is an <svg class="chart">, so that the page's script and the browser
// test can count what was drawn. All text is HTML-escaped. Pure functions of
// their arguments; thread-safe; deterministic (fixed-precision coordinates).
#ifndef EDGEPIPE_EVAL_REPORT_SVG_H_
#define EDGEPIPE_EVAL_REPORT_SVG_H_

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgepipe/eval/result.h"

namespace edgepipe::eval::report_internal {

// A number as the report shows it: integers without decimals, otherwise 5
// significant digits; "n/a" for NaN and infinities.
std::string FormatNumber(double v);
// A signed difference ("+0.0123", "-2", "0"); "n/a" when not finite.
std::string FormatDiff(double v);

// The colour of the i-th model in every chart and legend ("#1f77b4", ...).
std::string_view ModelColor(size_t i);

// Largest class count drawn as a heatmap; bigger matrices are summarised in
// text instead (a 1000-class heatmap is not readable at a glance).
inline constexpr int kMaxHeatmapClasses = 100;

// A heatmap of `m` (rows = true class, columns = predicted class), coloured by
// the fraction of the row: blue on the diagonal (correct), red off it
// (errors). Counts are printed in the cells for up to 12 classes; every cell
// has a tooltip. `caption` (e.g. the model) labels the chart for screen
// readers; the page prints it beside the chart. Precondition: m.num_classes in
// [1, kMaxHeatmapClasses] and m.counts.size() == num_classes^2.
std::string ConfusionHeatmapSvg(const ConfusionMatrix& m, std::string_view caption);

// One curve of a line chart: points in data units (non-finite ones skipped).
struct Series {
  std::string name;
  std::string_view color;
  bool dashed = false;
  bool dots = false;  // also draw a circle per point
  std::vector<std::pair<double, double>> points;
};

struct LineChartSpec {
  std::string title;
  std::string x_label;
  std::string y_label;
  double x_min = 0, x_max = 1;  // widened to include every finite point
  double y_min = 0, y_max = 1;
  bool diagonal = false;  // the y = x reference line (perfect calibration)
};

// A line chart with axes, ticks, a legend and the given series.
std::string LineChartSvg(const LineChartSpec& spec, const std::vector<Series>& series);

}  // namespace edgepipe::eval::report_internal

#endif  // EDGEPIPE_EVAL_REPORT_SVG_H_
