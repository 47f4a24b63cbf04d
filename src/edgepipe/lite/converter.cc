#include "edgepipe/lite/converter.h"

namespace edgepipe::lite {

Result<Conversion> ConvertModel(const nn::Model& model, const model::Signature& signature) {
  ASSIGN_OR_RETURN(LiteGraph g, LowerModel(model, signature));
  Conversion c;
  c.passes = RunStandardPasses(g);
  ASSIGN_OR_RETURN(c.tflite, EmitTflite(g));
  c.num_ops = static_cast<int>(g.ops.size());
  for (const LiteIo& io : g.inputs) c.input_names.push_back(io.name);
  for (const LiteIo& io : g.outputs) c.output_names.push_back(io.name);
  return c;
}

Result<Conversion> ConvertSavedModel(const model::LoadedModel& model,
                                     const ConvertOptions& options) {
  const model::Signature* sig = model.FindSignature(options.signature_key);
  if (sig == nullptr || model.model == nullptr) {
    std::string known;
    for (const model::Signature& s : model.signatures)
      known += (known.empty() ? "" : ", ") + s.name;
    return Status::NotFound("signature \"" + options.signature_key +
                            "\" is not in the saved model (has: " +
                            (known.empty() ? std::string("none") : known) + ")");
  }
  return ConvertModel(*model.model, *sig);
}

}  // namespace edgepipe::lite
