// Trainer modules for trainer_test, one source compiled in variants
// (tests/test_modules.cmake) by a RUN_FN_* definition:
//   RUN_FN_ECHO       writes FnArgs as JSON to <serving_model_dir>/args.json
//                     and a training log, returns OK
//   RUN_FN_ERROR      returns an InvalidArgument naming its train files
//   RUN_FN_THROW      throws std::runtime_error
//   RUN_FN_EMPTY      writes only a training log (no model), returns OK
//   RUN_FN_WRONG_ABI  exports the run_fn symbols with ABI version 999
#include <stdexcept>
#include <string>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/core/file.h"
#include "edgepipe/model/json_util.h"

namespace {

using edgepipe::Status;
using edgepipe::components::FnArgs;

Status RunFn(const FnArgs& args) {
#if defined(RUN_FN_ERROR)
  return Status::InvalidArgument("feature \"pixels\" not found in " + args.train_files.at(0));
#elif defined(RUN_FN_THROW)
  (void)args;
  throw std::runtime_error("boom from run_fn");
#elif defined(RUN_FN_EMPTY)
  return WriteTrainingLog(args, edgepipe::nn::History{});
#else
  edgepipe::model::Json json = {{"train_files", args.train_files},
                                {"eval_files", args.eval_files},
                                {"train_steps", args.train_steps},
                                {"eval_steps", args.eval_steps},
                                {"schema_path", args.schema_path},
                                {"transform_output", args.transform_output},
                                {"serving_model_dir", args.serving_model_dir},
                                {"model_run_dir", args.model_run_dir},
                                {"custom_config", args.custom_config}};
  RETURN_IF_ERROR(WriteTrainingLog(args, edgepipe::nn::History{}));
  return edgepipe::WriteFileAtomic(edgepipe::JoinPath(args.serving_model_dir, "args.json"),
                                   json.dump(), args.env);
#endif
}

}  // namespace

#if defined(RUN_FN_WRONG_ABI)
extern "C" __attribute__((visibility("default"))) int64_t edgepipe_run_fn_abi_version() {
  return 999;
}
extern "C" __attribute__((visibility("default"))) void edgepipe_run_fn_v1(const FnArgs* args,
                                                                          Status* status) {
  *status = RunFn(*args);
}
#else
EDGEPIPE_RUN_FN(RunFn)
#endif
