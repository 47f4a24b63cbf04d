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
// (string, default "tflite"); num_threads (int, default 0 = all cores).
// Outputs: evaluation (ModelEvaluation: metrics.json, plots.json,
// validations.json, eval_config.pbtxt and report.html, see eval/writers.h and
// eval/report.h) and blessing (ModelBlessing: a BLESSED or NOT_BLESSED file,
// property blessed = 1 or 0).
//
// Models are matched to the config's ModelSpecs by name: the candidate takes
// the (only) spec without is_baseline, the baseline the spec with it. A
// failed threshold is not an error: the model is simply not blessed.
// Thread safety: an executor runs one Do() at a time.
#ifndef EDGEPIPE_COMPONENTS_EVALUATOR_COMPONENT_H_
#define EDGEPIPE_COMPONENTS_EVALUATOR_COMPONENT_H_

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
};

// An Evaluator node (id "Evaluator" until WithId).
pipeline::Node Evaluator(EvaluatorArgs args);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_EVALUATOR_COMPONENT_H_
