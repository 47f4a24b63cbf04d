#include "edgepipe/lite/inspect.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

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

template <typename V>
nlohmann::json JsonList(const V* v) {
  nlohmann::json a = nlohmann::json::array();
  if (v) {
    for (uint32_t i = 0; i < v->size(); ++i) a.push_back(v->Get(i));
  }
  return a;
}

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

// Bytes of buffer b's data (inline or external).
size_t BufferBytes(const tflite::Buffer& buf) {
  if (buf.offset() > 1) return static_cast<size_t>(buf.size());
  return buf.data() ? buf.data()->size() : 0;
}

// Operator names of subgraph s, in order.
std::vector<std::string> OpNames(const Model& model, int s) {
  std::vector<std::string> names;
  const auto* ops = model.subgraph(s).operators();
  for (uint32_t o = 0; ops && o < ops->size(); ++o) {
    names.push_back(BuiltinOperatorName(model.OpCode(s, static_cast<int>(o))));
  }
  return names;
}

// "RESHAPE x1, DEPTHWISE_CONV_2D x1" in order of first appearance.
std::vector<std::pair<std::string, int>> OpCounts(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, int>> counts;
  for (const std::string& n : names) {
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == n; });
    if (it == counts.end()) {
      counts.emplace_back(n, 1);
    } else {
      ++it->second;
    }
  }
  return counts;
}

}  // namespace

SectionSizes ComputeSections(const Model& model) {
  const tflite::Model& m = model.fb();
  SectionSizes s;
  s.file = model.file_size();
  const auto* buffers = m.buffers();
  const size_t num_buffers = buffers ? buffers->size() : 0;
  // 0 = unreferenced, 1 = metadata, 2 = tensor data.
  std::vector<int> role(num_buffers, 0);
  const auto mark = [&](uint64_t b, int r) {
    if (b < num_buffers) role[static_cast<size_t>(b)] = std::max(role[static_cast<size_t>(b)], r);
  };
  if (const auto* md = m.metadata()) {
    for (uint32_t i = 0; i < md->size(); ++i) mark(md->Get(i)->buffer(), 1);
  }
  if (const auto* mb = m.metadata_buffer()) {
    for (uint32_t i = 0; i < mb->size(); ++i) {
      if (mb->Get(i) >= 0) mark(static_cast<uint64_t>(mb->Get(i)), 1);
    }
  }
  const auto* subgraphs = m.subgraphs();
  for (uint32_t g = 0; subgraphs && g < subgraphs->size(); ++g) {
    const auto* tensors = subgraphs->Get(g)->tensors();
    for (uint32_t t = 0; tensors && t < tensors->size(); ++t) mark(tensors->Get(t)->buffer(), 2);
  }
  for (size_t b = 0; b < num_buffers; ++b) {
    const size_t bytes = BufferBytes(*buffers->Get(static_cast<flatbuffers::uoffset_t>(b)));
    (role[b] == 2 ? s.tensor_data : role[b] == 1 ? s.metadata : s.unreferenced_buffers) += bytes;
  }
  const size_t in_buffers = s.tensor_data + s.metadata + s.unreferenced_buffers;
  s.graph = s.file > in_buffers ? s.file - in_buffers : 0;
  return s;
}

std::string InspectText(const Model& model) {
  const tflite::Model& m = model.fb();
  std::string out = fmt::format("model {}\n  schema version {}, {} bytes\n", model.name(),
                                m.version(), model.file_size());
  const SectionSizes sec = ComputeSections(model);
  const auto pct = [&](size_t n) {
    return sec.file ? 100.0 * static_cast<double>(n) / static_cast<double>(sec.file) : 0.0;
  };
  out += "  sections:\n";
  out += fmt::format("    constant buffers (tensor data) {:>10} bytes {:5.1f}%\n", sec.tensor_data,
                     pct(sec.tensor_data));
  out += fmt::format("    metadata buffers               {:>10} bytes {:5.1f}%\n", sec.metadata,
                     pct(sec.metadata));
  out += fmt::format("    unreferenced buffers           {:>10} bytes {:5.1f}%\n",
                     sec.unreferenced_buffers, pct(sec.unreferenced_buffers));
  out += fmt::format("    graph (tables, strings, pad)   {:>10} bytes {:5.1f}%\n", sec.graph,
                     pct(sec.graph));
  if (const auto* sigs = m.signature_defs()) {
    for (uint32_t i = 0; i < sigs->size(); ++i) {
      const tflite::SignatureDef* sig = sigs->Get(i);
      out += fmt::format("  signature \"{}\" (subgraph {})\n", Str(sig->signature_key()),
                         sig->subgraph_index());
      for (const auto* list : {sig->inputs(), sig->outputs()}) {
        if (!list) continue;
        for (uint32_t j = 0; j < list->size(); ++j) {
          const tflite::TensorMap* tm = list->Get(j);
          out += fmt::format("    {} \"{}\" -> tensor {}\n",
                             list == sig->inputs() ? "input " : "output", Str(tm->name()),
                             tm->tensor_index());
        }
      }
    }
  }
  const auto* subgraphs = m.subgraphs();
  for (uint32_t s = 0; subgraphs && s < subgraphs->size(); ++s) {
    const int si = static_cast<int>(s);
    const tflite::SubGraph& sg = model.subgraph(si);
    out += fmt::format("subgraph {} \"{}\": inputs {} outputs {}\n", s, Str(sg.name()),
                       List(sg.inputs()), List(sg.outputs()));
    const std::vector<std::string> names = OpNames(model, si);
    std::string counts;
    for (const auto& [name, n] : OpCounts(names)) {
      counts += fmt::format("{}{} x{}", counts.empty() ? "" : ", ", name, n);
    }
    out += fmt::format("  operators ({}): {}\n", names.size(), counts);
    const auto* ops = sg.operators();
    for (uint32_t o = 0; ops && o < ops->size(); ++o) {
      const tflite::Operator* op = ops->Get(o);
      out += fmt::format("    {:4} {:<20} in {} out {}\n", o, names[o], List(op->inputs()),
                         List(op->outputs()));
    }
    const auto* tensors = sg.tensors();
    out += fmt::format("  tensors ({}):\n", tensors ? tensors->size() : 0);
    for (uint32_t t = 0; tensors && t < tensors->size(); ++t) {
      const tflite::Tensor* tensor = tensors->Get(t);
      const QuantParams& q = model.TensorQuant(si, static_cast<int>(t));
      std::string quant;
      if (q.per_tensor()) {
        quant = fmt::format(" scale {} zero_point {}", q.scale[0], q.zero_point[0]);
      } else if (!q.empty()) {
        quant = fmt::format(" per-axis({}) {} scales", q.axis, q.scale.size());
      }
      std::string sig_shape;
      if (tensor->shape_signature() && tensor->shape_signature()->size() > 0) {
        sig_shape = fmt::format(" signature {}", List(tensor->shape_signature()));
      }
      const size_t bytes = model.TensorData(si, static_cast<int>(t)).size();
      out +=
          fmt::format("    {:4} {:<8} {:<16} \"{}\"{}{}{}{}\n", t, TensorTypeName(tensor->type()),
                      List(tensor->shape()), Str(tensor->name()), sig_shape, quant,
                      bytes ? fmt::format(" const {} bytes", bytes) : std::string(),
                      tensor->is_variable() ? " variable" : "");
    }
  }
  return out;
}

std::string InspectJson(const Model& model) {
  using nlohmann::json;
  const tflite::Model& m = model.fb();
  const SectionSizes sec = ComputeSections(model);
  json doc = {{"name", model.name()},
              {"file_bytes", model.file_size()},
              {"version", m.version()},
              {"sections",
               {{"tensor_data", sec.tensor_data},
                {"metadata", sec.metadata},
                {"unreferenced_buffers", sec.unreferenced_buffers},
                {"graph", sec.graph}}}};
  json sigs = json::array();
  if (const auto* defs = m.signature_defs()) {
    for (uint32_t i = 0; i < defs->size(); ++i) {
      const tflite::SignatureDef* sig = defs->Get(i);
      json js = {{"key", Str(sig->signature_key())}, {"subgraph", sig->subgraph_index()}};
      for (const auto& [key, list] :
           {std::pair{"inputs", sig->inputs()}, {"outputs", sig->outputs()}}) {
        json a = json::array();
        for (uint32_t j = 0; list && j < list->size(); ++j) {
          a.push_back(
              {{"name", Str(list->Get(j)->name())}, {"tensor", list->Get(j)->tensor_index()}});
        }
        js[key] = std::move(a);
      }
      sigs.push_back(std::move(js));
    }
  }
  doc["signatures"] = std::move(sigs);
  json subs = json::array();
  const auto* subgraphs = m.subgraphs();
  for (uint32_t s = 0; subgraphs && s < subgraphs->size(); ++s) {
    const int si = static_cast<int>(s);
    const tflite::SubGraph& sg = model.subgraph(si);
    const std::vector<std::string> names = OpNames(model, si);
    json counts = json::object();
    for (const auto& [name, n] : OpCounts(names)) counts[name] = n;
    json ops = json::array();
    for (uint32_t o = 0; sg.operators() && o < sg.operators()->size(); ++o) {
      const tflite::Operator* op = sg.operators()->Get(o);
      ops.push_back({{"index", o},
                     {"op", names[o]},
                     {"inputs", JsonList(op->inputs())},
                     {"outputs", JsonList(op->outputs())}});
    }
    json tensors = json::array();
    for (uint32_t t = 0; sg.tensors() && t < sg.tensors()->size(); ++t) {
      const tflite::Tensor* tensor = sg.tensors()->Get(t);
      json jt = {{"index", t},
                 {"name", Str(tensor->name())},
                 {"type", TensorTypeName(tensor->type())},
                 {"shape", JsonList(tensor->shape())},
                 {"const_bytes", model.TensorData(si, static_cast<int>(t)).size()}};
      if (tensor->shape_signature() && tensor->shape_signature()->size() > 0) {
        jt["shape_signature"] = JsonList(tensor->shape_signature());
      }
      const QuantParams& q = model.TensorQuant(si, static_cast<int>(t));
      if (!q.empty()) {
        jt["quantization"] = {{"scale", q.scale}, {"zero_point", q.zero_point}, {"axis", q.axis}};
      }
      if (tensor->is_variable()) jt["variable"] = true;
      tensors.push_back(std::move(jt));
    }
    subs.push_back({{"name", Str(sg.name())},
                    {"inputs", JsonList(sg.inputs())},
                    {"outputs", JsonList(sg.outputs())},
                    {"op_counts", std::move(counts)},
                    {"operators", std::move(ops)},
                    {"tensors", std::move(tensors)}});
  }
  doc["subgraphs"] = std::move(subs);
  // Names in a file need not be UTF-8: replace invalid bytes rather than throw.
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace edgepipe::lite
