// examples/fashion_mnist: the small CNN of issue 6, its training from the
// Trainer's RAW examples through the Transform graph, the native serving
// model (Transform in front, signature over serialized tf.Example) and the
// four TFLite rewrites of it written beside it in the serving model folder.
//
// Header-only, included by fashion_mnist_module.cc (a module is one shared
// library built from its .cc; this header sits beside it) and by
// fashion_mnist_pipeline.cc (the Evaluator's model names and files).
#ifndef EDGEPIPE_EXAMPLES_FASHION_MNIST_FASHION_MNIST_MODEL_H_
#define EDGEPIPE_EXAMPLES_FASHION_MNIST_FASHION_MNIST_MODEL_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/components/transform_graph.h"
#include "edgepipe/components/transform_model.h"
#include "edgepipe/core/file.h"
#include "edgepipe/lite/rewriter.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/conv_layers.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/dataset_input.h"
#include "edgepipe/nn/model.h"

namespace fashion_mnist {

inline constexpr char kLabelKey[] = "image_class";
inline constexpr char kImageKey[] = "image_floats";

// The four TFLite rewrites run_fn writes into the serving model folder, in
// the order the Evaluator lists them (after the native model, "native").
struct LiteVariant {
  const char* name;  // the Evaluator's ModelSpec name
  const char* file;  // file name inside Format-Serving
  edgepipe::lite::Quantization quantization;
};
inline constexpr std::array<LiteVariant, 4> kLiteVariants = {{
    {"float32", "model_float32.tflite", edgepipe::lite::Quantization::kNone},
    {"dynamic_range", "model_dynamic_range.tflite", edgepipe::lite::Quantization::kDynamicRange},
    {"float16", "model_float16.tflite", edgepipe::lite::Quantization::kFloat16},
    {"int8", "model_int8.tflite", edgepipe::lite::Quantization::kFullInteger},
}};

// Input(784, "image_floats") Reshape(28, 28, 1) Conv2D(32, 3x3, relu)
// MaxPool(2x2) Conv2D(64, 3x3, relu) MaxPool(2x2) Flatten Dropout(0.5)
// Dense(10) logits; Adam (Keras defaults), sparse categorical cross-entropy
// on logits. 34,826 parameters.
inline edgepipe::Status BuildModel(edgepipe::nn::Sequential& model) {
  using namespace edgepipe::nn;
  using namespace edgepipe::nn::layers;
  RETURN_IF_ERROR(model.Add(InputLayer({784}, kImageKey)));
  RETURN_IF_ERROR(model.Add(Reshape({28, 28, 1})));
  RETURN_IF_ERROR(model.Add(layers::Conv2D(32, 3, {.activation = "relu"})));
  RETURN_IF_ERROR(model.Add(MaxPooling2D()));
  RETURN_IF_ERROR(model.Add(layers::Conv2D(64, 3, {.activation = "relu"})));
  RETURN_IF_ERROR(model.Add(MaxPooling2D()));
  RETURN_IF_ERROR(model.Add(Flatten()));
  RETURN_IF_ERROR(model.Add(layers::Dropout(0.5f)));
  RETURN_IF_ERROR(model.Add(Dense(10)));
  return model.Compile(Adam(), SparseCategoricalCrossentropy(/*from_logits=*/true),
                       SparseCategoricalAccuracy());
}

// custom_config (JSON object, all optional): batch_size (64), seed (1),
// verbose (false), representative_batches (10 batches of batch_size raw train
// images calibrate the int8 rewrite).
inline uint64_t SeedOf(const edgepipe::model::Json& config) {
  return config.value("seed", uint64_t{1});
}
inline int64_t BatchSizeOf(const edgepipe::model::Json& config) {
  return config.value("batch_size", int64_t{64});
}

// The features of the RAW examples (ExampleGen's IDX records).
inline std::vector<edgepipe::data::FeatureSpec> RawSpecs() {
  using edgepipe::data::FeatureSpec;
  return {FeatureSpec::Float32(kImageKey, {784}), FeatureSpec::Int64(kLabelKey)};
}

// Builds and trains the CNN for args.train_steps batches of the RAW train
// examples (args.train_files) transformed by the graph at
// args.transform_output (required: the Transform scales the pixels to
// [0, 1]), evaluates it on the transformed eval examples and writes the
// training log. `model` must be empty.
inline edgepipe::Status TrainModel(const edgepipe::components::FnArgs& args,
                                   const edgepipe::components::TransformGraph& graph,
                                   const edgepipe::model::Json& config,
                                   edgepipe::nn::Sequential& model) {
  const int64_t batch_size = BatchSizeOf(config);
  const uint64_t seed = SeedOf(config);
  ASSIGN_OR_RETURN(auto train, edgepipe::components::MakeTransformedInputDataset(
                                   args.train_files, graph, kLabelKey,
                                   {.batch_size = batch_size, .seed = seed, .env = args.env}));
  ASSIGN_OR_RETURN(auto eval, edgepipe::components::MakeTransformedInputDataset(
                                  args.eval_files, graph, kLabelKey,
                                  {.batch_size = 256,
                                   .shuffle_buffer = 0,
                                   .num_epochs = args.eval_steps > 0 ? int64_t{-1} : int64_t{1},
                                   .env = args.env}));
  RETURN_IF_ERROR(BuildModel(model));
  ASSIGN_OR_RETURN(edgepipe::nn::History history,
                   model.Fit(*train, {.label_key = kLabelKey,
                                      .steps_per_epoch = args.train_steps,
                                      .seed = seed,
                                      .verbose = config.value("verbose", false)}));
  ASSIGN_OR_RETURN(auto metrics, model.Evaluate(*eval, kLabelKey, args.eval_steps));
  return WriteTrainingLog(args, history, metrics);
}

// The representative dataset of the int8 rewrite: the first `batches`
// batches of `batch_size` RAW train images (what the served model reads),
// keyed by the signature input.
inline edgepipe::Result<std::vector<edgepipe::model::NamedArrays>> RepresentativeData(
    const edgepipe::components::FnArgs& args, int64_t batches, int64_t batch_size) {
  ASSIGN_OR_RETURN(
      auto data,
      edgepipe::nn::MakeInputDataset(
          args.train_files, RawSpecs(), kLabelKey,
          {.batch_size = batch_size, .shuffle_buffer = 0, .num_epochs = 1, .env = args.env}));
  std::vector<edgepipe::model::NamedArrays> out;
  while (static_cast<int64_t>(out.size()) < batches) {
    ASSIGN_OR_RETURN(std::optional<edgepipe::data::Batch> batch, data->Next());
    if (!batch) break;
    ASSIGN_OR_RETURN(const edgepipe::Array* images, batch->GetArray(kImageKey));
    out.push_back({{kImageKey, *images}});
  }
  if (out.empty()) {
    return edgepipe::Status::InvalidArgument(
        "representative dataset: the train split has no examples");
  }
  return out;
}

// Writes the four rewrites (kLiteVariants) of the saved model at `temp`
// (signature over image_floats [-1, 784]) into args.serving_model_dir.
inline edgepipe::Status WriteLiteVariants(
    const edgepipe::components::FnArgs& args, const std::string& temp,
    std::vector<edgepipe::model::NamedArrays> representative) {
  for (const LiteVariant& v : kLiteVariants) {
    edgepipe::lite::TFLiteRewriterOptions options{.name = std::string("tflite_rewriter_") + v.name,
                                                  .filename = v.file,
                                                  .quantization = v.quantization,
                                                  .env = args.env};
    if (v.quantization == edgepipe::lite::Quantization::kFullInteger) {
      options.representative_dataset = representative;
    }
    auto rewriter = edgepipe::lite::CreateRewriter(edgepipe::lite::RewriterType::kTFLiteRewriter,
                                                   std::move(options));
    RETURN_IF_ERROR(edgepipe::lite::RewriteSavedModel(
        temp, args.serving_model_dir, *rewriter, edgepipe::lite::ModelType::kTFLite, args.env));
  }
  return edgepipe::Status::Ok();
}

}  // namespace fashion_mnist

#endif  // EDGEPIPE_EXAMPLES_FASHION_MNIST_FASHION_MNIST_MODEL_H_
