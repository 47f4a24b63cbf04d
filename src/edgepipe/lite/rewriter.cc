#include "edgepipe/lite/rewriter.h"

#include <filesystem>

#include "edgepipe/lite/converter.h"

namespace edgepipe::lite {

std::string_view ModelTypeName(ModelType type) {
  switch (type) {
    case ModelType::kAny:
      return "any";
    case ModelType::kSavedModel:
      return "saved_model";
    case ModelType::kTFLite:
      return "tflite";
  }
  return "?";
}

std::string_view QuantizationName(Quantization q) { return QuantizationModeName(q); }

std::string_view InferenceTypeName(InferenceType t) {
  switch (t) {
    case InferenceType::kFloat32:
      return "float32";
    case InferenceType::kInt8:
      return "int8";
    case InferenceType::kUInt8:
      return "uint8";
  }
  return "?";
}

Status BaseRewriter::PerformRewrite(const RewriterModel& original, const RewriterModel& rewritten) {
  auto fail = [&](std::string_view phase, const Status& s) {
    return Status(s.code(), "rewriter \"" + std::string(name()) + "\": " + std::string(phase) +
                                ": " + s.message());
  };
  if (Status s = PreRewriteValidation(original); !s.ok()) return fail("pre-rewrite validation", s);
  if (Status s = Rewrite(original, rewritten); !s.ok()) return fail("rewrite", s);
  if (Status s = PostRewriteValidation(rewritten); !s.ok()) {
    return fail("post-rewrite validation", s);
  }
  return Status::Ok();
}

Status TFLiteRewriter::PreRewriteValidation(const RewriterModel& original) {
  const TFLiteRewriterOptions& o = options_;
  if (o.filename.empty() || o.filename.find('/') != std::string::npos || o.filename == "." ||
      o.filename == "..") {
    return Status::InvalidArgument("filename \"" + o.filename +
                                   "\" must be a plain file name (no '/')");
  }
  if (original.type != ModelType::kSavedModel && original.type != ModelType::kAny) {
    return Status::InvalidArgument("the original model is " +
                                   std::string(ModelTypeName(original.type)) +
                                   "; the TFLite rewriter reads a saved model");
  }
  if (o.quantization == Quantization::kFullInteger && o.representative_dataset.empty()) {
    return Status::InvalidArgument(
        "full_integer quantization needs a representative dataset to calibrate activations");
  }
  if (o.quantization != Quantization::kFullInteger &&
      (o.inference_input_type != InferenceType::kFloat32 ||
       o.inference_output_type != InferenceType::kFloat32)) {
    return Status::InvalidArgument(
        "inference input/output type " + std::string(InferenceTypeName(o.inference_input_type)) +
        "/" + std::string(InferenceTypeName(o.inference_output_type)) + " needs full_integer " +
        "quantization (quantization is " + std::string(QuantizationName(o.quantization)) + ")");
  }
  ASSIGN_OR_RETURN(model::LoadedModel m, model::Load(original.path, o.env));
  if (m.FindSignature(o.signature_key) == nullptr) {
    std::string known;
    for (const model::Signature& s : m.signatures) known += (known.empty() ? "" : ", ") + s.name;
    return Status::NotFound(original.path + ": signature \"" + o.signature_key +
                            "\" is not in the saved model (has: " + known + ")");
  }
  source_.emplace(std::move(m));
  report_.reset();
  return Status::Ok();
}

Status TFLiteRewriter::Rewrite(const RewriterModel&, const RewriterModel& rewritten) {
  if (!source_) return Status::FailedPrecondition("rewrite before pre-rewrite validation");
  ASSIGN_OR_RETURN(Conversion c,
                   ConvertSavedModel(*source_, {.signature_key = options_.signature_key}));
  std::string bytes = std::move(c.tflite);
  if (options_.quantization != Quantization::kNone) {
    size_t next = 0;
    RepresentativeDataset data = [&](std::map<std::string, Array>* sample) -> Result<bool> {
      if (next == options_.representative_dataset.size()) return false;
      const model::NamedArrays& batch = options_.representative_dataset[next++];
      sample->clear();
      for (const auto& [name, a] : batch) sample->emplace(name, a);
      return true;
    };
    ASSIGN_OR_RETURN(bytes, QuantizeModel(bytes,
                                          {.mode = options_.quantization,
                                           .inference_input_type = options_.inference_input_type,
                                           .inference_output_type = options_.inference_output_type},
                                          &data));
  }
  RETURN_IF_ERROR(options_.env->CreateDirs(rewritten.path));
  return WriteFileAtomic(OutputPath(rewritten), bytes, options_.env);
}

Status TFLiteRewriter::PostRewriteValidation(const RewriterModel& rewritten) {
  if (!source_) return Status::FailedPrecondition("validation before pre-rewrite validation");
  const std::string path = OutputPath(rewritten);
  ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, options_.env));
  const model::Signature& sig = *source_->FindSignature(options_.signature_key);
  std::vector<model::NamedArrays> samples = options_.representative_dataset;
  if (samples.empty()) {
    ASSIGN_OR_RETURN(
        model::NamedArrays random,
        RandomSignatureInputs(sig, options_.validation_samples, options_.validation_seed));
    samples.push_back(std::move(random));
  }
  Result<ValidationReport> r = CompareWithNative(*source_->model, sig, bytes, samples);
  Status s = !r.ok()                                        ? r.status()
             : options_.quantization == Quantization::kNone ? CheckFloatConversion(*r, path)
                                                            : Status::Ok();
  if (r.ok()) report_ = *r;
  if (!s.ok()) {
    // A file that does not do what the model does is not left behind.
    options_.env->RemoveFile(path).IgnoreError();
    return s;
  }
  return Status::Ok();
}

std::unique_ptr<BaseRewriter> CreateRewriter(RewriterType type, TFLiteRewriterOptions options) {
  switch (type) {
    case RewriterType::kTFLiteRewriter:
      break;
  }
  return std::make_unique<TFLiteRewriter>(std::move(options));
}

Status RewriteSavedModel(const std::string& src, const std::string& dst, BaseRewriter& rewriter,
                         ModelType dst_type, Env* env) {
  namespace fs = std::filesystem;
  if (src.empty() || dst.empty()) {
    return Status::InvalidArgument("rewrite: source and destination folders must be given");
  }
  auto norm = [](const std::string& p) {
    std::error_code ec;
    fs::path abs = fs::absolute(fs::path(p), ec);
    fs::path n = (ec ? fs::path(p) : abs).lexically_normal();
    std::string s = n.string();
    while (s.size() > 1 && s.back() == '/') s.pop_back();
    return s;
  };
  if (norm(src) == norm(dst)) {
    return Status::InvalidArgument("rewrite: source \"" + src + "\" and destination \"" + dst +
                                   "\" are the same folder; write the rewritten model elsewhere");
  }
  if (!env->IsDirectory(src)) {
    return Status::NotFound("rewrite: source saved model folder \"" + src + "\" does not exist");
  }
  if (dst_type == ModelType::kSavedModel) {
    return Status::Unimplemented("rewrite: destination type saved_model is not supported");
  }
  return rewriter.PerformRewrite(
      {src, ModelType::kSavedModel},
      {dst, dst_type == ModelType::kAny ? ModelType::kTFLite : dst_type});
}

}  // namespace edgepipe::lite
