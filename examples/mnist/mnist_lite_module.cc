// The guide's TFLite trainer module (TFX's mnist_utils_native_keras_lite):
// the same MLP as mnist_module.cc, saved with a signature over the
// `image_floats` tensor [-1, 784] (not serialized tf.Example) to
// <serving_model_dir>/temp, rewritten by the TFLite rewriter into
// <serving_model_dir>/tflite; the temp model is removed, as in the guide.
//
// custom_config (JSON object, all optional): batch_size (40), seed (1),
// verbose (false).
#include <map>
#include <string>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/core/array.h"
#include "edgepipe/core/file.h"
#include "edgepipe/lite/rewriter.h"
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

  edgepipe::nn::Sequential model("mnist_mlp_lite", seed);
  RETURN_IF_ERROR(BuildModel(model));
  ASSIGN_OR_RETURN(edgepipe::nn::History history,
                   model.Fit(*train, {.label_key = kLabelKey,
                                      .steps_per_epoch = args.train_steps,
                                      .seed = seed,
                                      .verbose = config.value("verbose", false)}));
  ASSIGN_OR_RETURN(auto metrics, model.Evaluate(*eval, kLabelKey, args.eval_steps));
  RETURN_IF_ERROR(WriteTrainingLog(args, history, metrics));

  // Signature over per-feature tensors, then the TFLite rewriter.
  const edgepipe::model::Signature signature = edgepipe::model::TensorSignature(
      "serving_default", {{"image_floats", edgepipe::DType::kFloat32, {-1, 784}}});
  const std::string temp = edgepipe::JoinPath(args.serving_model_dir, "temp");
  RETURN_IF_ERROR(
      edgepipe::model::Save(model, temp, {&signature, 1}, {.overwrite = true, .env = args.env}));
  auto rewriter = edgepipe::lite::CreateRewriter(edgepipe::lite::RewriterType::kTFLiteRewriter,
                                                 {.name = "tflite_rewriter", .env = args.env});
  RETURN_IF_ERROR(edgepipe::lite::RewriteSavedModel(temp, args.serving_model_dir, *rewriter,
                                                    edgepipe::lite::ModelType::kTFLite, args.env));
  return args.env->RemoveAll(temp);
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
