// Passes over a LiteGraph (batch-norm folding and lowering, activation
// fusion) and the writer to .tflite bytes.
#include <algorithm>
#include <cstring>

#include "edgepipe/lite/lowering.h"
#include "edgepipe/lite/model_builder.h"

namespace edgepipe::lite {
namespace {

using Op = tflite::BuiltinOperator;
using Act = tflite::ActivationFunctionType;
using TT = tflite::TensorType;

// The op writing `t` when it is the only reader's input: read by exactly one
// op and not a graph output. Else -1.
int SoleProducer(const LiteGraph& g, int t) {
  if (g.CountConsumers(t) != 1 || g.IsGraphOutput(t)) return -1;
  return g.Producer(t);
}

// Removes op `index` whose single input tensor `from` is rewired: the op
// `producer` now writes the removed op's output instead of `from`.
void Splice(LiteGraph& g, size_t index, int producer) {
  const int from = g.ops[index].inputs[0];
  const int to = g.ops[index].outputs[0];
  for (int& o : g.ops[static_cast<size_t>(producer)].outputs) {
    if (o == from) o = to;
  }
  g.ops.erase(g.ops.begin() + static_cast<std::ptrdiff_t>(index));
}

}  // namespace

int FoldBatchNorm(LiteGraph& g) {
  int folded = 0;
  for (size_t i = 0; i < g.ops.size();) {
    const LiteOp& bn = g.ops[i];
    const int p = bn.op == kPseudoBatchNorm ? SoleProducer(g, bn.inputs[0]) : -1;
    if (p < 0) {
      ++i;
      continue;
    }
    LiteOp& prod = g.ops[static_cast<size_t>(p)];
    const bool foldable = (prod.op == Op::CONV_2D || prod.op == Op::DEPTHWISE_CONV_2D ||
                           prod.op == Op::FULLY_CONNECTED) &&
                          prod.act == Act::NONE && prod.inputs.size() == 3 && prod.inputs[2] >= 0;
    if (!foldable) {
      ++i;
      continue;
    }
    LiteTensor& w = g.tensors[static_cast<size_t>(prod.inputs[1])];
    LiteTensor& b = g.tensors[static_cast<size_t>(prod.inputs[2])];
    const size_t channels = bn.bn_scale.size();
    if (!w.constant || !b.constant || b.f32.size() != channels) {
      ++i;
      continue;
    }
    // Output channel of each filter element: the first axis for FC and
    // CONV_2D ([O, ...]), the last for DEPTHWISE_CONV_2D ([1, KH, KW, O]).
    const size_t per = w.f32.size() / channels;
    for (size_t e = 0; e < w.f32.size(); ++e) {
      const size_t o = prod.op == Op::DEPTHWISE_CONV_2D ? e % channels : e / per;
      w.f32[e] *= bn.bn_scale[o];
    }
    for (size_t o = 0; o < channels; ++o) b.f32[o] = b.f32[o] * bn.bn_scale[o] + bn.bn_shift[o];
    Splice(g, i, p);
    ++folded;
  }
  return folded;
}

int LowerBatchNorm(LiteGraph& g) {
  int lowered = 0;
  for (size_t i = 0; i < g.ops.size(); ++i) {
    if (g.ops[i].op != kPseudoBatchNorm) continue;
    LiteOp bn = g.ops[i];
    const int x = bn.inputs[0], y = bn.outputs[0];
    const LiteTensor& yt = g.tensors[static_cast<size_t>(y)];
    const std::string base = yt.name.substr(0, yt.name.rfind('/'));
    LiteTensor mid = yt;
    mid.name = base + "/mul";
    const int mid_t = g.AddTensor(std::move(mid));
    const int32_t c = static_cast<int32_t>(bn.bn_scale.size());
    auto constant = [&](const std::string& name, const std::vector<float>& values) {
      LiteTensor t;
      t.name = name;
      t.shape = {c};
      t.constant = true;
      t.f32 = values;
      return g.AddTensor(std::move(t));
    };
    const int scale_t = constant(base + "/mul/y", bn.bn_scale);
    const int shift_t = constant(base + "/add/y", bn.bn_shift);
    LiteOp mul, add;
    mul.op = Op::MUL;
    mul.layer = add.layer = bn.layer;
    mul.inputs = {x, scale_t};
    mul.outputs = {mid_t};
    add.op = Op::ADD;
    add.inputs = {mid_t, shift_t};
    add.outputs = {y};
    g.ops[i] = std::move(mul);
    g.ops.insert(g.ops.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(add));
    ++lowered;
  }
  return lowered;
}

int FuseActivations(LiteGraph& g) {
  int fused = 0;
  for (size_t i = 0; i < g.ops.size();) {
    const LiteOp& a = g.ops[i];
    const bool relu = a.op == Op::RELU || a.op == Op::RELU6;
    const int p = relu ? SoleProducer(g, a.inputs[0]) : -1;
    if (p < 0) {
      ++i;
      continue;
    }
    LiteOp& prod = g.ops[static_cast<size_t>(p)];
    const bool can = (prod.op == Op::CONV_2D || prod.op == Op::DEPTHWISE_CONV_2D ||
                      prod.op == Op::FULLY_CONNECTED || prod.op == Op::ADD || prod.op == Op::MUL) &&
                     prod.act == Act::NONE;
    if (!can) {
      ++i;
      continue;
    }
    prod.act = a.op == Op::RELU ? Act::RELU : Act::RELU6;
    Splice(g, i, p);
    ++fused;
  }
  return fused;
}

PassStats RunStandardPasses(LiteGraph& g) {
  PassStats s;
  s.batch_norms_folded = FoldBatchNorm(g);
  s.batch_norms_lowered = LowerBatchNorm(g);
  s.activations_fused = FuseActivations(g);
  return s;
}

Result<std::string> EmitTflite(const LiteGraph& g) {
  ModelBuilder b(g.signature_key);
  std::vector<int> index(g.tensors.size(), -1);
  auto signature_of = [](const LiteTensor& t) {
    std::vector<int32_t> s = t.shape;
    if (!s.empty()) s[0] = -1;
    return s;
  };
  for (const LiteIo& io : g.inputs) {
    const LiteTensor& t = g.tensors[static_cast<size_t>(io.tensor)];
    const int k = b.AddInput(io.name, t.type, t.shape);
    if (t.dynamic_batch) b.SetShapeSignature(k, signature_of(t));
    index[static_cast<size_t>(io.tensor)] = k;
  }
  std::vector<std::string> names(g.tensors.size());
  for (size_t t = 0; t < g.tensors.size(); ++t) names[t] = g.tensors[t].name;
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    names[static_cast<size_t>(g.outputs[k].tensor)] =
        "StatefulPartitionedCall:" + std::to_string(k);
  }
  auto tensor = [&](int t) -> int {
    if (t < 0) return -1;
    int& k = index[static_cast<size_t>(t)];
    if (k >= 0) return k;
    const LiteTensor& lt = g.tensors[static_cast<size_t>(t)];
    if (lt.constant) {
      k = lt.type == TT::INT32
              ? b.AddConstant(names[static_cast<size_t>(t)], lt.type, lt.shape, lt.i32)
              : b.AddConstant(names[static_cast<size_t>(t)], lt.type, lt.shape, lt.f32);
    } else {
      k = b.AddTensor(names[static_cast<size_t>(t)], lt.type, lt.shape);
      if (lt.dynamic_batch) b.SetShapeSignature(k, signature_of(lt));
    }
    return k;
  };
  for (const LiteOp& op : g.ops) {
    if (op.op == kPseudoBatchNorm) {
      return Status::Internal(op.layer + ": batch normalization left after the passes");
    }
    std::vector<int32_t> in, out;
    for (int t : op.inputs) in.push_back(tensor(t));
    for (int t : op.outputs) out.push_back(tensor(t));
    OpOptions o;
    switch (op.op) {
      case Op::FULLY_CONNECTED:
        o = FullyConnectedOpts(op.act, op.keep_num_dims);
        break;
      case Op::CONV_2D:
        o = Conv2DOpts(op.padding, op.stride_w, op.stride_h, op.act);
        break;
      case Op::DEPTHWISE_CONV_2D:
        o = DepthwiseConv2DOpts(op.padding, op.stride_w, op.stride_h, op.depth_multiplier, op.act);
        break;
      case Op::MAX_POOL_2D:
      case Op::AVERAGE_POOL_2D:
        o = Pool2DOpts(op.padding, op.stride_w, op.stride_h, op.filter_w, op.filter_h, op.act);
        break;
      case Op::ADD:
        o = AddOpts(op.act);
        break;
      case Op::MUL:
        o = MulOpts(op.act);
        break;
      case Op::CONCATENATION:
        o = ConcatenationOpts(op.axis, op.act);
        break;
      case Op::MEAN:
        o = ReducerOpts(false);
        break;
      case Op::RESHAPE:
        o = ReshapeOpts(op.new_shape);
        break;
      case Op::SOFTMAX:
        o = SoftmaxOpts(1.0f);
        break;
      default:
        break;  // RELU, RELU6, LOGISTIC, TANH: no options
    }
    b.AddOperator(op.op, std::move(in), std::move(out), std::move(o));
  }
  for (size_t k = 0; k < g.outputs.size(); ++k) {
    b.AddOutput(g.outputs[k].name, tensor(g.outputs[k].tensor));
  }
  return b.Finish();
}

}  // namespace edgepipe::lite
