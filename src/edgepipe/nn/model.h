// Model: a graph of layers (Keras' functional API) with Compile / Fit /
// Evaluate / Predict; Sequential is a Model grown one layer at a time.
//
//   Sequential model;                       // or Sequential("mnist", seed)
//   RETURN_IF_ERROR(model.Add(InputLayer({784}, "image_floats")));
//   RETURN_IF_ERROR(model.Add(Dense(64, {.activation = "relu"})));
//   RETURN_IF_ERROR(model.Add(Dense(10)));
//   RETURN_IF_ERROR(model.Compile(RMSprop(0.0015f), SparseCategoricalCrossentropy(true),
//                                 SparseCategoricalAccuracy()));
//   ASSIGN_OR_RETURN(History h, model.Fit(x, y, {.batch_size = 40, .steps_per_epoch = 5000}));
//
// From a data::Dataset (e.g. MakeInputDataset in dataset_input.h), as
// Keras' model.fit(dataset): inputs are matched to batch features by name.
//   ASSIGN_OR_RETURN(History h, model.Fit(*train, {.label_key = "image_class",
//                                                  .steps_per_epoch = 5000}));
//
// Functional:
//   ASSIGN_OR_RETURN(SymbolicTensor a, Input({8}, "a"));
//   ASSIGN_OR_RETURN(SymbolicTensor h, Apply(Dense(8), {a}));
//   ASSIGN_OR_RETURN(SymbolicTensor s, Apply(AddLayer(), {a, h}));   // skip connection
//   ASSIGN_OR_RETURN(Model m, Model::Create({a}, {s}));
//
// Layers with empty names get unique Keras-style defaults per model
// ("dense", "dense_1", ...). Weights are initialised at Create / Add from the
// model's seed, in layer order, so equal seeds give equal models.
//
// Thread safety: a Model is used by one thread at a time.
#ifndef EDGEPIPE_NN_MODEL_H_
#define EDGEPIPE_NN_MODEL_H_

#include <concepts>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/nn/core_layers.h"
#include "edgepipe/nn/layer.h"
#include "edgepipe/nn/losses.h"
#include "edgepipe/nn/metrics.h"
#include "edgepipe/nn/optimizers.h"

namespace edgepipe::data {
class Dataset;
}  // namespace edgepipe::data

namespace edgepipe::nn {

using layers::InputLayer;
struct GraphNode;
class BatchFeed;

// A layer output during model construction (Keras' KerasTensor).
class SymbolicTensor {
 public:
  const Shape& shape() const;

 private:
  friend class Model;
  friend Result<SymbolicTensor> ApplyLayer(std::shared_ptr<Layer>, std::vector<SymbolicTensor>);
  friend Result<SymbolicTensor> Input(Shape, std::string);
  std::shared_ptr<const GraphNode> node_;
};

// A named model input; `shape` excludes the batch dim.
Result<SymbolicTensor> Input(Shape shape, std::string name = "");
// Builds `layer` on the inputs' shapes (a layer applied twice is shared).
Result<SymbolicTensor> ApplyLayer(std::shared_ptr<Layer> layer, std::vector<SymbolicTensor> inputs);
template <std::derived_from<Layer> L>
Result<SymbolicTensor> Apply(L layer, std::vector<SymbolicTensor> inputs) {
  return ApplyLayer(std::make_shared<L>(std::move(layer)), std::move(inputs));
}

// Keras' EarlyStopping callback: after each epoch, `monitor` (a History key,
// e.g. "val_loss" or "val_sparse_categorical_accuracy") improves when it
// beats the best so far by more than min_delta (lower is better, unless the
// name contains "acc" or "auc"). Training stops once `patience` epochs in a
// row (never the first epoch) brought no improvement; with
// restore_best_weights the best epoch's weights are put back.
struct EarlyStopping {
  std::string monitor = "val_loss";
  double min_delta = 0.0;
  int64_t patience = 0;
  bool restore_best_weights = false;
};

struct FitOptions {
  int64_t batch_size = 32;
  int64_t epochs = 1;
  // 0: each epoch is one pass over the data (the last batch may be short).
  // > 0: each epoch is this many full batches drawn from an endless stream
  // that reshuffles at every pass (a repeated dataset, as TFX trains).
  int64_t steps_per_epoch = 0;
  bool shuffle = true;
  uint64_t seed = 0;  // shuffling and dropout masks
  // Evaluated after every epoch when both are set (not owned).
  const Array* validation_x = nullptr;
  const Array* validation_y = nullptr;
  // Progress display on stderr (core/progress.h), one per epoch: a redrawn
  // bar with steps/s, ETA, loss and metrics on a terminal; periodic lines in
  // a log. Off by default (library use); the Trainer turns it on.
  bool verbose = false;
  std::optional<EarlyStopping> early_stopping = std::nullopt;
};

// Fit over a data::Dataset. The dataset's own stages decide batch size,
// shuffling and repetition (see data/dataset.h and dataset_input.h).
struct DatasetFitOptions {
  // The batch feature holding the labels (required), e.g. "image_class".
  std::string label_key;
  int64_t epochs = 1;
  // 0: each epoch is one pass over the dataset, which is Reset() before
  // every epoch (it must end: an endlessly repeated dataset never does).
  // > 0: each epoch is this many batches, pulled from one stream that is
  // Reset() only before the first epoch (Keras with a repeated dataset, as
  // TFX trains); a dataset that ends sooner fails with OutOfRange.
  int64_t steps_per_epoch = 0;
  uint64_t seed = 0;  // dropout masks
  // Evaluated after every epoch when set (not owned): Reset(), then
  // validation_steps batches (0: the whole pass).
  data::Dataset* validation = nullptr;
  int64_t validation_steps = 0;
  bool verbose = false;  // as FitOptions::verbose
  std::optional<EarlyStopping> early_stopping = std::nullopt;
};

// Per-epoch values: "loss", metric names, "val_loss", "val_<metric>".
struct History {
  std::map<std::string, std::vector<double>> history;
  int64_t steps = 0;
  double seconds = 0;
  int64_t stopped_epoch = -1;  // 0-based epoch where early stopping fired
};

class Model {
 public:
  // A functional model from its inputs (Input results) to its outputs.
  static Result<Model> Create(const std::vector<SymbolicTensor>& inputs,
                              const std::vector<SymbolicTensor>& outputs,
                              std::string name = "model", uint64_t seed = 0);
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;
  virtual ~Model();

  const std::string& name() const { return name_; }
  // Layers in execution order, including InputLayers.
  std::vector<Layer*> layers() const;
  Layer* GetLayer(std::string_view name) const;
  std::vector<std::string> input_names() const;
  std::vector<Shape> input_shapes() const;
  std::vector<Shape> output_shapes() const;
  std::vector<Var> trainable_weights() const;
  int64_t CountParams() const;

  // The graph as built, for serialisers (model/saved_model.h): one entry per
  // layer call in execution order; `layer` is owned by the model (a shared
  // layer appears once per call) and `inputs` index earlier entries.
  struct NodeView {
    Layer* layer;
    std::vector<int> inputs;
  };
  std::vector<NodeView> graph_nodes() const {
    std::vector<NodeView> out;
    for (const Node& n : nodes_) out.push_back({n.layer.get(), n.inputs});
    return out;
  }
  // Indices into graph_nodes() of the model's inputs and outputs, in order.
  const std::vector<int>& input_node_indices() const { return input_nodes_; }
  const std::vector<int>& output_node_indices() const { return output_nodes_; }

  // Keras-like table: layer (type), output shape, param #, totals.
  std::string Summary() const;

  // Runs the graph on one batch per input (in input order).
  Result<std::vector<Var>> Call(const std::vector<Var>& inputs, const CallContext& ctx) const;

  // Takes ownership of copies of the arguments:
  //   model.Compile(Adam(), SparseCategoricalCrossentropy(true), SparseCategoricalAccuracy());
  template <std::derived_from<Optimizer> O, std::derived_from<Loss> L,
            std::derived_from<Metric>... M>
  Status Compile(O optimizer, L loss, M... metrics) {
    std::vector<std::unique_ptr<Metric>> ms;
    (ms.push_back(std::make_unique<M>(std::move(metrics))), ...);
    return CompileOwned(std::make_unique<O>(std::move(optimizer)),
                        std::make_unique<L>(std::move(loss)), std::move(ms));
  }
  Status CompileOwned(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Loss> loss,
                      std::vector<std::unique_ptr<Metric>> metrics);
  Optimizer* optimizer() const { return optimizer_.get(); }

  // x: features [N, ...] for a single-input model; y: labels [N, ...].
  Result<History> Fit(const Array& x, const Array& y, const FitOptions& options = {});
  // Features by input name.
  Result<History> Fit(const std::map<std::string, Array>& x, const Array& y,
                      const FitOptions& options = {});
  // "loss" and every metric, over all of x (inference mode).
  Result<std::map<std::string, double>> Evaluate(const Array& x, const Array& y,
                                                 int64_t batch_size = 32);
  // Output 0 for every example, [N, ...] (inference mode).
  Result<Tensor> Predict(const Array& x, int64_t batch_size = 32) const;

  // Dataset versions (the dataset is borrowed for the call). Each model input
  // takes the batch feature of its name (converted to float32); labels are
  // the feature `label_key`. Errors name the input or label, the model's
  // inputs and the batch's features, or the input and both shapes; labels
  // out of range name the example by its position in the pass; a dataset
  // error (parse, CRC) comes back with "training data at step N" or the
  // like in front.
  Result<History> Fit(data::Dataset& train, const DatasetFitOptions& options);
  // Reset()s `dataset`, then evaluates `steps` batches (0: the whole pass;
  // OutOfRange when it ends sooner). InvalidArgument when it yields nothing.
  Result<std::map<std::string, double>> Evaluate(data::Dataset& dataset, std::string_view label_key,
                                                 int64_t steps = 0);
  // Reset()s `dataset`, then output 0 for every example of `steps` batches
  // (0: the whole pass), [N, ...]. Label features are ignored.
  Result<Tensor> Predict(data::Dataset& dataset, int64_t steps = 0) const;

 protected:
  explicit Model(std::string name, uint64_t seed);
  // Appends a built node (Sequential).
  Status AppendNode(std::shared_ptr<Layer> layer, std::vector<int> inputs, Shape shape);
  Status FinishGraph();  // unique names, weight init of new layers

  struct Node {
    std::shared_ptr<Layer> layer;
    std::vector<int> inputs;  // node indices
    Shape shape;
  };
  std::string name_;
  std::vector<Node> nodes_;
  std::vector<int> input_nodes_, output_nodes_;

 private:
  Result<History> FitImpl(const std::vector<const Array*>& xs, const Array& y,
                          const FitOptions& options);
  Result<std::map<std::string, double>> EvaluateImpl(const std::vector<const Array*>& xs,
                                                     const Array& y, int64_t batch_size);
  // What TrainLoop needs from FitOptions / DatasetFitOptions.
  struct LoopOptions {
    int64_t epochs = 1;
    int64_t steps_per_epoch = 0;  // 0: a pass per epoch, Restart() before each
    uint64_t seed = 0;            // dropout masks
    bool verbose = false;
    const std::optional<EarlyStopping>* early_stopping = nullptr;  // not owned
    BatchFeed* validation = nullptr;                               // not owned
    int64_t validation_steps = 0;
  };
  // The one training loop, over arrays or datasets alike.
  Result<History> TrainLoop(BatchFeed& train, const LoopOptions& options);
  // `steps` batches after Restart() (0: the whole pass); `what` prefixes errors.
  Result<std::map<std::string, double>> EvaluateLoop(BatchFeed& feed, int64_t steps,
                                                     std::string_view what);
  Result<Tensor> PredictLoop(BatchFeed& feed, int64_t steps) const;
  Status CheckFeatures(const std::vector<const Array*>& xs, const Array* y) const;
  // Labels of the sparse loss in [0, classes); examples are named
  // first_example + their row.
  Status CheckLabels(const Array& y, int64_t first_example = 0) const;
  Status RequireCompiled(const char* what) const;

  Rng init_rng_;
  size_t initialized_layers_ = 0;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<Loss> loss_;
  std::vector<std::unique_ptr<Metric>> metrics_;
};

// Keras' Sequential: Add() builds each layer on the previous output at once,
// so a shape mismatch fails at Add, naming the layer and both shapes. The
// first layer must be an InputLayer.
class Sequential : public Model {
 public:
  explicit Sequential(std::string name = "sequential", uint64_t seed = 0)
      : Model(std::move(name), seed) {}
  Status AddShared(std::shared_ptr<Layer> layer);
  template <std::derived_from<Layer> L>
  Status Add(L layer) {
    return AddShared(std::make_shared<L>(std::move(layer)));
  }
};

std::ostream& operator<<(std::ostream& os, const History& h);

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_MODEL_H_
