// The guide's native MNIST trainer module (TFX's mnist_utils_native_keras):
// the MLP Input(784, "image_floats") Dense(64, relu) Dropout(0.2) Dense(64,
// relu) Dropout(0.2) Dense(10), trained with RMSprop(0.0015) on the train
// split, evaluated on the eval split, saved with a serving signature over
// serialized tf.Example. Training logs go to model_run_dir.
//
// custom_config (JSON object, all optional): batch_size (40), seed (1),
// verbose (false).
//
// examples/mnist's copy: built as a MODULE library by examples/CMakeLists.txt
// (the pipeline hands the .so to the Trainer).
#include <map>
#include <string>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace {

using edgepipe::Result;
using edgepipe::Status;
using edgepipe::components::FnArgs;
using edgepipe::data::FeatureSpec;

constexpr char kLabelKey[] = "image_class";

Status BuildModel(edgepipe::nn::Sequential& model) {
  using namespace edgepipe::nn;
  using namespace edgepipe::nn::layers;
  RETURN_IF_ERROR(model.Add(InputLayer({784}, "image_floats")));
  RETURN_IF_ERROR(model.Add(Dense(64, {.activation = "relu"})));
  RETURN_IF_ERROR(model.Add(Dropout(0.2f)));
  RETURN_IF_ERROR(model.Add(Dense(64, {.activation = "relu"})));
  RETURN_IF_ERROR(model.Add(Dropout(0.2f)));
  RETURN_IF_ERROR(model.Add(Dense(10)));
  return model.Compile(RMSprop(0.0015f), SparseCategoricalCrossentropy(/*from_logits=*/true),
                       SparseCategoricalAccuracy());
}

Status RunFn(const FnArgs& args) {
  ASSIGN_OR_RETURN(edgepipe::model::Json config, ParseCustomConfig(args));
  const int64_t batch_size = config.value("batch_size", int64_t{40});
  const uint64_t seed = config.value("seed", uint64_t{1});
  const std::vector<FeatureSpec> specs = {FeatureSpec::Float32("image_floats", {784}),
                                          FeatureSpec::Int64(kLabelKey)};
  ASSIGN_OR_RETURN(auto train,
                   TrainDataset(args, specs, kLabelKey, {.batch_size = batch_size, .seed = seed}));
  ASSIGN_OR_RETURN(auto eval,
                   EvalDataset(args, specs, kLabelKey,
                               {.batch_size = batch_size,
                                .shuffle_buffer = 0,
                                .num_epochs = args.eval_steps > 0 ? int64_t{-1} : int64_t{1}}));

  edgepipe::nn::Sequential model("mnist_mlp", seed);
  RETURN_IF_ERROR(BuildModel(model));
  ASSIGN_OR_RETURN(edgepipe::nn::History history,
                   model.Fit(*train, {.label_key = kLabelKey,
                                      .steps_per_epoch = args.train_steps,
                                      .seed = seed,
                                      .verbose = config.value("verbose", false)}));
  ASSIGN_OR_RETURN(auto metrics, model.Evaluate(*eval, kLabelKey, args.eval_steps));
  RETURN_IF_ERROR(WriteTrainingLog(args, history, metrics));

  // Serving signature over serialized tf.Example (the label is not an input).
  const edgepipe::model::Signature signature = edgepipe::model::ExampleSignature(
      "serving_default", {FeatureSpec::Float32("image_floats", {784})});
  return edgepipe::model::Save(model, args.serving_model_dir, {&signature, 1},
                               {.overwrite = true, .env = args.env});
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
