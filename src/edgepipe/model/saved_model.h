// The native saved model: a self-contained folder holding a model's layer
// graph (class names + configs), its weights and its serving signatures,
// loadable with no user code. Layout and JSON fields: docs/formats.md,
// "Native saved model".
//
//   <dir>/saved_model.json          format, format_version, model graph, signatures
//   <dir>/variables/<layer>.<weight>.npy   one float32 .npy per weight
//
//   RETURN_IF_ERROR(Save(model, "out/serving", {ExampleSignature("serving_default", specs)}));
//   ASSIGN_OR_RETURN(LoadedModel m, Load("out/serving"));
//
// Save writes the folder atomically (AtomicDir): a failure leaves no folder.
// Load verifies every weight file's size and SHA-256 against saved_model.json
// before parsing it, so truncated or corrupt weights fail with the file named.
// Thread safety: Save only reads the model; do not train it concurrently.
// Load is thread-safe.
#ifndef EDGEPIPE_MODEL_SAVED_MODEL_H_
#define EDGEPIPE_MODEL_SAVED_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/model/signature.h"
#include "edgepipe/nn/model.h"

namespace edgepipe::model {

inline constexpr std::string_view kSavedModelFormat = "edgepipe.saved_model";
// The newest format_version this code writes and reads.
inline constexpr int64_t kSavedModelFormatVersion = 1;
inline constexpr std::string_view kSavedModelJsonName = "saved_model.json";

struct SaveOptions {
  bool overwrite = false;  // replace an existing `dir`
  Env* env = Env::Default();
};

// Writes `model` with `signatures` to the folder `dir` (created; must not
// exist unless options.overwrite). Fails before writing anything when a
// signature does not fit the model (ValidateSignature) or two share a name.
Status Save(const nn::Model& model, const std::string& dir, std::span<const Signature> signatures,
            const SaveOptions& options = {});

// A model read back by Load. The model is a functional nn::Model (a saved
// Sequential comes back as the equivalent graph), not compiled.
struct LoadedModel {
  std::unique_ptr<nn::Model> model;
  std::vector<Signature> signatures;
  std::vector<std::string> output_names;  // OutputNames(*model)
  int64_t format_version = 0;

  // The signature called `name`, or nullptr.
  const Signature* FindSignature(std::string_view name) const;
};

// Reads the folder written by Save. Errors name the file and the rule:
// missing saved_model.json (NotFound), invalid JSON or fields, a
// format_version newer than kSavedModelFormatVersion (Unimplemented), an
// unknown layer class, a missing weight file (NotFound), a weight file whose
// size or SHA-256 differs from saved_model.json (DataLoss), a weight whose
// shape differs from the rebuilt layer's.
Result<LoadedModel> Load(const std::string& dir, Env* env = Env::Default());

}  // namespace edgepipe::model

#endif  // EDGEPIPE_MODEL_SAVED_MODEL_H_
