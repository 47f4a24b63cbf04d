// The fashion_mnist preprocessing_fn: the pixels (ExampleGen's IDX values,
// pixel / 255 - 0.5) scaled to [0, 1] with scale_by_min_max (min and max
// analyzed over the train split), the label passed through. Built as a
// MODULE library by examples/CMakeLists.txt and given to Transform as its
// module_file.
#include <map>
#include <string>

#include "edgepipe/components/transform.h"

namespace {

using edgepipe::components::Column;
using edgepipe::components::Inputs;
namespace tft = edgepipe::components::tft;

std::map<std::string, Column> Preprocess(const Inputs& in) {
  return {{"image_floats", tft::ScaleByMinMax(in["image_floats"])},
          {"image_class", in["image_class"]}};
}

}  // namespace

EDGEPIPE_PREPROCESSING_FN(Preprocess)
