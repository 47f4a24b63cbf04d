#include "edgepipe/eval/thresholds.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "edgepipe/eval/config.h"

namespace edgepipe::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Short text for `v`: the shortest of 6..12 significant digits that reads
// back as `v`, else 12 digits ("0.8", and 0.54 - 0.5 as "0.04", not
// "0.040000000000000036").
std::string Num(double v) {
  if (std::isnan(v)) return "NaN";
  char buf[40];
  for (int precision = 6; precision <= 12; ++precision) {
    std::snprintf(buf, sizeof(buf), "%.*g", precision, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string Quote(std::string_view s) {
  std::string out(1, '"');
  out += s;
  out += '"';
  return out;
}

std::string ModelLabel(const std::string& name) {
  return name.empty() ? std::string("the model") : "model " + Quote(name);
}

std::string MetricLabel(const MetricKey& key) {
  std::string out = key.name;
  if (!key.sub_key.empty()) {
    out += " (";
    out += key.sub_key;
    out += ')';
  }
  return out;
}

bool ParseNumber(const std::string& s, double* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

bool ValuesMatch(const std::string& want, const std::string& have) {
  if (want == have) return true;
  double a = 0, b = 0;
  return ParseNumber(want, &a) && ParseNumber(have, &b) && a == b;
}

// One threshold of the config, resolved to the metric name it applies to,
// the models and the slices (none = the overall slice only).
struct Rule {
  std::string metric_name;
  const MetricThreshold* threshold = nullptr;
  std::vector<const SlicingSpec*> slicing_specs;
  bool per_slice = false;
  std::vector<std::string> models;
  std::string origin;  // "metrics_specs[0].metrics[1].threshold"
};

class Validator {
 public:
  Validator(const std::vector<SliceResult>& slices, const ModelInfo* baseline,
            double min_slice_size)
      : slices_(slices), baseline_(baseline), min_slice_size_(min_slice_size) {}

  Status Apply(const Rule& rule) {
    if (!rule.per_slice) {
      const SliceResult* overall = nullptr;
      for (const SliceResult& s : slices_) {
        if (s.slice.overall() && Counts(s)) overall = &s;
      }
      if (overall == nullptr) {
        MissingSlice(SliceKey{}, rule);
        return Status::Ok();
      }
      for (const std::string& model : rule.models) {
        RETURN_IF_ERROR(CheckSlice(*overall, model, rule));
      }
      return Status::Ok();
    }
    for (const SlicingSpec* spec : rule.slicing_specs) {
      bool matched = false;
      for (const SliceResult& s : slices_) {
        if (!SliceMatches(*spec, s.slice) || !Counts(s)) continue;
        matched = true;
        for (const std::string& model : rule.models) {
          RETURN_IF_ERROR(CheckSlice(s, model, rule));
        }
      }
      if (!matched) MissingSlice(SlicingSpecToSliceKey(*spec), rule);
    }
    return Status::Ok();
  }

  ValidationResult Finish() {
    if (skipped_change_) {
      result_.notes.insert(result_.notes.begin(),
                           "change thresholds skipped: no baseline model (TFMA's rubber stamp); "
                           "only value thresholds were checked");
    }
    result_.ok = result_.failures.empty();
    return std::move(result_);
  }

 private:
  // Slices under options.min_slice_size have no results (as in TFMA).
  bool Counts(const SliceResult& s) const { return s.example_count >= min_slice_size_; }

  void MissingSlice(const SliceKey& key, const Rule& rule) {
    if (std::find(result_.missing_slices.begin(), result_.missing_slices.end(), key) ==
        result_.missing_slices.end()) {
      result_.missing_slices.push_back(key);
      result_.notes.push_back("slice " + key.ToString() + " named by " + rule.origin +
                              " has no results; its thresholds fail (as in TFMA)");
    }
    for (const std::string& model : rule.models) {
      ValidationFailure f;
      f.slice = key;
      f.metric = MetricKey{rule.metric_name, model, "", false};
      f.threshold = ThresholdText(*rule.threshold);
      f.value = kNaN;
      f.message = rule.metric_name + " of " + ModelLabel(model) + " on slice " + key.ToString() +
                  ": the slice has no results, so " + rule.origin + " cannot pass";
      result_.failures.push_back(std::move(f));
    }
  }

  static std::string ThresholdText(const MetricThreshold& t) {
    std::string out;
    if (t.has_value_threshold()) out = ValueThresholdText(t.value_threshold());
    if (t.has_change_threshold()) {
      if (!out.empty()) out += "; ";
      out += ChangeThresholdText(t.change_threshold());
    }
    return out;
  }

  static std::string ComputedMetrics(const SliceResult& s, const std::string& model) {
    std::set<std::string> names;
    for (const auto& [key, value] : s.metrics) {
      if (key.model_name == model && !key.is_diff) names.insert(key.name);
    }
    std::string out;
    for (const std::string& n : names) {
      if (!out.empty()) out += ", ";
      out += n;
    }
    return out.empty() ? std::string("none") : out;
  }

  Status CheckSlice(const SliceResult& s, const std::string& model, const Rule& rule) {
    bool found = false;
    for (const auto& [key, value] : s.metrics) {
      if (key.name != rule.metric_name || key.model_name != model || key.is_diff) continue;
      found = true;
      RETURN_IF_ERROR(CheckOne(s, key, value.value, rule));
    }
    if (!found) {
      return Status::InvalidArgument(
          rule.origin + ": threshold on metric " + Quote(rule.metric_name) + " of " +
          ModelLabel(model) + " on slice " + s.slice.ToString() +
          ", which was not computed; computed metrics: " + ComputedMetrics(s, model));
    }
    return Status::Ok();
  }

  Status CheckOne(const SliceResult& s, const MetricKey& key, double value, const Rule& rule) {
    const MetricThreshold& t = *rule.threshold;
    const std::string what =
        MetricLabel(key) + " of " + ModelLabel(key.model_name) + " on slice " + s.slice.ToString();
    if (t.has_value_threshold()) CheckValue(s, key, value, what, t.value_threshold());
    if (!t.has_change_threshold()) return Status::Ok();
    if (baseline_ == nullptr) {
      skipped_change_ = true;
      return Status::Ok();
    }
    if (key.model_name == baseline_->name) return Status::Ok();  // no change against itself
    const MetricKey base_key{key.name, baseline_->name, key.sub_key, false};
    auto it = s.metrics.find(base_key);
    if (it == s.metrics.end()) {
      return Status::InvalidArgument(
          rule.origin + ": change threshold on " + what + " needs the baseline's value, but " +
          key.name + " was not computed for baseline " + ModelLabel(baseline_->name));
    }
    CheckChange(s, key, value, it->second.value, what, t.change_threshold());
    return Status::Ok();
  }

  void Fail(const SliceResult& s, const MetricKey& key, std::string threshold, double value,
            std::string message) {
    ValidationFailure f;
    f.slice = s.slice;
    f.metric = key;
    f.threshold = std::move(threshold);
    f.value = value;
    f.message = std::move(message);
    result_.failures.push_back(std::move(f));
  }

  void CheckValue(const SliceResult& s, const MetricKey& key, double value, const std::string& what,
                  const GenericValueThreshold& t) {
    const std::string text = ValueThresholdText(t);
    if (std::isnan(value)) {
      Fail(s, key, text, value, what + " is NaN (undefined), which fails " + text);
      return;
    }
    if (t.has_lower_bound() && value < t.lower_bound().value()) {
      Fail(s, key, text, value,
           what + " is " + Num(value) + ", below lower_bound " + Num(t.lower_bound().value()));
    } else if (t.has_upper_bound() && value > t.upper_bound().value()) {
      Fail(s, key, text, value,
           what + " is " + Num(value) + ", above upper_bound " + Num(t.upper_bound().value()));
    }
  }

  void CheckChange(const SliceResult& s, const MetricKey& key, double value, double base,
                   const std::string& what, const GenericChangeThreshold& t) {
    const std::string text = ChangeThresholdText(t);
    const double change = value - base;
    const bool higher = t.direction() == MetricDirection::HIGHER_IS_BETTER;
    const std::string rel_op = higher ? " >= " : " <= ";
    std::string head = what + " is " + Num(value) + " against " + Num(base) + " for baseline " +
                       ModelLabel(baseline_->name) + " (change " + Num(change) + ")";
    if (std::isnan(change)) {
      Fail(s, key, text, change, head + ": the change is NaN (undefined), which fails " + text);
      return;
    }
    std::vector<std::string> broken;
    if (t.has_absolute()) {
      const double bound = t.absolute().value();
      if (higher ? change < bound : change > bound) {
        broken.push_back("absolute change must be" + rel_op + Num(bound));
      }
    }
    if (t.has_relative()) {
      const double bound = t.relative().value();
      if (base == 0) {
        broken.push_back("relative change is undefined with a baseline of 0 (bound " + Num(bound) +
                         ")");
      } else {
        const double ratio = change / base;
        if (higher ? ratio < bound : ratio > bound) {
          broken.push_back("relative change " + Num(ratio) + " must be" + rel_op + Num(bound));
        }
      }
    }
    if (broken.empty()) return;
    std::string message = head + ": " + (higher ? "HIGHER_IS_BETTER" : "LOWER_IS_BETTER");
    for (size_t i = 0; i < broken.size(); ++i) message += (i == 0 ? ", " : " and ") + broken[i];
    Fail(s, MetricKey{key.name, key.model_name, key.sub_key, true}, text, change,
         std::move(message));
  }

  const std::vector<SliceResult>& slices_;
  const ModelInfo* baseline_;
  double min_slice_size_;
  bool skipped_change_ = false;
  ValidationResult result_;
};

bool HasAny(const MetricThreshold& t) {
  return t.has_value_threshold() || t.has_change_threshold();
}

}  // namespace

bool SliceMatches(const SlicingSpec& spec, const SliceKey& slice) {
  std::set<std::string> keys(spec.feature_keys().begin(), spec.feature_keys().end());
  for (const auto& [key, value] : spec.feature_values()) keys.insert(key);
  std::set<std::string> have;
  for (const auto& [key, value] : slice.features) have.insert(key);
  if (keys != have) return false;
  for (const auto& [key, value] : spec.feature_values()) {
    for (const auto& [skey, svalue] : slice.features) {
      if (skey == key && !ValuesMatch(value, svalue)) return false;
    }
  }
  return true;
}

SliceKey SlicingSpecToSliceKey(const SlicingSpec& spec) {
  std::map<std::string, std::string> features;
  for (const std::string& key : spec.feature_keys()) features.emplace(key, "*");
  for (const auto& [key, value] : spec.feature_values()) features[key] = value;
  SliceKey out;
  out.features.reserve(features.size());
  for (auto& [key, value] : features) out.features.emplace_back(key, std::move(value));
  return out;
}

std::string ValueThresholdText(const GenericValueThreshold& t) {
  std::string out;
  if (t.has_lower_bound()) out = "lower_bound: " + Num(t.lower_bound().value());
  if (t.has_upper_bound()) {
    if (!out.empty()) out += ", ";
    out += "upper_bound: " + Num(t.upper_bound().value());
  }
  return out.empty() ? std::string("value_threshold: no bounds") : out;
}

std::string ChangeThresholdText(const GenericChangeThreshold& t) {
  std::string out = "change " + MetricDirection_Name(t.direction());
  if (t.has_absolute()) out += ": absolute: " + Num(t.absolute().value());
  if (t.has_relative()) {
    out += t.has_absolute() ? ", " : ": ";
    out += "relative: " + Num(t.relative().value());
  }
  return out;
}

Result<ValidationResult> Validate(const EvalConfig& config, const std::vector<SliceResult>& slices,
                                  const std::vector<ModelInfo>& models) {
  const ModelInfo* baseline = nullptr;
  for (const ModelInfo& m : models) {
    if (!m.is_baseline) continue;
    if (baseline != nullptr) {
      return Status::InvalidArgument("models " + Quote(baseline->name) + " and " + Quote(m.name) +
                                     " are both marked baseline; at most one may");
    }
    baseline = &m;
  }
  std::set<std::string> model_diff_names;
  for (const MetricsSpec& spec : config.metrics_specs()) {
    for (const MetricConfig& metric : spec.metrics()) {
      const std::string& c = metric.class_name();
      if (c == "FlipRate" || c == "MaxAbsPredictionDiff" || c == "MeanAbsPredictionDiff") {
        ASSIGN_OR_RETURN(std::string name, MetricConfigOutputName(metric));
        model_diff_names.insert(name);
      }
    }
  }
  std::vector<Rule> rules;
  for (int i = 0; i < config.metrics_specs_size(); ++i) {
    const MetricsSpec& spec = config.metrics_specs(i);
    const std::string where = "metrics_specs[" + std::to_string(i) + "]";
    std::vector<std::string> spec_models;
    for (const std::string& name : spec.model_names()) {
      const bool known = std::any_of(models.begin(), models.end(),
                                     [&](const ModelInfo& m) { return m.name == name; });
      if (!known) {
        return Status::InvalidArgument(where + ".model_names: " + Quote(name) +
                                       " is not one of the evaluated models");
      }
      spec_models.push_back(name);
    }
    if (spec_models.empty()) {
      for (const ModelInfo& m : models) {
        if (!m.is_baseline) spec_models.push_back(m.name);
      }
    }
    auto add = [&](std::string name, const MetricThreshold& t, std::string origin,
                   const PerSliceMetricThreshold* per_slice) {
      if (!HasAny(t)) return;
      Rule rule;
      rule.threshold = &t;
      rule.models = spec_models;
      // The model-diff metrics compare each model with the first one, which
      // has no value of its own: their thresholds skip it.
      if (model_diff_names.count(name) && !models.empty()) {
        std::erase(rule.models, models[0].name);
      }
      rule.metric_name = std::move(name);
      rule.origin = std::move(origin);
      if (per_slice != nullptr) {
        rule.per_slice = true;
        for (const SlicingSpec& s : per_slice->slicing_specs()) rule.slicing_specs.push_back(&s);
      }
      rules.push_back(std::move(rule));
    };
    for (int j = 0; j < spec.metrics_size(); ++j) {
      const MetricConfig& metric = spec.metrics(j);
      const std::string mwhere = where + ".metrics[" + std::to_string(j) + "]";
      ASSIGN_OR_RETURN(std::string name, MetricConfigOutputName(metric));
      if (metric.has_threshold()) add(name, metric.threshold(), mwhere + ".threshold", nullptr);
      for (int k = 0; k < metric.per_slice_thresholds_size(); ++k) {
        const PerSliceMetricThreshold& p = metric.per_slice_thresholds(k);
        add(name, p.threshold(), mwhere + ".per_slice_thresholds[" + std::to_string(k) + "]", &p);
      }
    }
    // Protobuf maps iterate in no fixed order: sort the keys for stable output.
    std::map<std::string, const MetricThreshold*> by_name;
    for (const auto& [key, t] : spec.thresholds()) by_name[key] = &t;
    for (const auto& [key, t] : by_name) {
      add(key, *t, where + ".thresholds[" + Quote(key) + "]", nullptr);
    }
    std::map<std::string, const PerSliceMetricThresholds*> per_slice_by_name;
    for (const auto& [key, list] : spec.per_slice_thresholds()) per_slice_by_name[key] = &list;
    for (const auto& [key, list] : per_slice_by_name) {
      for (int k = 0; k < list->thresholds_size(); ++k) {
        const PerSliceMetricThreshold& p = list->thresholds(k);
        add(key, p.threshold(),
            where + ".per_slice_thresholds[" + Quote(key) + "].thresholds[" + std::to_string(k) +
                "]",
            &p);
      }
    }
  }
  if (models.empty() && !rules.empty()) {
    return Status::InvalidArgument("the config has thresholds but no model was evaluated");
  }
  const double min_slice_size =
      config.options().has_min_slice_size() ? config.options().min_slice_size().value() : 0;
  Validator validator(slices, baseline, min_slice_size);
  for (const Rule& rule : rules) RETURN_IF_ERROR(validator.Apply(rule));
  return validator.Finish();
}

}  // namespace edgepipe::eval
