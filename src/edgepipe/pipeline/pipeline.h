// A pipeline as the user writes it (TFX's `pipeline.Pipeline(...)`):
//
//   Pipeline p{.name = "mnist", .root = "/tmp/mnist",
//              .components = {example_gen, statistics_gen, trainer},
//              .enable_cache = true};
//
// Components may be listed in any order; the runner orders them by their
// channels. A plain value; copying shares the nodes (see Node).
#ifndef EDGEPIPE_PIPELINE_PIPELINE_H_
#define EDGEPIPE_PIPELINE_PIPELINE_H_

#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/pipeline/component.h"

namespace edgepipe::pipeline {

struct Pipeline {
  std::string name;
  // The pipeline root: artifacts live at <root>/<component_id>/<output_key>/<execution_id>/.
  std::string root;
  std::vector<Node> components;
  bool enable_cache = true;
  // The metadata store file; empty means <root>/metadata.sqlite.
  std::string metadata_path;
};

// The metadata path a pipeline uses: metadata_path, or <root>/metadata.sqlite.
inline std::string MetadataPathOf(const Pipeline& p) {
  return p.metadata_path.empty() ? JoinPath(p.root, "metadata.sqlite") : p.metadata_path;
}

}  // namespace edgepipe::pipeline

#endif  // EDGEPIPE_PIPELINE_PIPELINE_H_
