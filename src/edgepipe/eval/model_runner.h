// ModelRunner: one interface over the two kinds of model the Evaluator
// analyses, so that everything after inference is the same for both:
//
//   native   a saved model folder (model/saved_model.h), run by one of its
//            signatures (ModelSpec.signature_name, default serving_default).
//            kExamples signatures get the serialized tf.Example records,
//            kTensors signatures get the parsed features of the same names.
//   tf_lite  a .tflite file: `<dir>/<tflite_filename>`, or
//            `<dir>/Format-Serving/<tflite_filename>` for a Trainer Model
//            artifact, or the path itself when it is a file. Inputs are fed
//            from the features whose names equal the input tensor names after
//            removing a "serving_default_" prefix and a ":N" suffix (as TFMA
//            does). Quantized inputs are quantized (round to nearest, clamp);
//            quantized outputs are dequantized. The interpreter is resized to
//            the batch.
//
//   ASSIGN_OR_RETURN(auto runner, OpenModel(spec, "model/Format-Serving", {}));
//   RETURN_IF_ERROR(runner->CheckFeatures(available_feature_names));
//   ModelInputBatch in{.size = n, .serialized = records, .features = &parsed};
//   ASSIGN_OR_RETURN(int k, runner->Run(in, &predictions));  // n * k floats
//
// Predictions are always float32 [N, K] row-major, K = num_outputs(): the
// output named by ModelSpec.prediction_key, or the only output (an error
// naming the outputs when there are several and no prediction_key).
//
// Thread safety: a runner is used by one thread at a time. Clone() gives an
// independent runner over the same model for another thread (tflite: shares
// the verified flatbuffer; native: loads the folder again, since native
// layers keep per-call state).
#ifndef EDGEPIPE_EVAL_MODEL_RUNNER_H_
#define EDGEPIPE_EVAL_MODEL_RUNNER_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/data/feature_spec.h"
#include "edgepipe/eval/eval_config.pb.h"
#include "edgepipe/eval/result.h"

namespace edgepipe::eval {

struct ModelRunnerOptions {
  // Rows per inference call; larger chunks are run in several calls.
  int64_t batch_size = 256;
  // File name of the TFLite model inside a model folder (TFX: "tflite").
  std::string tflite_filename = "tflite";
  Env* env = Env::Default();  // borrowed; must outlive the runner
};

// One batch of examples as the runner reads it. `serialized` holds the
// records (used by native kExamples signatures; may be empty otherwise);
// `features` holds at least input_features() parsed for the same rows
// (numeric Arrays [size, ...shape]); it may be null when input_features()
// is empty. Borrowed for the duration of Run().
struct ModelInputBatch {
  int64_t size = 0;
  std::span<const std::string> serialized;
  const data::Batch* features = nullptr;
};

class ModelRunner {
 public:
  virtual ~ModelRunner() = default;

  // Name, type ("native" / "tf_lite"), path read, size on disk, and the mean
  // latency per inference call of latency_batch rows measured so far.
  virtual ModelInfo info() const = 0;

  // True when Run needs ModelInputBatch::serialized.
  virtual bool needs_serialized() const = 0;
  // The features Run needs parsed (name, dtype, per-example shape), each
  // without a default: a missing one is an error of the extractor.
  virtual const std::vector<data::FeatureSpec>& input_features() const = 0;
  // The model's own input names (TFLite tensor names, or the signature's
  // inputs / feature specs), for messages.
  virtual std::vector<std::string> input_names() const = 0;
  // Prediction width K (the selected output's size per example).
  virtual int num_outputs() const = 0;

  // Checks that every input feature is among `available` (the features of
  // the data); else InvalidArgument naming the model, its inputs and the
  // available features:
  //   model "lite": input "serving_default_image:0" needs feature "image",
  //   not in the examples (model inputs: serving_default_image:0; available
  //   features: image_class, image_floats)
  Status CheckFeatures(std::span<const std::string> available) const;

  // Runs the model on `batch` and writes batch.size * num_outputs() floats
  // to *predictions (resized). Errors name the model.
  virtual Status Run(const ModelInputBatch& batch, std::vector<float>* predictions) = 0;

  // An independent runner over the same model (see the thread-safety note).
  virtual Result<std::unique_ptr<ModelRunner>> Clone() const = 0;
};

// "native" for "native" and its alias "tf_keras" (and ""), "tf_lite" for
// "tf_lite"; InvalidArgument naming any other value.
Result<std::string> RunnerModelType(std::string_view model_type);

// Opens the model at `path` as `spec` says (model_type, signature_name,
// prediction_key; spec.name becomes ModelInfo.name). Errors name the path:
// NotFound for a missing model or .tflite file, InvalidArgument for a
// prediction_key that names no output (listing the outputs) or a model
// whose outputs are not float-convertible [N, ...].
Result<std::unique_ptr<ModelRunner>> OpenModel(const ModelSpec& spec, const std::string& path,
                                               const ModelRunnerOptions& options = {});

// The feature a TFLite input tensor is fed from: `name` without a
// "serving_default_" prefix and a ":N" suffix ("serving_default_x:0" -> "x").
std::string FeatureNameOfInput(std::string_view name);

// TFLite's input quantization, as its reference Quantize op: round(x /
// scale) half away from zero, plus zero_point, clamped to [qmin, qmax]
// (TFMA's TFLite path truncates instead). NaN gives qmin. scale must be > 0.
// input_quantize.h has the vectorized form for whole rows.
inline int32_t QuantizeValue(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  if (std::isnan(x)) return qmin;
  // Clamped before the conversion so that it is defined; the double sum is
  // exact, so this is std::round's rule without its library call.
  const double v = std::min(std::max(double{x / scale}, -1e9), 1e9);
  const double r = static_cast<double>(static_cast<int64_t>(v + (v >= 0 ? 0.5 : -0.5)));
  return static_cast<int32_t>(
      std::min(std::max(r + zero_point, static_cast<double>(qmin)), static_cast<double>(qmax)));
}

}  // namespace edgepipe::eval

#endif  // EDGEPIPE_EVAL_MODEL_RUNNER_H_
