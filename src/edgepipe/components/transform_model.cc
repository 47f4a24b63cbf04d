// The Transform graph in training input and in serving models.
#include "edgepipe/components/transform_model.h"

#include <algorithm>
#include <map>
#include <utility>

#include "edgepipe/model/layer_factory.h"
#include "edgepipe/nn/core_layers.h"

namespace edgepipe::components {

Result<std::unique_ptr<data::Dataset>> MakeTransformedInputDataset(
    const std::vector<std::string>& file_patterns, const TransformGraph& graph,
    std::string_view label_key, const nn::InputDatasetOptions& options) {
  if (!graph.analyzed()) {
    return Status::InvalidArgument("transformed input: the transform graph is not analyzed");
  }
  const auto& outs = graph.outputs();
  if (std::none_of(outs.begin(), outs.end(),
                   [&](const TransformOutput& o) { return o.name == label_key; })) {
    std::string names;
    for (const auto& o : outs) names += (names.empty() ? "" : ", ") + o.name;
    return Status::InvalidArgument("transformed input: label \"" + std::string(label_key) +
                                   "\" is not an output of the transform graph (outputs: " + names +
                                   "); pass it through in the preprocessing_fn");
  }
  std::vector<data::FeatureSpec> raw = graph.UsedRawFeatureSpecs();
  if (raw.empty()) {
    return Status::InvalidArgument("transformed input: the transform graph reads no raw feature");
  }
  // MakeInputDataset wants its label among the specs; any raw feature will do,
  // since the label that Fit sees is the transformed batch's.
  const std::string raw_label = raw.front().name;
  ASSIGN_OR_RETURN(std::unique_ptr<data::Dataset> input,
                   nn::MakeInputDataset(file_patterns, std::move(raw), raw_label, options));
  auto shared = std::make_shared<const TransformGraph>(graph);
  return data::MapBatches(std::move(input), [shared](data::Batch* batch) -> Status {
    ASSIGN_OR_RETURN(data::Batch out, shared->Apply(*batch));
    *batch = std::move(out);
    return Status::Ok();
  });
}

namespace {

using nn::SymbolicTensor;

// Builds the layers computing graph nodes from raw Input tensors.
class LayerBuilder {
 public:
  explicit LayerBuilder(const TransformGraph& g) : g_(g) {}

  Result<SymbolicTensor> Build(int index, const std::string& output) {
    if (auto it = built_.find(index); it != built_.end()) return it->second;
    const TransformNode& n = g_.nodes()[static_cast<size_t>(index)];
    const std::string op(TransformOpName(n.op));
    auto unimplemented = [&](const std::string& why) {
      return Status::Unimplemented("transform output \"" + output + "\": op " + op + " (node " +
                                   std::to_string(index) + ") " + why +
                                   "; it cannot be embedded into a model or TFLite");
    };
    // Checked before the inputs, so the error names the op the user wrote.
    if (n.op == TransformOp::kMul || n.op == TransformOp::kDiv) {
      return unimplemented("multiplies or divides two columns (no layer does)");
    }
    if (n.op == TransformOp::kVocabulary) return unimplemented("looks up strings in a vocabulary");
    if (n.op == TransformOp::kBucketize) {
      return unimplemented("is a step function (no layer does it exactly)");
    }
    if (n.type == data::FeatureType::kString) return unimplemented("yields strings");
    std::vector<SymbolicTensor> in;
    for (int i : n.inputs) {
      ASSIGN_OR_RETURN(SymbolicTensor t, Build(i, output));
      in.push_back(std::move(t));
    }
    SymbolicTensor out;
    switch (n.op) {
      case TransformOp::kInput: {
        nn::Shape shape = n.shape.empty() ? nn::Shape{1} : nn::Shape(n.shape);
        ASSIGN_OR_RETURN(out, nn::Input(shape, n.feature));
        inputs_.push_back(out);
        input_names_.push_back(n.feature);
        break;
      }
      case TransformOp::kAffine: {
        ASSIGN_OR_RETURN(out,
                         Rescale(in[0], static_cast<float>(n.scale), static_cast<float>(n.offset)));
        break;
      }
      case TransformOp::kScaleByMinMax:
      case TransformOp::kScaleToZScore: {
        if (!n.analyzed) {
          return Status::FailedPrecondition("transform output \"" + output + "\": " + op +
                                            " is not analyzed");
        }
        ASSIGN_OR_RETURN(out, Rescale(in[0], n.applied_scale, n.applied_offset));
        break;
      }
      case TransformOp::kAdd: {
        ASSIGN_OR_RETURN(out, nn::Apply(nn::layers::AddLayer(), {in[0], in[1]}));
        break;
      }
      case TransformOp::kSub: {
        ASSIGN_OR_RETURN(SymbolicTensor neg, Rescale(in[1], -1.0f, 0.0f));
        ASSIGN_OR_RETURN(out, nn::Apply(nn::layers::AddLayer(), {in[0], neg}));
        break;
      }
      case TransformOp::kClip: {
        ASSIGN_OR_RETURN(out, Clip(in[0], n.lo, n.hi));
        break;
      }
      case TransformOp::kMul:
      case TransformOp::kDiv:
      case TransformOp::kVocabulary:
      case TransformOp::kBucketize:
        return Status::Internal("unreachable");
    }
    built_.emplace(index, out);
    return out;
  }

  const std::vector<SymbolicTensor>& inputs() const { return inputs_; }
  const std::vector<std::string>& input_names() const { return input_names_; }

 private:
  static Result<SymbolicTensor> Rescale(const SymbolicTensor& x, float scale, float offset) {
    return nn::Apply(nn::layers::Rescaling(scale, offset), {x});
  }

  // clip(x, lo, hi) = relu6(x * s - lo * s) / s + lo with s = 6 / (hi - lo);
  // max(x, lo) = relu(x - lo) + lo; min(x, hi) = hi - relu(hi - x).
  static Result<SymbolicTensor> Clip(const SymbolicTensor& x, std::optional<double> lo,
                                     std::optional<double> hi) {
    if (lo && hi) {
      if (*hi == *lo) return Rescale(x, 0.0f, static_cast<float>(*lo));
      const double s = 6.0 / (*hi - *lo);
      ASSIGN_OR_RETURN(SymbolicTensor a,
                       Rescale(x, static_cast<float>(s), static_cast<float>(-*lo * s)));
      ASSIGN_OR_RETURN(SymbolicTensor r, nn::Apply(nn::layers::ReLU6(), {a}));
      return Rescale(r, static_cast<float>(1.0 / s), static_cast<float>(*lo));
    }
    if (lo) {
      ASSIGN_OR_RETURN(SymbolicTensor a, Rescale(x, 1.0f, static_cast<float>(-*lo)));
      ASSIGN_OR_RETURN(SymbolicTensor r, nn::Apply(nn::layers::ReLU(), {a}));
      return Rescale(r, 1.0f, static_cast<float>(*lo));
    }
    if (hi) {
      ASSIGN_OR_RETURN(SymbolicTensor a, Rescale(x, -1.0f, static_cast<float>(*hi)));
      ASSIGN_OR_RETURN(SymbolicTensor r, nn::Apply(nn::layers::ReLU(), {a}));
      return Rescale(r, -1.0f, static_cast<float>(*hi));
    }
    return x;
  }

  const TransformGraph& g_;
  std::map<int, SymbolicTensor> built_;
  std::vector<SymbolicTensor> inputs_;
  std::vector<std::string> input_names_;
};

int64_t Elements(const nn::Shape& s) {
  int64_t n = 1;
  for (int64_t d : s) n *= d;
  return n;
}

// Drops the leading batch dim of a model-side shape.
nn::Shape WithoutBatch(const nn::Shape& s) {
  return s.empty() ? s : nn::Shape(s.begin() + 1, s.end());
}

}  // namespace

Result<nn::Model> WithTransform(const TransformGraph& graph, const nn::Model& model) {
  if (!graph.analyzed()) {
    return Status::FailedPrecondition("WithTransform: the transform graph is not analyzed");
  }
  LayerBuilder builder(graph);
  const std::vector<nn::Model::NodeView> nodes = model.graph_nodes();
  std::vector<SymbolicTensor> value(nodes.size());
  std::vector<SymbolicTensor> plain_inputs;  // model inputs that are not transformed
  std::map<const nn::Layer*, std::shared_ptr<nn::Layer>> copies;
  const std::vector<int>& input_nodes = model.input_node_indices();
  for (size_t i = 0; i < nodes.size(); ++i) {
    nn::Layer* layer = nodes[i].layer;
    const bool is_input =
        std::find(input_nodes.begin(), input_nodes.end(), static_cast<int>(i)) != input_nodes.end();
    if (is_input) {
      const std::string& name = layer->name();
      const nn::Shape want = WithoutBatch(layer->output_shape());
      const auto& outs = graph.outputs();
      auto it = std::find_if(outs.begin(), outs.end(),
                             [&](const TransformOutput& o) { return o.name == name; });
      if (it == outs.end()) {
        ASSIGN_OR_RETURN(value[i], nn::Input(want, name));
        plain_inputs.push_back(value[i]);
        continue;
      }
      ASSIGN_OR_RETURN(SymbolicTensor t, builder.Build(it->node, name));
      const nn::Shape got = WithoutBatch(t.shape());
      if (got != want) {
        if (Elements(got) != Elements(want)) {
          return Status::InvalidArgument(
              "WithTransform: transform output \"" + name + "\" has " +
              std::to_string(Elements(got)) + " values per example, model input \"" + name + "\" " +
              ShapeToString(want) + " needs " + std::to_string(Elements(want)));
        }
        ASSIGN_OR_RETURN(t, nn::Apply(nn::layers::Reshape(want), {t}));
      }
      value[i] = t;
      continue;
    }
    std::shared_ptr<nn::Layer>& copy = copies[layer];
    if (copy == nullptr) {
      ASSIGN_OR_RETURN(copy, model::CreateLayer(layer->type(), layer->Config(),
                                                "WithTransform: layer \"" + layer->name() + "\""));
    }
    std::vector<SymbolicTensor> args;
    for (int in : nodes[i].inputs) args.push_back(value[static_cast<size_t>(in)]);
    ASSIGN_OR_RETURN(value[i], nn::ApplyLayer(copy, std::move(args)));
  }
  std::vector<SymbolicTensor> inputs = builder.inputs();
  inputs.insert(inputs.end(), plain_inputs.begin(), plain_inputs.end());
  std::vector<SymbolicTensor> outputs;
  for (int o : model.output_node_indices()) outputs.push_back(value[static_cast<size_t>(o)]);
  ASSIGN_OR_RETURN(nn::Model out, nn::Model::Create(inputs, outputs, model.name()));
  // Model::Create initialises the new layers' weights from its seed; then
  // the original weights are copied over them.
  for (const auto& [original, copy] : copies) {
    for (const nn::Weight& w : original->weights()) {
      nn::Weight* dst = copy->FindWeight(w.name);
      if (dst == nullptr || dst->var.shape() != w.var.shape()) {
        return Status::Internal("WithTransform: layer \"" + original->name() + "\": weight \"" +
                                w.name + "\" does not match its copy");
      }
      dst->var.mutable_value().CopyFrom(w.var.value());
    }
  }
  return out;
}

Result<std::vector<data::FeatureSpec>> RawServingSpecs(const TransformGraph& graph,
                                                       const nn::Model& transformed_model) {
  std::vector<data::FeatureSpec> out;
  const std::vector<nn::Shape> shapes = transformed_model.input_shapes();
  const std::vector<std::string> names = transformed_model.input_names();
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& raw = graph.raw_features();
    auto it = std::find_if(raw.begin(), raw.end(),
                           [&](const data::FeatureSpec& s) { return s.name == names[i]; });
    data::FeatureSpec s;
    if (it != raw.end()) {
      s = *it;
      s.has_default = false;
    } else {
      s = data::FeatureSpec::Float32(names[i], WithoutBatch(shapes[i]));
    }
    if (s.type == data::FeatureType::kString) {
      return Status::Unimplemented("raw serving specs: input \"" + s.name +
                                   "\" is a string feature; serving signatures take numbers");
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace edgepipe::components
