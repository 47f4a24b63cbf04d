#include "edgepipe/nn/model.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <set>
#include <sstream>
#include <unordered_map>

#include "edgepipe/core/progress.h"
#include "edgepipe/nn/batching.h"

namespace edgepipe::nn {
namespace {

// "0.3121": four decimals, as Keras prints logs.
std::string FormatMetric(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", v);
  return buf;
}

}  // namespace

struct GraphNode {
  std::shared_ptr<Layer> layer;
  std::vector<SymbolicTensor> inputs;
  Shape shape;
};

const Shape& SymbolicTensor::shape() const { return node_->shape; }

Result<SymbolicTensor> Input(Shape shape, std::string name) {
  auto layer = std::make_shared<InputLayer>(std::move(shape), std::move(name));
  layer->EnsureName();
  ASSIGN_OR_RETURN(Shape out, layer->Build({}));
  SymbolicTensor t;
  t.node_ = std::make_shared<GraphNode>(GraphNode{layer, {}, out});
  return t;
}

Result<SymbolicTensor> ApplyLayer(std::shared_ptr<Layer> layer,
                                  std::vector<SymbolicTensor> inputs) {
  layer->EnsureName();
  if (dynamic_cast<InputLayer*>(layer.get()) != nullptr) {
    return Status::InvalidArgument("InputLayer \"" + layer->name() + "\": use Input(), not Apply");
  }
  std::vector<Shape> shapes;
  for (const SymbolicTensor& in : inputs) {
    if (in.node_ == nullptr) {
      return Status::InvalidArgument(std::string(layer->type()) + " \"" + layer->name() +
                                     "\": an input is undefined");
    }
    shapes.push_back(in.shape());
  }
  ASSIGN_OR_RETURN(Shape out, layer->Build(shapes));
  SymbolicTensor t;
  t.node_ = std::make_shared<GraphNode>(GraphNode{std::move(layer), std::move(inputs), out});
  return t;
}

Model::Model(std::string name, uint64_t seed) : name_(std::move(name)), init_rng_(seed) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

Result<Model> Model::Create(const std::vector<SymbolicTensor>& inputs,
                            const std::vector<SymbolicTensor>& outputs, std::string name,
                            uint64_t seed) {
  Model m(std::move(name), seed);
  if (inputs.empty() || outputs.empty()) {
    return Status::InvalidArgument("model \"" + m.name_ + "\": needs inputs and outputs");
  }
  std::unordered_map<const GraphNode*, int> index;
  // Iterative post-order DFS from the outputs: inputs of a node come first.
  for (const SymbolicTensor& out : outputs) {
    std::vector<std::pair<const GraphNode*, size_t>> stack{{out.node_.get(), 0}};
    if (index.count(out.node_.get())) continue;
    std::set<const GraphNode*> on_stack{out.node_.get()};
    while (!stack.empty()) {
      auto& [node, next] = stack.back();
      if (next < node->inputs.size()) {
        const GraphNode* in = node->inputs[next++].node_.get();
        if (!index.count(in) && on_stack.insert(in).second) stack.emplace_back(in, 0);
      } else {
        std::vector<int> in_idx;
        for (const SymbolicTensor& t : node->inputs) in_idx.push_back(index.at(t.node_.get()));
        index[node] = static_cast<int>(m.nodes_.size());
        m.nodes_.push_back({node->layer, std::move(in_idx), node->shape});
        stack.pop_back();
      }
    }
  }
  for (const SymbolicTensor& in : inputs) {
    auto it = index.find(in.node_.get());
    if (dynamic_cast<InputLayer*>(in.node_->layer.get()) == nullptr) {
      return Status::InvalidArgument("model \"" + m.name_ + "\": input \"" +
                                     in.node_->layer->name() + "\" is not an Input");
    }
    if (it == index.end()) {
      return Status::InvalidArgument("model \"" + m.name_ + "\": input \"" +
                                     in.node_->layer->name() + "\" is not used by any output");
    }
    m.input_nodes_.push_back(it->second);
  }
  for (size_t i = 0; i < m.nodes_.size(); ++i) {
    if (m.nodes_[i].inputs.empty() && std::find(m.input_nodes_.begin(), m.input_nodes_.end(),
                                                static_cast<int>(i)) == m.input_nodes_.end()) {
      return Status::InvalidArgument("model \"" + m.name_ + "\": output depends on input \"" +
                                     m.nodes_[i].layer->name() +
                                     "\", which is not among the model's inputs");
    }
  }
  for (const SymbolicTensor& out : outputs) m.output_nodes_.push_back(index.at(out.node_.get()));
  RETURN_IF_ERROR(m.FinishGraph());
  return m;
}

Status Model::AppendNode(std::shared_ptr<Layer> layer, std::vector<int> inputs, Shape shape) {
  nodes_.push_back({std::move(layer), std::move(inputs), std::move(shape)});
  return FinishGraph();
}

Status Model::FinishGraph() {
  std::set<std::string> used;
  std::set<const Layer*> seen;
  for (Node& n : nodes_) {
    if (!seen.insert(n.layer.get()).second || n.layer->auto_named()) continue;
    if (!used.insert(n.layer->name()).second) {
      return Status::InvalidArgument("model \"" + name_ + "\": duplicate layer name \"" +
                                     n.layer->name() + "\"");
    }
  }
  seen.clear();
  for (Node& n : nodes_) {
    if (!seen.insert(n.layer.get()).second || !n.layer->auto_named()) continue;
    const std::string base(n.layer->default_name());
    std::string candidate = base;
    for (int k = 1; used.count(candidate); ++k) candidate = base + "_" + std::to_string(k);
    used.insert(candidate);
    n.layer->set_name(candidate);
  }
  // Initialise weights of layers not yet initialised, in order.
  seen.clear();
  size_t count = 0;
  for (Node& n : nodes_) {
    if (!seen.insert(n.layer.get()).second) continue;
    if (count++ >= initialized_layers_) n.layer->InitializeWeights(init_rng_);
  }
  initialized_layers_ = count;
  return Status::Ok();
}

std::vector<Layer*> Model::layers() const {
  std::vector<Layer*> out;
  std::set<const Layer*> seen;
  for (const Node& n : nodes_) {
    if (seen.insert(n.layer.get()).second) out.push_back(n.layer.get());
  }
  return out;
}

Layer* Model::GetLayer(std::string_view name) const {
  for (Layer* l : layers()) {
    if (l->name() == name) return l;
  }
  return nullptr;
}

std::vector<std::string> Model::input_names() const {
  std::vector<std::string> out;
  for (int i : input_nodes_) out.push_back(nodes_[static_cast<size_t>(i)].layer->name());
  return out;
}

std::vector<Shape> Model::input_shapes() const {
  std::vector<Shape> out;
  for (int i : input_nodes_) out.push_back(nodes_[static_cast<size_t>(i)].shape);
  return out;
}

std::vector<Shape> Model::output_shapes() const {
  std::vector<Shape> out;
  for (int i : output_nodes_) out.push_back(nodes_[static_cast<size_t>(i)].shape);
  return out;
}

std::vector<Var> Model::trainable_weights() const {
  std::vector<Var> out;
  for (Layer* l : layers()) {
    for (const Weight& w : l->weights()) {
      if (w.trainable) out.push_back(w.var);
    }
  }
  return out;
}

int64_t Model::CountParams() const {
  int64_t n = 0;
  for (Layer* l : layers()) n += l->CountParams();
  return n;
}

std::string Model::Summary() const {
  // Sequential chains print like keras.Sequential; other graphs add the
  // InputLayers and a "Connected to" column, like functional models.
  bool chain = input_nodes_.size() == 1 && output_nodes_.size() == 1;
  for (size_t i = 0; chain && i < nodes_.size(); ++i) {
    const auto& in = nodes_[i].inputs;
    chain = i == 0 ? in.empty() : (in.size() == 1 && in[0] == static_cast<int>(i) - 1);
  }
  const std::vector<size_t> pos =
      chain ? std::vector<size_t>{29, 55, 65} : std::vector<size_t>{32, 53, 65, 98};
  const size_t width = pos.back();
  std::ostringstream os;
  auto row = [&](const std::vector<std::string>& fields) {
    std::string line;
    for (size_t i = 0; i < fields.size(); ++i) {
      line += " " + fields[i];
      if (line.size() < pos[i])
        line.append(pos[i] - line.size(), ' ');
      else
        line += " ";
    }
    os << line << "\n";
  };
  os << "Model: \"" << name_ << "\"\n" << std::string(width, '_') << "\n";
  if (chain)
    row({"Layer (type)", "Output Shape", "Param #"});
  else
    row({"Layer (type)", "Output Shape", "Param #", "Connected to"});
  os << std::string(width, '=') << "\n";
  std::set<const Layer*> seen;
  bool first = true;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (chain && i == 0) continue;  // Sequential hides its InputLayer
    if (!first) os << std::string(width, chain ? ' ' : '_') << "\n";
    first = false;
    const bool new_layer = seen.insert(n.layer.get()).second;
    std::string label = n.layer->name() + " (" + std::string(n.layer->type()) + ")";
    std::string params = std::to_string(new_layer ? n.layer->CountParams() : 0);
    std::string shape = KerasShapeString(n.shape);
    if (chain) {
      row({label, shape, params});
    } else {
      std::string connected;
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        if (k) connected += ", ";
        connected += "['" + nodes_[static_cast<size_t>(n.inputs[k])].layer->name() + "']";
      }
      if (n.inputs.empty()) shape = "[" + shape + "]";
      row({label, shape, params, connected});
    }
  }
  int64_t total = 0, trainable = 0;
  for (Layer* l : layers()) {
    for (const Weight& w : l->weights()) {
      total += w.var.value().size();
      if (w.trainable) trainable += w.var.value().size();
    }
  }
  auto bytes = [](int64_t params) {
    char buf[64];
    const double b = static_cast<double>(params) * 4.0;
    if (b < 1024)
      std::snprintf(buf, sizeof buf, "%.2f Byte", b);
    else if (b < 1024.0 * 1024)
      std::snprintf(buf, sizeof buf, "%.2f KB", b / 1024);
    else
      std::snprintf(buf, sizeof buf, "%.2f MB", b / (1024.0 * 1024));
    return std::string(buf);
  };
  os << std::string(width, '=') << "\n";
  os << "Total params: " << total << " (" << bytes(total) << ")\n";
  os << "Trainable params: " << trainable << " (" << bytes(trainable) << ")\n";
  os << "Non-trainable params: " << total - trainable << " (" << bytes(total - trainable) << ")\n";
  os << std::string(width, '_') << "\n";
  return os.str();
}

Result<std::vector<Var>> Model::Call(const std::vector<Var>& inputs, const CallContext& ctx) const {
  if (inputs.size() != input_nodes_.size()) {
    return Status::InvalidArgument("model \"" + name_ + "\": expects " +
                                   std::to_string(input_nodes_.size()) + " inputs, got " +
                                   std::to_string(inputs.size()));
  }
  std::vector<Var> values(nodes_.size());
  for (size_t k = 0; k < input_nodes_.size(); ++k) {
    const Node& n = nodes_[static_cast<size_t>(input_nodes_[k])];
    const Shape& got = inputs[k].shape();
    bool ok = got.size() == n.shape.size();
    for (size_t d = 1; ok && d < got.size(); ++d) ok = got[d] == n.shape[d];
    if (!ok) {
      return Status::InvalidArgument("model \"" + name_ + "\": input \"" + n.layer->name() +
                                     "\" expects shape " + KerasShapeString(n.shape) + ", got " +
                                     ShapeToString(got));
    }
    values[static_cast<size_t>(input_nodes_[k])] = inputs[k];
  }
  std::vector<Var> args;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.inputs.empty()) continue;
    args.clear();
    for (int in : n.inputs) args.push_back(values[static_cast<size_t>(in)]);
    ASSIGN_OR_RETURN(values[i], n.layer->Call(args, ctx));
  }
  std::vector<Var> out;
  for (int o : output_nodes_) out.push_back(values[static_cast<size_t>(o)]);
  return out;
}

Status Model::CompileOwned(std::unique_ptr<Optimizer> optimizer, std::unique_ptr<Loss> loss,
                           std::vector<std::unique_ptr<Metric>> metrics) {
  if (optimizer == nullptr || loss == nullptr) {
    return Status::InvalidArgument("model \"" + name_ +
                                   "\": Compile needs an optimizer and a loss");
  }
  if (output_nodes_.size() != 1) {
    return Status::Unimplemented("model \"" + name_ +
                                 "\": training needs exactly one output, has " +
                                 std::to_string(output_nodes_.size()));
  }
  optimizer_ = std::move(optimizer);
  loss_ = std::move(loss);
  metrics_ = std::move(metrics);
  return Status::Ok();
}

Status Model::RequireCompiled(const char* what) const {
  if (loss_ == nullptr) {
    return Status::FailedPrecondition("model \"" + name_ + "\": " + what + " before Compile");
  }
  return Status::Ok();
}

Status Model::CheckFeatures(const std::vector<const Array*>& xs, const Array* y) const {
  if (xs.size() != input_nodes_.size()) {
    return Status::InvalidArgument("model \"" + name_ + "\": expects " +
                                   std::to_string(input_nodes_.size()) + " inputs, got " +
                                   std::to_string(xs.size()));
  }
  for (size_t k = 0; k < xs.size(); ++k) {
    const Node& n = nodes_[static_cast<size_t>(input_nodes_[k])];
    const Shape& got = xs[k]->shape();
    bool ok = got.size() == n.shape.size() && xs[k]->dtype() != DType::kBool;
    for (size_t d = 1; ok && d < got.size(); ++d) ok = got[d] == n.shape[d];
    if (!ok) {
      return Status::InvalidArgument("model \"" + name_ + "\": input \"" + n.layer->name() +
                                     "\" expects shape " + KerasShapeString(n.shape) + ", got " +
                                     std::string(DTypeName(xs[k]->dtype())) + " " +
                                     ShapeToString(got));
    }
    if (got[0] != xs[0]->dim(0)) {
      return Status::InvalidArgument("model \"" + name_ +
                                     "\": inputs have different example "
                                     "counts (" +
                                     std::to_string(xs[0]->dim(0)) + " and " +
                                     std::to_string(got[0]) + ")");
    }
  }
  if (y != nullptr && (y->rank() == 0 || y->dim(0) != xs[0]->dim(0))) {
    return Status::InvalidArgument("model \"" + name_ + "\": labels of shape " +
                                   ShapeToString(y->shape()) + " do not match " +
                                   std::to_string(xs[0]->dim(0)) + " examples");
  }
  return Status::Ok();
}

Status Model::CheckLabels(const Array& y, int64_t first_example) const {
  if (loss_->type() != "SparseCategoricalCrossentropy") return Status::Ok();
  const int64_t classes = nodes_[static_cast<size_t>(output_nodes_[0])].shape.back();
  ASSIGN_OR_RETURN(Tensor labels, Tensor::FromArray(y));
  for (int64_t i = 0; i < labels.size(); ++i) {
    const float v = labels.data()[i];
    if (!(v >= 0 && v < static_cast<float>(classes)) ||
        v != static_cast<float>(static_cast<int64_t>(v))) {
      return Status::InvalidArgument(
          "model \"" + name_ + "\": label " + std::to_string(v) + " of example " +
          std::to_string(first_example + i) + " is out of range [0, " + std::to_string(classes) +
          ") for the output " +
          KerasShapeString(nodes_[static_cast<size_t>(output_nodes_[0])].shape));
    }
  }
  return Status::Ok();
}

Result<History> Model::Fit(const Array& x, const Array& y, const FitOptions& options) {
  return FitImpl({&x}, y, options);
}

Result<History> Model::Fit(const std::map<std::string, Array>& x, const Array& y,
                           const FitOptions& options) {
  std::vector<const Array*> xs;
  for (const std::string& name : input_names()) {
    auto it = x.find(name);
    if (it == x.end()) {
      return Status::InvalidArgument("model \"" + name_ + "\": no features for input \"" + name +
                                     "\"");
    }
    xs.push_back(&it->second);
  }
  return FitImpl(xs, y, options);
}

Result<History> Model::FitImpl(const std::vector<const Array*>& xs, const Array& y,
                               const FitOptions& options) {
  RETURN_IF_ERROR(RequireCompiled("Fit"));
  RETURN_IF_ERROR(CheckFeatures(xs, &y));
  RETURN_IF_ERROR(CheckLabels(y));
  if (options.batch_size <= 0) return Status::InvalidArgument("Fit: batch_size must be positive");
  const bool validate = options.validation_x != nullptr && options.validation_y != nullptr;
  if (validate) {
    RETURN_IF_ERROR(
        CheckFeatures({options.validation_x}, options.validation_y).WithContext("validation data"));
    RETURN_IF_ERROR(CheckLabels(*options.validation_y).WithContext("validation data"));
  }
  if (xs[0]->dim(0) == 0) return Status::InvalidArgument("Fit: no examples");
  ArrayFeed train(xs, &y, options.batch_size, options.shuffle, options.seed,
                  /*endless=*/options.steps_per_epoch > 0);
  std::optional<ArrayFeed> validation;
  if (validate && options.validation_x->dim(0) > 0) {
    validation.emplace(std::vector<const Array*>{options.validation_x}, options.validation_y,
                       options.batch_size, /*shuffle=*/false, 0, /*endless=*/false);
  }
  return TrainLoop(train, {.epochs = options.epochs,
                           .steps_per_epoch = options.steps_per_epoch,
                           .seed = options.seed,
                           .verbose = options.verbose,
                           .early_stopping = &options.early_stopping,
                           .validation = validation ? &*validation : nullptr});
}

Result<History> Model::TrainLoop(BatchFeed& train, const LoopOptions& options) {
  if (options.epochs <= 0 || options.steps_per_epoch < 0) {
    return Status::InvalidArgument("Fit: epochs " + std::to_string(options.epochs) +
                                   " must be positive, steps_per_epoch " +
                                   std::to_string(options.steps_per_epoch) + " >= 0");
  }
  const bool by_steps = options.steps_per_epoch > 0;
  Rng dropout_rng(options.seed ^ 0x5DEECE66Dull);
  CallContext ctx{.training = true, .rng = &dropout_rng};
  std::vector<Var> params = trainable_weights();
  History history;
  const auto start = std::chrono::steady_clock::now();
  Mean loss_mean("loss");
  std::vector<Var> inputs;
  FeedBatch batch;
  int64_t pulled = 0;  // batches since the last Restart()
  // Early stopping state.
  const EarlyStopping* es = options.early_stopping != nullptr && options.early_stopping->has_value()
                                ? &**options.early_stopping
                                : nullptr;
  bool maximize = false;
  if (es != nullptr) {
    maximize = es->monitor.find("acc") != std::string::npos ||
               es->monitor.find("auc") != std::string::npos;
  }
  double best = maximize ? -INFINITY : INFINITY;
  int64_t wait = 0;
  std::vector<Tensor> best_weights;
  for (int64_t epoch = 0; epoch < options.epochs; ++epoch) {
    loss_mean.Reset();
    for (auto& m : metrics_) m->Reset();
    if (!by_steps || epoch == 0) {
      RETURN_IF_ERROR(train.Restart().WithContext("Fit: training data"));
      pulled = 0;
    }
    const int64_t total = by_steps ? options.steps_per_epoch : train.BatchesPerPass();
    std::unique_ptr<Progress> bar;
    if (options.verbose) {
      ProgressOptions po;
      po.units = "steps";
      bar = std::make_unique<Progress>(
          "Epoch " + std::to_string(epoch + 1) + "/" + std::to_string(options.epochs), total, po);
    }
    auto logs = [&] {
      std::string text = "loss " + FormatMetric(loss_mean.Result());
      for (auto& m : metrics_) text += " " + m->name() + " " + FormatMetric(m->Result());
      return text;
    };
    int64_t s = 0;
    for (; !by_steps || s < options.steps_per_epoch; ++s) {
      const int64_t global_step = history.steps + 1;
      const std::string where = "Fit: training data at step " + std::to_string(global_step);
      Result<bool> got = train.Next(&batch);
      if (!got.ok()) return got.status().WithContext(where);
      if (!*got) {
        if (!by_steps) break;
        return Status::OutOfRange(
            where + " (epoch " + std::to_string(epoch + 1) + "): the data ended after " +
            std::to_string(pulled) + " batches, but " + std::to_string(options.epochs) +
            " epochs of " + std::to_string(options.steps_per_epoch) +
            " steps need more; repeat the dataset (repeat -1) or lower steps_per_epoch");
      }
      ++pulled;
      if (batch.first_example >= 0) {
        RETURN_IF_ERROR(CheckLabels(batch.labels, batch.first_example).WithContext(where));
      }
      inputs.resize(batch.inputs.size());
      for (size_t k = 0; k < inputs.size(); ++k) {
        inputs[k] = Var::Constant(std::move(batch.inputs[k]));
      }
      ASSIGN_OR_RETURN(std::vector<Var> out, Call(inputs, ctx));
      ASSIGN_OR_RETURN(Var loss, loss_->Compute(out[0], batch.labels));
      const float lv = loss.value().data()[0];
      if (!std::isfinite(lv)) {
        return Status::FailedPrecondition(
            "Fit: loss is " + std::string(std::isnan(lv) ? "NaN" : "Inf") + " at step " +
            std::to_string(global_step) + " (epoch " + std::to_string(epoch + 1) +
            "); lower the learning rate "
            "or check the inputs");
      }
      RETURN_IF_ERROR(Backward(loss));
      optimizer_->Apply(params);
      history.steps = global_step;
      loss_mean.Accumulate(lv, static_cast<double>(batch.size));
      {
        NoGradGuard no_grad;
        for (auto& m : metrics_) RETURN_IF_ERROR(m->Update(out[0].value(), batch.labels));
      }
      if (bar) {
        // Formatting the postfix costs more than a step of a small model.
        if (global_step % 25 == 0 || s + 1 == total) bar->SetPostfix(logs());
        bar->Add(1);
      }
    }
    if (s == 0) {
      return Status::InvalidArgument("Fit: the training data yielded no batches in epoch " +
                                     std::to_string(epoch + 1));
    }
    if (bar) bar->SetPostfix(logs());
    history.history["loss"].push_back(loss_mean.Result());
    for (auto& m : metrics_) history.history[m->name()].push_back(m->Result());
    if (options.validation != nullptr) {
      ASSIGN_OR_RETURN(auto val, EvaluateLoop(*options.validation, options.validation_steps,
                                              "Fit: validation data"));
      for (auto& [k, v] : val) history.history["val_" + k].push_back(v);
    }
    if (es != nullptr) {
      auto it = history.history.find(es->monitor);
      if (it == history.history.end()) {
        return Status::InvalidArgument("Fit: early stopping monitors \"" + es->monitor +
                                       "\", which is not in the history (validation data?)");
      }
      const double current = it->second.back();
      const double delta = std::abs(es->min_delta);
      ++wait;
      if (maximize ? current - delta > best : current + delta < best) {
        best = current;
        wait = 0;
        if (es->restore_best_weights) {
          best_weights.clear();
          for (Layer* l : layers()) {
            for (const Weight& w : l->weights()) best_weights.push_back(w.var.value().Clone());
          }
        }
      } else if (wait >= es->patience && epoch > 0) {
        history.stopped_epoch = epoch;
        if (!best_weights.empty()) {
          size_t k = 0;
          for (Layer* l : layers()) {
            for (Weight& w : l->weights()) w.var.mutable_value().CopyFrom(best_weights[k++]);
          }
        }
        break;
      }
    }
  }
  history.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return history;
}

Result<std::map<std::string, double>> Model::Evaluate(const Array& x, const Array& y,
                                                      int64_t batch_size) {
  return EvaluateImpl({&x}, y, batch_size);
}

Result<std::map<std::string, double>> Model::EvaluateImpl(const std::vector<const Array*>& xs,
                                                          const Array& y, int64_t batch_size) {
  RETURN_IF_ERROR(RequireCompiled("Evaluate"));
  RETURN_IF_ERROR(CheckFeatures(xs, &y));
  RETURN_IF_ERROR(CheckLabels(y));
  if (batch_size <= 0) return Status::InvalidArgument("Evaluate: batch_size must be positive");
  ArrayFeed feed(xs, &y, batch_size, /*shuffle=*/false, 0, /*endless=*/false);
  return EvaluateLoop(feed, 0, "Evaluate");
}

Result<std::map<std::string, double>> Model::EvaluateLoop(BatchFeed& feed, int64_t steps,
                                                          std::string_view what) {
  RETURN_IF_ERROR(RequireCompiled("Evaluate"));
  NoGradGuard no_grad;
  Mean loss_mean("loss");
  for (auto& m : metrics_) m->Reset();
  RETURN_IF_ERROR(feed.Restart().WithContext(what));
  std::vector<Var> inputs;
  FeedBatch batch;
  int64_t batches = 0;
  while (steps == 0 || batches < steps) {
    const std::string where = std::string(what) + " at batch " + std::to_string(batches + 1);
    Result<bool> got = feed.Next(&batch);
    if (!got.ok()) return got.status().WithContext(where);
    if (!*got) {
      if (steps == 0) break;
      return Status::OutOfRange(where + ": the data ended after " + std::to_string(batches) +
                                " batches, " + std::to_string(steps) + " steps were asked for");
    }
    ++batches;
    if (batch.first_example >= 0) {
      RETURN_IF_ERROR(CheckLabels(batch.labels, batch.first_example).WithContext(where));
    }
    inputs.resize(batch.inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k)
      inputs[k] = Var::Constant(std::move(batch.inputs[k]));
    ASSIGN_OR_RETURN(std::vector<Var> out, Call(inputs, CallContext{}));
    ASSIGN_OR_RETURN(Var loss, loss_->Compute(out[0], batch.labels));
    loss_mean.Accumulate(loss.value().data()[0], static_cast<double>(batch.size));
    for (auto& m : metrics_) RETURN_IF_ERROR(m->Update(out[0].value(), batch.labels));
  }
  if (batches == 0) return Status::InvalidArgument(std::string(what) + ": no examples");
  std::map<std::string, double> result{{"loss", loss_mean.Result()}};
  for (auto& m : metrics_) result[m->name()] = m->Result();
  return result;
}

Result<Tensor> Model::Predict(const Array& x, int64_t batch_size) const {
  RETURN_IF_ERROR(CheckFeatures({&x}, nullptr));
  if (batch_size <= 0) return Status::InvalidArgument("Predict: batch_size must be positive");
  if (x.dim(0) == 0) {
    Shape out_shape = nodes_[static_cast<size_t>(output_nodes_[0])].shape;
    out_shape[0] = 0;
    return Tensor::Empty(out_shape);
  }
  ArrayFeed feed({&x}, nullptr, batch_size, /*shuffle=*/false, 0, /*endless=*/false);
  return PredictLoop(feed, 0);
}

Result<Tensor> Model::PredictLoop(BatchFeed& feed, int64_t steps) const {
  NoGradGuard no_grad;
  RETURN_IF_ERROR(feed.Restart().WithContext("Predict"));
  std::vector<Tensor> outputs;
  std::vector<Var> inputs;
  FeedBatch batch;
  int64_t n = 0;
  while (steps == 0 || static_cast<int64_t>(outputs.size()) < steps) {
    const std::string where = "Predict at batch " + std::to_string(outputs.size() + 1);
    Result<bool> got = feed.Next(&batch);
    if (!got.ok()) return got.status().WithContext(where);
    if (!*got) {
      if (steps == 0) break;
      return Status::OutOfRange(where + ": the data ended after " + std::to_string(outputs.size()) +
                                " batches, " + std::to_string(steps) + " steps were asked for");
    }
    inputs.resize(batch.inputs.size());
    for (size_t k = 0; k < inputs.size(); ++k)
      inputs[k] = Var::Constant(std::move(batch.inputs[k]));
    ASSIGN_OR_RETURN(std::vector<Var> out, Call(inputs, CallContext{}));
    outputs.push_back(out[0].value());
    n += batch.size;
  }
  // Concatenate along the batch dim.
  Shape out_shape = nodes_[static_cast<size_t>(output_nodes_[0])].shape;
  out_shape[0] = n;
  Tensor result = Tensor::Empty(out_shape);
  int64_t done = 0;
  for (const Tensor& t : outputs) {
    std::memcpy(result.data() + done, t.data(), static_cast<size_t>(t.size()) * sizeof(float));
    done += t.size();
  }
  return result;
}

Status Sequential::AddShared(std::shared_ptr<Layer> layer) {
  layer->EnsureName();
  if (layer->auto_named()) {
    // Name it uniquely now, so build errors show its final name.
    const std::string base(layer->default_name());
    std::string candidate = base;
    for (int k = 1; GetLayer(candidate) != nullptr; ++k) candidate = base + "_" + std::to_string(k);
    layer->set_name(candidate);
  } else if (GetLayer(layer->name()) != nullptr) {
    return Status::InvalidArgument("model \"" + name_ + "\": duplicate layer name \"" +
                                   layer->name() + "\"");
  }
  const bool is_input = dynamic_cast<InputLayer*>(layer.get()) != nullptr;
  if (nodes_.empty()) {
    if (!is_input) {
      return Status::InvalidArgument("model \"" + name_ +
                                     "\": the first layer must be an "
                                     "InputLayer, got " +
                                     std::string(layer->type()) + " \"" + layer->name() + "\"");
    }
    ASSIGN_OR_RETURN(Shape out, layer->Build({}));
    input_nodes_ = {0};
    output_nodes_ = {0};
    return AppendNode(std::move(layer), {}, out);
  }
  if (is_input) {
    return Status::InvalidArgument("model \"" + name_ + "\": InputLayer \"" + layer->name() +
                                   "\" after the first layer");
  }
  const int prev = static_cast<int>(nodes_.size()) - 1;
  ASSIGN_OR_RETURN(Shape out, layer->Build({nodes_.back().shape}));
  output_nodes_ = {prev + 1};
  return AppendNode(std::move(layer), {prev}, out);
}

std::ostream& operator<<(std::ostream& os, const History& h) {
  for (const auto& [k, v] : h.history) {
    os << k << ":";
    for (double x : v) os << " " << x;
    os << "\n";
  }
  return os;
}

}  // namespace edgepipe::nn
