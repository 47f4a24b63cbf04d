// Model validation, TFMA's semantics: value thresholds (lower/upper bound,
// inclusive) and change thresholds against the baseline model decide whether
// the candidate models pass; the Evaluator blesses on ValidationResult.ok.
//
// Where thresholds come from (each applied to the MetricKey name it names,
// for every sub_key the metric has, non-diff values only):
//   MetricConfig.threshold, MetricsSpec.thresholds[name]   -> the overall slice
//   MetricConfig.per_slice_thresholds,
//   MetricsSpec.per_slice_thresholds[name]                 -> every slice a
//       SlicingSpec matches (same feature set; feature_values equal as text,
//       or numerically when both parse as numbers)
// and which models: MetricsSpec.model_names, or every non-baseline model;
// thresholds on the model-diff metrics (FlipRate, MaxAbsPredictionDiff,
// MeanAbsPredictionDiff) skip the first model, their reference. Slices with
// fewer examples than options.min_slice_size count as having no results.
//
// Change thresholds (TFMA): change = candidate - baseline, relative =
// change / baseline; HIGHER_IS_BETTER passes when change >= absolute and
// relative >= relative bound, LOWER_IS_BETTER when <=. A relative bound with a
// baseline of 0 fails (the ratio is undefined). Without a baseline model they
// are skipped and a note says so (TFMA's "rubber stamp"). A NaN metric fails
// every threshold on it.
//
// Thread-safe (pure functions).
#ifndef EDGEPIPE_EVAL_THRESHOLDS_H_
#define EDGEPIPE_EVAL_THRESHOLDS_H_

#include <string>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/eval/eval_config.pb.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

// Checks every threshold of `config` against `slices` (the Evaluator's
// results) for the models in `models` (the baseline is the one with
// is_baseline). Returns ok = false with one ValidationFailure per violated
// threshold; a per-slice threshold whose SlicingSpec matches no slice adds
// the spec to missing_slices (see SlicingSpecToSliceKey) and a failure with
// value NaN. Errors (not failures): a threshold on a metric that was not
// computed for that model and slice, or model_names naming an unknown model.
Result<ValidationResult> Validate(const EvalConfig& config, const std::vector<SliceResult>& slices,
                                  const std::vector<ModelInfo>& models);

// True when `spec` selects `slice`: the slice's features are exactly the
// spec's feature_keys plus feature_values keys, and the values of
// feature_values match. The empty spec matches only the overall slice.
bool SliceMatches(const SlicingSpec& spec, const SliceKey& slice);

// A SliceKey naming `spec`, for reports: feature_values as (key, value),
// feature_keys without a value as (key, "*"), sorted by key.
SliceKey SlicingSpecToSliceKey(const SlicingSpec& spec);

// Text form of thresholds, as in failures: "lower_bound: 0.8, upper_bound: 1",
// "change HIGHER_IS_BETTER: absolute: -0.01, relative: 0.05".
std::string ValueThresholdText(const GenericValueThreshold& t);
std::string ChangeThresholdText(const GenericChangeThreshold& t);

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_THRESHOLDS_H_
