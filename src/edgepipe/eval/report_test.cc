#include "edgepipe/eval/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"
#include "edgepipe/eval/report_svg.h"
#include "edgepipe/eval/testing/sample_result.h"

namespace edgepipe::eval {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// The text between the first `begin` at or after `from` and the next `end`.
std::string Between(const std::string& s, const std::string& begin, const std::string& end,
                    size_t from = 0) {
  size_t b = s.find(begin, from);
  if (b == std::string::npos) return "";
  size_t e = s.find(end, b + begin.size());
  return s.substr(b, e == std::string::npos ? std::string::npos : e - b);
}

TEST(HtmlEscapeTest, EscapesTheFiveSpecialCharacters) {
  EXPECT_EQ(HtmlEscape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(HtmlEscape("plain µ text"), "plain µ text");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(ReportTest, IsOneSelfContainedDocument) {
  const std::string html = RenderReportHtml(testing::SampleEvalResult());
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_THAT(html, HasSubstr("</html>\n"));
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  // Nothing is fetched: no external scripts, styles, images or fonts.
  EXPECT_THAT(html, Not(HasSubstr("src=")));
  EXPECT_THAT(html, Not(HasSubstr("<link")));
  EXPECT_THAT(html, Not(HasSubstr("@import")));
  EXPECT_THAT(html, Not(HasSubstr("url(")));
  EXPECT_THAT(html, Not(HasSubstr("http://www.example")));
  // The only URL is the SVG namespace, which is a name, not a fetch.
  std::string without_ns = html;
  const std::string ns = "http://www.w3.org/2000/svg";
  for (size_t p = without_ns.find(ns); p != std::string::npos; p = without_ns.find(ns, p)) {
    without_ns.erase(p, ns.size());
  }
  EXPECT_THAT(without_ns, Not(HasSubstr("http")));
}

TEST(ReportTest, EscapesUserText) {
  EvalResult r = testing::SampleEvalResult();
  r.models[1].name = "lite<b>";
  for (SliceResult& s : r.slices) {
    MetricMap renamed;
    for (const auto& [key, value] : s.metrics) {
      MetricKey k = key;
      if (k.model_name == "candidate_lite") k.model_name = "lite<b>";
      renamed[k] = value;
    }
    s.metrics = renamed;
    s.plots["lite<b>"] = s.plots["candidate_lite"];
    s.plots.erase("candidate_lite");
  }
  r.models[0].path = "/tmp/<img onerror=x>";
  r.eval_config_text = "label_key: \"</code></pre><script>bad()</script>\"";
  const std::string html = RenderReportHtml(r);
  // Exactly one script element: the page's own.
  EXPECT_EQ(Count(html, "<script"), 1u);
  EXPECT_THAT(html, Not(HasSubstr("<script>alert")));
  EXPECT_THAT(html, HasSubstr("color:&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"));
  EXPECT_THAT(html, Not(HasSubstr("lite<b>")));
  EXPECT_THAT(html, HasSubstr("lite&lt;b&gt;"));
  EXPECT_THAT(html, Not(HasSubstr("<img")));
  EXPECT_THAT(html, HasSubstr("&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;bad()"));
}

TEST(ReportTest, IsDeterministicAndDependsOnTheResult) {
  const EvalResult r = testing::SampleEvalResult();
  const std::string a = RenderReportHtml(r);
  EXPECT_EQ(a, RenderReportHtml(r));
  EvalResult changed = r;
  changed.slices[0].metrics[{"sparse_categorical_accuracy", "candidate", "", false}].value = 0.5;
  EXPECT_NE(a, RenderReportHtml(changed));
}

TEST(ReportTest, SummaryShowsModelsAndValidation) {
  const std::string html = RenderReportHtml(testing::SampleEvalResult());
  const std::string models = Between(html, "<section id=\"models\">", "</section>");
  EXPECT_THAT(models, HasSubstr("candidate"));
  EXPECT_THAT(models, HasSubstr("<td>native</td>"));
  EXPECT_THAT(models, HasSubstr("<td>tf_lite</td>"));
  EXPECT_THAT(models, HasSubstr("205.1 KiB"));  // 210000 bytes
  EXPECT_THAT(models, HasSubstr("54.7 KiB"));   // 56000 bytes
  EXPECT_THAT(models, HasSubstr("1.25 ms / batch of 256"));
  EXPECT_THAT(models, HasSubstr("4.88 µs / example"));  // 1.25 ms / 256

  EXPECT_THAT(html, HasSubstr("validation failed: 1 failure"));
  const std::string validation = Between(html, "<section id=\"validation\">", "</section>");
  EXPECT_THAT(validation, HasSubstr("lower_bound: 0.8"));
  EXPECT_THAT(validation, HasSubstr("is below the lower bound 0.8"));
  EXPECT_THAT(validation, HasSubstr("change thresholds skipped: no baseline model"));

  EvalResult passing = testing::SampleEvalResult();
  passing.validation = ValidationResult{};
  const std::string ok = RenderReportHtml(passing);
  EXPECT_THAT(ok, HasSubstr("validation passed"));
  EXPECT_THAT(ok, Not(HasSubstr("validation failed")));
}

TEST(ReportTest, MetricsTableHasModelsAsColumnsWithDiffsAndIntervals) {
  const std::string html = RenderReportHtml(testing::SampleEvalResult());
  const std::string overall = Between(html, "<section class=\"slice\" id=\"slice-0\">", "</table>");
  ASSERT_FALSE(overall.empty());
  EXPECT_THAT(overall, HasSubstr("Overall"));
  // Header: both models, in order.
  const size_t c1 = overall.find("candidate</th>");
  const size_t c2 = overall.find("candidate_lite</th>");
  ASSERT_NE(c1, std::string::npos);
  ASSERT_NE(c2, std::string::npos);
  EXPECT_LT(c1, c2);
  // Accuracy 0.9 vs 0.85: the lite column shows the worse difference.
  const std::string acc_row = Between(overall, "<th>sparse_categorical_accuracy", "</tr>");
  EXPECT_THAT(acc_row, HasSubstr(">0.9<"));
  EXPECT_THAT(acc_row, HasSubstr(">0.85<"));
  EXPECT_THAT(acc_row, HasSubstr("<span class=\"diff worse\">Δ -0.05</span>"));
  EXPECT_THAT(acc_row, HasSubstr("95% CI [0.87, 0.92]"));
  // Crossentropy is lower-is-better: its increase is worse too.
  const std::string loss_row = Between(overall, "<th>sparse_categorical_crossentropy", "</tr>");
  EXPECT_THAT(loss_row, HasSubstr("<span class=\"diff worse\">Δ +0.1</span>"));
  // Undefined values show as n/a, with their sub key.
  const std::string precision_row = Between(overall, "<th>precision", "</tr>");
  EXPECT_THAT(precision_row, HasSubstr("class:1"));
  EXPECT_EQ(Count(precision_row, ">n/a<"), 2u);
  // Counts get no difference (the data is the same for every model).
  EXPECT_THAT(Between(overall, "<th>example_count", "</tr>"), Not(HasSubstr("Δ")));
  // example_count comes first.
  EXPECT_LT(overall.find("<th>example_count"), overall.find("<th>sparse_categorical_accuracy"));
  // Agreement metrics are not mixed into the per-model table.
  EXPECT_THAT(overall, Not(HasSubstr("flip_rate")));
}

TEST(ReportTest, FailedValuesAreMarkedInTheirSliceOnly) {
  const std::string html = RenderReportHtml(testing::SampleEvalResult());
  const std::string slice0 = Between(html, "id=\"slice-0\"", "</section>");
  const std::string slice1 = Between(html, "id=\"slice-1\"", "</section>");
  EXPECT_EQ(Count(slice0, "class=\"num failed\""), 0u);
  EXPECT_EQ(Count(slice1, "class=\"num failed\""), 1u);
  // The failed cell is the lite model's accuracy (0.9 - 0.05 - 0.1).
  const std::string failed_cell = Between(slice1, "class=\"num failed\"", "</td>");
  EXPECT_THAT(failed_cell, HasSubstr(">0.75<"));
}

TEST(ReportTest, AgreementTableListsEveryModelAfterTheFirst) {
  const std::string html = RenderReportHtml(testing::SampleEvalResult());
  const std::string agreement = Between(html, "<section id=\"agreement\">", "</section>");
  EXPECT_THAT(agreement, HasSubstr("Agreement with candidate"));
  // Two slices x one compared model.
  EXPECT_EQ(Count(agreement, "<tr><td>"), 2u);
  EXPECT_THAT(agreement, HasSubstr(">0.025<"));
  EXPECT_THAT(agreement, HasSubstr(">0.0625<"));
  EXPECT_THAT(agreement, HasSubstr(">0.004<"));
  EXPECT_THAT(agreement, HasSubstr(">0.975<"));  // top-1 agreement = 1 - flip rate

  EvalResult single = testing::SampleEvalResult();
  single.models.resize(1);
  for (SliceResult& s : single.slices) {
    std::erase_if(s.metrics, [](const auto& kv) { return kv.first.model_name != "candidate"; });
    s.plots.erase("candidate_lite");
  }
  EXPECT_THAT(RenderReportHtml(single), Not(HasSubstr("id=\"agreement\"")));
}

TEST(ReportTest, DrawsChartsPerSlice) {
  const std::string html = RenderReportHtml(testing::SampleEvalResult());
  // Per slice: 2 heatmaps, 1 reliability chart, 1 threshold chart.
  EXPECT_EQ(Count(html, "<svg class=\"chart heatmap\""), 4u);
  EXPECT_EQ(Count(html, "<svg class=\"chart line-chart\""), 4u);
  // 3x3 cells per heatmap.
  EXPECT_EQ(Count(html, "class=\"mark cell\""), 4u * 9u);
  // Reliability: 5 buckets per model as dots, one curve per model; threshold
  // chart: precision and recall curves per model.
  EXPECT_EQ(Count(html, "class=\"mark dot\""), 2u * 2u * 5u);
  EXPECT_EQ(Count(html, "class=\"mark curve\""), 2u * (2u + 4u));
  EXPECT_THAT(html, HasSubstr("Reliability (calibration)"));
  EXPECT_THAT(html, HasSubstr("Precision and recall by threshold"));
  EXPECT_THAT(html, HasSubstr("perfect calibration"));
}

TEST(ReportTest, HeatmapShadesByRowFraction) {
  ConfusionMatrix m;
  m.num_classes = 2;
  m.counts = {10, 0, 5, 5};
  const std::string svg = report_internal::ConfusionHeatmapSvg(m, "m");
  EXPECT_EQ(Count(svg, "class=\"mark cell\""), 4u);
  // Row 0: all correct -> full blue; (0,1) empty -> white. Row 1: half each.
  EXPECT_THAT(svg, HasSubstr("fill=\"#08519c\"><title>true 0, predicted 0: 10 (100% of row)"));
  EXPECT_THAT(svg, HasSubstr("fill=\"#ffffff\"><title>true 0, predicted 1: 0 (0% of row)"));
  EXPECT_THAT(svg, HasSubstr("fill=\"#e58c8e\"><title>true 1, predicted 0: 5 (50% of row)"));
  EXPECT_THAT(svg, HasSubstr("fill=\"#84a8ce\"><title>true 1, predicted 1: 5 (50% of row)"));
}

TEST(ReportTest, HeatmapOfNonFiniteCountsIsWhite) {
  ConfusionMatrix m;
  m.num_classes = 1;
  m.counts = {std::numeric_limits<double>::quiet_NaN()};
  const std::string svg = report_internal::ConfusionHeatmapSvg(m, "m");
  EXPECT_THAT(svg, HasSubstr("fill=\"#ffffff\"><title>true 0, predicted 0: n/a"));
}

TEST(ReportTest, OversizedOrMalformedMatricesAreDescribedNotDrawn) {
  EvalResult r = testing::SampleEvalResult();
  ConfusionMatrix big;
  big.num_classes = report_internal::kMaxHeatmapClasses + 1;
  big.counts.assign(static_cast<size_t>(big.num_classes) * big.num_classes, 1.0);
  r.slices[0].plots["candidate"].multi_class_confusion = big;
  ConfusionMatrix broken;
  broken.num_classes = 3;
  broken.counts = {1, 2};
  r.slices[0].plots["candidate_lite"].multi_class_confusion = broken;
  const std::string html = RenderReportHtml(r);
  EXPECT_THAT(html, HasSubstr("101 classes, not drawn"));
  EXPECT_THAT(html, HasSubstr("3 classes, not drawn"));
  EXPECT_EQ(Count(html, "<svg class=\"chart heatmap\""), 2u);  // slice 1 only
}

TEST(ReportTest, NonFiniteValuesAreSkippedInCharts) {
  report_internal::Series se{
      "s",
      "#000000",
      false,
      true,
      {{0.1, 0.2}, {0.5, std::numeric_limits<double>::quiet_NaN()}, {0.9, 0.8}}};
  const std::string svg = report_internal::LineChartSvg({"t", "x", "y"}, {se});
  EXPECT_EQ(Count(svg, "class=\"mark dot\""), 2u);
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
  EXPECT_EQ(report_internal::FormatNumber(std::numeric_limits<double>::infinity()), "n/a");
  EXPECT_EQ(report_internal::FormatNumber(-0.0), "0");
  EXPECT_EQ(report_internal::FormatNumber(1234), "1234");
  EXPECT_EQ(report_internal::FormatNumber(0.123456), "0.12346");
  EXPECT_EQ(report_internal::FormatDiff(0.5), "+0.5");
  EXPECT_EQ(report_internal::FormatDiff(-2), "-2");
}

TEST(ReportTest, EmptyResultRendersWithoutCharts) {
  const std::string html = RenderReportHtml(EvalResult{});
  EXPECT_THAT(html, HasSubstr("validation passed"));
  EXPECT_THAT(html, HasSubstr("No slices were evaluated."));
  EXPECT_THAT(html, Not(HasSubstr("<svg")));
}

TEST(WriteReportTest, WritesReportHtmlAtomically) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const EvalResult r = testing::SampleEvalResult();
  const std::string dir = tmp.Join("out/nested");
  ASSERT_TRUE(WriteReport(r, dir).ok());
  auto written = ReadFileToString(JoinPath(dir, "report.html"));
  ASSERT_TRUE(written.ok()) << written.status();
  EXPECT_EQ(*written, RenderReportHtml(r));

  // A failed write leaves the previous report as it was and no temp file.
  EvalResult other = r;
  other.num_examples = 7;
  FaultEnv env;
  env.FailNth(FaultEnv::Op::kRename, 1);
  Status s = WriteReport(other, dir, &env);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("injected"));
  EXPECT_EQ(*ReadFileToString(JoinPath(dir, "report.html")), *written);
  auto entries = Env::Default()->ListDir(dir);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(*entries, std::vector<std::string>{"report.html"});

  env.SetWriteByteLimit(100);
  EXPECT_FALSE(WriteReport(other, tmp.Join("full"), &env).ok());
  EXPECT_FALSE(Env::Default()->Exists(tmp.Join("full/report.html")));
}

}  // namespace
}  // namespace edgepipe::eval
