// preprocessing_fn modules for transform_test, one source compiled in
// variants (tests/test_modules.cmake) by a PREPROCESSING_FN_* definition:
//   PREPROCESSING_FN_GOOD   the same function as transform_test's TestFn
//   PREPROCESSING_FN_THROW  throws std::runtime_error
#include <map>
#include <stdexcept>
#include <string>

#include "edgepipe/components/transform.h"

namespace {

using edgepipe::components::Column;
using edgepipe::components::Inputs;
namespace tft = edgepipe::components::tft;

std::map<std::string, Column> Preprocess(const Inputs& in) {
#if defined(PREPROCESSING_FN_THROW)
  (void)in;
  throw std::runtime_error("boom from preprocessing_fn");
#else
  return {{"x01", tft::ScaleTo01(in["x"])},
          {"city_id", tft::ComputeAndApplyVocabulary(in["city"])},
          {"v2", in["v"] * 2},
          {"city", in["city"]},
          {"n", in["n"]}};
#endif
}

}  // namespace

EDGEPIPE_PREPROCESSING_FN(Preprocess)
