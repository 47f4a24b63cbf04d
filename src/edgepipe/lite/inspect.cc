#include "edgepipe/lite/inspect.h"

#include <fmt/format.h>

namespace edgepipe::lite {
namespace {

template <typename V>
std::string List(const V* v) {
  std::string s = "[";
  if (v) {
    for (uint32_t i = 0; i < v->size(); ++i) s += fmt::format("{}{}", i ? ", " : "", v->Get(i));
  }
  return s + "]";
}

}  // namespace

std::string InspectText(const Model& model) {
  const tflite::Model& m = model.fb();
  std::string out = fmt::format("model {}\n  schema version {}, {} bytes\n", model.name(),
                                m.version(), model.file_size());
  size_t buffer_bytes = 0;
  if (const auto* buffers = m.buffers()) {
    for (uint32_t b = 0; b < buffers->size(); ++b) {
      const tflite::Buffer* buf = buffers->Get(b);
      buffer_bytes += buf->offset() > 1 ? buf->size() : (buf->data() ? buf->data()->size() : 0);
    }
  }
  out += fmt::format("  sections: constant buffers {} bytes, graph and metadata {} bytes\n",
                     buffer_bytes,
                     model.file_size() > buffer_bytes ? model.file_size() - buffer_bytes : 0);
  if (const auto* sigs = m.signature_defs()) {
    for (uint32_t i = 0; i < sigs->size(); ++i) {
      const tflite::SignatureDef* sig = sigs->Get(i);
      out += fmt::format("  signature \"{}\" (subgraph {})\n",
                         sig->signature_key() ? sig->signature_key()->str() : "",
                         sig->subgraph_index());
      for (const auto* list : {sig->inputs(), sig->outputs()}) {
        if (!list) continue;
        for (uint32_t j = 0; j < list->size(); ++j) {
          const tflite::TensorMap* tm = list->Get(j);
          out += fmt::format("    {} \"{}\" -> tensor {}\n",
                             list == sig->inputs() ? "input " : "output",
                             tm->name() ? tm->name()->str() : "", tm->tensor_index());
        }
      }
    }
  }
  const auto* subgraphs = m.subgraphs();
  for (uint32_t s = 0; subgraphs && s < subgraphs->size(); ++s) {
    const tflite::SubGraph& sg = model.subgraph(static_cast<int>(s));
    out += fmt::format("subgraph {} \"{}\": inputs {} outputs {}\n", s,
                       sg.name() ? sg.name()->str() : "", List(sg.inputs()), List(sg.outputs()));
    const auto* ops = sg.operators();
    out += fmt::format("  operators ({}):\n", ops ? ops->size() : 0);
    for (uint32_t o = 0; ops && o < ops->size(); ++o) {
      const tflite::Operator* op = ops->Get(o);
      out +=
          fmt::format("    {:4} {:<20} in {} out {}\n", o,
                      BuiltinOperatorName(model.OpCode(static_cast<int>(s), static_cast<int>(o))),
                      List(op->inputs()), List(op->outputs()));
    }
    const auto* tensors = sg.tensors();
    out += fmt::format("  tensors ({}):\n", tensors ? tensors->size() : 0);
    for (uint32_t t = 0; tensors && t < tensors->size(); ++t) {
      const tflite::Tensor* tensor = tensors->Get(t);
      const QuantParams& q = model.TensorQuant(static_cast<int>(s), static_cast<int>(t));
      std::string quant;
      if (q.per_tensor()) {
        quant = fmt::format(" scale {} zero_point {}", q.scale[0], q.zero_point[0]);
      } else if (!q.empty()) {
        quant = fmt::format(" per-axis({}) {} scales", q.axis, q.scale.size());
      }
      const size_t bytes = model.TensorData(static_cast<int>(s), static_cast<int>(t)).size();
      out += fmt::format("    {:4} {:<8} {:<16} \"{}\"{}{}\n", t, TensorTypeName(tensor->type()),
                         List(tensor->shape()), tensor->name() ? tensor->name()->str() : "", quant,
                         bytes ? fmt::format(" const {} bytes", bytes) : std::string());
    }
  }
  return out;
}

}  // namespace edgepipe::lite
