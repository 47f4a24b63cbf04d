// report.html: the Evaluator's result as one page a person reads at a glance.
//
// The page is self-contained: inline CSS, charts drawn as inline SVG by this
// code, and a few lines of inline JavaScript that only annotate the charts
// after layout (data-drawn attributes, used by the browser test) — the page
// reads the same with JavaScript off. No network access, no external scripts,
// fonts or images.
//
// It shows the models side by side: a summary (type, size, latency, the
// validation result with its failures), the agreement of every model with the
// first one (flip rate, max / mean absolute prediction difference), metrics
// per slice (a table with the models as columns, the difference to the first
// model, confidence intervals when present), confusion-matrix heatmaps,
// reliability (calibration) charts and precision / recall threshold curves.
//
// Every text that comes from the result (feature values, model names, paths,
// messages, the config) is HTML-escaped. The output is a pure function of the
// EvalResult: no time stamps, no randomness, so equal results render to equal
// bytes.
#ifndef EDGEPIPE_EVAL_REPORT_H_
#define EDGEPIPE_EVAL_REPORT_H_

#include <string>
#include <string_view>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

// The file name WriteReport writes into its folder.
inline constexpr std::string_view kReportFileName = "report.html";

// Renders `result` as a complete HTML document (UTF-8). Pure and thread-safe;
// never fails (NaN and infinite values show as "n/a" and are left out of
// charts).
std::string RenderReportHtml(const EvalResult& result);

// Writes RenderReportHtml(result) to `<dir>/report.html` atomically (a temp
// file renamed into place; on failure the old file, if any, is untouched).
// Creates `dir` when missing. `env` is not owned and must outlive the call.
Status WriteReport(const EvalResult& result, const std::string& dir, Env* env = Env::Default());

// Escapes text for HTML element content and quoted attribute values:
// & < > " ' become entities. Exposed for tests.
std::string HtmlEscape(std::string_view text);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_REPORT_H_
