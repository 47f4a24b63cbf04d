// The Evaluator's output files (docs/formats.md, "Evaluator outputs"):
//   <dir>/metrics.json      per slice, per model: metric -> value (+ ci)
//   <dir>/plots.json        per slice, per model: confusion matrices, calibration
//   <dir>/validations.json  ok, failures, notes, missing slices
//   <dir>/eval_config.pbtxt the EvalConfig used (EvalResult.eval_config_text)
// and the blessing, a file named BLESSED or NOT_BLESSED.
//
// The JSON is the same for every model type. NaN (an undefined metric) is
// written as null and read back as NaN. Each file is written atomically
// (WriteFileAtomic): on failure no partial file is left. Thread-compatible:
// do not write the same `dir` from two threads.
#ifndef EDGEPIPE_EVAL_WRITERS_H_
#define EDGEPIPE_EVAL_WRITERS_H_

#include <nlohmann/json.hpp>
#include <string>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

// Version of the JSON schema, written as "format_version" in every file.
inline constexpr int kEvalOutputFormatVersion = 1;

// Creates `dir` if needed and writes the four files into it.
Status WriteEvalResult(const EvalResult& result, const std::string& dir, Env* env = Env::Default());

// Writes <dir>/BLESSED (blessed) or <dir>/NOT_BLESSED (empty files) and
// removes the other one if present, so exactly one exists afterwards.
Status WriteBlessing(bool blessed, const std::string& dir, Env* env = Env::Default());

// Reads what WriteEvalResult wrote: models, slices (metrics and plots),
// validation, eval_config_text, num_examples, seconds. Errors name the file
// and the JSON path of the problem.
Result<EvalResult> ReadEvalResult(const std::string& dir, Env* env = Env::Default());

// The JSON documents themselves (what the files hold), for the report and
// for tests.
nlohmann::json MetricsToJson(const EvalResult& result);
nlohmann::json PlotsToJson(const EvalResult& result);
nlohmann::json ValidationToJson(const ValidationResult& validation);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_WRITERS_H_
