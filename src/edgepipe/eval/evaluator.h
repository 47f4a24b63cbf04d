// The Evaluator's engine: one pass over the examples, every model on every
// chunk, metric accumulators per (slice, model, metric), then thresholds.
//
//   ASSIGN_OR_RETURN(EvalConfig config, ReadEvalConfig("eval_config.pbtxt"));
//   ASSIGN_OR_RETURN(EvalResult result,
//                    Evaluate(config, {{"full", "model/Format-Serving"},
//                                      {"lite", "model/Format-Serving"}},
//                             "ExampleGen/examples/3", {}));
//
// Models are paired with config.model_specs by name (a config with one
// unnamed ModelSpec takes a single model of any name). The first model is the
// reference of the diff metrics (FlipRate, MaxAbsPredictionDiff,
// MeanAbsPredictionDiff), added automatically for every other model when
// there are several. The result has the same structure for every model type.
//
// Parallelism: `num_threads` workers each take the next chunk from the
// reader (under a lock, which only frames records: no copy, no crc), check
// its crcs and parse it, run every model on it (each worker has its own
// model runners) and feed their own accumulators; the accumulators are
// merged at the end. With several workers and a native model the workers run
// as the tasks of one nn::ParallelFor (when nn::NumThreads() >= workers), so
// that native layers run inline on their worker instead of queueing for nn's
// process-wide pool; nn::ParallelFor calls from other threads wait until the
// evaluation ends. Bootstrap resampling depends on example ids only, so
// the result does not depend on the threading (up to float rounding). Nor
// does an error: of several workers' errors, the one of the earliest chunk in
// file order is returned.
//
// Thread safety: Evaluate is reentrant; it uses its own threads.
#ifndef EDGEPIPE_EVAL_EVALUATOR_H_
#define EDGEPIPE_EVAL_EVALUATOR_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/eval/eval_config.pb.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

struct ModelSource {
  std::string name;  // ModelSpec.name
  std::string path;  // model folder, Trainer Model artifact, or .tflite file
};

// Counters of one evaluation that do not fit the result's structure; they
// are also written as sentences to result.validation.notes.
struct EvalStats {
  // Per slicing spec that reads features: its name and the examples that
  // lacked one of its features (in none of its slices).
  std::vector<std::pair<std::string, int64_t>> missing_by_spec;
  // Slices dropped for having fewer than min_slice_size examples.
  std::vector<std::pair<SliceKey, double>> dropped_slices;
  double read_seconds = 0;    // summed over workers: reading + parsing
  double infer_seconds = 0;   // summed over workers and models: inference
  double metric_seconds = 0;  // summed over workers: slicing + metrics
};

struct EvaluateOptions {
  int64_t batch_size = 256;    // examples per chunk and per inference call
  int num_threads = 0;         // workers; <= 0: the machine's cores
  std::string split = "eval";  // of an Examples artifact
  std::string tflite_filename = "tflite";
  bool progress = true;  // progress line on `progress_out`
  FILE* progress_out = stderr;
  EvalStats* stats = nullptr;  // filled when not null
  Env* env = Env::Default();   // borrowed
};

// Evaluates `models` on the examples at `examples` (a TFRecord file, a
// folder of them, or an Examples artifact: its Split-<split>). Errors name
// what is wrong: a model without a ModelSpec (or a spec without a model),
// a model that fails to open, a model input not among the features, a label
// missing / out of range (file and example index), a prediction width that
// does not fit a metric, a threshold on a metric that was not computed.
// Failed thresholds are not errors: result.validation.ok is false.
Result<EvalResult> Evaluate(const EvalConfig& config, const std::vector<ModelSource>& models,
                            const std::string& examples, const EvaluateOptions& options = {});

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_EVALUATOR_H_
