// edgepipe convert SAVED_MODEL_DIR OUT_DIR [--signature KEY] [--filename NAME]
//   [--quantize none|dynamic|float16|int8] [--input-type T] [--output-type T]
//   [--calibration-data FILE ...] [--calibration-steps N]
// Converts a native saved model into OUT_DIR/NAME (.tflite) with the TFLite
// rewriter, then prints the file's size and the validation report (the file
// against the native model on the calibration rows when given, else on
// seeded random inputs). --quantize int8 calibrates on --calibration-data
// (calibration_data.h: TFRecords of tf.Examples, or .npy per input).
#include <cstdio>

#include "edgepipe/cli/calibration_data.h"
#include "edgepipe/cli/commands.h"
#include "edgepipe/core/file.h"
#include "edgepipe/lite/rewriter.h"
#include "edgepipe/model/saved_model.h"

namespace edgepipe::cli {
namespace {

struct ConvertFlags {
  std::string src;
  std::string dst;
  std::string signature = "serving_default";
  std::string filename = "tflite";
  std::string quantize = "none";
  std::string input_type = "float32";
  std::string output_type = "float32";
  int64_t samples = 8;
  uint64_t seed = 1;
  std::vector<std::string> calibration_data;
  int64_t calibration_steps = 100;
};

lite::InferenceType ParseType(const std::string& t) {
  return t == "int8"    ? lite::InferenceType::kInt8
         : t == "uint8" ? lite::InferenceType::kUInt8
                        : lite::InferenceType::kFloat32;
}

Status RunConvertCommand(const ConvertFlags& f) {
  lite::TFLiteRewriterOptions o;
  o.name = "tflite_rewriter";
  o.filename = f.filename;
  o.signature_key = f.signature;
  o.quantization = f.quantize == "dynamic"   ? lite::Quantization::kDynamicRange
                   : f.quantize == "float16" ? lite::Quantization::kFloat16
                   : f.quantize == "int8"    ? lite::Quantization::kFullInteger
                                             : lite::Quantization::kNone;
  o.inference_input_type = ParseType(f.input_type);
  o.inference_output_type = ParseType(f.output_type);
  o.validation_samples = f.samples;
  o.validation_seed = f.seed;
  if (!f.calibration_data.empty()) {
    if (f.quantize != "int8") {
      return Status::InvalidArgument("--calibration-data is read for --quantize int8 only (got " +
                                     f.quantize + ")");
    }
    ASSIGN_OR_RETURN(model::LoadedModel m, model::Load(f.src));
    const model::Signature* sig = m.FindSignature(f.signature);
    if (sig == nullptr) {
      return Status::NotFound(f.src + ": no signature \"" + f.signature + "\"");
    }
    ASSIGN_OR_RETURN(o.representative_dataset,
                     ReadCalibrationData(f.calibration_data, *sig,
                                         {.max_rows = f.calibration_steps, .batch_rows = 16}));
    int64_t rows = 0;
    for (const auto& batch : o.representative_dataset) rows += batch.begin()->second.dim(0);
    std::fprintf(stderr, "convert: calibrating on %lld rows\n", static_cast<long long>(rows));
  } else if (f.quantize == "int8") {
    return Status::InvalidArgument(
        "--quantize int8 needs a representative dataset to calibrate activations: give "
        "--calibration-data FILE (TFRecord of tf.Examples, gz or not, or NAME=FILE.npy)");
  }
  lite::TFLiteRewriter rewriter(o);
  std::fprintf(stderr, "convert: %s -> %s (signature %s, quantization %s)\n", f.src.c_str(),
               JoinPath(f.dst, f.filename).c_str(), f.signature.c_str(), f.quantize.c_str());
  RETURN_IF_ERROR(lite::RewriteSavedModel(f.src, f.dst, rewriter, lite::ModelType::kTFLite));
  const std::string out = JoinPath(f.dst, f.filename);
  ASSIGN_OR_RETURN(uint64_t size, Env::Default()->FileSize(out));
  std::printf("wrote %s (%llu bytes)\n", out.c_str(), static_cast<unsigned long long>(size));
  if (const lite::ValidationReport* r = rewriter.validation_report()) {
    std::printf("validation: %s\n", r->ToString().c_str());
  }
  return Status::Ok();
}

}  // namespace

void RegisterConvertCommand(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<ConvertFlags>();
  CLI::App* cmd = app.add_subcommand("convert",
                                     "Convert a native saved model into a TFLite file (float32, or "
                                     "quantized) and check it against the model");
  cmd->add_option("SAVED_MODEL_DIR", flags->src, "native saved model folder")->required();
  cmd->add_option("OUT_DIR", flags->dst,
                  "output folder (created; other files in it are kept; must differ from "
                  "SAVED_MODEL_DIR)")
      ->required();
  cmd->add_option("--signature", flags->signature, "serving signature to convert")
      ->capture_default_str();
  cmd->add_option("--filename", flags->filename, "name of the written file")->capture_default_str();
  cmd->add_option("--quantize", flags->quantize,
                  "post-training quantization (int8 = full integer; needs --calibration-data)")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "dynamic", "float16", "int8"}));
  cmd->add_option("--input-type", flags->input_type,
                  "inference input type (int8/uint8 need "
                  "--quantize int8)")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "int8", "uint8"}));
  cmd->add_option("--output-type", flags->output_type, "inference output type")
      ->capture_default_str()
      ->check(CLI::IsMember({"float32", "int8", "uint8"}));
  cmd->add_option("--samples", flags->samples, "random rows for the validation")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--seed", flags->seed, "seed of the validation inputs")->capture_default_str();
  cmd->add_option("--calibration-data", flags->calibration_data,
                  "representative data for --quantize int8 (repeatable; also the validation "
                  "inputs): TFRecord files or shard patterns of tf.Examples (ExampleGen output, "
                  "gzip or not) with a float/int64 feature per signature input, or NAME=FILE.npy "
                  "per input with rows [N, ...] (FILE.npy alone for a single input)")
      ->take_all();
  cmd->add_option("--calibration-steps", flags->calibration_steps,
                  "rows (examples) read from --calibration-data; 0 = all")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  cmd->callback(
      [flags, &registry] { registry.Set([flags] { return RunConvertCommand(*flags); }); });
}

}  // namespace edgepipe::cli
