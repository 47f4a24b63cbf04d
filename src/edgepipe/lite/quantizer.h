// Post-training quantization of a float .tflite file, following the
// conventions of TensorFlow Lite's post-training quantizer, so that the
// result runs in Google's runtimes and in our interpreter with the same
// outputs.
//
//   kDynamicRange  int8 symmetric weights (per channel for CONV_2D and
//                  DEPTHWISE_CONV_2D, per tensor for FULLY_CONNECTED), float
//                  activations: the ops run as TFLite's hybrid kernels
//                  (FULLY_CONNECTED with asymmetric_quantize_inputs). Weights
//                  with fewer than `min_weight_elements` elements stay float,
//                  as do CONV_2D filters with one output channel.
//   kFloat16       every float32 constant read by an op becomes a FLOAT16
//                  constant feeding a DEQUANTIZE op (fp16 -> fp32).
//   kFullInteger   int8 activations (asymmetric, ranges calibrated by running
//                  the float model in our interpreter on the representative
//                  dataset, widened to include 0), int8 symmetric weights
//                  (per channel for conv/depthwise, per tensor for fully
//                  connected), int32 bias with scale input_scale *
//                  weight_scale; SOFTMAX/LOGISTIC outputs 1/256 zp -128, TANH
//                  1/128 zp 0; MAX_POOL_2D, AVERAGE_POOL_2D, RESHAPE, PAD,
//                  TRANSPOSE keep their input's params; CONCATENATION inputs
//                  whose params differ from the output's are requantized by
//                  an inserted QUANTIZE op. Graph inputs/outputs are float
//                  (QUANTIZE/DEQUANTIZE at the edges), int8 (the int8 tensors
//                  themselves) or uint8 (uint8 tensor with zero point + 128,
//                  QUANTIZE uint8 <-> int8 at the edges).
//
// Usage:
//   RepresentativeDataset data = [&](std::map<std::string, Array>* in) ->
//       Result<bool> { if (i == n) return false; (*in)["x"] = ...; return true; };
//   ASSIGN_OR_RETURN(std::string bytes, QuantizeModel(float_bytes,
//       {.mode = QuantizationMode::kFullInteger}, &data));
//
// Thread safety: QuantizeModel has no shared state; concurrent calls are
// fine when they use different datasets.
#ifndef EDGEPIPE_LITE_QUANTIZER_H_
#define EDGEPIPE_LITE_QUANTIZER_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"

namespace edgepipe::lite {

enum class QuantizationMode { kNone, kDynamicRange, kFloat16, kFullInteger };

// "none", "dynamic_range", "float16", "full_integer".
std::string_view QuantizationModeName(QuantizationMode mode);

// Type of the quantized model's graph inputs/outputs.
enum class InferenceType { kFloat32, kInt8, kUInt8 };

struct QuantizeOptions {
  QuantizationMode mode = QuantizationMode::kNone;
  // kInt8/kUInt8 only with kFullInteger.
  InferenceType inference_input_type = InferenceType::kFloat32;
  InferenceType inference_output_type = InferenceType::kFloat32;
  // kDynamicRange: weights with fewer elements stay float (TFLite: 1024).
  int64_t min_weight_elements = 1024;
  // kFullInteger: calibration stops after this many samples (<= 0: all).
  int max_calibration_samples = 0;
};

// Calibration data: each call fills one sample (a batch) of float inputs,
// keyed by signature input name, and returns true; false when exhausted.
// Errors it returns abort the quantization.
using RepresentativeDataset = std::function<Result<bool>(std::map<std::string, Array>*)>;

// Quantizes `float_tflite` (a whole float .tflite file, one subgraph) and
// returns the new file. `data` is required for kFullInteger (else
// InvalidArgument) and ignored otherwise; it may be null. kNone returns the
// input unchanged. Errors: InvalidArgument for bad options, a model that is
// not float, dataset samples that do not match the inputs;
// Unimplemented naming the operator for ops a mode cannot quantize.
Result<std::string> QuantizeModel(std::string_view float_tflite, const QuantizeOptions& options,
                                  RepresentativeDataset* data);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_QUANTIZER_H_
