// The metadata store: an ML-Metadata-like record of artifacts, executions,
// the events that link them and the contexts (pipeline, run) they belong to,
// in ONE SQLite file.
//
// Schema (version kMetadataSchemaVersion):
//   schema_version(version)            one row; a newer version is refused
//   type(id, kind, name)               artifact / execution / context types
//   artifact(id, type_id, uri, state, create_time_ms, update_time_ms)
//   artifact_property(artifact_id, name, int_value | double_value | string_value)
//   execution(id, type_id, component_id, state, start_time_ms, end_time_ms,
//             cache_key, error, cached_from, pid)
//   execution_property(execution_id, name, ...)      the parameters
//   event(id, artifact_id, execution_id, type, key, idx, time_ms)
//   context(id, type_id, name, parent_id, create_time_ms)
//   attribution(context_id, artifact_id), association(context_id, execution_id)
//
// Durability: WAL journal, synchronous=NORMAL. Every write method is one
// transaction (or part of the caller's Transaction()), so a process killed at
// any point (kill -9) leaves a store that opens with all or none of each
// write. (A power loss may lose the last commits, never consistency.)
//
// Thread safety: a MetadataStore is thread-safe (one connection guarded by a
// recursive mutex); Transaction() holds the mutex for its whole body, so
// other threads' writes wait. Several processes may share a file (SQLite
// locking with a busy timeout of 10 s).
#ifndef EDGEPIPE_PIPELINE_METADATA_STORE_H_
#define EDGEPIPE_PIPELINE_METADATA_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"
#include "edgepipe/pipeline/component.h"

struct sqlite3;

namespace edgepipe::pipeline {

inline constexpr int kMetadataSchemaVersion = 1;

// ML Metadata's artifact states.
enum class ArtifactState {
  kUnknown = 0,
  kPending = 1,
  kLive = 2,
  kMarkedForDeletion = 3,
  kDeleted = 4,
  kAbandoned = 5
};
// Execution states. kCached: served from the cache (outputs reused from
// `cached_from`); kCanceled: not run because an upstream component failed.
enum class ExecutionState {
  kUnknown = 0,
  kNew = 1,
  kRunning = 2,
  kComplete = 3,
  kFailed = 4,
  kCached = 5,
  kCanceled = 6
};
enum class EventType { kInput = 1, kOutput = 2 };

std::string_view ArtifactStateName(ArtifactState s);    // "LIVE"
std::string_view ExecutionStateName(ExecutionState s);  // "COMPLETE"

struct ArtifactRecord {
  Artifact artifact;  // id, type, uri, properties
  ArtifactState state = ArtifactState::kPending;
  int64_t create_time_ms = 0;  // milliseconds since the Unix epoch
  int64_t update_time_ms = 0;
};

struct ExecutionRecord {
  int64_t id = 0;
  std::string component_id;    // "Trainer.mnist_lite"
  std::string component_type;  // "Trainer" (the execution type)
  Params parameters;
  ExecutionState state = ExecutionState::kNew;
  int64_t start_time_ms = 0;
  int64_t end_time_ms = 0;  // 0 while not finished
  std::string cache_key;    // hex; empty when none
  std::string error;        // for kFailed / kCanceled
  int64_t cached_from = 0;  // for kCached: the execution whose outputs were reused
  int64_t pid = 0;          // the process that ran it (crash recovery)
};

struct Event {
  int64_t id = 0;
  int64_t artifact_id = 0;
  int64_t execution_id = 0;
  EventType type = EventType::kInput;
  std::string key;  // channel key: "examples"
  int index = 0;    // position within the channel
  int64_t time_ms = 0;
};

struct Context {
  int64_t id = 0;
  std::string type;       // "pipeline" | "run"
  std::string name;       // pipeline name / run id
  int64_t parent_id = 0;  // a run's pipeline context; 0 when none
  int64_t create_time_ms = 0;
};

inline constexpr std::string_view kPipelineContext = "pipeline";
inline constexpr std::string_view kRunContext = "run";

struct MetadataStoreOptions {
  // Create the file (and its folder) when missing; otherwise a missing file
  // is NotFound. Read-only tools (the CLI's list commands) pass false.
  bool create_if_missing = true;
};

class MetadataStore {
 public:
  // Opens or creates the store at `path`. Errors name the file: not a SQLite
  // file / not an edgepipe store (DataLoss), a newer schema
  // (FailedPrecondition), missing (NotFound).
  static Result<std::unique_ptr<MetadataStore>> Open(const std::string& path,
                                                     MetadataStoreOptions options = {});
  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  const std::string& path() const { return path_; }

  // Runs `body` in one transaction: committed when it returns OK, rolled
  // back otherwise (nothing it wrote stays). Nested calls join the outer
  // transaction (an inner error rolls back the whole, when it is propagated).
  Status Transaction(const std::function<Status()>& body);

  // --- contexts ---
  // The context of that type and name, created when missing.
  Result<int64_t> PutContext(std::string_view type, std::string_view name, int64_t parent_id = 0);
  Result<std::vector<Context>> GetContexts(std::string_view type);
  Result<Context> GetContext(int64_t id);
  // Executions associated with a context, by id.
  Result<std::vector<ExecutionRecord>> GetExecutionsByContext(int64_t context_id);

  // --- artifacts ---
  // Inserts an artifact (its id is ignored) and returns the new id.
  Result<int64_t> PutArtifact(const Artifact& artifact, ArtifactState state);
  // Updates state, uri and properties of an existing artifact.
  Status UpdateArtifact(const Artifact& artifact, ArtifactState state);
  Result<ArtifactRecord> GetArtifact(int64_t id);
  // All artifacts, or those of one type name ("" = all), by id.
  Result<std::vector<ArtifactRecord>> GetArtifacts(std::string_view type = "");
  Status Attribute(int64_t context_id, int64_t artifact_id);

  // --- executions ---
  // Inserts an execution (its id is ignored) and returns the new id.
  Result<int64_t> PutExecution(const ExecutionRecord& execution);
  // Updates state, end time, error, cache key and cached_from.
  Status UpdateExecution(const ExecutionRecord& execution);
  Result<ExecutionRecord> GetExecution(int64_t id);
  Result<std::vector<ExecutionRecord>> GetExecutions();
  // COMPLETE executions with this cache key, newest first.
  Result<std::vector<ExecutionRecord>> GetCompleteExecutionsByCacheKey(std::string_view key);
  // Executions in state RUNNING or NEW.
  Result<std::vector<ExecutionRecord>> GetUnfinishedExecutions();
  Status Associate(int64_t context_id, int64_t execution_id);

  // --- events ---
  Result<int64_t> PutEvent(const Event& event);
  Result<std::vector<Event>> GetEventsByArtifact(int64_t artifact_id);
  Result<std::vector<Event>> GetEventsByExecution(int64_t execution_id);

  // --- derived queries ---
  // An execution's artifacts of one event type, by channel key (in index order).
  Result<ArtifactMap> GetExecutionArtifacts(int64_t execution_id, EventType type);
  // The execution that first output the artifact (a cached execution that
  // reused it comes later), or NotFound.
  Result<ExecutionRecord> GetProducer(int64_t artifact_id);
  // Executions that took the artifact as an input, by id.
  Result<std::vector<ExecutionRecord>> GetConsumers(int64_t artifact_id);

  // SQLite's integrity check plus edgepipe's own invariants (every event
  // names an existing artifact and execution; LIVE artifacts have an output
  // event). OK or DataLoss naming the first problem. For tests and `doctor`.
  Status CheckConsistency();

 private:
  MetadataStore(std::string path, sqlite3* db);
  // Creates or checks the schema.
  Status Initialize();

  std::string path_;
  sqlite3* db_ = nullptr;
  std::recursive_mutex mu_;
  int transaction_depth_ = 0;
};

// Milliseconds since the Unix epoch (the store's time unit).
int64_t NowMillis();

}  // namespace edgepipe::pipeline

#endif  // EDGEPIPE_PIPELINE_METADATA_STORE_H_
