// LowerModel: native layer graph -> LiteGraph, one layer call at a time.
#include "edgepipe/lite/lowering.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace edgepipe::lite {
namespace {

using Op = tflite::BuiltinOperator;
using Act = tflite::ActivationFunctionType;
using TT = tflite::TensorType;

std::string Where(const nn::Layer& l) { return std::string(l.type()) + " \"" + l.name() + "\""; }

std::string JoinShape(const std::vector<int64_t>& s) {
  std::string out = "(";
  for (size_t i = 0; i < s.size(); ++i) {
    out += (i ? ", " : "") + (s[i] < 0 ? std::string("None") : std::to_string(s[i]));
  }
  return out + ")";
}

// A model-level shape (batch -1 first) as a static TFLite shape with batch 1.
Result<std::vector<int32_t>> StaticShape(const nn::Shape& s, const std::string& where) {
  std::vector<int32_t> out;
  for (size_t i = 0; i < s.size(); ++i) {
    int64_t d = s[i];
    if (d < 0 && i == 0) d = 1;
    if (d < 0 || d > std::numeric_limits<int32_t>::max()) {
      return Status::InvalidArgument(where + ": shape " + JoinShape(s) +
                                     " has a dimension TFLite cannot hold (only the batch may be "
                                     "unknown; dims must fit int32)");
    }
    out.push_back(static_cast<int32_t>(d));
  }
  return out;
}

class Lowerer {
 public:
  Lowerer(const nn::Model& model, LiteGraph& g) : model_(model), g_(g) {}

  Status Run(const model::Signature& sig);

 private:
  Status LowerNode(size_t index, const nn::Model::NodeView& node);
  Status SetupInputs(const model::Signature& sig);

  // A new activation tensor of `shape` (model-level, batch first).
  Result<int> Activation(const nn::Layer& l, const std::string& op_name, const nn::Shape& shape) {
    ASSIGN_OR_RETURN(std::vector<int32_t> s, StaticShape(shape, Where(l)));
    LiteTensor t;
    t.name = g_.model_name + "/" + l.name() + "/" + op_name;
    t.shape = std::move(s);
    t.dynamic_batch = !shape.empty() && shape[0] < 0;
    return g_.AddTensor(std::move(t));
  }
  int FloatConst(const std::string& name, std::vector<int32_t> shape, std::vector<float> data) {
    LiteTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.constant = true;
    t.f32 = std::move(data);
    return g_.AddTensor(std::move(t));
  }
  int IntConst(const std::string& name, std::vector<int32_t> data) {
    LiteTensor t;
    t.name = name;
    t.type = TT::INT32;
    t.shape = {static_cast<int32_t>(data.size())};
    t.constant = true;
    t.i32 = std::move(data);
    return g_.AddTensor(std::move(t));
  }
  LiteOp& AddOp(Op op, const nn::Layer& l, std::vector<int> in, std::vector<int> out) {
    LiteOp o;
    o.op = op;
    o.layer = Where(l);
    o.inputs = std::move(in);
    o.outputs = std::move(out);
    g_.ops.push_back(std::move(o));
    return g_.ops.back();
  }
  std::string Prefix(const nn::Layer& l) const { return g_.model_name + "/" + l.name(); }

  // Appends the op(s) of a named Keras activation after tensor `x`; returns
  // the result tensor (x itself for "linear").
  Result<int> ApplyActivation(const nn::Layer& l, const std::string& act, int x,
                              const nn::Shape& shape);
  Result<int> Dense(const nn::Layer& l, int x);
  Result<int> Conv(const nn::Layer& l, int x, bool depthwise);
  Result<int> Pool(const nn::Layer& l, int x, bool max);
  Result<int> Reshape(const nn::Layer& l, int x, const std::string& op_name);
  Result<int> Scale(const nn::Layer& l, int x, std::vector<float> scale, std::vector<float> shift,
                    bool per_channel);
  Result<int> BatchNorm(const nn::Layer& l, int x);

  const nn::Model& model_;
  LiteGraph& g_;
  std::vector<int> value_;                   // node index -> tensor
  std::map<std::string, int> input_tensor_;  // model input name -> tensor
};

const nn::Tensor* FindWeight(const nn::Layer& l, std::string_view name) {
  for (const nn::Weight& w : l.weights()) {
    if (w.name == name) return &w.var.value();
  }
  return nullptr;
}

Result<const nn::Tensor*> RequireWeight(const nn::Layer& l, std::string_view name) {
  const nn::Tensor* t = FindWeight(l, name);
  if (!t) {
    return Status::InvalidArgument(Where(l) + ": weight \"" + std::string(name) +
                                   "\" is missing (layer not built?)");
  }
  return t;
}

Status Lowerer::SetupInputs(const model::Signature& sig) {
  const std::vector<std::string> names = model_.input_names();
  const std::vector<nn::Shape> shapes = model_.input_shapes();
  auto model_shape = [&](const std::string& name) -> const nn::Shape* {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return &shapes[i];
    }
    return nullptr;
  };
  const std::string where = "signature \"" + sig.name + "\"";
  if (sig.kind == model::SignatureKind::kTensors) {
    for (const model::TensorSpec& spec : sig.inputs) {
      if (spec.dtype != DType::kFloat32) {
        return Status::Unimplemented(where + ": input \"" + spec.name +
                                     "\" is not float32 (the converter writes float32 inputs)");
      }
      ASSIGN_OR_RETURN(std::vector<int32_t> s, StaticShape(spec.shape, where));
      LiteTensor t;
      t.name = spec.name;
      t.shape = std::move(s);
      t.dynamic_batch = !spec.shape.empty() && spec.shape[0] < 0;
      const int idx = g_.AddTensor(std::move(t));
      g_.inputs.push_back({spec.name, idx});
      input_tensor_[spec.name] = idx;
    }
    return Status::Ok();
  }
  // kExamples: one float32 tensor per dense numeric feature.
  for (const data::FeatureSpec& spec : sig.features) {
    if (spec.type == data::FeatureType::kString) {
      return Status::Unimplemented(where + ": feature \"" + spec.name +
                                   "\" is a string feature; TFLite files take numeric tensors "
                                   "(convert a signature over numeric features)");
    }
    const nn::Shape* ms = model_shape(spec.name);
    if (!ms) {
      return Status::InvalidArgument(where + ": feature \"" + spec.name +
                                     "\" is not an input of the model");
    }
    nn::Shape fshape = {-1};
    fshape.insert(fshape.end(), spec.shape.begin(), spec.shape.end());
    ASSIGN_OR_RETURN(std::vector<int32_t> s, StaticShape(fshape, where));
    LiteTensor t;
    t.name = spec.name;
    t.shape = std::move(s);
    t.dynamic_batch = true;
    int idx = g_.AddTensor(std::move(t));
    g_.inputs.push_back({spec.name, idx});
    if (fshape != *ms) {
      // The spec's values, row-major, reshaped to the model input.
      ASSIGN_OR_RETURN(std::vector<int32_t> target, StaticShape(*ms, where));
      LiteTensor r;
      r.name = g_.model_name + "/" + spec.name + "/Reshape";
      r.shape = target;
      r.dynamic_batch = true;
      const int out = g_.AddTensor(std::move(r));
      target[0] = -1;
      LiteOp o;
      o.op = Op::RESHAPE;
      o.layer = where + " feature \"" + spec.name + "\"";
      o.new_shape = target;
      o.inputs = {idx, IntConst(g_.model_name + "/" + spec.name + "/shape", target)};
      o.outputs = {out};
      g_.ops.push_back(std::move(o));
      idx = out;
    }
    input_tensor_[spec.name] = idx;
  }
  return Status::Ok();
}

Result<int> Lowerer::ApplyActivation(const nn::Layer& l, const std::string& act, int x,
                                     const nn::Shape& shape) {
  Op op;
  std::string op_name;
  if (act.empty() || act == "linear") return x;
  if (act == "relu") {
    op = Op::RELU, op_name = "Relu";
  } else if (act == "relu6") {
    op = Op::RELU6, op_name = "Relu6";
  } else if (act == "sigmoid") {
    op = Op::LOGISTIC, op_name = "Sigmoid";
  } else if (act == "tanh") {
    op = Op::TANH, op_name = "Tanh";
  } else if (act == "softmax") {
    op = Op::SOFTMAX, op_name = "Softmax";
  } else {
    return Status::Unimplemented(Where(l) + ": activation \"" + act +
                                 "\" has no TFLite lowering (linear, relu, relu6, sigmoid, tanh, "
                                 "softmax)");
  }
  ASSIGN_OR_RETURN(int out, Activation(l, op_name, shape));
  AddOp(op, l, {x}, {out});
  return out;
}

Result<int> Lowerer::Dense(const nn::Layer& l, int x) {
  ASSIGN_OR_RETURN(const nn::Tensor* k, RequireWeight(l, "kernel"));
  const int64_t in = k->dim(0), units = k->dim(1);
  // kernel [in, units] -> filter [units, in].
  std::vector<float> w(static_cast<size_t>(in * units));
  for (int64_t i = 0; i < in; ++i) {
    for (int64_t u = 0; u < units; ++u) w[u * in + i] = k->data()[i * units + u];
  }
  const nn::Tensor* b = FindWeight(l, "bias");
  std::vector<float> bias = b ? b->ToVector() : std::vector<float>(static_cast<size_t>(units), 0);
  const int wt = FloatConst(Prefix(l) + "/MatMul/ReadVariableOp",
                            {static_cast<int32_t>(units), static_cast<int32_t>(in)}, std::move(w));
  const int bt = FloatConst(Prefix(l) + "/BiasAdd/ReadVariableOp", {static_cast<int32_t>(units)},
                            std::move(bias));
  ASSIGN_OR_RETURN(int out, Activation(l, "MatMul", l.output_shape()));
  LiteOp& op = AddOp(Op::FULLY_CONNECTED, l, {x, wt, bt}, {out});
  op.keep_num_dims = l.output_shape().size() > 2;
  const std::string act = l.Config().value("activation", "linear");
  if (act == "relu" || act == "relu6") {
    op.act = act == "relu" ? Act::RELU : Act::RELU6;
    return out;
  }
  return ApplyActivation(l, act, out, l.output_shape());
}

Result<int> Lowerer::Conv(const nn::Layer& l, int x, bool depthwise) {
  const nlohmann::json c = l.Config();
  ASSIGN_OR_RETURN(const nn::Tensor* k,
                   RequireWeight(l, depthwise ? "depthwise_kernel" : "kernel"));
  const int64_t kh = k->dim(0), kw = k->dim(1), ci = k->dim(2), co = k->dim(3);
  std::vector<float> w(static_cast<size_t>(k->size()));
  std::vector<int32_t> wshape;
  if (depthwise) {
    // [KH, KW, C, M] is already [1, KH, KW, C*M] in memory (channel c*M+m).
    std::copy(k->data(), k->data() + k->size(), w.begin());
    wshape = {1, static_cast<int32_t>(kh), static_cast<int32_t>(kw), static_cast<int32_t>(ci * co)};
  } else {
    // [KH, KW, C, F] -> [F, KH, KW, C].
    for (int64_t y = 0; y < kh; ++y)
      for (int64_t xx = 0; xx < kw; ++xx)
        for (int64_t i = 0; i < ci; ++i)
          for (int64_t o = 0; o < co; ++o)
            w[((o * kh + y) * kw + xx) * ci + i] = k->data()[((y * kw + xx) * ci + i) * co + o];
    wshape = {static_cast<int32_t>(co), static_cast<int32_t>(kh), static_cast<int32_t>(kw),
              static_cast<int32_t>(ci)};
  }
  const int64_t out_c = depthwise ? ci * co : co;
  const nn::Tensor* b = FindWeight(l, "bias");
  std::vector<float> bias = b ? b->ToVector() : std::vector<float>(static_cast<size_t>(out_c), 0);
  const int wt =
      FloatConst(Prefix(l) + (depthwise ? "/depthwise" : "/Conv2D"), wshape, std::move(w));
  const int bt = FloatConst(Prefix(l) + "/BiasAdd/ReadVariableOp", {static_cast<int32_t>(out_c)},
                            std::move(bias));
  ASSIGN_OR_RETURN(int out, Activation(l, depthwise ? "depthwise" : "Conv2D", l.output_shape()));
  LiteOp& op = AddOp(depthwise ? Op::DEPTHWISE_CONV_2D : Op::CONV_2D, l, {x, wt, bt}, {out});
  const std::string pad = c.value("padding", "valid");
  if (pad != "valid" && pad != "same") {
    return Status::Unimplemented(Where(l) + ": padding \"" + pad + "\" (valid or same)");
  }
  op.padding = pad == "same" ? tflite::Padding::SAME : tflite::Padding::VALID;
  op.stride_h = c["strides"][0].get<int>();
  op.stride_w = c["strides"][1].get<int>();
  if (depthwise) op.depth_multiplier = static_cast<int>(co);
  const std::string act = c.value("activation", "linear");
  if (act == "relu" || act == "relu6") {
    op.act = act == "relu" ? Act::RELU : Act::RELU6;
    return out;
  }
  return ApplyActivation(l, act, out, l.output_shape());
}

Result<int> Lowerer::Pool(const nn::Layer& l, int x, bool max) {
  const nlohmann::json c = l.Config();
  ASSIGN_OR_RETURN(int out, Activation(l, max ? "MaxPool" : "AvgPool", l.output_shape()));
  LiteOp& op = AddOp(max ? Op::MAX_POOL_2D : Op::AVERAGE_POOL_2D, l, {x}, {out});
  const std::string pad = c.value("padding", "valid");
  if (pad != "valid" && pad != "same") {
    return Status::Unimplemented(Where(l) + ": padding \"" + pad + "\" (valid or same)");
  }
  op.padding = pad == "same" ? tflite::Padding::SAME : tflite::Padding::VALID;
  op.filter_h = c["pool_size"][0].get<int>();
  op.filter_w = c["pool_size"][1].get<int>();
  op.stride_h = c["strides"][0].get<int>();
  op.stride_w = c["strides"][1].get<int>();
  return out;
}

Result<int> Lowerer::Reshape(const nn::Layer& l, int x, const std::string& op_name) {
  ASSIGN_OR_RETURN(std::vector<int32_t> target, StaticShape(l.output_shape(), Where(l)));
  target[0] = -1;
  ASSIGN_OR_RETURN(int out, Activation(l, op_name, l.output_shape()));
  const int shape = IntConst(Prefix(l) + "/" + op_name + "/shape", target);
  LiteOp& op = AddOp(Op::RESHAPE, l, {x, shape}, {out});
  op.new_shape = std::move(target);
  return out;
}

// y = x * scale + shift; scalars or per last-axis channel.
Result<int> Lowerer::Scale(const nn::Layer& l, int x, std::vector<float> scale,
                           std::vector<float> shift, bool per_channel) {
  auto shape = [&](const std::vector<float>& v) {
    return per_channel ? std::vector<int32_t>{static_cast<int32_t>(v.size())}
                       : std::vector<int32_t>{};
  };
  const bool unit = std::all_of(scale.begin(), scale.end(), [](float v) { return v == 1.0f; });
  const bool zero = std::all_of(shift.begin(), shift.end(), [](float v) { return v == 0.0f; });
  int cur = x;
  if (!unit) {
    const int s = FloatConst(Prefix(l) + "/mul/y", shape(scale), scale);
    ASSIGN_OR_RETURN(int out, Activation(l, "mul", l.output_shape()));
    AddOp(Op::MUL, l, {cur, s}, {out});
    cur = out;
  }
  if (!zero) {
    const int s = FloatConst(Prefix(l) + "/add/y", shape(shift), shift);
    ASSIGN_OR_RETURN(int out, Activation(l, "add", l.output_shape()));
    AddOp(Op::ADD, l, {cur, s}, {out});
    cur = out;
  }
  return cur;
}

Result<int> Lowerer::BatchNorm(const nn::Layer& l, int x) {
  ASSIGN_OR_RETURN(const nn::Tensor* mean, RequireWeight(l, "moving_mean"));
  ASSIGN_OR_RETURN(const nn::Tensor* var, RequireWeight(l, "moving_variance"));
  const nn::Tensor* gamma = FindWeight(l, "gamma");
  const nn::Tensor* beta = FindWeight(l, "beta");
  const float eps = l.Config().value("epsilon", 1e-3f);
  const int64_t c = mean->size();
  LiteOp bn;
  for (int64_t j = 0; j < c; ++j) {
    const float inv = 1.0f / std::sqrt(var->data()[j] + eps);
    const float s = (gamma ? gamma->data()[j] : 1.0f) * inv;
    bn.bn_scale.push_back(s);
    bn.bn_shift.push_back((beta ? beta->data()[j] : 0.0f) - mean->data()[j] * s);
  }
  ASSIGN_OR_RETURN(int out, Activation(l, "FusedBatchNorm", l.output_shape()));
  LiteOp& op = AddOp(kPseudoBatchNorm, l, {x}, {out});
  op.bn_scale = std::move(bn.bn_scale);
  op.bn_shift = std::move(bn.bn_shift);
  return out;
}

Status Lowerer::LowerNode(size_t index, const nn::Model::NodeView& node) {
  const nn::Layer& l = *node.layer;
  const std::string type(l.type());
  std::vector<int> in;
  for (int i : node.inputs) in.push_back(value_[static_cast<size_t>(i)]);
  int& out = value_[index];
  if (type == "InputLayer") {
    auto it = input_tensor_.find(l.name());
    if (it == input_tensor_.end()) {
      return Status::InvalidArgument(Where(l) + ": model input is not fed by the signature");
    }
    out = it->second;
    return Status::Ok();
  }
  if (in.empty()) return Status::InvalidArgument(Where(l) + ": layer call without inputs");
  const int x = in[0];
  if (type == "Dropout") {
    out = x;  // identity at inference
  } else if (type == "Dense") {
    ASSIGN_OR_RETURN(out, Dense(l, x));
  } else if (type == "Conv2D" || type == "DepthwiseConv2D") {
    ASSIGN_OR_RETURN(out, Conv(l, x, type == "DepthwiseConv2D"));
  } else if (type == "ReLU") {
    const nlohmann::json c = l.Config();
    const bool six = c.contains("max_value") && !c["max_value"].is_null();
    if (six && c["max_value"].get<double>() != 6.0) {
      return Status::Unimplemented(Where(l) + ": max_value " + c["max_value"].dump() +
                                   " has no TFLite op (only none or 6)");
    }
    ASSIGN_OR_RETURN(out, ApplyActivation(l, six ? "relu6" : "relu", x, l.output_shape()));
  } else if (type == "Activation" || type == "Softmax") {
    ASSIGN_OR_RETURN(
        out, ApplyActivation(l, l.Config().value("activation", "linear"), x, l.output_shape()));
  } else if (type == "Flatten") {
    ASSIGN_OR_RETURN(out, Reshape(l, x, "Reshape"));
  } else if (type == "Reshape") {
    ASSIGN_OR_RETURN(out, Reshape(l, x, "Reshape"));
  } else if (type == "Add") {
    int cur = x;
    for (size_t i = 1; i < in.size(); ++i) {
      ASSIGN_OR_RETURN(int sum, Activation(l, i == 1 ? "add" : "add_" + std::to_string(i - 1),
                                           l.output_shape()));
      AddOp(Op::ADD, l, {cur, in[i]}, {sum});
      cur = sum;
    }
    out = cur;
  } else if (type == "Concatenate") {
    const int rank = static_cast<int>(l.output_shape().size());
    int axis = l.Config().value("axis", -1);
    if (axis < 0) axis += rank;
    if (axis <= 0 || axis >= rank) {
      return Status::Unimplemented(Where(l) + ": axis " +
                                   std::to_string(l.Config()["axis"].get<int>()) + " of a rank-" +
                                   std::to_string(rank) +
                                   " output: concatenation along the batch axis has no TFLite "
                                   "lowering");
    }
    ASSIGN_OR_RETURN(out, Activation(l, "concat", l.output_shape()));
    AddOp(Op::CONCATENATION, l, in, {out}).axis = axis;
  } else if (type == "Rescaling") {
    const nlohmann::json c = l.Config();
    ASSIGN_OR_RETURN(out, Scale(l, x, {c.value("scale", 1.0f)}, {c.value("offset", 0.0f)}, false));
  } else if (type == "Normalization") {
    ASSIGN_OR_RETURN(const nn::Tensor* mean, RequireWeight(l, "mean"));
    ASSIGN_OR_RETURN(const nn::Tensor* var, RequireWeight(l, "variance"));
    std::vector<float> scale, shift;
    for (int64_t j = 0; j < mean->size(); ++j) {
      // As the native layer: 1 / max(sqrt(variance), 1e-7).
      const float s = 1.0f / std::max(std::sqrt(var->data()[j]), 1e-7f);
      scale.push_back(s);
      shift.push_back(-mean->data()[j] * s);
    }
    ASSIGN_OR_RETURN(out, Scale(l, x, std::move(scale), std::move(shift), true));
  } else if (type == "MaxPooling2D" || type == "AveragePooling2D") {
    ASSIGN_OR_RETURN(out, Pool(l, x, type == "MaxPooling2D"));
  } else if (type == "GlobalAveragePooling2D") {
    ASSIGN_OR_RETURN(out, Activation(l, "Mean", l.output_shape()));
    const int axes = IntConst(Prefix(l) + "/Mean/reduction_indices", {1, 2});
    AddOp(Op::MEAN, l, {x, axes}, {out});
  } else if (type == "BatchNormalization") {
    ASSIGN_OR_RETURN(out, BatchNorm(l, x));
  } else {
    return Status::Unimplemented(Where(l) +
                                 ": layer class has no TFLite lowering (supported: Activation, "
                                 "Add, AveragePooling2D, BatchNormalization, Concatenate, "
                                 "Conv2D, Dense, DepthwiseConv2D, Dropout, Flatten, "
                                 "GlobalAveragePooling2D, InputLayer, MaxPooling2D, "
                                 "Normalization, ReLU, Rescaling, Reshape, Softmax)");
  }
  return Status::Ok();
}

Status Lowerer::Run(const model::Signature& sig) {
  RETURN_IF_ERROR(SetupInputs(sig));
  const std::vector<nn::Model::NodeView> nodes = model_.graph_nodes();
  value_.assign(nodes.size(), -1);
  for (size_t i = 0; i < nodes.size(); ++i) {
    RETURN_IF_ERROR(LowerNode(i, nodes[i]));
  }
  const std::vector<std::string> names = model::OutputNames(model_);
  const std::vector<int>& outs = model_.output_node_indices();
  for (size_t k = 0; k < outs.size(); ++k) {
    const int t = value_[static_cast<size_t>(outs[k])];
    for (const LiteIo& io : g_.inputs) {
      if (io.tensor == t) {
        return Status::Unimplemented("model \"" + model_.name() + "\": output \"" + names[k] +
                                     "\" is the input \"" + io.name +
                                     "\" unchanged; a TFLite output must be computed by an op");
      }
    }
    for (const LiteIo& io : g_.outputs) {
      if (io.tensor == t) {
        return Status::Unimplemented("model \"" + model_.name() + "\": outputs \"" + io.name +
                                     "\" and \"" + names[k] +
                                     "\" are the same tensor at inference (e.g. around a "
                                     "Dropout); TFLite outputs must be distinct");
      }
    }
    g_.outputs.push_back({names[k], t});
  }
  return Status::Ok();
}

}  // namespace

int LiteGraph::CountConsumers(int t) const {
  int n = 0;
  for (const LiteOp& op : ops)
    n += static_cast<int>(std::count(op.inputs.begin(), op.inputs.end(), t));
  return n;
}

bool LiteGraph::IsGraphOutput(int t) const {
  return std::any_of(outputs.begin(), outputs.end(),
                     [t](const LiteIo& io) { return io.tensor == t; });
}

int LiteGraph::Producer(int t) const {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (std::find(ops[i].outputs.begin(), ops[i].outputs.end(), t) != ops[i].outputs.end()) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

Result<LiteGraph> LowerModel(const nn::Model& model, const model::Signature& signature) {
  RETURN_IF_ERROR(model::ValidateSignature(signature, model));
  LiteGraph g;
  g.model_name = model.name();
  g.signature_key = signature.name;
  Lowerer lowerer(model, g);
  RETURN_IF_ERROR(lowerer.Run(signature));
  return g;
}

}  // namespace edgepipe::lite
