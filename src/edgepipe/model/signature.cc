#include "edgepipe/model/signature.h"

#include <map>
#include <set>

namespace edgepipe::model {
namespace {

Status SigError(const Signature& sig, const std::string& message) {
  return Status::InvalidArgument("signature \"" + sig.name + "\": " + message);
}

std::string Join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Result<data::FeatureType> ParseFeatureType(std::string_view s, std::string_view where) {
  if (s == "float32") return data::FeatureType::kFloat32;
  if (s == "int64") return data::FeatureType::kInt64;
  if (s == "string") return data::FeatureType::kString;
  return Status::InvalidArgument(std::string(where) + ": feature dtype \"" + std::string(s) +
                                 "\" is unknown (float32, int64 or string)");
}

}  // namespace

std::string_view SignatureKindName(SignatureKind kind) {
  return kind == SignatureKind::kExamples ? "examples" : "tensors";
}

Signature ExampleSignature(std::string name, std::vector<data::FeatureSpec> features) {
  Signature s;
  s.name = std::move(name);
  s.kind = SignatureKind::kExamples;
  s.features = std::move(features);
  return s;
}

Signature TensorSignature(std::string name, std::vector<TensorSpec> inputs) {
  Signature s;
  s.name = std::move(name);
  s.kind = SignatureKind::kTensors;
  s.inputs = std::move(inputs);
  return s;
}

std::vector<std::string> OutputNames(const nn::Model& model) {
  const std::vector<nn::Model::NodeView> nodes = model.graph_nodes();
  std::vector<std::string> out;
  std::set<std::string> used;
  for (int o : model.output_node_indices()) {
    const std::string base = nodes[static_cast<size_t>(o)].layer->name();
    std::string name = base;
    for (int k = 1; used.count(name); ++k) name = base + "_" + std::to_string(k);
    used.insert(name);
    out.push_back(name);
  }
  return out;
}

Status ValidateSignature(const Signature& sig, const nn::Model& model) {
  if (sig.name.empty()) return Status::InvalidArgument("signature: name is empty");
  const std::vector<std::string> names = model.input_names();
  const std::vector<nn::Shape> shapes = model.input_shapes();
  std::map<std::string, nn::Shape> model_inputs;
  for (size_t i = 0; i < names.size(); ++i) model_inputs[names[i]] = shapes[i];

  std::set<std::string> fed;
  auto lookup = [&](const std::string& name) -> Result<const nn::Shape*> {
    auto it = model_inputs.find(name);
    if (it == model_inputs.end()) {
      return SigError(sig, "input \"" + name + "\" is not an input of model \"" + model.name() +
                               "\" (inputs: " + Join(names) + ")");
    }
    if (!fed.insert(name).second) return SigError(sig, "input \"" + name + "\" is given twice");
    return &it->second;
  };
  if (sig.kind == SignatureKind::kExamples) {
    if (!sig.inputs.empty()) return SigError(sig, "an examples signature takes no tensor inputs");
    RETURN_IF_ERROR(data::ValidateFeatureSpecs(sig.features));
    for (const data::FeatureSpec& f : sig.features) {
      ASSIGN_OR_RETURN(const nn::Shape* shape, lookup(f.name));
      if (f.type == data::FeatureType::kString) {
        return SigError(sig, "feature \"" + f.name +
                                 "\" is a string feature; model inputs take float32 or int64");
      }
      const nn::Shape per_example(shape->begin() + 1, shape->end());
      ASSIGN_OR_RETURN(int64_t n, NumElements(f.shape));
      if (n != nn::ShapeSize(per_example)) {
        return SigError(sig, "feature \"" + f.name + "\" has shape " + ShapeToString(f.shape) +
                                 " (" + std::to_string(n) + " values), model input needs " +
                                 nn::KerasShapeString(*shape));
      }
    }
  } else {
    if (!sig.features.empty()) return SigError(sig, "a tensors signature takes no features");
    for (const TensorSpec& t : sig.inputs) {
      ASSIGN_OR_RETURN(const nn::Shape* shape, lookup(t.name));
      bool ok = t.shape.size() == shape->size() && !t.shape.empty() && t.shape[0] >= -1;
      for (size_t d = 1; ok && d < t.shape.size(); ++d) ok = t.shape[d] == (*shape)[d];
      if (!ok) {
        return SigError(sig, "input \"" + t.name + "\" has shape " + ShapeToString(t.shape) +
                                 ", model input needs " + nn::KerasShapeString(*shape) +
                                 " (only the batch dim may be -1)");
      }
      if (t.dtype == DType::kBool) {
        return SigError(sig, "input \"" + t.name + "\" has dtype bool; needs a numeric dtype");
      }
    }
  }
  for (const std::string& n : names) {
    if (!fed.count(n)) {
      return SigError(sig, "model input \"" + n + "\" is not fed by the signature");
    }
  }
  return Status::Ok();
}

Json SignatureToJson(const Signature& sig) {
  Json j;
  j["kind"] = SignatureKindName(sig.kind);
  if (sig.kind == SignatureKind::kExamples) {
    j["features"] = Json::array();
    for (const data::FeatureSpec& f : sig.features) {
      Json fj = {{"name", f.name}, {"dtype", data::FeatureTypeName(f.type)}, {"shape", f.shape}};
      if (f.has_default) {
        if (f.type == data::FeatureType::kFloat32) fj["default"] = f.default_float;
        if (f.type == data::FeatureType::kInt64) fj["default"] = f.default_int64;
        if (f.type == data::FeatureType::kString) fj["default"] = f.default_string;
      }
      j["features"].push_back(std::move(fj));
    }
  } else {
    j["inputs"] = Json::array();
    for (const TensorSpec& t : sig.inputs) {
      j["inputs"].push_back({{"name", t.name}, {"dtype", DTypeName(t.dtype)}, {"shape", t.shape}});
    }
  }
  return j;
}

Result<Signature> SignatureFromJson(std::string name, const Json& json, std::string_view where) {
  const std::string w = std::string(where);
  Signature sig;
  sig.name = std::move(name);
  ASSIGN_OR_RETURN(std::string kind, JsonString(json, "kind", w));
  if (kind == "examples") {
    sig.kind = SignatureKind::kExamples;
    ASSIGN_OR_RETURN(const Json* features, JsonArray(json, "features", w));
    for (size_t i = 0; i < features->size(); ++i) {
      const Json& fj = (*features)[i];
      const std::string fw = w + ".features[" + std::to_string(i) + "]";
      data::FeatureSpec f;
      ASSIGN_OR_RETURN(f.name, JsonString(fj, "name", fw));
      ASSIGN_OR_RETURN(std::string dtype, JsonString(fj, "dtype", fw));
      ASSIGN_OR_RETURN(f.type, ParseFeatureType(dtype, fw));
      ASSIGN_OR_RETURN(f.shape, JsonIntList(fj, "shape", fw));
      if (fj.contains("default")) {
        const Json& d = fj["default"];
        bool ok = d.is_array();
        for (const Json& e : d) {
          if (!ok) break;
          ok = f.type == data::FeatureType::kString  ? e.is_string()
               : f.type == data::FeatureType::kInt64 ? e.is_number_integer()
                                                     : e.is_number();
        }
        if (!ok) {
          return Status::InvalidArgument(fw + ": field \"default\" must be a list of " + dtype +
                                         " values");
        }
        f.has_default = true;
        for (const Json& e : d) {
          if (f.type == data::FeatureType::kString)
            f.default_string.push_back(e.get<std::string>());
          if (f.type == data::FeatureType::kInt64) f.default_int64.push_back(e.get<int64_t>());
          if (f.type == data::FeatureType::kFloat32) f.default_float.push_back(e.get<float>());
        }
      }
      sig.features.push_back(std::move(f));
    }
  } else if (kind == "tensors") {
    sig.kind = SignatureKind::kTensors;
    ASSIGN_OR_RETURN(const Json* inputs, JsonArray(json, "inputs", w));
    for (size_t i = 0; i < inputs->size(); ++i) {
      const Json& tj = (*inputs)[i];
      const std::string tw = w + ".inputs[" + std::to_string(i) + "]";
      TensorSpec t;
      ASSIGN_OR_RETURN(t.name, JsonString(tj, "name", tw));
      ASSIGN_OR_RETURN(std::string dtype, JsonString(tj, "dtype", tw));
      Result<DType> dt = ParseDType(dtype);
      if (!dt.ok()) {
        return Status::InvalidArgument(tw + ": dtype \"" + dtype + "\" is unknown");
      }
      t.dtype = *dt;
      ASSIGN_OR_RETURN(t.shape, JsonIntList(tj, "shape", tw));
      sig.inputs.push_back(std::move(t));
    }
  } else {
    return Status::InvalidArgument(w + ": kind \"" + kind + "\" is unknown (examples or tensors)");
  }
  return sig;
}

}  // namespace edgepipe::model
