// The guide's native MNIST trainer module (TFX's mnist_utils_native_keras):
// trains the MLP of mnist_model.h on the Trainer's examples and saves it,
// with the Transform in front when there is one, with a serving signature
// over serialized tf.Example of the RAW features. Training logs go to
// model_run_dir.
//
// Built as a MODULE library by examples/CMakeLists.txt (the pipeline hands the
// .so to the Trainer), and out of tree against an installed edgepipe by
// tests/module_fixture (the install test).
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/components/transform_model.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "mnist_model.h"

namespace {

using edgepipe::Status;
using edgepipe::components::FnArgs;

Status RunFn(const FnArgs& args) {
  ASSIGN_OR_RETURN(edgepipe::model::Json config, ParseCustomConfig(args));
  edgepipe::nn::Sequential model("mnist_mlp", mnist::SeedOf(config));
  RETURN_IF_ERROR(mnist::TrainModel(args, config, model));
  return mnist::SaveServingModel(args, model, [&](const edgepipe::nn::Model& serving) -> Status {
    // Serving signature over serialized tf.Example (the label is not an input).
    std::vector<edgepipe::data::FeatureSpec> specs = {
        edgepipe::data::FeatureSpec::Float32(mnist::kImageKey, {784})};
    const edgepipe::model::Signature signature =
        edgepipe::model::ExampleSignature("serving_default", specs);
    return edgepipe::model::Save(serving, args.serving_model_dir, {&signature, 1},
                                 {.overwrite = true, .env = args.env});
  });
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
