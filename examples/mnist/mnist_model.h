// The part the guide's two MNIST trainer modules share (mnist_module.cc, the
// native model, and mnist_lite_module.cc, the TFLite one): the MLP, its
// training from the Trainer's (transformed) examples, and the model to serve.
//
// Header-only, included by each module source: a module is one shared
// library built from its .cc (this header sits beside it).
#ifndef EDGEPIPE_EXAMPLES_MNIST_MNIST_MODEL_H_
#define EDGEPIPE_EXAMPLES_MNIST_MNIST_MODEL_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/components/transform_graph.h"
#include "edgepipe/components/transform_model.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace mnist {

inline constexpr char kLabelKey[] = "image_class";
inline constexpr char kImageKey[] = "image_floats";

// Input(784, "image_floats") Dense(64, relu) Dropout(0.2) Dense(64, relu)
// Dropout(0.2) Dense(10), RMSprop(0.0015), sparse categorical crossentropy on
// logits.
inline edgepipe::Status BuildModel(edgepipe::nn::Sequential& model) {
  using namespace edgepipe::nn;
  using namespace edgepipe::nn::layers;
  RETURN_IF_ERROR(model.Add(InputLayer({784}, kImageKey)));
  RETURN_IF_ERROR(model.Add(Dense(64, {.activation = "relu"})));
  RETURN_IF_ERROR(model.Add(Dropout(0.2f)));
  RETURN_IF_ERROR(model.Add(Dense(64, {.activation = "relu"})));
  RETURN_IF_ERROR(model.Add(Dropout(0.2f)));
  RETURN_IF_ERROR(model.Add(Dense(10)));
  return model.Compile(RMSprop(0.0015f), SparseCategoricalCrossentropy(/*from_logits=*/true),
                       SparseCategoricalAccuracy());
}

// Builds and trains the MLP on args.train_files for args.train_steps, evaluates
// it on args.eval_files and writes the training log to model_run_dir.
// `config` is the parsed custom_config (JSON object, all optional):
// batch_size (40), seed (1; construct `model` with SeedOf(config)), verbose
// (false).
inline uint64_t SeedOf(const edgepipe::model::Json& config) {
  return config.value("seed", uint64_t{1});
}

inline edgepipe::Status TrainModel(const edgepipe::components::FnArgs& args,
                                   const edgepipe::model::Json& config,
                                   edgepipe::nn::Sequential& model) {
  using edgepipe::data::FeatureSpec;
  const int64_t batch_size = config.value("batch_size", int64_t{40});
  const uint64_t seed = SeedOf(config);
  const std::vector<FeatureSpec> specs = {FeatureSpec::Float32(kImageKey, {784}),
                                          FeatureSpec::Int64(kLabelKey)};
  ASSIGN_OR_RETURN(auto train,
                   TrainDataset(args, specs, kLabelKey, {.batch_size = batch_size, .seed = seed}));
  ASSIGN_OR_RETURN(auto eval,
                   EvalDataset(args, specs, kLabelKey,
                               {.batch_size = batch_size,
                                .shuffle_buffer = 0,
                                .num_epochs = args.eval_steps > 0 ? int64_t{-1} : int64_t{1}}));
  RETURN_IF_ERROR(BuildModel(model));
  ASSIGN_OR_RETURN(edgepipe::nn::History history,
                   model.Fit(*train, {.label_key = kLabelKey,
                                      .steps_per_epoch = args.train_steps,
                                      .seed = seed,
                                      .verbose = config.value("verbose", false)}));
  ASSIGN_OR_RETURN(auto metrics, model.Evaluate(*eval, kLabelKey, args.eval_steps));
  return WriteTrainingLog(args, history, metrics);
}

// Calls save(serving_model): the trained model itself, or, when the Trainer
// got a TransformGraph (args.transform_output), the model with the
// Transform's numeric ops in front of it (components/transform_model.h), so
// that the saved model and its TFLite rewrite read RAW features and training
// and serving cannot skew.
template <typename SaveFn>
edgepipe::Status SaveServingModel(const edgepipe::components::FnArgs& args,
                                  const edgepipe::nn::Model& trained, SaveFn&& save) {
  if (args.transform_output.empty()) return save(trained);
  ASSIGN_OR_RETURN(edgepipe::components::TransformGraph graph,
                   edgepipe::components::LoadTransformGraph(args.transform_output, args.env));
  ASSIGN_OR_RETURN(edgepipe::nn::Model serving, edgepipe::components::WithTransform(graph, trained));
  return save(serving);
}

}  // namespace mnist

#endif  // EDGEPIPE_EXAMPLES_MNIST_MNIST_MODEL_H_
