// Trainer: trains a model with the user's run_fn, as TFX's Trainer.
//
//   auto trainer = Trainer({.examples = transform.outputs()["transformed_examples"],
//                           .transform_graph = transform.outputs()["transform_graph"],
//                           .module_file = "mnist_lite_module.cc",
//                           .train_steps = 5000, .eval_steps = 100});
//   trainer.WithId("Trainer.mnist_lite");
//
// Parameters: module_file (string, required, is_file: its content is part of
// the cache key; a .so or a .cc built by BuildModule), train_steps (int,
// default 1000), eval_steps (int, default 0 = one pass), custom_config
// (string, a JSON object, default "{}").
// Inputs: examples (Examples; Split-train and Split-eval), schema (Schema,
// optional), transform_graph (TransformGraph, optional).
// Outputs: model (Model; run_fn writes <uri>/Format-Serving) and model_run
// (ModelRun; run_fn's training logs, plus trainer.json written here).
//
// Errors name the component id and the module file: a module that fails to
// build (with the compiler's errors), to load, that has no run_fn, of another
// ABI version, whose run_fn returns an error or writes nothing to
// Format-Serving.
#ifndef EDGEPIPE_COMPONENTS_TRAINER_H_
#define EDGEPIPE_COMPONENTS_TRAINER_H_

#include <cstdint>
#include <optional>
#include <string>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/components/trainer_module.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

// The Model artifact's serving folder, TFX's name.
inline constexpr char kServingModelDirName[] = "Format-Serving";
// What the executor writes into model_run: module, steps, seconds.
inline constexpr char kTrainerLogName[] = "trainer.json";

// The Trainer's ComponentSpec (type "Trainer"). Never destroyed.
const pipeline::ComponentSpec& TrainerSpec();

struct TrainerOptions {
  ModuleBuildOptions build = DefaultModuleBuildOptions();
  // When build.build_root is empty: builds are cached under
  // <pipeline_root>/.modules (or the default of ModuleBuildOptions when the
  // context has no pipeline root).
};

// Runs one Trainer execution on an ExecutionContext (see component.h).
// FnArgs come from the context: train/eval file patterns from the examples
// artifact (its split_names property, when set, must list train and eval),
// schema_path = the schema folder's schema.pbtxt (or its only file),
// transform_output = the transform_graph folder. Thread safety: one Do() at
// a time per executor; distinct executors may run concurrently.
class TrainerExecutor : public pipeline::Executor {
 public:
  explicit TrainerExecutor(TrainerOptions options = {}) : options_(std::move(options)) {}
  Status Do(pipeline::ExecutionContext& context) override;

 private:
  TrainerOptions options_;
};

// The DSL node's arguments, TFX's Trainer(...) keyword arguments.
struct TrainerArgs {
  pipeline::Channel examples = {};
  std::optional<pipeline::Channel> schema = std::nullopt;
  std::optional<pipeline::Channel> transform_graph = std::nullopt;
  std::string module_file = {};
  int64_t train_steps = 1000;
  int64_t eval_steps = 0;
  std::string custom_config = "{}";
};

// A Trainer node (id "Trainer" until WithId) with a TrainerExecutor of
// default options.
pipeline::Node Trainer(TrainerArgs args);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_TRAINER_H_
