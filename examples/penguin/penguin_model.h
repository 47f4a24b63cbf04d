// The part the penguin example's files share: feature names, the MLP, its
// training from the Transform's examples, and the model to serve (with the
// Transform in front, reading RAW measurements).
//
// Header-only, included by each module source (a module is one shared
// library built from its .cc; this header sits beside it).
#ifndef EDGEPIPE_EXAMPLES_PENGUIN_PENGUIN_MODEL_H_
#define EDGEPIPE_EXAMPLES_PENGUIN_PENGUIN_MODEL_H_

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edgepipe/components/fn_args.h"
#include "edgepipe/components/transform_graph.h"
#include "edgepipe/components/transform_model.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/model.h"

namespace penguin {

// Raw CSV columns (data/penguins/penguins.csv).
inline constexpr const char* kNumericKeys[] = {"bill_length_mm", "bill_depth_mm",
                                               "flipper_length_mm", "body_mass_g"};
inline constexpr char kSpeciesKey[] = "species";
inline constexpr char kIslandKey[] = "island";
inline constexpr char kSexKey[] = "sex";
// The transformed label: the species' vocabulary id (3 classes).
inline constexpr char kLabelKey[] = "species_xf";
inline constexpr int64_t kNumClasses = 3;

// "bill_length_mm" -> "bill_length_mm_xf" (the z-scored feature).
inline std::string TransformedName(const std::string& raw) { return raw + "_xf"; }

// Four scalar inputs (the z-scored measurements, [N, 1] each) concatenated,
// Dense(8, relu) Dense(8, relu) Dense(3) logits; Adam(0.01), sparse
// categorical crossentropy on logits.
inline edgepipe::Result<edgepipe::nn::Model> BuildModel(const std::string& name, uint64_t seed) {
  using namespace edgepipe::nn;
  using namespace edgepipe::nn::layers;
  std::vector<SymbolicTensor> inputs;
  for (const char* key : kNumericKeys) {
    ASSIGN_OR_RETURN(SymbolicTensor in, Input({1}, TransformedName(key)));
    inputs.push_back(in);
  }
  ASSIGN_OR_RETURN(SymbolicTensor x, Apply(Concatenate(), inputs));
  ASSIGN_OR_RETURN(x, Apply(Dense(8, {.activation = "relu"}), {x}));
  ASSIGN_OR_RETURN(x, Apply(Dense(8, {.activation = "relu"}), {x}));
  ASSIGN_OR_RETURN(SymbolicTensor logits, Apply(Dense(kNumClasses), {x}));
  ASSIGN_OR_RETURN(Model model, Model::Create(inputs, {logits}, name, seed));
  RETURN_IF_ERROR(model.Compile(Adam(0.01f), SparseCategoricalCrossentropy(/*from_logits=*/true),
                                SparseCategoricalAccuracy()));
  return model;
}

// `config` is the parsed custom_config (JSON object, all optional):
// batch_size (16), seed (1), verbose (false).
inline uint64_t SeedOf(const edgepipe::model::Json& config) {
  return config.value("seed", uint64_t{1});
}

// Builds and trains the MLP on args.train_files (the Transform's examples)
// for args.train_steps batches, evaluates it on args.eval_files and writes
// the training log to model_run_dir.
inline edgepipe::Result<edgepipe::nn::Model> TrainModel(const edgepipe::components::FnArgs& args,
                                                        const edgepipe::model::Json& config,
                                                        const std::string& name) {
  using edgepipe::data::FeatureSpec;
  const int64_t batch_size = config.value("batch_size", int64_t{16});
  const uint64_t seed = SeedOf(config);
  std::vector<FeatureSpec> specs = {FeatureSpec::Int64(kLabelKey)};
  for (const char* key : kNumericKeys)
    specs.push_back(FeatureSpec::Float32(TransformedName(key), {1}));
  ASSIGN_OR_RETURN(auto train,
                   TrainDataset(args, specs, kLabelKey, {.batch_size = batch_size, .seed = seed}));
  ASSIGN_OR_RETURN(auto eval,
                   EvalDataset(args, specs, kLabelKey,
                               {.batch_size = batch_size,
                                .shuffle_buffer = 0,
                                .num_epochs = args.eval_steps > 0 ? int64_t{-1} : int64_t{1}}));
  ASSIGN_OR_RETURN(edgepipe::nn::Model model, BuildModel(name, seed));
  ASSIGN_OR_RETURN(edgepipe::nn::History history,
                   model.Fit(*train, {.label_key = kLabelKey,
                                      .steps_per_epoch = args.train_steps,
                                      .seed = seed,
                                      .verbose = config.value("verbose", false)}));
  ASSIGN_OR_RETURN(auto metrics, model.Evaluate(*eval, kLabelKey, args.eval_steps));
  RETURN_IF_ERROR(WriteTrainingLog(args, history, metrics));
  return model;
}

// The trained model with the Transform's z-scores in front
// (components/transform_model.h): it reads the RAW measurements.
inline edgepipe::Result<edgepipe::nn::Model> ServingModel(
    const edgepipe::components::TransformGraph& graph, const edgepipe::nn::Model& trained) {
  return edgepipe::components::WithTransform(graph, trained);
}

// The analyzed mean of raw feature `raw` (the z-score node fed by it): what
// the Transform imputed for a missing value. NotFound when no z-score node
// reads `raw`.
inline edgepipe::Result<double> AnalyzedMean(const edgepipe::components::TransformGraph& graph,
                                             const std::string& raw) {
  using edgepipe::components::TransformOp;
  const auto& nodes = graph.nodes();
  for (const auto& n : nodes) {
    if (n.op != TransformOp::kScaleToZScore || n.inputs.size() != 1) continue;
    const auto& in = nodes[static_cast<size_t>(n.inputs[0])];
    if (in.op == TransformOp::kInput && in.feature == raw) return n.stat_a;
  }
  return edgepipe::Status::NotFound("transform graph: no scale_to_z_score of \"" + raw + "\"");
}

}  // namespace penguin

#endif  // EDGEPIPE_EXAMPLES_PENGUIN_PENGUIN_MODEL_H_
