// The rewriter framework of TFX's guide "TFLite in TFX", in C++: a rewriter
// turns the model at one path into another kind of model at another path,
// in three phases run in order by PerformRewrite (pre-rewrite validation,
// rewrite, post-rewrite validation); the first failure stops it.
//
//   auto rewriter = CreateRewriter(RewriterType::kTFLiteRewriter, {.name = "tflite_rewriter"});
//   RETURN_IF_ERROR(RewriteSavedModel(dir + "/temp", dir, *rewriter, ModelType::kTFLite));
//   // writes <dir>/tflite; rewriter->validation_report() says how close it is
//
// Thread safety: a rewriter is used by one thread at a time.
#ifndef EDGEPIPE_LITE_REWRITER_H_
#define EDGEPIPE_LITE_REWRITER_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/lite/converter_validation.h"
#include "edgepipe/lite/quantizer.h"
#include "edgepipe/model/saved_model.h"
#include "edgepipe/model/signature_runner.h"

namespace edgepipe::lite {

// kSavedModel is edgepipe's native saved model (model/saved_model.h).
enum class ModelType { kAny, kSavedModel, kTFLite };
std::string_view ModelTypeName(ModelType type);

// A model handed to a rewriter: where it is (a folder) and what it is.
struct RewriterModel {
  std::string path;
  ModelType type = ModelType::kAny;
};

class BaseRewriter {
 public:
  virtual ~BaseRewriter() = default;
  virtual std::string_view name() const = 0;

  // Runs PreRewriteValidation(original), Rewrite(original, rewritten),
  // PostRewriteValidation(rewritten) in order; returns the first failure,
  // prefixed with the rewriter's name and the phase.
  Status PerformRewrite(const RewriterModel& original, const RewriterModel& rewritten);

  // The report of the last post-rewrite validation that compared models,
  // or null.
  virtual const ValidationReport* validation_report() const { return nullptr; }

 protected:
  virtual Status PreRewriteValidation(const RewriterModel& original) = 0;
  virtual Status Rewrite(const RewriterModel& original, const RewriterModel& rewritten) = 0;
  virtual Status PostRewriteValidation(const RewriterModel& rewritten) = 0;
};

// The quantizer's modes and I/O types (lite/quantizer.h).
using Quantization = QuantizationMode;
// "none", "dynamic_range", "float16", "full_integer"; "float32", "int8", "uint8".
std::string_view QuantizationName(Quantization q);
std::string_view InferenceTypeName(InferenceType t);

struct TFLiteRewriterOptions {
  std::string name = "tflite_rewriter";
  std::string filename = "tflite";  // written as <rewritten.path>/<filename>
  std::string signature_key = "serving_default";
  Quantization quantization = Quantization::kNone;
  InferenceType inference_input_type = InferenceType::kFloat32;
  InferenceType inference_output_type = InferenceType::kFloat32;
  // Batches keyed by signature input name (float32 [N, ...]). Calibrates
  // full-integer quantization (required there) and, when given, is also the
  // post-rewrite validation's input; else validation uses seeded random
  // inputs.
  std::vector<model::NamedArrays> representative_dataset = {};
  int64_t validation_samples = 8;  // random rows when no representative dataset
  uint64_t validation_seed = 1;
  Env* env = Env::Default();  // not owned; must outlive the rewriter
};

// Converts a native saved model into a .tflite file:
//  - pre: options are valid (filename a plain name; full_integer needs a
//    representative dataset; float32 I/O unless full_integer); `original` is
//    a saved model that loads and has the signature.
//  - rewrite: ConvertSavedModel, then QuantizeModel (lite/quantizer.h) when
//    quantization is not none (full_integer calibrates on the
//    representative dataset), written atomically (WriteFileAtomic) to
//    <rewritten.path>/<filename>; the folder is created, other files in it
//    are kept.
//  - post: the written file, read back, against the native model
//    (CompareWithNative; int8/uint8 I/O quantized and dequantized with the
//    file's parameters). A float conversion (quantization none) fails when it
//    differs by more than 1e-4 (CheckFloatConversion), and then the written
//    file is removed; a quantized one is reported (validation_report()), not
//    held to a float tolerance.
class TFLiteRewriter : public BaseRewriter {
 public:
  explicit TFLiteRewriter(TFLiteRewriterOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return options_.name; }
  const TFLiteRewriterOptions& options() const { return options_; }
  const ValidationReport* validation_report() const override {
    return report_ ? &*report_ : nullptr;
  }

 protected:
  Status PreRewriteValidation(const RewriterModel& original) override;
  Status Rewrite(const RewriterModel& original, const RewriterModel& rewritten) override;
  Status PostRewriteValidation(const RewriterModel& rewritten) override;
  // The path Rewrite writes.
  std::string OutputPath(const RewriterModel& rewritten) const {
    return JoinPath(rewritten.path, options_.filename);
  }

 private:
  TFLiteRewriterOptions options_;
  std::optional<model::LoadedModel> source_;  // loaded by PreRewriteValidation
  std::optional<ValidationReport> report_;
};

enum class RewriterType { kTFLiteRewriter };

// A new rewriter of `type` (never null). Options are checked when it runs
// (pre-rewrite validation).
std::unique_ptr<BaseRewriter> CreateRewriter(RewriterType type, TFLiteRewriterOptions options = {});

// Rewrites the saved model in folder `src` into `dst` as `dst_type`
// (kTFLite, or kAny to take the rewriter's kind) with `rewriter`. `src` and
// `dst` must name different folders (InvalidArgument otherwise, compared
// after normalising the paths); `src` must exist (NotFound). `dst` may exist
// and hold other files (the guide writes into the serving model folder whose
// `temp` child is `src`).
Status RewriteSavedModel(const std::string& src, const std::string& dst, BaseRewriter& rewriter,
                         ModelType dst_type = ModelType::kTFLite, Env* env = Env::Default());

}  // namespace edgepipe::lite

#endif  // EDGEPIPE_LITE_REWRITER_H_
