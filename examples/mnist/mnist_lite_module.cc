// The guide's TFLite MNIST trainer module (TFX's mnist_utils_native_keras_lite):
// trains the MLP of mnist_model.h, saves it (with the Transform in front when
// there is one) with a signature over the per-feature tensor image_floats
// [-1, 784] of RAW features, not serialized tf.Example, then the TFLite
// rewriter writes <serving_model_dir>/tflite and the temporary model is
// removed.
//
// Built as a MODULE library by examples/CMakeLists.txt, and out of tree
// against an installed edgepipe by tests/module_fixture (the install test).
#include <string>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/lite/rewriter.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "mnist_model.h"

namespace {

using edgepipe::Status;
using edgepipe::components::FnArgs;

Status RunFn(const FnArgs& args) {
  ASSIGN_OR_RETURN(edgepipe::model::Json config, ParseCustomConfig(args));
  edgepipe::nn::Sequential model("mnist_mlp_lite", mnist::SeedOf(config));
  RETURN_IF_ERROR(mnist::TrainModel(args, config, model));

  // Signature over per-feature tensors, then the TFLite rewriter.
  const std::string temp = edgepipe::JoinPath(args.serving_model_dir, "temp");
  RETURN_IF_ERROR(
      mnist::SaveServingModel(args, model, [&](const edgepipe::nn::Model& serving) -> Status {
        const edgepipe::model::Signature signature = edgepipe::model::TensorSignature(
            "serving_default", {{mnist::kImageKey, edgepipe::DType::kFloat32, {-1, 784}}});
        return edgepipe::model::Save(serving, temp, {&signature, 1},
                                     {.overwrite = true, .env = args.env});
      }));
  auto rewriter = edgepipe::lite::CreateRewriter(edgepipe::lite::RewriterType::kTFLiteRewriter,
                                                 {.name = "tflite_rewriter", .env = args.env});
  RETURN_IF_ERROR(edgepipe::lite::RewriteSavedModel(temp, args.serving_model_dir, *rewriter,
                                                    edgepipe::lite::ModelType::kTFLite, args.env));
  return args.env->RemoveAll(temp);
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
