// Pusher: copies a blessed model to a serving destination, as TFX's Pusher.
//
// The model pushed is <model>/Format-Serving when that folder exists (TFX's
// serving model path), else the whole Model folder. It is copied to
// <push_destination>/<version>/ atomically: into a temp sibling first, then
// renamed, so a reader never sees a partial version. version is the unix time
// in seconds (versioning "timestamp", TFX's default) or the execution id
// (versioning "execution_id").
//
// Blessing: with a model_blessing input the model is pushed only when the
// blessing folder holds a file BLESSED or the artifact has property
// blessed = 1. Without a blessing input the model is pushed.
// Not blessed: nothing is pushed; the PushedModel output gets pushed = 0 and
// a file NOT_PUSHED in its folder saying why. Pushed: pushed = 1,
// pushed_destination = <push_destination>/<version>, pushed_version, and a
// file PUSHED holding the destination.
#ifndef EDGEPIPE_COMPONENTS_PUSHER_H_
#define EDGEPIPE_COMPONENTS_PUSHER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::components {

struct PusherOptions {
  std::string model;                    // a Model artifact folder
  std::optional<std::string> blessing;  // a ModelBlessing folder, if any
  // The blessing artifact's `blessed` property, when it has one; it counts
  // as blessed when 1 even without a BLESSED file.
  std::optional<int64_t> blessed_property;
  std::string push_destination;
  std::string version;  // the folder name under push_destination
  std::string output;   // the PushedModel folder (reason files); may be empty
};

struct PusherSummary {
  bool pushed = false;
  std::string destination;  // <push_destination>/<version> when pushed
  std::string reason;       // why not, when not pushed
};

// Runs the Pusher. Not blessed is not an error (pushed = false). Errors:
// NotFound naming a missing model/blessing folder; AlreadyExists when the
// version folder exists; I/O errors naming the file. On error nothing is left
// at the destination.
Result<PusherSummary> RunPusher(const PusherOptions& options, Env* env = Env::Default());

// Copies the tree `from` into a new folder `to` (which must not exist) via a
// temp sibling and a rename. Files are copied through `env`.
Status CopyTreeAtomic(const std::string& from, const std::string& to, Env* env = Env::Default());

// --- the component ---------------------------------------------------------
// Inputs: model (Model), model_blessing (ModelBlessing, optional). Outputs:
// pushed_model (PushedModel, properties pushed, pushed_destination,
// pushed_version). Params: push_destination (string, required), versioning
// (string "timestamp" | "execution_id", default "timestamp").
const pipeline::ComponentSpec& PusherSpec();
std::unique_ptr<pipeline::Executor> MakePusherExecutor();
// model_blessing may be omitted (nullopt): push unconditionally.
pipeline::Node Pusher(pipeline::Channel model, std::optional<pipeline::Channel> model_blessing,
                      std::string push_destination, pipeline::Params params = {});

}  // namespace edgepipe::components

#endif  // EDGEPIPE_COMPONENTS_PUSHER_H_
