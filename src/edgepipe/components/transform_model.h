// The Transform graph where models meet it, so that training and serving
// apply the very same transform:
//  - training input: MakeTransformedInputDataset reads RAW examples and
//    applies the graph to every batch (or read the component's transformed
//    examples with nn::MakeInputDataset and TransformedFeatureSpecs()).
//  - serving: WithTransform prepends the graph's numeric ops to a model as
//    nn layers (Rescaling, Add, ReLU / ReLU6), so a model saved with a
//    signature over the RAW features runs the transform, and the TFLite
//    converter lowers it to MUL / ADD / RELU ops like any other layer.
#ifndef EDGEPIPE_COMPONENTS_TRANSFORM_MODEL_H_
#define EDGEPIPE_COMPONENTS_TRANSFORM_MODEL_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/components/transform_graph.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/dataset.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/nn/dataset_input.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::components {

// nn::MakeInputDataset over RAW examples (parsed by the raw features the
// graph's outputs use), then graph.Apply on every batch. `label_key` must be
// one of the graph's outputs (pass the label through in the
// preprocessing_fn). The graph is copied. Errors as MakeInputDataset's, and
// InvalidArgument for an unanalyzed graph or a label that is not an output.
Result<std::unique_ptr<data::Dataset>> MakeTransformedInputDataset(
    const std::vector<std::string>& file_patterns, const TransformGraph& graph,
    std::string_view label_key, const nn::InputDatasetOptions& options = {});

// A new model whose inputs are the RAW features: each input of `model` named
// like a transformed feature is fed by the graph's ops for it, as layers
// (affine / scale / z-score -> Rescaling, x + y -> Add, x - y -> Rescaling(-1)
// + Add, clip -> Rescaling + ReLU6 (or ReLU) + Rescaling); model inputs that
// are not graph outputs stay inputs of their own name. Raw inputs get the
// raw feature's shape ({1} for a scalar) and name. The model's layers are
// rebuilt from their configs with copies of their weights (`model` is not
// changed). Unimplemented naming the op and the output for ops without a
// layer form (vocabulary, bucketize, x * y, x / y, string columns);
// FailedPrecondition for an unanalyzed graph; InvalidArgument when a
// transformed feature's element count differs from the model input's.
Result<nn::Model> WithTransform(const TransformGraph& graph, const nn::Model& model);

// The kExamples serving specs of a model built by WithTransform: the raw
// features it reads, in its input order (for model::ExampleSignature).
Result<std::vector<data::FeatureSpec>> RawServingSpecs(const TransformGraph& graph,
                                                       const nn::Model& transformed_model);

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_TRANSFORM_MODEL_H_
