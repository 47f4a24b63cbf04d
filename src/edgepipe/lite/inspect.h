// Descriptions of a TFLite model for `edgepipe lite inspect`: a text listing
// for people and a JSON document for tools.
#ifndef EDGEPIPE_LITE_INSPECT_H_
#define EDGEPIPE_LITE_INSPECT_H_

#include <cstddef>
#include <string>

#include "edgepipe/lite/model.h"

namespace edgepipe::lite {

// How the bytes of a .tflite file divide up. Buffers referenced by a tensor
// count as tensor data, buffers named by `metadata` / `metadata_buffer` as
// metadata (a buffer referenced both ways counts once, as tensor data),
// others as unreferenced; `graph` is everything else (tables, strings,
// vtables, padding): file_size - the three buffer sums.
struct SectionSizes {
  size_t file = 0;
  size_t tensor_data = 0;
  size_t metadata = 0;
  size_t unreferenced_buffers = 0;
  size_t graph = 0;
};
SectionSizes ComputeSections(const Model& model);

// Text listing: file size by section, signatures, then per subgraph its
// inputs/outputs, a count per operator type, operators (index, name, input
// and output tensor indices) and tensors (index, name, dtype, shape and
// shape signature, quantization, constant bytes). Pure; thread-safe.
std::string InspectText(const Model& model);

// The same content as one JSON object (pretty-printed, 2-space indent):
// {"name", "file_bytes", "version", "sections": {...}, "signatures": [...],
//  "subgraphs": [{"name", "inputs", "outputs", "op_counts": {NAME: n},
//  "operators": [{"index", "op", "inputs", "outputs"}],
//  "tensors": [{"index", "name", "type", "shape", "shape_signature"?,
//  "quantization"?: {"scale": [...], "zero_point": [...], "axis"},
//  "const_bytes"}]}]}. Pure; thread-safe.
std::string InspectJson(const Model& model);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_INSPECT_H_
