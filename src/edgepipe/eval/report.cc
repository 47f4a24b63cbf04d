#include "edgepipe/eval/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>

#include "edgepipe/eval/report_svg.h"

namespace edgepipe::eval {
namespace {

using report_internal::FormatDiff;
using report_internal::FormatNumber;
using report_internal::ModelColor;

constexpr std::string_view kStyle = R"css(
:root { --pass: #1a7f37; --fail: #cf222e; --muted: #57606a; --line: #d0d7de; --bg2: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
  color: #1f2328; margin: 0; padding: 0 24px 48px; max-width: 1400px; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 16px; padding: 16px 0 8px;
  border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.meta, .note, .muted { color: var(--muted); }
.badge { font-weight: 600; padding: 3px 10px; border-radius: 12px; color: #fff; }
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
nav a { margin-right: 14px; }
table { border-collapse: collapse; margin: 6px 0 10px; }
th, td { border: 1px solid var(--line); padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: var(--bg2); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.failed { outline: 2px solid var(--fail); outline-offset: -2px; background: #ffebe9; }
.ci, .diff { display: block; font-size: 12px; color: var(--muted); }
.diff.better { color: var(--pass); }
.diff.worse { color: var(--fail); }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; align-items: flex-start; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); }
svg text { font: 11px system-ui, sans-serif; fill: #1f2328; }
svg .chart-title { font-weight: 600; font-size: 12px; }
svg .axis-title { fill: #57606a; }
svg .grid { stroke: #eaeef2; }
svg .reference { stroke: #8c959f; stroke-dasharray: 3 3; }
pre { background: var(--bg2); padding: 10px; overflow-x: auto; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
)css";

// Runs after layout; the page does not depend on it. Counts, per chart, the
// marks that have a rendered size, so that a headless browser (and a curious
// reader's dev tools) can tell that every chart drew.
constexpr std::string_view kScript = R"js(
(function () {
  var charts = document.querySelectorAll('svg.chart');
  var complete = 0;
  charts.forEach(function (svg) {
    var marks = svg.querySelectorAll('.mark');
    var drawn = 0;
    marks.forEach(function (m) {
      var b = m.getBBox();
      if (b.width > 0 || b.height > 0) drawn++;
    });
    svg.setAttribute('data-marks', String(marks.length));
    svg.setAttribute('data-drawn', String(drawn));
    if (marks.length > 0 && drawn === marks.length) complete++;
  });
  document.body.setAttribute('data-charts', String(charts.length));
  document.body.setAttribute('data-charts-drawn', String(complete));
})();
)js";

// Metrics that describe agreement with the first model; shown in their own
// table rather than among each model's metrics.
bool IsAgreementMetric(const std::string& name) {
  return name == "flip_rate" || name == "top1_agreement" || name == "max_abs_prediction_diff" ||
         name == "mean_abs_prediction_diff";
}

// +1 when a higher value is better, -1 when lower is, 0 when it depends.
int Direction(const std::string& name) {
  static const std::set<std::string> kHigher = {
      "accuracy", "sparse_categorical_accuracy", "precision",     "recall", "f1_score",
      "auc",      "auc_precision_recall",        "top1_agreement"};
  if (kHigher.count(name)) return 1;
  if (name.find("crossentropy") != std::string::npos || name == "loss" || name == "flip_rate" ||
      name.find("abs_prediction_diff") != std::string::npos) {
    return -1;
  }
  return 0;
}

bool IsCount(const std::string& name) {
  return name == "example_count" || name == "weighted_example_count";
}

std::string DisplayName(const std::string& model) { return model.empty() ? "(model)" : model; }

std::string Swatch(size_t i) {
  return "<span class=\"swatch\" style=\"background:" + std::string(ModelColor(i)) + "\"></span>";
}

std::string FormatBytes(int64_t bytes) {
  if (bytes <= 0) return "n/a";
  char buf[48];
  if (bytes < 1024) {
    std::snprintf(buf, sizeof(buf), "%lld B", static_cast<long long>(bytes));
  } else if (bytes < 1024 * 1024) {
    std::snprintf(buf, sizeof(buf), "%.1f KiB", bytes / 1024.0);
  } else {
    std::snprintf(buf, sizeof(buf), "%.2f MiB", bytes / (1024.0 * 1024.0));
  }
  return buf;
}

std::string FormatLatency(const ModelInfo& m) {
  if (m.latency_batch <= 0 || !std::isfinite(m.latency_ms)) return "n/a";
  const double us_per_example = m.latency_ms * 1000.0 / static_cast<double>(m.latency_batch);
  return FormatNumber(std::round(m.latency_ms * 1000) / 1000) + " ms / batch of " +
         std::to_string(m.latency_batch) + " <span class=\"muted\">(" +
         FormatNumber(std::round(us_per_example * 100) / 100) + " µs / example)</span>";
}

// The model columns: the result's models in order, then any model that only
// appears in the metrics (sorted), so that nothing computed is hidden.
std::vector<std::string> ModelColumns(const EvalResult& r) {
  std::vector<std::string> cols;
  for (const ModelInfo& m : r.models) cols.push_back(m.name);
  std::set<std::string> extra;
  for (const SliceResult& s : r.slices) {
    for (const auto& [key, value] : s.metrics) {
      if (std::find(cols.begin(), cols.end(), key.model_name) == cols.end()) {
        extra.insert(key.model_name);
      }
    }
    for (const auto& [name, plots] : s.plots) {
      if (std::find(cols.begin(), cols.end(), name) == cols.end()) extra.insert(name);
    }
  }
  cols.insert(cols.end(), extra.begin(), extra.end());
  return cols;
}

size_t ColumnOf(const std::vector<std::string>& cols, const std::string& model) {
  return static_cast<size_t>(std::find(cols.begin(), cols.end(), model) - cols.begin());
}

std::string SliceTitle(const SliceResult& s) {
  return HtmlEscape(s.slice.ToString()) + " <span class=\"muted\">(" +
         FormatNumber(s.example_count) + " examples)</span>";
}

void RenderHeader(const EvalResult& r, const std::vector<std::string>& cols, std::string& out) {
  const ValidationResult& v = r.validation;
  out += "<header><h1>Model evaluation</h1>";
  out += "<span class=\"meta\">" + FormatNumber(static_cast<double>(r.num_examples)) +
         " examples · " + std::to_string(cols.size()) + " model" + (cols.size() == 1 ? "" : "s") +
         " · " + std::to_string(r.slices.size()) + " slice" + (r.slices.size() == 1 ? "" : "s") +
         " · " + FormatNumber(std::round(r.seconds * 100) / 100) + " s</span>";
  if (v.ok) {
    out += "<span class=\"badge pass\" id=\"verdict\">validation passed</span>";
  } else {
    out += "<span class=\"badge fail\" id=\"verdict\">validation failed: " +
           std::to_string(v.failures.size()) + " failure" + (v.failures.size() == 1 ? "" : "s") +
           "</span>";
  }
  out += "</header><nav><a href=\"#models\">Models</a><a href=\"#validation\">Validation</a>";
  if (cols.size() > 1) out += "<a href=\"#agreement\">Agreement</a>";
  out += "<a href=\"#slices\">Metrics and plots per slice</a><a href=\"#config\">Config</a></nav>";
}

void RenderModels(const EvalResult& r, const std::vector<std::string>& cols, std::string& out) {
  out +=
      "<section id=\"models\"><h2>Models</h2><table><tr><th>model</th><th>type</th>"
      "<th>size</th><th>latency</th><th>path</th></tr>";
  for (size_t i = 0; i < cols.size(); ++i) {
    const ModelInfo* info = i < r.models.size() ? &r.models[i] : nullptr;
    out += "<tr><td>" + Swatch(i) + HtmlEscape(DisplayName(cols[i]));
    if (info && info->is_baseline) out += " <span class=\"muted\">(baseline)</span>";
    if (i == 0 && cols.size() > 1) out += " <span class=\"muted\">(reference for diffs)</span>";
    out += "</td>";
    if (info) {
      out += "<td>" + HtmlEscape(info->model_type) + "</td><td class=\"num\" title=\"" +
             std::to_string(info->size_bytes) + " bytes\">" + FormatBytes(info->size_bytes) +
             "</td><td class=\"num\">" + FormatLatency(*info) + "</td><td><code>" +
             HtmlEscape(info->path) + "</code></td>";
    } else {
      out += "<td colspan=\"4\" class=\"muted\">no model information</td>";
    }
    out += "</tr>";
  }
  out += "</table></section>";
}

void RenderValidation(const ValidationResult& v, std::string& out) {
  out += "<section id=\"validation\"><h2>Validation</h2>";
  if (v.ok) {
    out += "<p><strong style=\"color:var(--pass)\">Passed.</strong> " +
           std::string(v.failures.empty() ? "No threshold failed." : "") + "</p>";
  } else {
    out += "<p><strong style=\"color:var(--fail)\">Failed.</strong> The model is not blessed.</p>";
  }
  if (!v.failures.empty()) {
    out +=
        "<table class=\"failures\"><tr><th>slice</th><th>model</th><th>metric</th>"
        "<th>threshold</th><th>value</th><th>message</th></tr>";
    for (const ValidationFailure& f : v.failures) {
      std::string metric = f.metric.name;
      if (!f.metric.sub_key.empty()) metric += " [" + f.metric.sub_key + "]";
      if (f.metric.is_diff) metric += " (change)";
      out += "<tr><td>" + HtmlEscape(f.slice.ToString()) + "</td><td>" +
             HtmlEscape(DisplayName(f.metric.model_name)) + "</td><td>" + HtmlEscape(metric) +
             "</td><td><code>" + HtmlEscape(f.threshold) + "</code></td><td class=\"num\">" +
             FormatNumber(f.value) + "</td><td>" + HtmlEscape(f.message) + "</td></tr>";
    }
    out += "</table>";
  }
  if (!v.missing_slices.empty()) {
    out += "<p>Slices named by thresholds but without examples:</p><ul>";
    for (const SliceKey& k : v.missing_slices) out += "<li>" + HtmlEscape(k.ToString()) + "</li>";
    out += "</ul>";
  }
  for (const std::string& note : v.notes) {
    out += "<p class=\"note\">Note: " + HtmlEscape(note) + "</p>";
  }
  out += "</section>";
}

// The agreement metric `name` of `model` in slice `s` (diff-flagged or not),
// or null.
const MetricValue* FindAgreement(const SliceResult& s, const std::string& name,
                                 const std::string& model) {
  const MetricValue* found = nullptr;
  for (const auto& [key, v] : s.metrics) {
    if (key.name == name && key.model_name == model && key.sub_key.empty()) found = &v;
  }
  return found;
}

void RenderAgreement(const EvalResult& r, const std::vector<std::string>& cols, std::string& out) {
  if (cols.size() < 2) return;
  static const std::vector<std::pair<std::string, std::string>> kColumns = {
      {"flip_rate", "flip rate (top-1 differs)"},
      {"top1_agreement", "top-1 agreement"},
      {"max_abs_prediction_diff", "max |prediction diff|"},
      {"mean_abs_prediction_diff", "mean |prediction diff|"}};
  out += "<section id=\"agreement\"><h2>Agreement with " + HtmlEscape(DisplayName(cols[0])) +
         "</h2><table class=\"agreement\"><tr><th>slice</th><th>model</th>";
  for (const auto& [name, label] : kColumns) out += "<th>" + label + "</th>";
  out += "</tr>";
  bool any = false;
  for (const SliceResult& s : r.slices) {
    for (size_t i = 1; i < cols.size(); ++i) {
      std::string row;
      bool found = false;
      for (const auto& [name, label] : kColumns) {
        const MetricValue* value = FindAgreement(s, name, cols[i]);
        found = found || value != nullptr;
        std::string text = value ? FormatNumber(value->value) : "n/a";
        if (!value && name == "top1_agreement") {
          // Not computed separately: it is 1 - flip rate by definition.
          if (const MetricValue* flip = FindAgreement(s, "flip_rate", cols[i])) {
            text = FormatNumber(1.0 - flip->value);
          }
        }
        row += "<td class=\"num\">" + text;
        if (value && value->ci) {
          row += "<span class=\"ci\">[" + FormatNumber(value->ci->lower) + ", " +
                 FormatNumber(value->ci->upper) + "]</span>";
        }
        row += "</td>";
      }
      if (!found) continue;
      any = true;
      out += "<tr><td>" + HtmlEscape(s.slice.ToString()) + "</td><td>" + Swatch(i) +
             HtmlEscape(DisplayName(cols[i])) + "</td>" + row + "</tr>";
    }
  }
  out += "</table>";
  if (!any) out += "<p class=\"note\">No agreement metrics were computed.</p>";
  out += "</section>";
}

// One row of a slice's metric table: a metric name, sub key and diff flag.
using RowKey = std::tuple<std::string, std::string, bool>;

bool RowBefore(const RowKey& a, const RowKey& b) {
  auto rank = [](const RowKey& k) {
    const std::string& n = std::get<0>(k);
    return n == "example_count" ? 0 : n == "weighted_example_count" ? 1 : 2;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b);
  return a < b;
}

void RenderMetricTable(const SliceResult& s, const std::vector<std::string>& cols,
                       const std::set<MetricKey>& failed, std::string& out) {
  std::vector<RowKey> rows;
  std::map<std::pair<RowKey, size_t>, const MetricValue*> cells;
  for (const auto& [key, value] : s.metrics) {
    if (IsAgreementMetric(key.name)) continue;
    RowKey row{key.name, key.sub_key, key.is_diff};
    if (std::find(rows.begin(), rows.end(), row) == rows.end()) rows.push_back(row);
    cells[{row, ColumnOf(cols, key.model_name)}] = &value;
  }
  if (rows.empty()) {
    out += "<p class=\"note\">No metrics in this slice.</p>";
    return;
  }
  std::sort(rows.begin(), rows.end(), RowBefore);
  out += "<table class=\"metrics\"><tr><th>metric</th>";
  for (size_t i = 0; i < cols.size(); ++i) {
    out += "<th>" + Swatch(i) + HtmlEscape(DisplayName(cols[i])) + "</th>";
  }
  out += "</tr>";
  for (const RowKey& row : rows) {
    const auto& [name, sub_key, is_diff] = row;
    out += "<tr><th>" + (is_diff ? "Δ " + HtmlEscape(name) : HtmlEscape(name));
    if (!sub_key.empty()) out += " <span class=\"muted\">" + HtmlEscape(sub_key) + "</span>";
    if (is_diff) out += " <span class=\"muted\">(vs baseline)</span>";
    out += "</th>";
    auto first = cells.find({row, 0});
    for (size_t i = 0; i < cols.size(); ++i) {
      auto it = cells.find({row, i});
      if (it == cells.end()) {
        out += "<td class=\"num muted\">—</td>";
        continue;
      }
      const MetricValue& v = *it->second;
      const bool is_failed = failed.count(MetricKey{name, cols[i], sub_key, is_diff}) > 0;
      out += std::string("<td class=\"num") + (is_failed ? " failed" : "") + "\"" +
             (is_failed ? " title=\"a threshold on this value failed\"" : "") + ">" +
             FormatNumber(v.value);
      if (v.ci) {
        out += "<span class=\"ci\">95% CI [" + FormatNumber(v.ci->lower) + ", " +
               FormatNumber(v.ci->upper) + "]</span>";
      }
      if (i > 0 && !is_diff && !IsCount(name) && first != cells.end() && std::isfinite(v.value) &&
          std::isfinite(first->second->value)) {
        const double d = v.value - first->second->value;
        const int dir = Direction(name) * (d > 0 ? 1 : d < 0 ? -1 : 0);
        out += std::string("<span class=\"diff") +
               (dir > 0   ? " better"
                : dir < 0 ? " worse"
                          : "") +
               "\">Δ " + FormatDiff(d) + "</span>";
      }
      out += "</td>";
    }
    out += "</tr>";
  }
  out += "</table>";
}

void RenderPlots(const SliceResult& s, const std::vector<std::string>& cols, std::string& out) {
  std::string figures;
  // Confusion matrices, one per model, side by side.
  for (size_t i = 0; i < cols.size(); ++i) {
    auto it = s.plots.find(cols[i]);
    if (it == s.plots.end() || !it->second.multi_class_confusion) continue;
    const ConfusionMatrix& m = *it->second.multi_class_confusion;
    const std::string caption = "confusion matrix: " + DisplayName(cols[i]);
    if (m.num_classes < 1 || m.num_classes > report_internal::kMaxHeatmapClasses ||
        m.counts.size() != static_cast<size_t>(m.num_classes) * m.num_classes) {
      figures += "<figure><figcaption>" + HtmlEscape(caption) + ": " +
                 std::to_string(m.num_classes) +
                 " classes, not drawn (heatmaps are drawn for 1 to " +
                 std::to_string(report_internal::kMaxHeatmapClasses) +
                 " classes with a full count matrix)</figcaption></figure>";
      continue;
    }
    figures += "<figure>" + report_internal::ConfusionHeatmapSvg(m, caption) + "<figcaption>" +
               Swatch(i) + HtmlEscape(caption) + "</figcaption></figure>";
  }
  // Calibration: every model's reliability curve on one chart.
  std::vector<report_internal::Series> calibration;
  std::vector<report_internal::Series> thresholds;
  for (size_t i = 0; i < cols.size(); ++i) {
    auto it = s.plots.find(cols[i]);
    if (it == s.plots.end()) continue;
    const Plots& p = it->second;
    if (!p.calibration.empty()) {
      report_internal::Series se{DisplayName(cols[i]), ModelColor(i), false, true, {}};
      for (const CalibrationBucket& b : p.calibration) {
        if (b.weight <= 0) continue;
        se.points.emplace_back(b.sum_prediction / b.weight, b.sum_label / b.weight);
      }
      calibration.push_back(std::move(se));
    }
    if (!p.confusion_at_thresholds.empty()) {
      report_internal::Series precision{
          DisplayName(cols[i]) + " precision", ModelColor(i), false, false, {}};
      report_internal::Series recall{
          DisplayName(cols[i]) + " recall", ModelColor(i), true, false, {}};
      for (const ThresholdCounts& t : p.confusion_at_thresholds) {
        precision.points.emplace_back(t.threshold, t.precision);
        recall.points.emplace_back(t.threshold, t.recall);
      }
      thresholds.push_back(std::move(precision));
      thresholds.push_back(std::move(recall));
    }
  }
  if (!calibration.empty()) {
    report_internal::LineChartSpec spec{"Reliability (calibration)",
                                        "mean prediction in bucket",
                                        "observed label rate",
                                        0,
                                        1,
                                        0,
                                        1,
                                        true};
    figures += "<figure>" + report_internal::LineChartSvg(spec, calibration) + "</figure>";
  }
  if (!thresholds.empty()) {
    report_internal::LineChartSpec spec{"Precision and recall by threshold",
                                        "decision threshold",
                                        "precision (solid) / recall (dashed)",
                                        0,
                                        1,
                                        0,
                                        1,
                                        false};
    figures += "<figure>" + report_internal::LineChartSvg(spec, thresholds) + "</figure>";
  }
  if (!figures.empty()) out += "<div class=\"charts\">" + figures + "</div>";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string RenderReportHtml(const EvalResult& r) {
  const std::vector<std::string> cols = ModelColumns(r);
  std::map<SliceKey, std::set<MetricKey>> failed;
  for (const ValidationFailure& f : r.validation.failures) failed[f.slice].insert(f.metric);

  std::string out;
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>edgepipe evaluation: ";
  out += r.validation.ok ? "passed" : "failed";
  out += "</title><style>";
  out += kStyle;
  out += "</style></head>\n<body>\n";
  RenderHeader(r, cols, out);
  out += "\n";
  RenderModels(r, cols, out);
  out += "\n";
  RenderValidation(r.validation, out);
  out += "\n";
  RenderAgreement(r, cols, out);
  out += "\n<section id=\"slices\"><h2>Metrics and plots per slice</h2>";
  if (r.slices.empty()) out += "<p class=\"note\">No slices were evaluated.</p>";
  for (size_t i = 0; i < r.slices.size(); ++i) {
    const SliceResult& s = r.slices[i];
    out += "\n<section class=\"slice\" id=\"slice-" + std::to_string(i) + "\"><h3>" +
           SliceTitle(s) + "</h3>";
    auto it = failed.find(s.slice);
    static const std::set<MetricKey> kNone;
    RenderMetricTable(s, cols, it == failed.end() ? kNone : it->second, out);
    RenderPlots(s, cols, out);
    out += "</section>";
  }
  out += "</section>\n<section id=\"config\"><h2>Config</h2>";
  if (r.eval_config_text.empty()) {
    out += "<p class=\"note\">No config recorded.</p>";
  } else {
    out += "<details><summary>EvalConfig used (protobuf text format)</summary><pre><code>" +
           HtmlEscape(r.eval_config_text) + "</code></pre></details>";
  }
  out += "</section>\n<script>";
  out += kScript;
  out += "</script>\n</body></html>\n";
  return out;
}

Status WriteReport(const EvalResult& result, const std::string& dir, Env* env) {
  RETURN_IF_ERROR(env->CreateDirs(dir));
  return WriteFileAtomic(JoinPath(dir, kReportFileName), RenderReportHtml(result), env);
}

}  // namespace edgepipe::eval
