// Human-readable description of a TFLite model, for `edgepipe lite inspect`.
#ifndef EDGEPIPE_LITE_INSPECT_H_
#define EDGEPIPE_LITE_INSPECT_H_

#include <string>

#include "edgepipe/lite/model.h"

namespace edgepipe::lite {

// Text listing: file size by section (constant buffers vs the rest),
// signatures, then per subgraph its inputs/outputs, operators (index, name,
// input and output tensor indices) and tensors (index, name, dtype, shape,
// quantization, constant bytes). Pure; thread-safe.
std::string InspectText(const Model& model);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_INSPECT_H_
