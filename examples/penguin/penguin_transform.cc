// The penguin preprocessing_fn: the four body measurements z-scored (mean
// and standard deviation analyzed over the train split; a missing measurement
// ("NA" in the CSV) enters as the train split's mean, so its z-score is ~0:
// Transform's mean imputation, components/transform.h), the species label
// mapped to an int64 id by a vocabulary, and the raw measurements, island
// and sex passed through (the served models read the raw measurements; the
// Evaluators slice by island and sex). Built as a MODULE library by
// examples/CMakeLists.txt and given to Transform as its module_file.
#include <map>
#include <string>

#include "edgepipe/components/transform.h"
#include "penguin_model.h"

namespace {

using edgepipe::components::Column;
using edgepipe::components::Inputs;
namespace tft = edgepipe::components::tft;

std::map<std::string, Column> Preprocess(const Inputs& in) {
  std::map<std::string, Column> out;
  for (const char* name : penguin::kNumericKeys) {
    out[penguin::TransformedName(name)] = tft::ScaleToZScore(in[name]);
    out[name] = in[name];
  }
  out[penguin::kLabelKey] = tft::ComputeAndApplyVocabulary(in[penguin::kSpeciesKey]);
  out[penguin::kIslandKey] = in[penguin::kIslandKey];
  out[penguin::kSexKey] = in[penguin::kSexKey];
  return out;
}

}  // namespace

EDGEPIPE_PREPROCESSING_FN(Preprocess)
