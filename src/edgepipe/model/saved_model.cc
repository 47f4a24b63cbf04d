#include "edgepipe/model/saved_model.h"

#include <map>
#include <set>

#include "edgepipe/core/npy.h"
#include "edgepipe/core/sha256.h"
#include "edgepipe/model/layer_factory.h"
#include "edgepipe/nn/core_layers.h"

namespace edgepipe::model {
namespace {

constexpr std::string_view kVariablesDir = "variables";

// A file-name-safe form of "<layer>.<weight>".
std::string WeightFileStem(const std::string& layer, const std::string& weight) {
  std::string s = layer + "." + weight;
  for (char& c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) c = '_';
  }
  return s;
}

// "variables/<name>" with one plain file name: no folders, no "..".
bool IsSafeWeightPath(const std::string& p) {
  const std::string prefix = std::string(kVariablesDir) + "/";
  if (p.rfind(prefix, 0) != 0) return false;
  const std::string rest = p.substr(prefix.size());
  return !rest.empty() && rest != "." && rest != ".." && rest.find('/') == std::string::npos &&
         rest.find('\0') == std::string::npos;
}

Json ShapeJson(const nn::Shape& s) { return Json(s); }

Result<Json> ModelToJson(const nn::Model& model, const std::string& temp_dir, Env* env) {
  const std::vector<nn::Model::NodeView> nodes = model.graph_nodes();
  Json layers = Json::array();
  std::set<const nn::Layer*> seen;
  std::set<std::string> files;
  for (const nn::Model::NodeView& n : nodes) {
    const nn::Layer* layer = n.layer;
    if (!seen.insert(layer).second) continue;
    Json lj = {{"class_name", layer->type()}, {"name", layer->name()}, {"config", layer->Config()}};
    lj["weights"] = Json::array();
    for (const nn::Weight& w : layer->weights()) {
      std::string stem = WeightFileStem(layer->name(), w.name);
      std::string file = std::string(kVariablesDir) + "/" + stem + ".npy";
      for (int k = 1; files.count(file); ++k) {
        file = std::string(kVariablesDir) + "/" + stem + "_" + std::to_string(k) + ".npy";
      }
      files.insert(file);
      const std::string bytes = SerializeNpy(w.var.value().ToArray());
      RETURN_IF_ERROR(WriteFileAtomic(JoinPath(temp_dir, file), bytes, env));
      lj["weights"].push_back({{"name", w.name},
                               {"dtype", "float32"},
                               {"shape", ShapeJson(w.var.value().shape())},
                               {"trainable", w.trainable},
                               {"file", file},
                               {"bytes", bytes.size()},
                               {"sha256", Sha256Hex(bytes)}});
    }
    layers.push_back(std::move(lj));
  }
  Json nodes_json = Json::array();
  for (const nn::Model::NodeView& n : nodes) {
    nodes_json.push_back({{"layer", n.layer->name()}, {"inbound", n.inputs}});
  }
  Json inputs = Json::array();
  for (int i : model.input_node_indices()) {
    const nn::Model::NodeView& n = nodes[static_cast<size_t>(i)];
    inputs.push_back({{"name", n.layer->name()},
                      {"node", i},
                      {"shape", ShapeJson(n.layer->output_shape())},
                      {"dtype", "float32"}});
  }
  Json outputs = Json::array();
  const std::vector<std::string> out_names = OutputNames(model);
  const std::vector<nn::Shape> out_shapes = model.output_shapes();
  for (size_t k = 0; k < out_names.size(); ++k) {
    outputs.push_back({{"name", out_names[k]},
                       {"node", model.output_node_indices()[k]},
                       {"shape", ShapeJson(out_shapes[k])},
                       {"dtype", "float32"}});
  }
  const bool sequential = dynamic_cast<const nn::Sequential*>(&model) != nullptr;
  return Json{
      {"name", model.name()},        {"class_name", sequential ? "Sequential" : "Functional"},
      {"layers", std::move(layers)}, {"nodes", std::move(nodes_json)},
      {"inputs", std::move(inputs)}, {"outputs", std::move(outputs)}};
}

// Reads, verifies (size, SHA-256, dtype, shape) and installs one weight.
Status LoadWeight(const std::string& dir, const Json& wj, const std::string& where,
                  nn::Layer& layer, std::set<std::string>& loaded, Env* env) {
  ASSIGN_OR_RETURN(std::string name, JsonString(wj, "name", where));
  ASSIGN_OR_RETURN(std::string file, JsonString(wj, "file", where));
  ASSIGN_OR_RETURN(std::string sha, JsonString(wj, "sha256", where));
  ASSIGN_OR_RETURN(int64_t size, JsonInt(wj, "bytes", where));
  const std::string w = where + " (weight \"" + name + "\" of layer \"" + layer.name() + "\")";
  if (!IsSafeWeightPath(file)) {
    return Status::InvalidArgument(w + ": file \"" + file +
                                   "\" must be a plain file name under variables/");
  }
  nn::Weight* weight = layer.FindWeight(name);
  if (weight == nullptr) {
    return Status::InvalidArgument(w + ": layer \"" + layer.name() + "\" (" +
                                   std::string(layer.type()) + ") has no weight \"" + name + "\"");
  }
  if (!loaded.insert(name).second) {
    return Status::InvalidArgument(w + ": weight listed twice");
  }
  const std::string path = JoinPath(dir, file);
  if (!env->Exists(path)) {
    return Status::NotFound(path + ": weight file is missing (weight \"" + name + "\" of layer \"" +
                            layer.name() + "\")");
  }
  ASSIGN_OR_RETURN(uint64_t actual_size, env->FileSize(path));
  if (static_cast<int64_t>(actual_size) != size) {
    return Status::DataLoss(path + ": " + std::to_string(actual_size) + " bytes, but " +
                            std::string(kSavedModelJsonName) + " records " + std::to_string(size) +
                            " (truncated or replaced weight file)");
  }
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, env));
  const std::string got = Sha256Hex(bytes);
  if (got != sha) {
    return Status::DataLoss(path + ": sha256 " + got + " does not match " +
                            std::string(kSavedModelJsonName) + "'s " + sha +
                            " (corrupt weight file)");
  }
  ASSIGN_OR_RETURN(Array array, ParseNpy(bytes, path));
  if (array.dtype() != DType::kFloat32) {
    return Status::InvalidArgument(path + ": dtype " + std::string(DTypeName(array.dtype())) +
                                   ", weights must be float32");
  }
  nn::Tensor& dst = weight->var.mutable_value();
  if (nn::Shape(array.shape()) != dst.shape()) {
    return Status::InvalidArgument(path + ": shape " + ShapeToString(array.shape()) +
                                   " does not match layer \"" + layer.name() + "\" weight \"" +
                                   name + "\" of shape " + ShapeToString(dst.shape()));
  }
  ASSIGN_OR_RETURN(nn::Tensor t, nn::Tensor::FromArray(array));
  dst.CopyFrom(t);
  return Status::Ok();
}

Result<int> NodeIndex(const Json& j, std::string_view key, size_t limit, const std::string& where) {
  ASSIGN_OR_RETURN(int64_t i, JsonInt(j, key, where));
  if (i < 0 || static_cast<size_t>(i) >= limit) {
    return Status::InvalidArgument(where + ": node index " + std::to_string(i) +
                                   " is out of range [0, " + std::to_string(limit) + ")");
  }
  return static_cast<int>(i);
}

Result<std::unique_ptr<nn::Model>> ModelFromJson(const std::string& dir, const Json& mj,
                                                 const std::string& where, Env* env) {
  ASSIGN_OR_RETURN(std::string model_name, JsonString(mj, "name", where));
  ASSIGN_OR_RETURN(const Json* layers_json, JsonArray(mj, "layers", where));
  ASSIGN_OR_RETURN(const Json* nodes_json, JsonArray(mj, "nodes", where));
  ASSIGN_OR_RETURN(const Json* inputs_json, JsonArray(mj, "inputs", where));
  ASSIGN_OR_RETURN(const Json* outputs_json, JsonArray(mj, "outputs", where));

  // Layers by name, rebuilt from class name + config.
  std::map<std::string, std::shared_ptr<nn::Layer>> layers;
  std::map<std::string, size_t> layer_index;
  for (size_t i = 0; i < layers_json->size(); ++i) {
    const Json& lj = (*layers_json)[i];
    const std::string lw = where + ".layers[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(std::string class_name, JsonString(lj, "class_name", lw));
    ASSIGN_OR_RETURN(const Json* config, JsonObject(lj, "config", lw));
    ASSIGN_OR_RETURN(std::shared_ptr<nn::Layer> layer, CreateLayer(class_name, *config, lw));
    if (!layers.emplace(layer->name(), layer).second) {
      return Status::InvalidArgument(lw + ": duplicate layer name \"" + layer->name() + "\"");
    }
    layer_index[layer->name()] = i;
  }
  // The graph, node by node (inbound nodes come first).
  std::vector<nn::SymbolicTensor> values;
  for (size_t i = 0; i < nodes_json->size(); ++i) {
    const Json& nj = (*nodes_json)[i];
    const std::string nw = where + ".nodes[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(std::string layer_name, JsonString(nj, "layer", nw));
    ASSIGN_OR_RETURN(std::vector<int64_t> inbound, JsonIntList(nj, "inbound", nw));
    auto it = layers.find(layer_name);
    if (it == layers.end()) {
      return Status::InvalidArgument(nw + ": layer \"" + layer_name + "\" is not in layers");
    }
    auto* input_layer = dynamic_cast<nn::layers::InputLayer*>(it->second.get());
    if (input_layer != nullptr) {
      if (!inbound.empty()) {
        return Status::InvalidArgument(nw + ": InputLayer \"" + layer_name +
                                       "\" cannot have inbound nodes");
      }
      ASSIGN_OR_RETURN(nn::SymbolicTensor t, nn::Input(input_layer->shape(), layer_name));
      values.push_back(std::move(t));
      continue;
    }
    std::vector<nn::SymbolicTensor> args;
    for (int64_t in : inbound) {
      if (in < 0 || static_cast<size_t>(in) >= i) {
        return Status::InvalidArgument(nw + ": inbound node " + std::to_string(in) +
                                       " must refer to an earlier node");
      }
      args.push_back(values[static_cast<size_t>(in)]);
    }
    ASSIGN_OR_RETURN(nn::SymbolicTensor t, nn::ApplyLayer(it->second, std::move(args)));
    values.push_back(std::move(t));
  }
  std::vector<nn::SymbolicTensor> inputs, outputs;
  for (size_t i = 0; i < inputs_json->size(); ++i) {
    ASSIGN_OR_RETURN(int node, NodeIndex((*inputs_json)[i], "node", values.size(),
                                         where + ".inputs[" + std::to_string(i) + "]"));
    inputs.push_back(values[static_cast<size_t>(node)]);
  }
  for (size_t i = 0; i < outputs_json->size(); ++i) {
    ASSIGN_OR_RETURN(int node, NodeIndex((*outputs_json)[i], "node", values.size(),
                                         where + ".outputs[" + std::to_string(i) + "]"));
    outputs.push_back(values[static_cast<size_t>(node)]);
  }
  ASSIGN_OR_RETURN(nn::Model model, nn::Model::Create(inputs, outputs, model_name));

  // Weights: every weight of every rebuilt layer must be listed and verified.
  for (nn::Layer* layer : model.layers()) {
    auto idx = layer_index.find(layer->name());
    if (idx == layer_index.end()) continue;  // an Input() layer: no weights
    const Json& lj = (*layers_json)[idx->second];
    const std::string lw = where + ".layers[" + std::to_string(idx->second) + "]";
    ASSIGN_OR_RETURN(const Json* weights, JsonArray(lj, "weights", lw));
    std::set<std::string> loaded;
    for (size_t k = 0; k < weights->size(); ++k) {
      RETURN_IF_ERROR(LoadWeight(dir, (*weights)[k], lw + ".weights[" + std::to_string(k) + "]",
                                 *layer, loaded, env));
    }
    for (const nn::Weight& w : layer->weights()) {
      if (!loaded.count(w.name)) {
        return Status::InvalidArgument(lw + ": weight \"" + w.name + "\" of layer \"" +
                                       layer->name() + "\" is not listed");
      }
    }
  }
  return std::make_unique<nn::Model>(std::move(model));
}

}  // namespace

const Signature* LoadedModel::FindSignature(std::string_view name) const {
  for (const Signature& s : signatures) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Status Save(const nn::Model& model, const std::string& dir, std::span<const Signature> signatures,
            const SaveOptions& options) {
  std::set<std::string> names;
  for (const Signature& sig : signatures) {
    RETURN_IF_ERROR(ValidateSignature(sig, model));
    if (!names.insert(sig.name).second) {
      return Status::InvalidArgument(dir + ": signature \"" + sig.name + "\" is given twice");
    }
  }
  Env* env = options.env;
  ASSIGN_OR_RETURN(std::unique_ptr<AtomicDir> out, AtomicDir::Create(dir, options.overwrite, env));
  RETURN_IF_ERROR(env->CreateDirs(JoinPath(out->temp_path(), kVariablesDir)));
  ASSIGN_OR_RETURN(Json model_json, ModelToJson(model, out->temp_path(), env));
  Json sigs = Json::object();
  for (const Signature& sig : signatures) sigs[sig.name] = SignatureToJson(sig);
  const Json root = {{"format", kSavedModelFormat},
                     {"format_version", kSavedModelFormatVersion},
                     {"model", std::move(model_json)},
                     {"signatures", std::move(sigs)}};
  RETURN_IF_ERROR(
      WriteFileAtomic(JoinPath(out->temp_path(), kSavedModelJsonName), root.dump(1) + "\n", env));
  return out->Commit();
}

Result<LoadedModel> Load(const std::string& dir, Env* env) {
  const std::string path = JoinPath(dir, kSavedModelJsonName);
  if (!env->Exists(path)) {
    return Status::NotFound(path + ": not found (not an edgepipe saved model folder)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, env));
  const Json root = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Status::DataLoss(path + ": not valid JSON");
  ASSIGN_OR_RETURN(std::string format, JsonString(root, "format", path));
  if (format != kSavedModelFormat) {
    return Status::InvalidArgument(path + ": format \"" + format + "\" is not \"" +
                                   std::string(kSavedModelFormat) + "\"");
  }
  LoadedModel loaded;
  ASSIGN_OR_RETURN(loaded.format_version, JsonInt(root, "format_version", path));
  if (loaded.format_version > kSavedModelFormatVersion) {
    return Status::Unimplemented(path + ": format_version " +
                                 std::to_string(loaded.format_version) +
                                 " is newer than this edgepipe reads (up to " +
                                 std::to_string(kSavedModelFormatVersion) + ")");
  }
  if (loaded.format_version < 1) {
    return Status::InvalidArgument(path + ": format_version " +
                                   std::to_string(loaded.format_version) + " must be >= 1");
  }
  ASSIGN_OR_RETURN(const Json* model_json, JsonObject(root, "model", path));
  ASSIGN_OR_RETURN(loaded.model, ModelFromJson(dir, *model_json, path + ": model", env));
  loaded.output_names = OutputNames(*loaded.model);
  ASSIGN_OR_RETURN(const Json* sigs, JsonObject(root, "signatures", path));
  for (const auto& [name, sj] : sigs->items()) {
    ASSIGN_OR_RETURN(Signature sig, SignatureFromJson(name, sj, path + ": signatures." + name));
    Status s = ValidateSignature(sig, *loaded.model);
    if (!s.ok()) return Status::InvalidArgument(path + ": " + s.message());
    loaded.signatures.push_back(std::move(sig));
  }
  return loaded;
}

}  // namespace edgepipe::model
