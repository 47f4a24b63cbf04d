#include "edgepipe/eval/metrics.h"

#include <algorithm>
#include <string>
#include <utility>

#include "edgepipe/eval/metrics_util.h"

namespace edgepipe::eval {
namespace {

using internal::Factory;

struct Entry {
  std::string_view class_name;
  Factory factory;
};

constexpr Entry kRegistry[] = {
    {"ExampleCount", internal::MakeBasicMetric},
    {"WeightedExampleCount", internal::MakeBasicMetric},
    {"MeanLabel", internal::MakeBasicMetric},
    {"MeanPrediction", internal::MakeBasicMetric},
    {"Calibration", internal::MakeBasicMetric},
    {"SparseCategoricalAccuracy", internal::MakeAccuracyOrLossMetric},
    {"Accuracy", internal::MakeAccuracyOrLossMetric},
    {"SparseCategoricalCrossentropy", internal::MakeAccuracyOrLossMetric},
    {"CategoricalCrossentropy", internal::MakeAccuracyOrLossMetric},
    {"BinaryCrossentropy", internal::MakeAccuracyOrLossMetric},
    {"Precision", internal::MakeThresholdMetric},
    {"Recall", internal::MakeThresholdMetric},
    {"F1Score", internal::MakeThresholdMetric},
    {"F1", internal::MakeThresholdMetric},
    {"ConfusionMatrixAtThresholds", internal::MakeThresholdMetric},
    {"AUC", internal::MakeAucMetric},
    {"AUCPrecisionRecall", internal::MakeAucMetric},
    {"MultiClassConfusionMatrixPlot", internal::MakePlotMetric},
    {"CalibrationPlot", internal::MakePlotMetric},
    {"FlipRate", internal::MakeDiffMetric},
    {"MaxAbsPredictionDiff", internal::MakeDiffMetric},
    {"MeanAbsPredictionDiff", internal::MakeDiffMetric},
};

}  // namespace

std::vector<std::string_view> MetricClassNames() {
  std::vector<std::string_view> names;
  for (const Entry& e : kRegistry) names.push_back(e.class_name);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::unique_ptr<Metric>> MakeMetric(std::string_view class_name,
                                           const nlohmann::json& config) {
  for (const Entry& e : kRegistry) {
    if (e.class_name == class_name) {
      internal::ConfigReader reader(class_name, config);
      return e.factory(class_name, reader);
    }
  }
  std::string known;
  for (std::string_view n : MetricClassNames()) {
    if (!known.empty()) known += ", ";
    known += n;
  }
  return Status::InvalidArgument("unknown metric class_name \"" + std::string(class_name) +
                                 "\" (known: " + known + ")");
}

Result<nlohmann::json> ParseMetricConfig(std::string_view class_name, std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return nlohmann::json::object();
  std::string doc(text);
  if (text[first] != '{') doc = "{" + doc + "}";
  nlohmann::json parsed = nlohmann::json::parse(doc, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Status::InvalidArgument(std::string(class_name) + ": config '" + std::string(text) +
                                   "' is not a JSON object (or the members of one)");
  }
  return parsed;
}

}  // namespace edgepipe::eval
