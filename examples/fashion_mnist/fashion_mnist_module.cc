// The fashion_mnist Trainer module (issue 6): trains the small CNN of
// fashion_mnist_model.h on the RAW examples through the Transform graph,
// then writes into the serving model folder (Format-Serving):
//   - the native saved model, the Transform in front of the CNN, with a
//     serving signature over serialized tf.Example of the raw features;
//   - model_float32.tflite, model_dynamic_range.tflite,
//     model_float16.tflite and model_int8.tflite (full integer, float I/O,
//     calibrated on raw train images): TFLite rewrites of the same network
//     with a signature over image_floats [-1, 784].
// Training logs go to model_run_dir. Built as a MODULE library by
// examples/CMakeLists.txt.
#include <string>
#include <vector>

#include "fashion_mnist_model.h"

namespace {

using edgepipe::Status;
using edgepipe::components::FnArgs;

Status RunFn(const FnArgs& args) {
  ASSIGN_OR_RETURN(edgepipe::model::Json config, ParseCustomConfig(args));
  if (args.transform_output.empty()) {
    return Status::InvalidArgument(
        "fashion_mnist module: the Trainer needs the Transform's transform_graph input");
  }
  ASSIGN_OR_RETURN(edgepipe::components::TransformGraph graph,
                   edgepipe::components::LoadTransformGraph(args.transform_output, args.env));
  edgepipe::nn::Sequential model("fashion_mnist_cnn", fashion_mnist::SeedOf(config));
  RETURN_IF_ERROR(fashion_mnist::TrainModel(args, graph, config, model));
  ASSIGN_OR_RETURN(edgepipe::nn::Model serving, edgepipe::components::WithTransform(graph, model));

  // The native model: signature over serialized tf.Example (raw features).
  const std::vector<edgepipe::data::FeatureSpec> specs = {
      edgepipe::data::FeatureSpec::Float32(fashion_mnist::kImageKey, {784})};
  const edgepipe::model::Signature example_sig =
      edgepipe::model::ExampleSignature("serving_default", specs);
  RETURN_IF_ERROR(edgepipe::model::Save(serving, args.serving_model_dir, {&example_sig, 1},
                                        {.overwrite = true, .env = args.env}));

  // The same model with a tensor signature, the rewriters' input.
  const std::string temp = edgepipe::JoinPath(args.serving_model_dir, "temp");
  const edgepipe::model::Signature tensor_sig = edgepipe::model::TensorSignature(
      "serving_default", {{fashion_mnist::kImageKey, edgepipe::DType::kFloat32, {-1, 784}}});
  RETURN_IF_ERROR(
      edgepipe::model::Save(serving, temp, {&tensor_sig, 1}, {.overwrite = true, .env = args.env}));
  ASSIGN_OR_RETURN(
      std::vector<edgepipe::model::NamedArrays> representative,
      fashion_mnist::RepresentativeData(args, config.value("representative_batches", int64_t{10}),
                                        fashion_mnist::BatchSizeOf(config)));
  RETURN_IF_ERROR(fashion_mnist::WriteLiteVariants(args, temp, std::move(representative)));
  return args.env->RemoveAll(temp);
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
