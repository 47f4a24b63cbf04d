// The pipeline runner: validates a Pipeline, runs its components in
// dependency order (independent ones in parallel), serves unchanged ones from
// the cache and records everything in the metadata store.
//
// Per component:
//   1. inputs are the outputs of its producers in this run; when a producer
//      failed or was skipped, the component is skipped (recorded CANCELED);
//   2. cache key (cache.h); with caching on, a hit records a CACHED execution
//      whose outputs are the hit's artifacts, and nothing runs;
//   3. otherwise an execution is recorded RUNNING with its inputs and PENDING
//      output artifacts at <root>/<component_id>/<output_key>/<execution_id>/;
//      the executor writes into staging folders `<that>.tmp`, which are
//      renamed into place only after Do() succeeded; then, in one
//      transaction, the outputs become LIVE and the execution COMPLETE;
//   4. on failure the staging folders are removed, the outputs ABANDONED and
//      the execution FAILED with the error; dependents are skipped, other
//      branches keep running.
// At the start of a run, executions left RUNNING by a process that no longer
// exists (kill -9) are marked FAILED and their staging folders removed.
//
// Progress and time per component go to RunOptions::log (stderr).
// Thread safety: RunPipeline may be called from any thread; executors run on
// the runner's own worker threads.
#ifndef EDGEPIPE_PIPELINE_RUNNER_H_
#define EDGEPIPE_PIPELINE_RUNNER_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"
#include "edgepipe/pipeline/pipeline.h"

namespace edgepipe::pipeline {

struct RunOptions {
  // Components run at once at most; <= 0 means the machine's thread count.
  int max_parallelism = 0;
  // Overrides Pipeline::enable_cache to off when true (`--no-cache`).
  bool disable_cache = false;
  // The run context's name; empty generates "<UTC time>-<pid>".
  std::string run_id;
  // Log of progress and times; null for none. Borrowed.
  FILE* log = stderr;
  Env* env = Env::Default();
};

enum class NodeStatus { kRan, kCached, kFailed, kSkipped };
std::string_view NodeStatusName(NodeStatus s);  // "ran" | "cached" | "failed" | "skipped"

struct NodeResult {
  std::string component_id;
  NodeStatus status = NodeStatus::kSkipped;
  int64_t execution_id = 0;
  double seconds = 0;   // wall time of this component (0 when skipped)
  ArtifactMap outputs;  // published (or reused) output artifacts
  Status error;         // for kFailed / kSkipped: "<component id>: <message>"
};

struct RunSummary {
  std::string pipeline_name;
  std::string run_id;
  int64_t run_context_id = 0;
  double seconds = 0;
  std::vector<NodeResult> nodes;  // in topological order
  // OK when every component ran or was cached; otherwise the first failure.
  Status status() const;
  const NodeResult* Find(std::string_view component_id) const;
};

// Checks the pipeline without running it: ids unique and usable as folder
// names, every input channel produced by a component of this pipeline with an
// existing output key of the spec's type, required inputs present, parameters
// valid (ResolveParams), no cycles. Errors name the component and the rule.
Status ValidatePipeline(const Pipeline& pipeline);

// Runs the pipeline. Returns an error only when the pipeline is invalid or
// the store cannot be opened/written; component failures are reported in the
// summary (RunSummary::status()).
Result<RunSummary> RunPipeline(const Pipeline& pipeline, const RunOptions& options = {});

}  // namespace edgepipe::pipeline

#endif  // EDGEPIPE_PIPELINE_RUNNER_H_
