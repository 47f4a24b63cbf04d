// The TransformGraph artifact as JSON (docs/formats.md, "TransformGraph").
#include <cmath>
#include <string>

#include "edgepipe/components/transform_graph.h"
#include "edgepipe/model/json_util.h"

namespace edgepipe::components {

namespace {

using model::Json;

// True when `s` is well-formed UTF-8 (JSON strings must be).
bool IsUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// A token as a JSON string, or {"hex": "..."} when it is not UTF-8.
Json TokenJson(const std::string& token) {
  if (IsUtf8(token)) return token;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char c : token) {
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  return Json{{"hex", hex}};
}

Result<std::string> TokenFromJson(const Json& j, const std::string& where) {
  if (j.is_string()) return j.get<std::string>();
  ASSIGN_OR_RETURN(std::string hex, model::JsonString(j, "hex", where));
  if (hex.size() % 2 != 0) return Status::InvalidArgument(where + ": odd-length hex token");
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t k = 0; k < 2; ++k) {
      const char c = hex[i + k];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return Status::InvalidArgument(where + ": bad hex digit '" + c + "'");
      v = v * 16 + d;
    }
    out += static_cast<char>(v);
  }
  return out;
}

Json OptionalNumber(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Result<std::optional<double>> OptionalNumberFrom(const Json& j, std::string_view key,
                                                 const std::string& where) {
  if (!j.contains(key) || j.at(std::string(key)).is_null()) return std::optional<double>();
  ASSIGN_OR_RETURN(double v, model::JsonNumber(j, key, where));
  return std::optional<double>(v);
}

Result<data::FeatureType> ParseType(std::string_view s, const std::string& where) {
  for (auto t :
       {data::FeatureType::kFloat32, data::FeatureType::kInt64, data::FeatureType::kString}) {
    if (data::FeatureTypeName(t) == s) return t;
  }
  return Status::InvalidArgument(where + ": type \"" + std::string(s) +
                                 "\" is not float32, int64 or string");
}

Json NodeJson(const TransformNode& n) {
  Json j = {{"op", TransformOpName(n.op)}};
  if (n.op != TransformOp::kInput) j["inputs"] = n.inputs;
  switch (n.op) {
    case TransformOp::kInput:
      j["feature"] = n.feature;
      break;
    case TransformOp::kAffine:
      j["scale"] = n.scale;
      j["offset"] = n.offset;
      break;
    case TransformOp::kClip:
      j["lo"] = OptionalNumber(n.lo);
      j["hi"] = OptionalNumber(n.hi);
      break;
    case TransformOp::kScaleByMinMax:
      j["output_min"] = OptionalNumber(n.lo);
      j["output_max"] = OptionalNumber(n.hi);
      j["min"] = n.stat_a;
      j["max"] = n.stat_b;
      break;
    case TransformOp::kScaleToZScore:
      j["mean"] = n.stat_a;
      j["var"] = n.stat_b;
      break;
    case TransformOp::kVocabulary: {
      j["top_k"] = n.top_k;
      j["frequency_threshold"] = n.frequency_threshold;
      j["num_oov_buckets"] = n.num_oov_buckets;
      j["default_value"] = n.default_value;
      Json v = Json::array();
      for (const std::string& t : n.vocabulary) v.push_back(TokenJson(t));
      j["vocabulary"] = std::move(v);
      break;
    }
    case TransformOp::kBucketize:
      j["num_buckets"] = n.num_buckets;
      j["boundaries"] = n.boundaries;
      break;
    default:
      break;
  }
  if (n.op == TransformOp::kScaleByMinMax || n.op == TransformOp::kScaleToZScore) {
    j["scale"] = n.applied_scale;
    j["offset"] = n.applied_offset;
  }
  if (IsAnalyzer(n.op)) j["count"] = n.count;
  return j;
}

Result<TransformNode> NodeFromJson(const Json& j, const std::string& where) {
  TransformNode n;
  ASSIGN_OR_RETURN(std::string op, model::JsonString(j, "op", where));
  ASSIGN_OR_RETURN(n.op, ParseTransformOp(op));
  if (n.op == TransformOp::kInput) {
    ASSIGN_OR_RETURN(n.feature, model::JsonString(j, "feature", where));
    return n;
  }
  ASSIGN_OR_RETURN(std::vector<int64_t> inputs, model::JsonIntList(j, "inputs", where));
  for (int64_t in : inputs) n.inputs.push_back(static_cast<int>(in));
  if (n.op != TransformOp::kAffine && !IsAnalyzer(n.op) && n.op != TransformOp::kClip) {
    return n;
  }
  switch (n.op) {
    case TransformOp::kAffine: {
      ASSIGN_OR_RETURN(n.scale, model::JsonNumber(j, "scale", where));
      ASSIGN_OR_RETURN(n.offset, model::JsonNumber(j, "offset", where));
      return n;
    }
    case TransformOp::kClip: {
      ASSIGN_OR_RETURN(n.lo, OptionalNumberFrom(j, "lo", where));
      ASSIGN_OR_RETURN(n.hi, OptionalNumberFrom(j, "hi", where));
      return n;
    }
    case TransformOp::kScaleByMinMax: {
      ASSIGN_OR_RETURN(n.lo, OptionalNumberFrom(j, "output_min", where));
      ASSIGN_OR_RETURN(n.hi, OptionalNumberFrom(j, "output_max", where));
      ASSIGN_OR_RETURN(n.stat_a, model::JsonNumber(j, "min", where));
      ASSIGN_OR_RETURN(n.stat_b, model::JsonNumber(j, "max", where));
      break;
    }
    case TransformOp::kScaleToZScore: {
      ASSIGN_OR_RETURN(n.stat_a, model::JsonNumber(j, "mean", where));
      ASSIGN_OR_RETURN(n.stat_b, model::JsonNumber(j, "var", where));
      break;
    }
    case TransformOp::kVocabulary: {
      ASSIGN_OR_RETURN(n.top_k, model::JsonInt(j, "top_k", where));
      ASSIGN_OR_RETURN(n.frequency_threshold, model::JsonInt(j, "frequency_threshold", where));
      ASSIGN_OR_RETURN(n.num_oov_buckets, model::JsonInt(j, "num_oov_buckets", where));
      ASSIGN_OR_RETURN(n.default_value, model::JsonInt(j, "default_value", where));
      ASSIGN_OR_RETURN(const Json* v, model::JsonArray(j, "vocabulary", where));
      for (size_t k = 0; k < v->size(); ++k) {
        ASSIGN_OR_RETURN(std::string t,
                         TokenFromJson((*v)[k], where + ".vocabulary[" + std::to_string(k) + "]"));
        n.vocabulary.push_back(std::move(t));
      }
      break;
    }
    case TransformOp::kBucketize: {
      ASSIGN_OR_RETURN(n.num_buckets, model::JsonInt(j, "num_buckets", where));
      ASSIGN_OR_RETURN(const Json* b, model::JsonArray(j, "boundaries", where));
      for (const Json& x : *b) {
        if (!x.is_number()) {
          return Status::InvalidArgument(where + ": boundaries must be numbers");
        }
        n.boundaries.push_back(x.get<float>());
      }
      break;
    }
    default:
      break;
  }
  if (n.op == TransformOp::kScaleByMinMax || n.op == TransformOp::kScaleToZScore) {
    ASSIGN_OR_RETURN(double s, model::JsonNumber(j, "scale", where));
    ASSIGN_OR_RETURN(double o, model::JsonNumber(j, "offset", where));
    n.applied_scale = static_cast<float>(s);
    n.applied_offset = static_cast<float>(o);
  }
  ASSIGN_OR_RETURN(n.count, model::JsonInt(j, "count", where));
  n.analyzed = true;
  return n;
}

}  // namespace

std::string TransformGraphToJson(const TransformGraph& graph) {
  Json raw = Json::array();
  for (const data::FeatureSpec& s : graph.raw_features()) {
    raw.push_back({{"name", s.name}, {"type", data::FeatureTypeName(s.type)}, {"shape", s.shape}});
  }
  Json nodes = Json::array();
  for (const TransformNode& n : graph.nodes()) nodes.push_back(NodeJson(n));
  Json outputs = Json::array();
  for (const TransformOutput& o : graph.outputs()) {
    const TransformNode& n = graph.nodes()[static_cast<size_t>(o.node)];
    outputs.push_back({{"name", o.name},
                       {"node", o.node},
                       {"type", data::FeatureTypeName(n.type)},
                       {"shape", n.shape}});
  }
  Json j = {{"format", kTransformGraphFormat},
            {"format_version", kTransformGraphFormatVersion},
            {"raw_features", std::move(raw)},
            {"nodes", std::move(nodes)},
            {"outputs", std::move(outputs)}};
  // Tokens are valid UTF-8 (TokenJson); NaN/inf statistics become null.
  return j.dump(1, ' ', false, Json::error_handler_t::replace) + "\n";
}

Result<TransformGraph> TransformGraphFromJson(std::string_view text, std::string_view where) {
  const std::string w(where);
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(w + ": not valid JSON");
  ASSIGN_OR_RETURN(std::string format, model::JsonString(j, "format", w));
  if (format != kTransformGraphFormat) {
    return Status::InvalidArgument(w + ": format \"" + format + "\", expected \"" +
                                   std::string(kTransformGraphFormat) + "\"");
  }
  ASSIGN_OR_RETURN(int64_t version, model::JsonInt(j, "format_version", w));
  if (version > kTransformGraphFormatVersion || version < 1) {
    return Status::Unimplemented(w + ": format_version " + std::to_string(version) +
                                 " is not supported (this build reads 1.." +
                                 std::to_string(kTransformGraphFormatVersion) + ")");
  }
  std::vector<data::FeatureSpec> raw;
  ASSIGN_OR_RETURN(const Json* rj, model::JsonArray(j, "raw_features", w));
  for (size_t i = 0; i < rj->size(); ++i) {
    const std::string fw = w + ": raw_features[" + std::to_string(i) + "]";
    data::FeatureSpec s;
    ASSIGN_OR_RETURN(s.name, model::JsonString((*rj)[i], "name", fw));
    ASSIGN_OR_RETURN(std::string type, model::JsonString((*rj)[i], "type", fw));
    ASSIGN_OR_RETURN(s.type, ParseType(type, fw));
    ASSIGN_OR_RETURN(s.shape, model::JsonIntList((*rj)[i], "shape", fw));
    raw.push_back(std::move(s));
  }
  std::vector<TransformNode> nodes;
  ASSIGN_OR_RETURN(const Json* nj, model::JsonArray(j, "nodes", w));
  for (size_t i = 0; i < nj->size(); ++i) {
    ASSIGN_OR_RETURN(TransformNode n,
                     NodeFromJson((*nj)[i], w + ": nodes[" + std::to_string(i) + "]"));
    nodes.push_back(std::move(n));
  }
  std::vector<TransformOutput> outputs;
  ASSIGN_OR_RETURN(const Json* oj, model::JsonArray(j, "outputs", w));
  for (size_t i = 0; i < oj->size(); ++i) {
    const std::string ow = w + ": outputs[" + std::to_string(i) + "]";
    TransformOutput o;
    ASSIGN_OR_RETURN(o.name, model::JsonString((*oj)[i], "name", ow));
    ASSIGN_OR_RETURN(int64_t node, model::JsonInt((*oj)[i], "node", ow));
    if (node < 0 || node > INT32_MAX) return Status::InvalidArgument(ow + ": bad node index");
    o.node = static_cast<int>(node);
    outputs.push_back(std::move(o));
  }
  return TransformGraph::FromParts(std::move(raw), std::move(nodes), std::move(outputs), w);
}

Status SaveTransformGraph(const TransformGraph& graph, const std::string& dir, Env* env) {
  if (!graph.analyzed()) {
    return Status::FailedPrecondition("transform graph for " + dir +
                                      " is not analyzed; run Analyze before saving");
  }
  RETURN_IF_ERROR(env->CreateDirs(dir));
  return WriteFileAtomic(JoinPath(dir, kTransformGraphJsonName), TransformGraphToJson(graph), env);
}

Result<TransformGraph> LoadTransformGraph(const std::string& dir, Env* env) {
  const std::string path = JoinPath(dir, kTransformGraphJsonName);
  if (!env->Exists(path)) {
    return Status::NotFound(path + ": no transform graph (not a TransformGraph artifact)");
  }
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, env));
  return TransformGraphFromJson(text, path);
}

}  // namespace edgepipe::components
