// SignatureRunner: executes a model by one of its signatures on a batch.
//
//   ASSIGN_OR_RETURN(LoadedModel m, Load(dir));
//   ASSIGN_OR_RETURN(SignatureRunner r, SignatureRunner::Create(m, "serving_default"));
//   ASSIGN_OR_RETURN(auto out, r.Run(serialized_examples));   // kExamples
//   const Array& logits = out.at(m.output_names[0]);          // float32 [N, 10]
//
// Runs in inference mode (no dropout, moving statistics), the whole batch in
// one call, and returns every model output by name (OutputNames) as a
// float32 Array of shape [N, ...]. An empty batch gives [0, ...] outputs.
//
// Lifetime: the runner borrows the model (and LoadedModel); they must outlive
// it. Thread safety: one thread at a time per runner, and no two runners over
// the same model concurrently (layers keep per-call state).
#ifndef EDGEPIPE_MODEL_SIGNATURE_RUNNER_H_
#define EDGEPIPE_MODEL_SIGNATURE_RUNNER_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "edgepipe/core/array.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::model {

using NamedArrays = std::map<std::string, Array, std::less<>>;

class SignatureRunner {
 public:
  // The signature `name` of a loaded model; NotFound listing the signatures
  // the model has when absent.
  static Result<SignatureRunner> Create(const LoadedModel& model, std::string_view name);
  // Any model with a signature (validated with ValidateSignature).
  static Result<SignatureRunner> Create(const nn::Model& model, Signature signature);

  const Signature& signature() const { return signature_; }

  // kExamples signatures: parses the serialized tf.Examples by the feature
  // specs and runs the model. A record without a required feature fails
  // naming the signature, the record and the feature.
  Result<NamedArrays> Run(std::span<const std::string> serialized_examples);
  // kTensors signatures: one Array per signature input, of the declared
  // dtype and shape (any batch size where the spec says -1; equal batch
  // sizes across inputs). Extra or missing names are errors.
  Result<NamedArrays> Run(const NamedArrays& inputs);

 private:
  SignatureRunner(const nn::Model& model, Signature signature)
      : model_(&model), signature_(std::move(signature)) {}
  // Feeds `by_name` (numeric arrays [N, ...] keyed by model input name).
  Result<NamedArrays> Execute(const std::map<std::string, const Array*>& by_name, int64_t batch);
  Status Error(const std::string& message) const;

  const nn::Model* model_;
  Signature signature_;
  std::optional<data::ExampleParser> parser_;  // kExamples
};

}  // namespace edgepipe::model

#endif  // EDGEPIPE_MODEL_SIGNATURE_RUNNER_H_
