// Serving signatures of a saved model (as in TFX's serving_default): named
// entry points that say how a batch is fed to the model.
//
//  - kExamples: the caller passes serialized tf.Example strings; each feature
//    spec is parsed (data/feature_spec.h) and feeds the model input of the
//    same name, reshaped to [N, ...input dims] (a spec's element count must
//    equal the input's). Numeric features only (float32, int64 -> float32).
//      ExampleSignature("serving_default", {FeatureSpec::Float32("image_floats", {784})})
//  - kTensors: the caller passes one core Array per input name, dtype and
//    shape as declared (batch dim first, -1 for any batch size).
//      TensorSignature("serving_tensors", {{"image_floats", DType::kFloat32, {-1, 784}}})
//
// Every signature runs the whole model and returns all of its outputs, named
// by OutputNames(). Signatures are plain values.
#ifndef EDGEPIPE_MODEL_SIGNATURE_H_
#define EDGEPIPE_MODEL_SIGNATURE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/model/json_util.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::model {

// A named input tensor of a kTensors signature.
struct TensorSpec {
  std::string name;
  DType dtype = DType::kFloat32;
  std::vector<int64_t> shape;  // batch dim first; -1 only for the batch dim
};

enum class SignatureKind { kExamples, kTensors };
// "examples" / "tensors", the JSON spelling.
std::string_view SignatureKindName(SignatureKind kind);

struct Signature {
  std::string name;
  SignatureKind kind = SignatureKind::kTensors;
  std::vector<data::FeatureSpec> features;  // kExamples
  std::vector<TensorSpec> inputs;           // kTensors
};

Signature ExampleSignature(std::string name, std::vector<data::FeatureSpec> features);
Signature TensorSignature(std::string name, std::vector<TensorSpec> inputs);

// The model's output names: each output node's layer name, with "_1", "_2",
// ... appended to repeats (a shared layer's later calls).
std::vector<std::string> OutputNames(const nn::Model& model);

// Checks that `sig` fits `model`: a non-empty name; every signature input
// (feature) names a model input and matches its shape and kind; every model
// input is fed. Errors name the signature, the input and the rule, e.g.
//   signature "serving_default": input "pixels" is not an input of model
//   "mnist" (inputs: image_floats)
Status ValidateSignature(const Signature& sig, const nn::Model& model);

// The JSON form documented in docs/formats.md ("Native saved model"),
// without the name (the key of the "signatures" object).
Json SignatureToJson(const Signature& sig);
// Parses SignatureToJson's output; `where` prefixes errors.
Result<Signature> SignatureFromJson(std::string name, const Json& json, std::string_view where);

}  // namespace edgepipe::model

#endif  // EDGEPIPE_MODEL_SIGNATURE_H_
