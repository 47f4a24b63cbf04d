// The Trainer's side of a user module: what run_fn receives (TFX's FnArgs),
// the macro that exports it, and helpers a run_fn uses to read its inputs
// and write its logs.
//
//   // my_module.cc, built as a shared library against the installed edgepipe
//   // (find_package(edgepipe) + target_link_libraries(m PRIVATE edgepipe::edgepipe)),
//   // or handed to the Trainer as the .cc file, which it builds the same way.
//   #include "edgepipe/components/fn_args.h"
//   edgepipe::Status RunFn(const edgepipe::components::FnArgs& args) {
//     ASSIGN_OR_RETURN(auto train, TrainDataset(args, specs, "image_class", {.batch_size = 40}));
//     ... model.Fit(*train, {.label_key = "image_class", .steps_per_epoch = args.train_steps});
//     return edgepipe::model::Save(model, args.serving_model_dir, {signature});
//   }
//   EDGEPIPE_RUN_FN(RunFn)
//
// The module and the edgepipe that loads it exchange C++ objects (FnArgs,
// Status), so both must be built from the same edgepipe headers with the same
// compiler: EDGEPIPE_RUN_FN also exports kRunFnAbiVersion, which the Trainer
// checks before calling run_fn (bumped whenever FnArgs or Status change).
#ifndef EDGEPIPE_COMPONENTS_FN_ARGS_H_
#define EDGEPIPE_COMPONENTS_FN_ARGS_H_

#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/dataset.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/model/json_util.h"
#include "edgepipe/nn/dataset_input.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::components {

// What run_fn gets. All paths are absolute or relative to the working
// directory of the process; folders exist (and are empty) when run_fn starts.
// The object is owned by the Trainer and valid for the duration of the call.
struct FnArgs {
  // File patterns of the Examples splits: "<examples>/Split-train/*" and
  // "<examples>/Split-eval/*" (gzip TFRecord of tf.Example; use
  // TrainDataset / EvalDataset or nn::MakeInputDataset).
  std::vector<std::string> train_files;
  std::vector<std::string> eval_files;
  int64_t train_steps = 0;  // training steps (batches) to run
  int64_t eval_steps = 0;   // evaluation batches; 0: one pass over eval_files
  // The schema file of the Schema input (schema.pbtxt), or empty.
  std::string schema_path;
  // The TransformGraph artifact folder, or empty when there is none.
  std::string transform_output;
  // Where run_fn writes the model for serving: a native saved model
  // (model::Save) and/or the rewritten TFLite model (<dir>/tflite). This is
  // <Model artifact>/Format-Serving.
  std::string serving_model_dir;
  // Where run_fn writes training logs (WriteTrainingLog): the ModelRun
  // artifact folder.
  std::string model_run_dir;
  // The Trainer's custom_config parameter: JSON text of an object ("{}" when
  // unset); read it with ParseCustomConfig.
  std::string custom_config = "{}";
  // The file system of the host (borrowed, never null).
  Env* env = Env::Default();
};

// run_fn: trains and writes the model. A non-OK status fails the Trainer
// execution with that message.
using RunFn = Status(const FnArgs& args);

// The exported C entry point EDGEPIPE_RUN_FN defines: sets *status to
// run_fn(*args); an exception escaping run_fn becomes an Internal status.
using RunFnEntry = void(const FnArgs* args, Status* status);
// The exported ABI version function EDGEPIPE_RUN_FN defines.
using RunFnAbiVersionEntry = int64_t();

inline constexpr int64_t kRunFnAbiVersion = 1;
inline constexpr char kRunFnSymbol[] = "edgepipe_run_fn_v1";
inline constexpr char kRunFnAbiVersionSymbol[] = "edgepipe_run_fn_abi_version";

namespace internal {
inline Status CallRunFn(RunFn* fn, const FnArgs* args) {
  try {
    return fn(*args);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("run_fn threw an exception: ") + e.what());
  } catch (...) {
    return Status::Internal("run_fn threw an exception that is not a std::exception");
  }
}
}  // namespace internal

// --- helpers for run_fn -------------------------------------------------------

// TFX's _input_fn over the train / eval split: nn::MakeInputDataset over
// args.train_files (args.eval_files) with args.env. The dataset is owned by
// the caller; errors are MakeInputDataset's (NotFound naming the pattern).
Result<std::unique_ptr<data::Dataset>> TrainDataset(const FnArgs& args,
                                                    std::vector<data::FeatureSpec> specs,
                                                    std::string_view label_key,
                                                    nn::InputDatasetOptions options = {});
Result<std::unique_ptr<data::Dataset>> EvalDataset(const FnArgs& args,
                                                   std::vector<data::FeatureSpec> specs,
                                                   std::string_view label_key,
                                                   nn::InputDatasetOptions options = {});

// args.custom_config parsed; InvalidArgument naming the text and the parse
// error when it is not JSON, or when it is not an object.
Result<model::Json> ParseCustomConfig(const FnArgs& args);

// Writes <args.model_run_dir>/training_log.json: the per-epoch history
// (loss, metrics, val_*), steps, seconds, and `eval_metrics` (e.g. the
// result of Model::Evaluate), atomically. The folder must exist.
Status WriteTrainingLog(const FnArgs& args, const nn::History& history,
                        const std::map<std::string, double>& eval_metrics = {});
inline constexpr char kTrainingLogName[] = "training_log.json";

}  // namespace edgepipe::components

// Exports `fn` (a function `edgepipe::Status fn(const FnArgs&)`) as the
// module's run_fn. Use once per module, at namespace scope, without a
// trailing semicolon.
#define EDGEPIPE_RUN_FN(fn)                                                                 \
  extern "C" __attribute__((visibility("default"))) int64_t edgepipe_run_fn_abi_version() { \
    return ::edgepipe::components::kRunFnAbiVersion;                                        \
  }                                                                                         \
  extern "C" __attribute__((visibility("default"))) void edgepipe_run_fn_v1(                \
      const ::edgepipe::components::FnArgs* args, ::edgepipe::Status* status) {             \
    *status = ::edgepipe::components::internal::CallRunFn(&(fn), args);                     \
  }

#endif  // EDGEPIPE_COMPONENTS_FN_ARGS_H_
