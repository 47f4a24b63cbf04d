// The penguin example's TFLite trainer module: trains the MLP of
// penguin_model.h, saves it with the Transform in front and a signature over
// the per-feature tensors of the RAW measurements (float32 [-1, 1] each),
// then the TFLite rewriter writes <serving_model_dir>/tflite and the
// temporary model is removed. A TFLite model has no notion of a missing
// input: callers feed every measurement (the Evaluator reads the Transform's
// examples, where a missing one holds the imputed mean).
// Built as a MODULE library by examples/CMakeLists.txt.
#include <string>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/lite/rewriter.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "penguin_model.h"

namespace {

using edgepipe::Status;
using edgepipe::components::FnArgs;

Status RunFn(const FnArgs& args) {
  if (args.transform_output.empty()) {
    return Status::InvalidArgument(
        "penguin_lite_module: the Trainer needs a transform_graph input");
  }
  ASSIGN_OR_RETURN(edgepipe::model::Json config, ParseCustomConfig(args));
  ASSIGN_OR_RETURN(edgepipe::nn::Model trained,
                   penguin::TrainModel(args, config, "penguin_mlp_lite"));
  ASSIGN_OR_RETURN(edgepipe::components::TransformGraph graph,
                   edgepipe::components::LoadTransformGraph(args.transform_output, args.env));
  ASSIGN_OR_RETURN(edgepipe::nn::Model serving, penguin::ServingModel(graph, trained));

  std::vector<edgepipe::model::TensorSpec> inputs;
  for (const std::string& name : serving.input_names()) {
    inputs.push_back({name, edgepipe::DType::kFloat32, {-1, 1}});
  }
  const std::string temp = edgepipe::JoinPath(args.serving_model_dir, "temp");
  const edgepipe::model::Signature signature =
      edgepipe::model::TensorSignature("serving_default", inputs);
  RETURN_IF_ERROR(
      edgepipe::model::Save(serving, temp, {&signature, 1}, {.overwrite = true, .env = args.env}));
  auto rewriter = edgepipe::lite::CreateRewriter(edgepipe::lite::RewriterType::kTFLiteRewriter,
                                                 {.name = "tflite_rewriter", .env = args.env});
  RETURN_IF_ERROR(edgepipe::lite::RewriteSavedModel(temp, args.serving_model_dir, *rewriter,
                                                    edgepipe::lite::ModelType::kTFLite, args.env));
  return args.env->RemoveAll(temp);
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
