// The Evaluator as a pipeline component (TFX's Evaluator): runs
// eval::Evaluate on a Trainer's model (and an optional baseline model), writes
// the evaluation files and report.html, and blesses the model when every
// threshold of the EvalConfig passed.
//
//   auto evaluator = Evaluator({.examples = transform.outputs()["transformed_examples"],
//                               .model = trainer.outputs()["model"],
//                               .eval_config = R"pb(model_specs { model_type: "tf_lite" }
//                               ...)pb"});
//   evaluator.WithId("Evaluator.mnist_lite");
//
// Inputs: examples (Examples), model (Model: a Trainer output; the model is
// <uri>/Format-Serving, the .tflite inside it for model_type "tf_lite"),
// baseline_model (Model, optional; needs a ModelSpec with is_baseline).
// Params: eval_config (string, EvalConfig in protobuf text format) or
// eval_config_file (string, is_file: its content is part of the cache key),
// exactly one of them non-empty; example_splits (string, JSON list of split
// names, default `["eval"]`; exactly one split is supported); tflite_filename
// (string, default "tflite"); model_files (string, JSON object: ModelSpec
// name -> file name inside the model's Format-Serving folder, e.g.
// `{"int8": "model_int8.tflite"}`, default `{}`); num_threads (int, default
// 0 = all cores).
// Outputs: evaluation (ModelEvaluation: metrics.json, plots.json,
// validations.json, eval_config.pbtxt and report.html, see eval/writers.h and
// eval/report.h) and blessing (ModelBlessing: a BLESSED or NOT_BLESSED file,
// property blessed = 1 or 0).
//
// Models are matched to the config's ModelSpecs by name: the baseline input
// takes the spec with is_baseline; every other spec is a candidate read from
// the `model` input. Several candidate specs evaluate several files of the
// same Model artifact in one pass (e.g. the native model and its float,
// float16 and int8 TFLite rewrites): a spec named in model_files reads that
// file of Format-Serving; other tf_lite specs read tflite_filename. Models
// are evaluated in config order, so the diff metrics (flip rate, ...) of
// every model are against the first spec's. The model is blessed when every
// threshold of every model passed; a failed threshold is not an error.
// Thread safety: an executor runs one Do() at a time.
#ifndef EDGEPIPE_COMPONENTS_EVALUATOR_COMPONENT_H_
#define EDGEPIPE_COMPONENTS_EVALUATOR_COMPONENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

// The Evaluator's ComponentSpec (type "Evaluator"). Never destroyed.
const pipeline::ComponentSpec& EvaluatorSpec();
std::unique_ptr<pipeline::Executor> MakeEvaluatorExecutor();

// The DSL node's arguments (TFX's Evaluator(...) keyword arguments). Set
// exactly one of eval_config / eval_config_file.
struct EvaluatorArgs {
  pipeline::Channel examples = {};
  pipeline::Channel model = {};
  std::optional<pipeline::Channel> baseline_model = std::nullopt;
  std::string eval_config = {};       // protobuf text
  std::string eval_config_file = {};  // path to a protobuf text file
  std::string example_splits = R"(["eval"])";
  std::string tflite_filename = "tflite";
  // ModelSpec name -> file name inside Format-Serving (a plain name).
  std::map<std::string, std::string> model_files = {};
};

// An Evaluator node (id "Evaluator" until WithId).
pipeline::Node Evaluator(EvaluatorArgs args);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_EVALUATOR_COMPONENT_H_
