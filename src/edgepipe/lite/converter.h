// Native saved model -> float32 TFLite file, by one serving signature.
//
//   ASSIGN_OR_RETURN(model::LoadedModel m, model::Load("serving/temp"));
//   ASSIGN_OR_RETURN(Conversion c, ConvertSavedModel(m, {.signature_key = "serving_default"}));
//   RETURN_IF_ERROR(WriteFileAtomic("serving/tflite", c.tflite));
//
// The file is what TensorFlow's converter writes for the same Keras model:
// float32 tensors with static batch 1 in `shape` and -1 in
// `shape_signature`; inputs "serving_default_<name>:0"; outputs
// "StatefulPartitionedCall:<i>" (model output order); a SignatureDef mapping
// the signature's input names and the model's output names. Passes
// (lowering.h): Dropout dropped, BatchNormalization folded into the producing
// CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (else MUL + ADD), ReLU / ReLU6
// fused into the producer, Rescaling / Normalization as MUL + ADD (so the file
// takes raw features). Layout and names: docs/formats.md, "TFLite files the
// converter writes". The quantizer (quantizer.h) post-processes this float
// file. Thread-safe: converting only reads the model (no concurrent
// training).
#ifndef EDGEPIPE_LITE_CONVERTER_H_
#define EDGEPIPE_LITE_CONVERTER_H_

#include <string>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/lite/lowering.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::lite {

struct ConvertOptions {
  std::string signature_key = "serving_default";
};

// A converted model.
struct Conversion {
  std::string tflite;  // the .tflite bytes (identifier "TFL3")
  PassStats passes;
  int num_ops = 0;
  std::vector<std::string> input_names;   // signature input names, file order
  std::vector<std::string> output_names;  // signature output names, file order
};

// Converts `model` called through `signature`. Errors: the signature does not
// fit the model (InvalidArgument); a layer, configuration or feature without
// a TFLite lowering (Unimplemented naming the layer class and name).
Result<Conversion> ConvertModel(const nn::Model& model, const model::Signature& signature);

// The signature `options.signature_key` of a loaded saved model (NotFound
// listing the model's signatures when absent).
Result<Conversion> ConvertSavedModel(const model::LoadedModel& model,
                                     const ConvertOptions& options = {});

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_CONVERTER_H_
