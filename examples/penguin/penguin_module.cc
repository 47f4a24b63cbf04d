// The penguin example's native trainer module: trains the MLP of
// penguin_model.h on the Transform's examples and saves it with the
// Transform in front and a serving signature over serialized tf.Example of
// the RAW measurements. A measurement missing from an example is imputed
// with the Transform's analyzed mean (the feature spec's default), as the
// Transform did for the training examples, so training and serving agree.
// Built as a MODULE library by examples/CMakeLists.txt.
#include <cmath>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/components/transform_model.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "penguin_model.h"

namespace {

using edgepipe::Status;
using edgepipe::components::FnArgs;

Status RunFn(const FnArgs& args) {
  if (args.transform_output.empty()) {
    return Status::InvalidArgument("penguin_module: the Trainer needs a transform_graph input");
  }
  ASSIGN_OR_RETURN(edgepipe::model::Json config, ParseCustomConfig(args));
  ASSIGN_OR_RETURN(edgepipe::nn::Model trained, penguin::TrainModel(args, config, "penguin_mlp"));
  ASSIGN_OR_RETURN(edgepipe::components::TransformGraph graph,
                   edgepipe::components::LoadTransformGraph(args.transform_output, args.env));
  ASSIGN_OR_RETURN(edgepipe::nn::Model serving, penguin::ServingModel(graph, trained));
  ASSIGN_OR_RETURN(std::vector<edgepipe::data::FeatureSpec> specs,
                   edgepipe::components::RawServingSpecs(graph, serving));
  for (edgepipe::data::FeatureSpec& s : specs) {
    ASSIGN_OR_RETURN(double mean, penguin::AnalyzedMean(graph, s.name));
    if (s.type == edgepipe::data::FeatureType::kInt64) {
      s = s.WithDefault(std::vector<int64_t>{std::llround(mean)});
    } else {
      s = s.WithDefault(std::vector<float>{static_cast<float>(mean)});
    }
  }
  const edgepipe::model::Signature signature =
      edgepipe::model::ExampleSignature("serving_default", specs);
  return edgepipe::model::Save(serving, args.serving_model_dir, {&signature, 1},
                               {.overwrite = true, .env = args.env});
}

}  // namespace

EDGEPIPE_RUN_FN(RunFn)
