#include "edgepipe/eval/metrics_util.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>

namespace edgepipe::eval::internal {

// ---- ConfigReader ----------------------------------------------------------

ConfigReader::ConfigReader(std::string_view class_name, const Json& config)
    : class_name_(class_name), config_(&config) {}

const Json* ConfigReader::Find(std::string_view key) {
  read_.emplace_back(key);
  if (!config_->is_object()) return nullptr;
  auto it = config_->find(std::string(key));
  return it == config_->end() ? nullptr : &*it;
}

Status ConfigReader::Error(std::string_view key, std::string_view rule) const {
  return Status::InvalidArgument(class_name_ + ": config \"" + std::string(key) +
                                 "\": " + std::string(rule));
}

Result<bool> ConfigReader::Bool(std::string_view key, bool fallback) {
  const Json* v = Find(key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) return Error(key, "must be true or false, got " + v->dump());
  return v->get<bool>();
}

Result<int64_t> ConfigReader::Int(std::string_view key, int64_t fallback, int64_t min,
                                  int64_t max) {
  ASSIGN_OR_RETURN(std::optional<int64_t> v, OptionalInt(key, min, max));
  return v.value_or(fallback);
}

Result<std::optional<int64_t>> ConfigReader::OptionalInt(std::string_view key, int64_t min,
                                                         int64_t max) {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  const std::string range =
      "an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " + v->dump();
  if (!v->is_number_integer()) return Error(key, "must be " + range);
  const double d = v->get<double>();
  if (d < static_cast<double>(min) || d > static_cast<double>(max)) {
    return Error(key, "must be " + range);
  }
  return std::optional<int64_t>(v->get<int64_t>());
}

Result<std::string> ConfigReader::Enum(std::string_view key, std::string fallback,
                                       std::initializer_list<std::string_view> allowed) {
  const Json* v = Find(key);
  if (v == nullptr) return fallback;
  std::string list;
  for (std::string_view a : allowed) {
    if (!list.empty()) list += ", ";
    list += '"';
    list += a;
    list += '"';
  }
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), s) != allowed.end()) return s;
  }
  return Error(key, "must be one of " + list + ", got " + v->dump());
}

Result<std::vector<double>> ConfigReader::Numbers(std::string_view key, double min, double max) {
  const Json* v = Find(key);
  if (v == nullptr || v->is_null()) return std::vector<double>();
  std::vector<double> out;
  auto take = [&](const Json& x) -> Status {
    if (!x.is_number() || !std::isfinite(x.get<double>()) || x.get<double>() < min ||
        x.get<double>() > max) {
      return Error(key, "values must be numbers in [" + FormatNumber(min) + ", " +
                            FormatNumber(max) + "], got " + x.dump());
    }
    out.push_back(x.get<double>());
    return Status::Ok();
  };
  if (v->is_array()) {
    if (v->empty()) return Error(key, "must not be an empty list");
    for (const Json& x : *v) RETURN_IF_ERROR(take(x));
  } else {
    RETURN_IF_ERROR(take(*v));
  }
  return out;
}

Status ConfigReader::Done() const {
  if (config_->is_null()) return Status::Ok();
  if (!config_->is_object()) {
    return Status::InvalidArgument(class_name_ + ": config must be a JSON object, got " +
                                   config_->dump());
  }
  for (auto it = config_->begin(); it != config_->end(); ++it) {
    if (it.key() == "name") continue;  // Keras configs carry the metric's name
    if (std::find(read_.begin(), read_.end(), it.key()) == read_.end()) {
      std::string known;
      for (const std::string& k : read_) {
        if (!known.empty()) known += ", ";
        known += k;
      }
      return Status::InvalidArgument(class_name_ + ": unknown config key \"" + it.key() +
                                     "\" (known: " + (known.empty() ? "none" : known) + ")");
    }
  }
  return Status::Ok();
}

// ---- batch checks ----------------------------------------------------------

std::string RowName(const BatchView& b, int64_t row) {
  std::string s = "row " + std::to_string(row);
  if (b.example_ids != nullptr) s += " (example " + std::to_string(b.example_ids[row]) + ")";
  return s;
}

Status BatchError(std::string_view metric, std::string_view what) {
  return Status::InvalidArgument(std::string(metric) + ": " + std::string(what));
}

namespace {

std::string FloatText(float v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", static_cast<double>(v));
  return buf;
}

// The first used row for which bad(row) holds, or -1.
template <typename Bad>
int64_t FirstBadRow(const BatchView& b, Bad&& bad) {
  int64_t found = -1;
  if (b.rows.empty()) {
    for (int64_t r = 0; r < b.size; ++r) {
      if (bad(r)) return r;
    }
  } else {
    for (int32_t r : b.rows) {
      if (bad(int64_t{r})) return r;
    }
  }
  return found;
}

Status NeedLabels(std::string_view metric, const BatchView& b, int width) {
  if (b.size > 0 && b.labels == nullptr) return BatchError(metric, "the batch has no labels");
  if (b.label_width != width) {
    return BatchError(metric, "label width " + std::to_string(b.label_width) + " must be " +
                                  std::to_string(width) + " (num_outputs " +
                                  std::to_string(b.num_outputs) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status CheckBatch(std::string_view metric, const BatchView& b) {
  if (b.size < 0) return BatchError(metric, "batch size " + std::to_string(b.size) + " < 0");
  if (b.num_outputs < 1) {
    return BatchError(metric, "num_outputs " + std::to_string(b.num_outputs) + " must be >= 1");
  }
  if (b.size > 0 && b.predictions == nullptr)
    return BatchError(metric, "the batch has no predictions");
  if (b.label_width < 1) {
    return BatchError(metric, "label width " + std::to_string(b.label_width) + " must be >= 1");
  }
  for (int32_t r : b.rows) {
    if (r < 0 || r >= b.size) {
      return BatchError(metric, "slice row " + std::to_string(r) + " is outside the batch [0, " +
                                    std::to_string(b.size) + ")");
    }
  }
  if (b.weights != nullptr) {
    const int64_t bad = FirstBadRow(
        b, [&](int64_t r) { return !(std::isfinite(b.weights[r]) && b.weights[r] >= 0); });
    if (bad >= 0) {
      return BatchError(metric, RowName(b, bad) + ": weight " + FloatText(b.weights[bad]) +
                                    " must be finite and >= 0");
    }
  }
  return Status::Ok();
}

Status CheckClassLabels(std::string_view metric, const BatchView& b, int num_classes) {
  RETURN_IF_ERROR(NeedLabels(metric, b, 1));
  const float n = static_cast<float>(num_classes);
  const int64_t bad = FirstBadRow(b, [&](int64_t r) {
    const float l = b.labels[r];
    return !(l >= 0 && l < n && l == std::floor(l));
  });
  if (bad < 0) return Status::Ok();
  return BatchError(metric, RowName(b, bad) + ": label " + FloatText(b.labels[bad]) +
                                " is not a class id in [0, " + std::to_string(num_classes) +
                                ") (num_outputs " + std::to_string(b.num_outputs) + ")");
}

Status CheckBinaryLabels(std::string_view metric, const BatchView& b) {
  RETURN_IF_ERROR(NeedLabels(metric, b, 1));
  const int64_t bad =
      FirstBadRow(b, [&](int64_t r) { return b.labels[r] != 0 && b.labels[r] != 1; });
  if (bad < 0) return Status::Ok();
  return BatchError(metric, RowName(b, bad) + ": label " + FloatText(b.labels[bad]) +
                                " must be 0 or 1 for a binary prediction (num_outputs " +
                                std::to_string(b.num_outputs) + ")");
}

Status CheckUnitLabels(std::string_view metric, const BatchView& b, int width) {
  RETURN_IF_ERROR(NeedLabels(metric, b, width));
  int bad_col = 0;
  const int64_t bad = FirstBadRow(b, [&](int64_t r) {
    for (int c = 0; c < width; ++c) {
      const float l = b.labels[r * width + c];
      if (!(l >= 0 && l <= 1)) {
        bad_col = c;
        return true;
      }
    }
    return false;
  });
  if (bad < 0) return Status::Ok();
  return BatchError(metric, RowName(b, bad) + ": label[" + std::to_string(bad_col) + "] " +
                                FloatText(b.labels[bad * width + bad_col]) + " must be in [0, 1]");
}

Status CheckFiniteLabels(std::string_view metric, const BatchView& b) {
  RETURN_IF_ERROR(NeedLabels(metric, b, 1));
  const int64_t bad = FirstBadRow(b, [&](int64_t r) { return !std::isfinite(b.labels[r]); });
  if (bad < 0) return Status::Ok();
  return BatchError(metric,
                    RowName(b, bad) + ": label " + FloatText(b.labels[bad]) + " must be finite");
}

Status CheckClassOrOneHotLabels(std::string_view metric, const BatchView& b, int num_classes) {
  if (b.label_width == 1) return CheckClassLabels(metric, b, num_classes);
  if (b.label_width == b.num_outputs && b.num_outputs > 1) {
    return CheckUnitLabels(metric, b, b.num_outputs);
  }
  return BatchError(metric, "label width " + std::to_string(b.label_width) +
                                " must be 1 (class ids) or num_outputs " +
                                std::to_string(b.num_outputs) + " (one-hot)");
}

Status CheckReference(std::string_view metric, const BatchView& b) {
  if (b.size > 0 && b.reference_predictions == nullptr) {
    return BatchError(metric,
                      "needs the reference model's predictions (it compares a model with the "
                      "first one)");
  }
  return Status::Ok();
}

// ---- math and output -------------------------------------------------------

void Softmax(const float* x, int width, float* out) {
  float m = x[0];
  for (int i = 1; i < width; ++i) m = std::max(m, x[i]);
  float sum = 0;
  for (int i = 0; i < width; ++i) {
    out[i] = std::exp(x[i] - m);
    sum += out[i];
  }
  const float inv = 1.0f / sum;
  for (int i = 0; i < width; ++i) out[i] *= inv;
}

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

void SetMetric(MetricMap* metrics, std::string name, const std::string& model, std::string sub_key,
               double value) {
  MetricKey key;
  key.name = std::move(name);
  key.model_name = model;
  key.sub_key = std::move(sub_key);
  (*metrics)[key].value = value;
}

}  // namespace edgepipe::eval::internal
