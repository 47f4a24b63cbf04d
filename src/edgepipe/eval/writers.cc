#include "edgepipe/eval/writers.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgepipe::eval {
namespace {

using Json = nlohmann::json;

constexpr char kMetricsFile[] = "metrics.json";
constexpr char kPlotsFile[] = "plots.json";
constexpr char kValidationsFile[] = "validations.json";
constexpr char kConfigFile[] = "eval_config.pbtxt";
constexpr char kBlessed[] = "BLESSED";
constexpr char kNotBlessed[] = "NOT_BLESSED";

// JSON has no NaN or infinity: non-finite values are written as null.
Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

Json SliceKeyJson(const SliceKey& key) {
  Json out = Json::array();
  for (const auto& [feature, value] : key.features) out.push_back(Json::array({feature, value}));
  return out;
}

Json MetricValueJson(const MetricValue& v) {
  Json out = Json::object();
  out["value"] = Number(v.value);
  if (v.ci) {
    out["ci"] = {{"lower", Number(v.ci->lower)},
                 {"upper", Number(v.ci->upper)},
                 {"std_error", Number(v.ci->std_error)}};
  }
  return out;
}

// {"metrics": {name: {"value", "ci", "sub_keys": {sub: {...}}}}, "diff": {...}}
// for one model of one slice.
Json ModelMetricsJson(const MetricMap& metrics, const std::string& model) {
  Json plain = Json::object();
  Json diff = Json::object();
  for (const auto& [key, value] : metrics) {
    if (key.model_name != model) continue;
    Json& group = key.is_diff ? diff : plain;
    Json& entry = group[key.name];
    if (entry.is_null()) entry = Json::object();
    Json v = MetricValueJson(value);
    if (key.sub_key.empty()) {
      for (auto& [k, x] : v.items()) entry[k] = x;
    } else {
      entry["sub_keys"][key.sub_key] = std::move(v);
    }
  }
  Json out = {{"metrics", std::move(plain)}};
  if (!diff.empty()) out["diff"] = std::move(diff);
  return out;
}

Json PlotsJsonOf(const Plots& plots) {
  Json out = Json::object();
  if (plots.multi_class_confusion) {
    const ConfusionMatrix& m = *plots.multi_class_confusion;
    Json rows = Json::array();
    for (int r = 0; r < m.num_classes; ++r) {
      Json row = Json::array();
      for (int c = 0; c < m.num_classes; ++c) {
        const size_t i = static_cast<size_t>(r) * m.num_classes + c;
        row.push_back(Number(i < m.counts.size() ? m.counts[i] : 0.0));
      }
      rows.push_back(std::move(row));
    }
    out["multi_class_confusion_matrix"] = {{"num_classes", m.num_classes},
                                           {"counts", std::move(rows)}};
  }
  if (!plots.confusion_at_thresholds.empty()) {
    Json list = Json::array();
    for (const ThresholdCounts& t : plots.confusion_at_thresholds) {
      list.push_back({{"threshold", Number(t.threshold)},
                      {"tp", Number(t.tp)},
                      {"fp", Number(t.fp)},
                      {"tn", Number(t.tn)},
                      {"fn", Number(t.fn)},
                      {"precision", Number(t.precision)},
                      {"recall", Number(t.recall)}});
    }
    out["confusion_matrix_at_thresholds"] = std::move(list);
  }
  if (!plots.calibration.empty()) {
    Json list = Json::array();
    for (const CalibrationBucket& b : plots.calibration) {
      list.push_back({{"lower", Number(b.lower)},
                      {"upper", Number(b.upper)},
                      {"weight", Number(b.weight)},
                      {"sum_label", Number(b.sum_label)},
                      {"sum_prediction", Number(b.sum_prediction)}});
    }
    out["calibration"] = std::move(list);
  }
  return out;
}

// ---- reading -------------------------------------------------------------

// Typed access to a parsed document; errors read "<file>: <json path>: <rule>".
class JsonReader {
 public:
  explicit JsonReader(std::string file) : file_(std::move(file)) {}

  Status Error(const std::string& where, const std::string& rule) const {
    return Status::DataLoss(file_ + ": " + where + ": " + rule);
  }
  Result<const Json*> Member(const Json& obj, const std::string& key,
                             const std::string& where) const {
    if (!obj.is_object()) return Error(where, "must be an object");
    auto it = obj.find(key);
    if (it == obj.end()) return Error(where, "member \"" + key + "\" is missing");
    return &*it;
  }
  Result<const Json*> Typed(const Json& obj, const std::string& key, const std::string& where,
                            Json::value_t type, const char* type_name) const {
    ASSIGN_OR_RETURN(const Json* v, Member(obj, key, where));
    if (v->type() != type) return Error(where + "." + key, std::string("must be ") + type_name);
    return v;
  }
  Result<const Json*> Array(const Json& obj, const std::string& key,
                            const std::string& where) const {
    return Typed(obj, key, where, Json::value_t::array, "an array");
  }
  Result<const Json*> Object(const Json& obj, const std::string& key,
                             const std::string& where) const {
    return Typed(obj, key, where, Json::value_t::object, "an object");
  }
  Result<std::string> String(const Json& obj, const std::string& key,
                             const std::string& where) const {
    ASSIGN_OR_RETURN(const Json* v, Typed(obj, key, where, Json::value_t::string, "a string"));
    return v->get<std::string>();
  }
  Result<bool> Bool(const Json& obj, const std::string& key, const std::string& where) const {
    ASSIGN_OR_RETURN(const Json* v, Typed(obj, key, where, Json::value_t::boolean, "a boolean"));
    return v->get<bool>();
  }
  // A number; null reads as NaN.
  Result<double> Double(const Json& v, const std::string& where) const {
    if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
    if (!v.is_number()) return Error(where, "must be a number or null");
    return v.get<double>();
  }
  Result<double> Double(const Json& obj, const std::string& key, const std::string& where) const {
    ASSIGN_OR_RETURN(const Json* v, Member(obj, key, where));
    return Double(*v, where + "." + key);
  }
  Result<int64_t> Int(const Json& obj, const std::string& key, const std::string& where) const {
    ASSIGN_OR_RETURN(const Json* v, Member(obj, key, where));
    if (!v->is_number_integer()) return Error(where + "." + key, "must be an integer");
    return v->get<int64_t>();
  }
  Result<SliceKey> Slice(const Json& obj, const std::string& where) const {
    ASSIGN_OR_RETURN(const Json* list, Array(obj, "slice_key", where));
    SliceKey key;
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& pair = (*list)[i];
      if (!pair.is_array() || pair.size() != 2 || !pair[0].is_string() || !pair[1].is_string()) {
        return Error(where + ".slice_key[" + std::to_string(i) + "]",
                     "must be a [feature, value] pair of strings");
      }
      key.features.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
    return key;
  }

 private:
  std::string file_;
};

Result<Json> ReadJsonFile(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, env));
  Json doc = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::DataLoss(path + ": not valid JSON");
  if (!doc.is_object()) return Status::DataLoss(path + ": top level must be an object");
  auto version = doc.find("format_version");
  if (version == doc.end() || !version->is_number_integer() ||
      version->get<int>() != kEvalOutputFormatVersion) {
    return Status::DataLoss(path + ": format_version must be " +
                            std::to_string(kEvalOutputFormatVersion));
  }
  return doc;
}

Result<MetricValue> ReadMetricValue(const JsonReader& r, const Json& obj,
                                    const std::string& where) {
  MetricValue v;
  ASSIGN_OR_RETURN(v.value, r.Double(obj, "value", where));
  auto ci = obj.find("ci");
  if (ci != obj.end()) {
    ConfidenceInterval c;
    ASSIGN_OR_RETURN(c.lower, r.Double(*ci, "lower", where + ".ci"));
    ASSIGN_OR_RETURN(c.upper, r.Double(*ci, "upper", where + ".ci"));
    ASSIGN_OR_RETURN(c.std_error, r.Double(*ci, "std_error", where + ".ci"));
    v.ci = c;
  }
  return v;
}

// Reads {name: {"value", "ci", "sub_keys"}} into `out`.
Status ReadMetricGroup(const JsonReader& r, const Json& group, const std::string& model,
                       bool is_diff, const std::string& where, MetricMap* out) {
  if (!group.is_object()) return r.Error(where, "must be an object");
  for (const auto& [name, entry] : group.items()) {
    const std::string ewhere = where + "." + name;
    if (!entry.is_object()) return r.Error(ewhere, "must be an object");
    if (entry.contains("value")) {
      ASSIGN_OR_RETURN(MetricValue v, ReadMetricValue(r, entry, ewhere));
      (*out)[MetricKey{name, model, "", is_diff}] = v;
    }
    auto subs = entry.find("sub_keys");
    if (subs != entry.end()) {
      if (!subs->is_object()) return r.Error(ewhere + ".sub_keys", "must be an object");
      for (const auto& [sub, v] : subs->items()) {
        ASSIGN_OR_RETURN(MetricValue sv, ReadMetricValue(r, v, ewhere + ".sub_keys." + sub));
        (*out)[MetricKey{name, model, sub, is_diff}] = sv;
      }
    }
  }
  return Status::Ok();
}

Result<Plots> ReadPlots(const JsonReader& r, const Json& obj, const std::string& where) {
  Plots plots;
  if (!obj.is_object()) return r.Error(where, "must be an object");
  if (obj.contains("multi_class_confusion_matrix")) {
    const std::string w = where + ".multi_class_confusion_matrix";
    const Json& m = obj["multi_class_confusion_matrix"];
    ConfusionMatrix cm;
    ASSIGN_OR_RETURN(int64_t n, r.Int(m, "num_classes", w));
    if (n < 0 || n > 1000000) return r.Error(w + ".num_classes", "out of range");
    cm.num_classes = static_cast<int>(n);
    ASSIGN_OR_RETURN(const Json* rows, r.Array(m, "counts", w));
    if (rows->size() != static_cast<size_t>(n)) {
      return r.Error(w + ".counts", "must have num_classes rows");
    }
    for (size_t i = 0; i < rows->size(); ++i) {
      const Json& row = (*rows)[i];
      if (!row.is_array() || row.size() != static_cast<size_t>(n)) {
        return r.Error(w + ".counts[" + std::to_string(i) + "]",
                       "must be an array of num_classes numbers");
      }
      for (size_t j = 0; j < row.size(); ++j) {
        ASSIGN_OR_RETURN(double c, r.Double(row[j], w + ".counts[" + std::to_string(i) + "][" +
                                                        std::to_string(j) + "]"));
        cm.counts.push_back(c);
      }
    }
    plots.multi_class_confusion = std::move(cm);
  }
  if (obj.contains("confusion_matrix_at_thresholds")) {
    ASSIGN_OR_RETURN(const Json* list, r.Array(obj, "confusion_matrix_at_thresholds", where));
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& e = (*list)[i];
      const std::string w = where + ".confusion_matrix_at_thresholds[" + std::to_string(i) + "]";
      ThresholdCounts t;
      ASSIGN_OR_RETURN(t.threshold, r.Double(e, "threshold", w));
      ASSIGN_OR_RETURN(t.tp, r.Double(e, "tp", w));
      ASSIGN_OR_RETURN(t.fp, r.Double(e, "fp", w));
      ASSIGN_OR_RETURN(t.tn, r.Double(e, "tn", w));
      ASSIGN_OR_RETURN(t.fn, r.Double(e, "fn", w));
      ASSIGN_OR_RETURN(t.precision, r.Double(e, "precision", w));
      ASSIGN_OR_RETURN(t.recall, r.Double(e, "recall", w));
      plots.confusion_at_thresholds.push_back(t);
    }
  }
  if (obj.contains("calibration")) {
    ASSIGN_OR_RETURN(const Json* list, r.Array(obj, "calibration", where));
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& e = (*list)[i];
      const std::string w = where + ".calibration[" + std::to_string(i) + "]";
      CalibrationBucket b;
      ASSIGN_OR_RETURN(b.lower, r.Double(e, "lower", w));
      ASSIGN_OR_RETURN(b.upper, r.Double(e, "upper", w));
      ASSIGN_OR_RETURN(b.weight, r.Double(e, "weight", w));
      ASSIGN_OR_RETURN(b.sum_label, r.Double(e, "sum_label", w));
      ASSIGN_OR_RETURN(b.sum_prediction, r.Double(e, "sum_prediction", w));
      plots.calibration.push_back(b);
    }
  }
  return plots;
}

Status ReadMetrics(const std::string& path, Env* env, EvalResult* out) {
  ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path, env));
  JsonReader r(path);
  ASSIGN_OR_RETURN(out->num_examples, r.Int(doc, "num_examples", "$"));
  ASSIGN_OR_RETURN(out->seconds, r.Double(doc, "seconds", "$"));
  ASSIGN_OR_RETURN(const Json* models, r.Array(doc, "models", "$"));
  for (size_t i = 0; i < models->size(); ++i) {
    const Json& m = (*models)[i];
    const std::string w = "$.models[" + std::to_string(i) + "]";
    ModelInfo info;
    ASSIGN_OR_RETURN(info.name, r.String(m, "name", w));
    ASSIGN_OR_RETURN(info.model_type, r.String(m, "model_type", w));
    ASSIGN_OR_RETURN(info.path, r.String(m, "path", w));
    ASSIGN_OR_RETURN(info.size_bytes, r.Int(m, "size_bytes", w));
    ASSIGN_OR_RETURN(info.latency_ms, r.Double(m, "latency_ms", w));
    ASSIGN_OR_RETURN(info.latency_batch, r.Int(m, "latency_batch", w));
    ASSIGN_OR_RETURN(info.is_baseline, r.Bool(m, "is_baseline", w));
    out->models.push_back(std::move(info));
  }
  ASSIGN_OR_RETURN(const Json* slices, r.Array(doc, "slices", "$"));
  for (size_t i = 0; i < slices->size(); ++i) {
    const Json& s = (*slices)[i];
    const std::string w = "$.slices[" + std::to_string(i) + "]";
    SliceResult slice;
    ASSIGN_OR_RETURN(slice.slice, r.Slice(s, w));
    ASSIGN_OR_RETURN(slice.example_count, r.Double(s, "example_count", w));
    ASSIGN_OR_RETURN(const Json* by_model, r.Object(s, "models", w));
    for (const auto& [model, entry] : by_model->items()) {
      const std::string mw = w + ".models[\"" + model + "\"]";
      ASSIGN_OR_RETURN(const Json* metrics, r.Object(entry, "metrics", mw));
      RETURN_IF_ERROR(ReadMetricGroup(r, *metrics, model, false, mw + ".metrics", &slice.metrics));
      if (entry.contains("diff")) {
        RETURN_IF_ERROR(
            ReadMetricGroup(r, entry["diff"], model, true, mw + ".diff", &slice.metrics));
      }
    }
    out->slices.push_back(std::move(slice));
  }
  return Status::Ok();
}

Status ReadPlotsFile(const std::string& path, Env* env, EvalResult* out) {
  ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path, env));
  JsonReader r(path);
  ASSIGN_OR_RETURN(const Json* slices, r.Array(doc, "slices", "$"));
  for (size_t i = 0; i < slices->size(); ++i) {
    const Json& s = (*slices)[i];
    const std::string w = "$.slices[" + std::to_string(i) + "]";
    ASSIGN_OR_RETURN(SliceKey key, r.Slice(s, w));
    SliceResult* target = nullptr;
    for (SliceResult& existing : out->slices) {
      if (existing.slice == key) target = &existing;
    }
    if (target == nullptr) {
      return r.Error(w, "slice " + key.ToString() + " is not in metrics.json");
    }
    ASSIGN_OR_RETURN(const Json* by_model, r.Object(s, "models", w));
    for (const auto& [model, entry] : by_model->items()) {
      ASSIGN_OR_RETURN(target->plots[model], ReadPlots(r, entry, w + ".models[\"" + model + "\"]"));
    }
  }
  return Status::Ok();
}

Status ReadValidations(const std::string& path, Env* env, ValidationResult* out) {
  ASSIGN_OR_RETURN(Json doc, ReadJsonFile(path, env));
  JsonReader r(path);
  ASSIGN_OR_RETURN(out->ok, r.Bool(doc, "ok", "$"));
  ASSIGN_OR_RETURN(const Json* failures, r.Array(doc, "failures", "$"));
  for (size_t i = 0; i < failures->size(); ++i) {
    const Json& f = (*failures)[i];
    const std::string w = "$.failures[" + std::to_string(i) + "]";
    ValidationFailure failure;
    ASSIGN_OR_RETURN(failure.slice, r.Slice(f, w));
    ASSIGN_OR_RETURN(failure.metric.name, r.String(f, "metric", w));
    ASSIGN_OR_RETURN(failure.metric.model_name, r.String(f, "model", w));
    ASSIGN_OR_RETURN(failure.metric.sub_key, r.String(f, "sub_key", w));
    ASSIGN_OR_RETURN(failure.metric.is_diff, r.Bool(f, "is_diff", w));
    ASSIGN_OR_RETURN(failure.threshold, r.String(f, "threshold", w));
    ASSIGN_OR_RETURN(failure.value, r.Double(f, "value", w));
    ASSIGN_OR_RETURN(failure.message, r.String(f, "message", w));
    out->failures.push_back(std::move(failure));
  }
  ASSIGN_OR_RETURN(const Json* notes, r.Array(doc, "notes", "$"));
  for (size_t i = 0; i < notes->size(); ++i) {
    if (!(*notes)[i].is_string()) {
      return r.Error("$.notes[" + std::to_string(i) + "]", "must be a string");
    }
    out->notes.push_back((*notes)[i].get<std::string>());
  }
  ASSIGN_OR_RETURN(const Json* missing, r.Array(doc, "missing_slices", "$"));
  for (size_t i = 0; i < missing->size(); ++i) {
    ASSIGN_OR_RETURN(SliceKey key,
                     r.Slice((*missing)[i], "$.missing_slices[" + std::to_string(i) + "]"));
    out->missing_slices.push_back(std::move(key));
  }
  return Status::Ok();
}

}  // namespace

Json MetricsToJson(const EvalResult& result) {
  Json models = Json::array();
  for (const ModelInfo& m : result.models) {
    models.push_back({{"name", m.name},
                      {"model_type", m.model_type},
                      {"path", m.path},
                      {"size_bytes", m.size_bytes},
                      {"latency_ms", Number(m.latency_ms)},
                      {"latency_batch", m.latency_batch},
                      {"is_baseline", m.is_baseline}});
  }
  Json slices = Json::array();
  for (const SliceResult& s : result.slices) {
    // Models in config order first, then any other model name in the metrics.
    std::vector<std::string> names;
    for (const ModelInfo& m : result.models) names.push_back(m.name);
    for (const auto& [key, value] : s.metrics) {
      if (std::find(names.begin(), names.end(), key.model_name) == names.end()) {
        names.push_back(key.model_name);
      }
    }
    Json by_model = Json::object();
    for (const std::string& name : names) {
      const bool any = std::any_of(s.metrics.begin(), s.metrics.end(),
                                   [&](const auto& kv) { return kv.first.model_name == name; });
      if (any) by_model[name] = ModelMetricsJson(s.metrics, name);
    }
    slices.push_back({{"slice", s.slice.ToString()},
                      {"slice_key", SliceKeyJson(s.slice)},
                      {"example_count", Number(s.example_count)},
                      {"models", std::move(by_model)}});
  }
  return {{"format_version", kEvalOutputFormatVersion},
          {"num_examples", result.num_examples},
          {"seconds", Number(result.seconds)},
          {"models", std::move(models)},
          {"slices", std::move(slices)}};
}

Json PlotsToJson(const EvalResult& result) {
  Json slices = Json::array();
  for (const SliceResult& s : result.slices) {
    if (s.plots.empty()) continue;
    Json by_model = Json::object();
    for (const auto& [model, plots] : s.plots) by_model[model] = PlotsJsonOf(plots);
    slices.push_back({{"slice", s.slice.ToString()},
                      {"slice_key", SliceKeyJson(s.slice)},
                      {"models", std::move(by_model)}});
  }
  return {{"format_version", kEvalOutputFormatVersion}, {"slices", std::move(slices)}};
}

Json ValidationToJson(const ValidationResult& validation) {
  Json failures = Json::array();
  for (const ValidationFailure& f : validation.failures) {
    failures.push_back({{"slice", f.slice.ToString()},
                        {"slice_key", SliceKeyJson(f.slice)},
                        {"metric", f.metric.name},
                        {"model", f.metric.model_name},
                        {"sub_key", f.metric.sub_key},
                        {"is_diff", f.metric.is_diff},
                        {"threshold", f.threshold},
                        {"value", Number(f.value)},
                        {"message", f.message}});
  }
  Json missing = Json::array();
  for (const SliceKey& key : validation.missing_slices) {
    missing.push_back({{"slice", key.ToString()}, {"slice_key", SliceKeyJson(key)}});
  }
  return {{"format_version", kEvalOutputFormatVersion},
          {"ok", validation.ok},
          {"failures", std::move(failures)},
          {"notes", validation.notes},
          {"missing_slices", std::move(missing)}};
}

Status WriteEvalResult(const EvalResult& result, const std::string& dir, Env* env) {
  RETURN_IF_ERROR(env->CreateDirs(dir));
  const std::vector<std::pair<std::string, std::string>> files = {
      {kMetricsFile, MetricsToJson(result).dump(2) + "\n"},
      {kPlotsFile, PlotsToJson(result).dump(2) + "\n"},
      {kValidationsFile, ValidationToJson(result.validation).dump(2) + "\n"},
      {kConfigFile, result.eval_config_text},
  };
  for (const auto& [name, contents] : files) {
    Status s = WriteFileAtomic(JoinPath(dir, name), contents, env);
    if (!s.ok()) {
      // Leave no partial set behind (new files beside old ones from an
      // earlier run): remove all four.
      for (const auto& [other, unused] : files) {
        const std::string path = JoinPath(dir, other);
        if (env->Exists(path)) env->RemoveFile(path).IgnoreError();
      }
      return s;
    }
  }
  return Status::Ok();
}

Status WriteBlessing(bool blessed, const std::string& dir, Env* env) {
  RETURN_IF_ERROR(env->CreateDirs(dir));
  // Remove the other file first: should the write then fail, neither exists,
  // which reads as "not blessed".
  const std::string other = JoinPath(dir, blessed ? kNotBlessed : kBlessed);
  if (env->Exists(other)) RETURN_IF_ERROR(env->RemoveFile(other));
  return WriteFileAtomic(JoinPath(dir, blessed ? kBlessed : kNotBlessed), "", env);
}

Result<EvalResult> ReadEvalResult(const std::string& dir, Env* env) {
  EvalResult result;
  RETURN_IF_ERROR(ReadMetrics(JoinPath(dir, kMetricsFile), env, &result));
  RETURN_IF_ERROR(ReadPlotsFile(JoinPath(dir, kPlotsFile), env, &result));
  RETURN_IF_ERROR(ReadValidations(JoinPath(dir, kValidationsFile), env, &result.validation));
  ASSIGN_OR_RETURN(result.eval_config_text, ReadFileToString(JoinPath(dir, kConfigFile), env));
  return result;
}

}  // namespace edgepipe::eval
