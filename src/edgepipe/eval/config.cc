#include "edgepipe/eval/config.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <string>
#include <utility>

namespace edgepipe::eval {
namespace {

struct MetricClass {
  const char* class_name;
  const char* output_name;
  bool is_plot;
};

// The supported classes and the MetricKey name each writes its values under.
constexpr MetricClass kMetricClasses[] = {
    {"ExampleCount", "example_count", false},
    {"WeightedExampleCount", "weighted_example_count", false},
    {"SparseCategoricalAccuracy", "sparse_categorical_accuracy", false},
    {"Accuracy", "accuracy", false},
    {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", false},
    {"CategoricalCrossentropy", "categorical_crossentropy", false},
    {"BinaryCrossentropy", "binary_crossentropy", false},
    {"Precision", "precision", false},
    {"Recall", "recall", false},
    {"F1Score", "f1_score", false},
    {"AUC", "auc", false},
    {"AUCPrecisionRecall", "auc_precision_recall", false},
    {"MeanLabel", "mean_label", false},
    {"MeanPrediction", "mean_prediction", false},
    {"Calibration", "calibration", false},
    {"MultiClassConfusionMatrixPlot", "multi_class_confusion_matrix_plot", true},
    {"ConfusionMatrixAtThresholds", "confusion_matrix_at_thresholds", true},
    {"CalibrationPlot", "calibration_plot", true},
    {"FlipRate", "flip_rate", false},
    {"MaxAbsPredictionDiff", "max_abs_prediction_diff", false},
    {"MeanAbsPredictionDiff", "mean_abs_prediction_diff", false},
};

const MetricClass* FindMetricClass(std::string_view class_name) {
  if (class_name == "F1") class_name = "F1Score";
  for (const MetricClass& c : kMetricClasses) {
    if (class_name == c.class_name) return &c;
  }
  return nullptr;
}

// Collects the parser's first error with its position (1-based).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (!has_error_) {
      has_error_ = true;
      line_ = line + 1;
      column_ = column + 1;
      message_ = message;
    }
  }
  void AddWarning(int, google::protobuf::io::ColumnNumber, const std::string&) override {}

  bool has_error() const { return has_error_; }

  // The protobuf parser reports an error at the token after the offending
  // one (the field name, the bad value). When the message quotes that token,
  // move the position back to its last occurrence before the reported one.
  void PointAtOffendingToken(std::string_view text) {
    std::string token;
    for (std::string_view marker : {"no field named \"", "Value: \""}) {
      const size_t at = message_.find(marker);
      if (at == std::string::npos) continue;
      const size_t begin = at + marker.size();
      const size_t end = message_.find('"', begin);
      if (end != std::string::npos) token = message_.substr(begin, end - begin);
      break;
    }
    if (token.empty()) return;
    // Offset of the reported (1-based) line and column.
    size_t offset = 0;
    for (int line = 1; line < line_ && offset < text.size(); ++line) {
      const size_t nl = text.find('\n', offset);
      if (nl == std::string_view::npos) return;
      offset = nl + 1;
    }
    offset = std::min(text.size(), offset + static_cast<size_t>(column_ - 1));
    const size_t found = text.substr(0, offset).rfind(token);
    if (found == std::string_view::npos) return;
    line_ = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < found; ++i) {
      if (text[i] == '\n') {
        ++line_;
        line_start = i + 1;
      }
    }
    column_ = static_cast<int>(found - line_start) + 1;
  }

  std::string Format(std::string_view source) const {
    return std::string(source) + ":" + std::to_string(line_) + ":" + std::to_string(column_) +
           ": " + message_;
  }

 private:
  bool has_error_ = false;
  int line_ = 0;
  int column_ = 0;
  std::string message_;
};

std::string Quote(std::string_view s) {
  std::string out(1, '"');
  out += s;
  out += '"';
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

Status CheckValueThreshold(const GenericValueThreshold& t, const std::string& where) {
  if (t.has_lower_bound() && t.has_upper_bound() &&
      t.lower_bound().value() > t.upper_bound().value()) {
    return Status::InvalidArgument(
        where + ".value_threshold: lower_bound " + std::to_string(t.lower_bound().value()) +
        " is above upper_bound " + std::to_string(t.upper_bound().value()));
  }
  return Status::Ok();
}

Status CheckThreshold(const MetricThreshold& t, const std::string& where) {
  if (t.has_value_threshold()) RETURN_IF_ERROR(CheckValueThreshold(t.value_threshold(), where));
  if (t.has_change_threshold() && t.change_threshold().direction() == MetricDirection::UNKNOWN) {
    return Status::InvalidArgument(
        where +
        ".change_threshold: direction is UNKNOWN; set direction: HIGHER_IS_BETTER or "
        "LOWER_IS_BETTER");
  }
  return Status::Ok();
}

Status CheckSlicingSpec(const SlicingSpec& spec, const std::string& where) {
  for (int i = 0; i < spec.feature_keys_size(); ++i) {
    if (spec.feature_keys(i).empty()) {
      return Status::InvalidArgument(where + ".feature_keys[" + std::to_string(i) +
                                     "]: feature name is empty");
    }
  }
  for (const auto& [key, value] : spec.feature_values()) {
    if (key.empty()) {
      return Status::InvalidArgument(where + ".feature_values: feature name is empty");
    }
  }
  return Status::Ok();
}

Status CheckPerSlice(const PerSliceMetricThreshold& t, const std::string& where) {
  for (int i = 0; i < t.slicing_specs_size(); ++i) {
    RETURN_IF_ERROR(
        CheckSlicingSpec(t.slicing_specs(i), where + ".slicing_specs[" + std::to_string(i) + "]"));
  }
  return CheckThreshold(t.threshold(), where + ".threshold");
}

Status CheckModelSpecs(const EvalConfig& config) {
  std::set<std::string> names;
  int baselines = 0;
  const int n = config.model_specs_size();
  for (int i = 0; i < n; ++i) {
    const ModelSpec& spec = config.model_specs(i);
    const std::string where = "model_specs[" + std::to_string(i) + "]";
    const std::string type = NormalizedModelType(spec);
    if (type != "native" && type != "tf_lite") {
      return Status::InvalidArgument(where + ": model_type " + Quote(spec.model_type()) +
                                     " is not supported; use \"native\" (alias \"tf_keras\") "
                                     "or \"tf_lite\"");
    }
    if (n > 1 && spec.name().empty()) {
      return Status::InvalidArgument(where + ": name is empty; with " + std::to_string(n) +
                                     " model_specs every one needs a name");
    }
    if (!names.insert(spec.name()).second) {
      return Status::InvalidArgument(where + ": duplicate model name " + Quote(spec.name()));
    }
    if (spec.is_baseline()) ++baselines;
  }
  if (baselines > 1) {
    return Status::InvalidArgument("model_specs: " + std::to_string(baselines) +
                                   " models have is_baseline: true; at most one may");
  }
  if (baselines == 1 && n == 1) {
    return Status::InvalidArgument(
        "model_specs[0]: the only model is the baseline; add a candidate model");
  }
  return Status::Ok();
}

Status CheckMetricsSpec(const EvalConfig& config, const MetricsSpec& spec,
                        const std::string& where) {
  for (int i = 0; i < spec.model_names_size(); ++i) {
    const std::string& name = spec.model_names(i);
    bool found = false;
    std::vector<std::string> known;
    for (const ModelSpec& m : config.model_specs()) {
      known.push_back(Quote(m.name()));
      if (m.name() == name) found = true;
    }
    if (!found) {
      return Status::InvalidArgument(where + ".model_names[" + std::to_string(i) +
                                     "]: " + Quote(name) + " names no model_specs entry (models: " +
                                     (known.empty() ? std::string("none") : JoinNames(known)) +
                                     ")");
    }
  }
  std::vector<std::string> output_names;
  for (int i = 0; i < spec.metrics_size(); ++i) {
    const MetricConfig& metric = spec.metrics(i);
    const std::string mwhere = where + ".metrics[" + std::to_string(i) + "]";
    if (!IsSupportedMetricClassName(metric.class_name())) {
      return Status::InvalidArgument(
          mwhere + ": class_name " + Quote(metric.class_name()) +
          " is not a supported metric; supported: " + JoinNames(SupportedMetricClassNames()) +
          " (F1 is an alias of F1Score)");
    }
    auto name = MetricConfigOutputName(metric);
    if (!name.ok()) return name.status().WithContext(mwhere);
    const bool has_threshold = metric.has_threshold() || metric.per_slice_thresholds_size() > 0;
    if (has_threshold && IsPlotMetricClassName(metric.class_name())) {
      return Status::InvalidArgument(mwhere + ": " + metric.class_name() +
                                     " is a plot; thresholds apply to metric values only");
    }
    if (metric.has_threshold()) {
      RETURN_IF_ERROR(CheckThreshold(metric.threshold(), mwhere + ".threshold"));
    }
    for (int j = 0; j < metric.per_slice_thresholds_size(); ++j) {
      RETURN_IF_ERROR(CheckPerSlice(metric.per_slice_thresholds(j),
                                    mwhere + ".per_slice_thresholds[" + std::to_string(j) + "]"));
    }
    if (!IsPlotMetricClassName(metric.class_name())) output_names.push_back(*name);
  }
  auto check_key = [&](const std::string& key, const std::string& field) -> Status {
    if (std::find(output_names.begin(), output_names.end(), key) == output_names.end()) {
      return Status::InvalidArgument(
          where + "." + field + "[" + Quote(key) +
          "]: no metric of this metrics_spec is named so; its metrics: " +
          (output_names.empty() ? std::string("none") : JoinNames(output_names)));
    }
    return Status::Ok();
  };
  for (const auto& [key, threshold] : spec.thresholds()) {
    RETURN_IF_ERROR(check_key(key, "thresholds"));
    RETURN_IF_ERROR(CheckThreshold(threshold, where + ".thresholds[" + Quote(key) + "]"));
  }
  for (const auto& [key, list] : spec.per_slice_thresholds()) {
    RETURN_IF_ERROR(check_key(key, "per_slice_thresholds"));
    for (int j = 0; j < list.thresholds_size(); ++j) {
      RETURN_IF_ERROR(CheckPerSlice(list.thresholds(j), where + ".per_slice_thresholds[" +
                                                            Quote(key) + "].thresholds[" +
                                                            std::to_string(j) + "]"));
    }
  }
  return Status::Ok();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<EvalConfig> ParseEvalConfig(std::string_view text, std::string_view source_name) {
  EvalConfig config;
  google::protobuf::TextFormat::Parser parser;
  FirstErrorCollector errors;
  parser.RecordErrorsTo(&errors);
  const bool parsed = parser.ParseFromString(std::string(text), &config);
  if (!parsed || errors.has_error()) {
    if (errors.has_error()) {
      errors.PointAtOffendingToken(text);
      return Status::InvalidArgument(errors.Format(source_name));
    }
    return Status::InvalidArgument(std::string(source_name) + ": not a valid EvalConfig");
  }
  Status s = CheckEvalConfig(config);
  if (!s.ok()) return s.WithContext(source_name);
  return config;
}

Result<EvalConfig> ReadEvalConfig(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, env));
  return ParseEvalConfig(text, path);
}

Status CheckEvalConfig(const EvalConfig& config) {
  RETURN_IF_ERROR(CheckModelSpecs(config));
  for (int i = 0; i < config.slicing_specs_size(); ++i) {
    RETURN_IF_ERROR(
        CheckSlicingSpec(config.slicing_specs(i), "slicing_specs[" + std::to_string(i) + "]"));
  }
  for (int i = 0; i < config.cross_slicing_specs_size(); ++i) {
    const CrossSlicingSpec& cross = config.cross_slicing_specs(i);
    const std::string where = "cross_slicing_specs[" + std::to_string(i) + "]";
    RETURN_IF_ERROR(CheckSlicingSpec(cross.baseline_spec(), where + ".baseline_spec"));
    if (cross.slicing_specs_size() == 0) {
      return Status::InvalidArgument(where +
                                     ": slicing_specs is empty; a cross needs at least "
                                     "one spec to cross baseline_spec with");
    }
    for (int j = 0; j < cross.slicing_specs_size(); ++j) {
      RETURN_IF_ERROR(CheckSlicingSpec(cross.slicing_specs(j),
                                       where + ".slicing_specs[" + std::to_string(j) + "]"));
    }
  }
  for (int i = 0; i < config.metrics_specs_size(); ++i) {
    RETURN_IF_ERROR(CheckMetricsSpec(config, config.metrics_specs(i),
                                     "metrics_specs[" + std::to_string(i) + "]"));
  }
  const Options& options = config.options();
  if (options.has_min_slice_size() && options.min_slice_size().value() < 0) {
    return Status::InvalidArgument(
        "options.min_slice_size: " + std::to_string(options.min_slice_size().value()) +
        " is negative");
  }
  if (options.confidence_intervals().num_bootstrap_samples() < 0) {
    return Status::InvalidArgument(
        "options.confidence_intervals.num_bootstrap_samples: " +
        std::to_string(options.confidence_intervals().num_bootstrap_samples()) + " is negative");
  }
  return Status::Ok();
}

std::string NormalizedModelType(const ModelSpec& spec) {
  const std::string& t = spec.model_type();
  if (t.empty() || t == "native" || t == "tf_keras") return "native";
  return t;
}

const std::vector<std::string>& SupportedMetricClassNames() {
  static const auto* names = [] {
    auto* v = new std::vector<std::string>;
    for (const MetricClass& c : kMetricClasses) v->push_back(c.class_name);
    return v;
  }();
  return *names;
}

bool IsSupportedMetricClassName(std::string_view class_name) {
  return FindMetricClass(class_name) != nullptr;
}

bool IsPlotMetricClassName(std::string_view class_name) {
  const MetricClass* c = FindMetricClass(class_name);
  return c != nullptr && c->is_plot;
}

std::string MetricOutputName(std::string_view class_name) {
  if (const MetricClass* c = FindMetricClass(class_name)) return c->output_name;
  // Generic CamelCase -> snake_case: a '_' before an upper-case letter that
  // follows a lower-case letter or digit, or that starts a word after an
  // acronym ("AUCCurve" -> "auc_curve").
  std::string out;
  const size_t n = class_name.size();
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(class_name[i]);
    if (std::isupper(c) && i > 0) {
      const auto prev = static_cast<unsigned char>(class_name[i - 1]);
      const bool next_lower =
          i + 1 < n && std::islower(static_cast<unsigned char>(class_name[i + 1]));
      if (std::islower(prev) || std::isdigit(prev) || (std::isupper(prev) && next_lower)) {
        out += '_';
      }
    }
    out += static_cast<char>(std::tolower(c));
  }
  return out;
}

Result<nlohmann::json> MetricConfigJson(const MetricConfig& metric) {
  std::string_view text = Trim(metric.config());
  if (text.empty()) return nlohmann::json::object();
  std::string doc;
  if (text.front() != '{') doc += '{';
  doc += text;
  if (text.front() != '{') doc += '}';
  const std::string where =
      "metric " + metric.class_name() + ": config '" + std::string(metric.config()) + "'";
  nlohmann::json parsed = nlohmann::json::parse(doc, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return Status::InvalidArgument(
        where + ": not valid JSON (expected an object, with or without its outer braces)");
  }
  if (!parsed.is_object()) {
    return Status::InvalidArgument(where + ": must be a JSON object");
  }
  return parsed;
}

Result<std::string> MetricConfigOutputName(const MetricConfig& metric) {
  ASSIGN_OR_RETURN(nlohmann::json config, MetricConfigJson(metric));
  auto it = config.find("name");
  if (it != config.end()) {
    if (!it->is_string() || it->get<std::string>().empty()) {
      return Status::InvalidArgument("metric " + metric.class_name() +
                                     ": config member \"name\" must be a non-empty string");
    }
    return it->get<std::string>();
  }
  return MetricOutputName(metric.class_name());
}

const ModelSpec* BaselineModelSpec(const EvalConfig& config) {
  for (const ModelSpec& spec : config.model_specs()) {
    if (spec.is_baseline()) return &spec;
  }
  return nullptr;
}

std::string EvalConfigToText(const EvalConfig& config) {
  std::string out;
  google::protobuf::TextFormat::PrintToString(config, &out);
  return out;
}

}  // namespace edgepipe::eval
