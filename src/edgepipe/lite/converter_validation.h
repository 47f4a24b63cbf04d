// Checks a written .tflite file against the native model it came from: both
// run on the same sample inputs (the native model through
// model::SignatureRunner, the file through our Interpreter) and their outputs
// are compared by signature output name.
//
//   ASSIGN_OR_RETURN(auto samples, RandomSignatureInputs(sig, 8, /*seed=*/1));
//   ASSIGN_OR_RETURN(ValidationReport r, CompareWithNative(model, sig, bytes, {samples}));
//   RETURN_IF_ERROR(CheckFloatConversion(r, "serving/tflite"));
//
// Samples are batches keyed by signature input name (kTensors: the declared
// inputs; kExamples: the numeric features), float32 [N, ...spec shape]. The
// file is run once per batch, its inputs resized to N. Thread-safe on
// distinct models (the native model is run, so not concurrently with other
// users of it).
#ifndef EDGEPIPE_LITE_CONVERTER_VALIDATION_H_
#define EDGEPIPE_LITE_CONVERTER_VALIDATION_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "edgepipe/core/status.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/model/signature_runner.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::lite {

// What a comparison found; plain value for callers to read and log.
struct ValidationReport {
  int64_t samples = 0;           // rows compared
  double max_abs_diff = 0;       // largest |tflite - native| over all outputs
  double max_abs_reference = 0;  // largest |native| (the outputs' scale)
  std::string worst_output;      // output holding max_abs_diff
  int64_t top1_compared = 0;     // rows of [N, K >= 2] outputs
  int64_t top1_agree = 0;        // of which the argmax agrees
  double top1_agreement() const {
    return top1_compared ? static_cast<double>(top1_agree) / static_cast<double>(top1_compared)
                         : 1.0;
  }
  // One line: "8 samples: max |diff| 2.4e-07 on \"dense_2\" (outputs up to
  // 3.1); top-1 agreement 8/8 (100.0%)".
  std::string ToString() const;
};

// `n` rows of seeded uniform [-1, 1) float32 inputs for every input of
// `signature` (string features: InvalidArgument).
Result<model::NamedArrays> RandomSignatureInputs(const model::Signature& signature, int64_t n,
                                                 uint64_t seed);

// Runs both models on every batch of `samples`. Errors: the file does not
// load or run, lacks the signature or one of its names, or an output's shape
// differs from the native one.
Result<ValidationReport> CompareWithNative(const nn::Model& model,
                                           const model::Signature& signature,
                                           std::string_view tflite_bytes,
                                           std::span<const model::NamedArrays> samples);

// Fails (FailedPrecondition naming `what`) when a float conversion differs by
// more than `tolerance` x max(1, max_abs_reference).
Status CheckFloatConversion(const ValidationReport& report, std::string_view what,
                            double tolerance = 1e-4);

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_CONVERTER_VALIDATION_H_
