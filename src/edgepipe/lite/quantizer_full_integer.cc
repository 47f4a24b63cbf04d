// Full-integer (int8) post-training quantization: calibration of activation
// ranges with our interpreter, then the rewrite of every tensor and op to
// int8 following TFLite's quantizer (see quantizer.h for the rules).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

#include "edgepipe/lite/interpreter.h"
#include "edgepipe/lite/op_resolver.h"
#include "edgepipe/lite/quantizer_graph.h"

namespace edgepipe::lite::quantizer {
namespace {

using tflite::BuiltinOperator;
using tflite::TensorType;
using Op = BuiltinOperator;

struct Range {
  float min = std::numeric_limits<float>::infinity();
  float max = -std::numeric_limits<float>::infinity();
  bool seen() const { return min <= max; }
  void Add(std::span<const float> v) {
    for (float x : v) {
      if (std::isnan(x)) continue;
      min = std::min(min, x);
      max = std::max(max, x);
    }
  }
};

bool Supported(Op op) {
  switch (op) {
    case Op::FULLY_CONNECTED:
    case Op::CONV_2D:
    case Op::DEPTHWISE_CONV_2D:
    case Op::MAX_POOL_2D:
    case Op::AVERAGE_POOL_2D:
    case Op::MEAN:
    case Op::RESHAPE:
    case Op::SOFTMAX:
    case Op::LOGISTIC:
    case Op::TANH:
    case Op::RELU:
    case Op::RELU6:
    case Op::ADD:
    case Op::SUB:
    case Op::MUL:
    case Op::CONCATENATION:
    case Op::PAD:
    case Op::TRANSPOSE:
      return true;
    default:
      return false;
  }
}

// Ops whose int8 kernels need the output to carry the input's params.
bool SameParamsAsInput(Op op) {
  return op == Op::MAX_POOL_2D || op == Op::AVERAGE_POOL_2D || op == Op::RESHAPE || op == Op::PAD ||
         op == Op::TRANSPOSE;
}

Status CheckOps(const Graph& g) {
  for (size_t o = 0; o < g.ops.size(); ++o) {
    const GraphOp& op = g.ops[o];
    if (!Supported(op.op)) {
      return Status::Unimplemented(fmt::format(
          "full-integer quantization: operator {} ({}) has no int8 kernel in edgepipe's "
          "quantizer",
          o, BuiltinOperatorName(static_cast<int32_t>(op.op))));
    }
  }
  return Status::Ok();
}

const std::string& SignatureName(const Graph& g, int t) {
  for (const auto& [name, idx] : g.inputs) {
    if (idx == t) return name;
  }
  return g.tensor(t).name;
}

// Runs the float model on every sample and records each tensor's range. The
// calibration copy makes every activation a graph output so that the
// interpreter's memory plan keeps all of them.
Result<std::vector<Range>> Calibrate(const Graph& g, const QuantizeOptions& options,
                                     RepresentativeDataset& data) {
  Graph cal = g;
  cal.outputs.clear();
  std::set<int> inputs;
  for (const auto& p : g.inputs) inputs.insert(p.second);
  for (const GraphOp& op : g.ops) {
    for (int t : op.outputs) cal.outputs.emplace_back(fmt::format("t{}", t), t);
  }
  ASSIGN_OR_RETURN(std::string bytes, WriteGraph(cal));
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::FromBytes(bytes, "calibration model"));
  std::shared_ptr<const Model> shared(std::move(model));
  ASSIGN_OR_RETURN(std::unique_ptr<Interpreter> interp,
                   Interpreter::Create(shared, BuiltinOpResolver()));
  RETURN_IF_ERROR(interp->AllocateTensors());
  std::vector<Range> ranges(g.tensors.size());
  std::map<std::string, Array> sample;
  int samples = 0;
  while (options.max_calibration_samples <= 0 || samples < options.max_calibration_samples) {
    sample.clear();
    ASSIGN_OR_RETURN(bool more, data(&sample));
    if (!more) break;
    bool resized = false;
    std::vector<const Array*> arrays;
    for (int i = 0; i < interp->num_inputs(); ++i) {
      const int t = interp->input(i).index;
      const std::string& name = SignatureName(g, t);
      const auto it = sample.find(name);
      if (it == sample.end()) {
        return Status::InvalidArgument(
            fmt::format("representative dataset: sample {} has no input \"{}\"", samples, name));
      }
      const Array& a = it->second;
      if (a.dtype() != DType::kFloat32) {
        return Status::InvalidArgument(
            fmt::format("representative dataset: sample {} input \"{}\" is {}, must be float32",
                        samples, name, DTypeName(a.dtype())));
      }
      std::vector<int32_t> shape(a.shape().begin(), a.shape().end());
      if (shape != interp->input(i).shape) {
        RETURN_IF_ERROR(interp->ResizeInput(i, shape));
        resized = true;
      }
      arrays.push_back(&a);
    }
    if (sample.size() != arrays.size()) {
      for (const auto& [name, a] : sample) {
        const bool known = std::any_of(g.inputs.begin(), g.inputs.end(),
                                       [&](const auto& p) { return p.first == name; });
        if (!known) {
          return Status::InvalidArgument(fmt::format(
              "representative dataset: sample {} has input \"{}\", which the model lacks", samples,
              name));
        }
      }
    }
    if (resized) RETURN_IF_ERROR(interp->AllocateTensors());
    for (int i = 0; i < interp->num_inputs(); ++i) {
      RETURN_IF_ERROR(interp->SetInput(i, *arrays[static_cast<size_t>(i)]));
      ranges[static_cast<size_t>(interp->input(i).index)].Add(
          arrays[static_cast<size_t>(i)]->data<float>());
    }
    RETURN_IF_ERROR(interp->Invoke());
    for (const auto& p : cal.outputs) {
      const Tensor& t = interp->tensors()[static_cast<size_t>(p.second)];
      if (t.type != TensorType::FLOAT32) continue;
      ranges[static_cast<size_t>(p.second)].Add(
          std::span<const float>(t.as<float>(), static_cast<size_t>(t.num_elements())));
    }
    ++samples;
  }
  if (samples == 0) {
    return Status::InvalidArgument("representative dataset: no samples; calibration needs one");
  }
  return ranges;
}

QuantParams Shifted(const QuantParams& q, int32_t by) {
  QuantParams r = q;
  for (int32_t& zp : r.zero_point) zp += by;
  return r;
}

bool SameParams(const QuantParams& a, const QuantParams& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

GraphOp MakeOp(Op op, int in, int out) {
  GraphOp g;
  g.op = op;
  g.inputs = {in};
  g.outputs = {out};
  g.options = op == Op::QUANTIZE ? QuantizeOpts() : DequantizeOpts();
  return g;
}

// A new int8 tensor like `t` with params `q` (no data).
int AddInt8Like(Graph* g, int t, const QuantParams& q, const std::string& suffix) {
  GraphTensor n;
  n.name = g->tensor(t).name + suffix;
  n.type = TensorType::INT8;
  n.shape = g->tensor(t).shape;
  n.quant = q;
  return g->AddTensor(std::move(n));
}

// A new int8 constant: float constant `t` quantized asymmetrically with `q`.
int AddQuantizedConstant(Graph* g, int t, const QuantParams& q) {
  std::vector<int8_t> v;
  for (float x : g->FloatData(t)) {
    const int32_t r = static_cast<int32_t>(std::round(x / q.scale[0])) + q.zero_point[0];
    v.push_back(static_cast<int8_t>(std::clamp(r, -128, 127)));
  }
  GraphTensor n;
  n.name = g->tensor(t).name;
  n.type = TensorType::INT8;
  n.shape = g->tensor(t).shape;
  n.quant = q;
  n.constant = true;
  n.data = Bytes(v);
  return g->AddTensor(std::move(n));
}

}  // namespace

Status QuantizeFullInteger(Graph* g, const QuantizeOptions& options, RepresentativeDataset& data) {
  RETURN_IF_ERROR(CheckOps(*g));
  ASSIGN_OR_RETURN(std::vector<Range> ranges, Calibrate(*g, options, data));
  const size_t n0 = g->tensors.size();
  std::vector<std::optional<QuantParams>> params(n0);
  const auto from_range = [&](int t) -> Result<QuantParams> {
    const Range& r = ranges[static_cast<size_t>(t)];
    if (!r.seen()) {
      return Status::InvalidArgument(
          fmt::format("calibration: tensor {} \"{}\" got no finite values", t, g->tensor(t).name));
    }
    return ActivationParams(r.min, r.max);
  };
  for (const auto& p : g->inputs) {
    ASSIGN_OR_RETURN(QuantParams q, from_range(p.second));
    params[static_cast<size_t>(p.second)] = q;
  }
  // Activation params, in op order.
  for (size_t o = 0; o < g->ops.size(); ++o) {
    const GraphOp& op = g->ops[o];
    for (int t : op.outputs) {
      QuantParams q;
      if (op.op == Op::SOFTMAX || op.op == Op::LOGISTIC) {
        q = QuantParams{{1.0f / 256.0f}, {-128}, 0};
      } else if (op.op == Op::TANH) {
        q = QuantParams{{1.0f / 128.0f}, {0}, 0};
      } else if (SameParamsAsInput(op.op)) {
        const int in = op.inputs.empty() ? -1 : op.inputs[0];
        if (in < 0 || !params[static_cast<size_t>(in)]) {
          return Status::Unimplemented(
              fmt::format("full-integer quantization: operator {} ({}) input 0 is a constant", o,
                          BuiltinOperatorName(static_cast<int32_t>(op.op))));
        }
        q = *params[static_cast<size_t>(in)];
      } else {
        ASSIGN_OR_RETURN(q, from_range(t));
      }
      params[static_cast<size_t>(t)] = q;
    }
  }
  // Constants and requantization, op by op.
  std::vector<GraphOp> ops;
  for (size_t o = 0; o < g->ops.size(); ++o) {
    GraphOp op = g->ops[o];
    const std::string op_name =
        fmt::format("operator {} ({})", o, BuiltinOperatorName(static_cast<int32_t>(op.op)));
    const bool conv_like =
        op.op == Op::FULLY_CONNECTED || op.op == Op::CONV_2D || op.op == Op::DEPTHWISE_CONV_2D;
    if (conv_like) {
      if (op.inputs.size() < 2 || op.inputs[0] < 0 || !params[static_cast<size_t>(op.inputs[0])]) {
        return Status::Unimplemented(op_name + ": input 0 must be an activation");
      }
      const int w = op.inputs[1];
      if (w < 0 || !g->tensor(w).constant || g->tensor(w).type != TensorType::FLOAT32) {
        return Status::Unimplemented(op_name + ": weights must be a float32 constant");
      }
      const int axis = op.op == Op::FULLY_CONNECTED ? -1 : (op.op == Op::CONV_2D ? 0 : 3);
      std::vector<int8_t> qw;
      QuantParams wq;
      QuantizeSymmetric(g->FloatData(w), g->tensor(w).shape, axis, &qw, &wq);
      GraphTensor nw = g->tensor(w);
      nw.type = TensorType::INT8;
      nw.data = Bytes(qw);
      nw.quant = wq;
      op.inputs[1] = g->AddTensor(std::move(nw));
      if (op.inputs.size() > 2 && op.inputs[2] >= 0) {
        const int b = op.inputs[2];
        if (!g->tensor(b).constant || g->tensor(b).type != TensorType::FLOAT32) {
          return Status::Unimplemented(op_name + ": bias must be a float32 constant");
        }
        std::vector<int32_t> qb;
        QuantParams bq;
        QuantizeBias(g->FloatData(b), params[static_cast<size_t>(op.inputs[0])]->scale[0], wq.scale,
                     &qb, &bq);
        GraphTensor nb = g->tensor(b);
        nb.type = TensorType::INT32;
        nb.data = Bytes(qb);
        nb.quant = bq;
        op.inputs[2] = g->AddTensor(std::move(nb));
      }
    } else {
      const QuantParams* out_q =
          op.outputs.empty() ? nullptr : &*params[static_cast<size_t>(op.outputs[0])];
      for (int& t : op.inputs) {
        if (t < 0) continue;
        GraphTensor& in = g->tensor(t);
        if (in.constant) {
          if (in.type != TensorType::FLOAT32) continue;  // int32 shapes, axes, paddings
          const std::vector<float> v = g->FloatData(t);
          const auto [mn, mx] = std::minmax_element(v.begin(), v.end());
          QuantParams q = op.op == Op::CONCATENATION && out_q
                              ? *out_q
                              : ActivationParams(v.empty() ? 0.0f : *mn, v.empty() ? 0.0f : *mx);
          t = AddQuantizedConstant(g, t, q);
        } else if (op.op == Op::CONCATENATION && out_q &&
                   !SameParams(*params[static_cast<size_t>(t)], *out_q)) {
          // LiteRT's int8 CONCATENATION needs every input at the output's params.
          const int rq = AddInt8Like(g, t, *out_q, "_requantized");
          ops.push_back(MakeOp(Op::QUANTIZE, t, rq));
          t = rq;
        }
      }
    }
    ops.push_back(std::move(op));
  }
  g->ops = std::move(ops);
  for (size_t t = 0; t < n0; ++t) {
    GraphTensor& gt = g->tensors[t];
    if (gt.constant || !params[t] || gt.type != TensorType::FLOAT32) continue;
    gt.type = TensorType::INT8;
    gt.quant = *params[t];
  }
  // Graph inputs and outputs in the requested types.
  std::vector<GraphOp> head;
  for (const auto& [name, t] : g->inputs) {
    if (options.inference_input_type == InferenceType::kInt8) continue;
    const QuantParams q = g->tensor(t).quant;
    const int inner = AddInt8Like(g, t, q, "_int8");
    for (GraphOp& op : g->ops) std::replace(op.inputs.begin(), op.inputs.end(), t, inner);
    GraphTensor& outer = g->tensor(t);
    if (options.inference_input_type == InferenceType::kFloat32) {
      outer.type = TensorType::FLOAT32;
      outer.quant = {};
    } else {
      outer.type = TensorType::UINT8;
      outer.quant = Shifted(q, 128);
    }
    head.push_back(MakeOp(Op::QUANTIZE, t, inner));
  }
  g->ops.insert(g->ops.begin(), head.begin(), head.end());
  for (const auto& [name, t] : g->outputs) {
    if (options.inference_output_type == InferenceType::kInt8) continue;
    const QuantParams q = g->tensor(t).quant;
    const int inner = AddInt8Like(g, t, q, "_int8");
    for (GraphOp& op : g->ops) {
      std::replace(op.inputs.begin(), op.inputs.end(), t, inner);
      std::replace(op.outputs.begin(), op.outputs.end(), t, inner);
    }
    GraphTensor& outer = g->tensor(t);
    if (options.inference_output_type == InferenceType::kFloat32) {
      outer.type = TensorType::FLOAT32;
      outer.quant = {};
      g->ops.push_back(MakeOp(Op::DEQUANTIZE, inner, t));
    } else {
      outer.type = TensorType::UINT8;
      outer.quant = Shifted(q, 128);
      g->ops.push_back(MakeOp(Op::QUANTIZE, inner, t));
    }
  }
  return Status::Ok();
}

}  // namespace edgepipe::lite::quantizer
