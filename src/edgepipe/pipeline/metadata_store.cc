#include "edgepipe/pipeline/metadata_store.h"

#include <sqlite3.h>

#include <chrono>
#include <utility>

#include "edgepipe/pipeline/sqlite_util.h"

namespace edgepipe::pipeline {
namespace {

// "EPMD": marks the file as an edgepipe store (PRAGMA application_id).
constexpr int64_t kApplicationId = 0x45504d44;

constexpr int kArtifactKind = 1;
constexpr int kExecutionKind = 2;
constexpr int kContextKind = 3;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE type (
  id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, UNIQUE (kind, name));
CREATE TABLE artifact (
  id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL REFERENCES type(id), uri TEXT NOT NULL,
  state INTEGER NOT NULL, create_time_ms INTEGER NOT NULL, update_time_ms INTEGER NOT NULL);
CREATE INDEX artifact_by_type ON artifact (type_id);
CREATE TABLE artifact_property (
  artifact_id INTEGER NOT NULL REFERENCES artifact(id), name TEXT NOT NULL,
  int_value INTEGER, double_value REAL, string_value TEXT, PRIMARY KEY (artifact_id, name));
CREATE TABLE execution (
  id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL REFERENCES type(id),
  component_id TEXT NOT NULL, state INTEGER NOT NULL, start_time_ms INTEGER NOT NULL,
  end_time_ms INTEGER NOT NULL, cache_key TEXT NOT NULL, error TEXT NOT NULL,
  cached_from INTEGER NOT NULL, pid INTEGER NOT NULL);
CREATE INDEX execution_by_cache_key ON execution (cache_key, state);
CREATE TABLE execution_property (
  execution_id INTEGER NOT NULL REFERENCES execution(id), name TEXT NOT NULL,
  int_value INTEGER, double_value REAL, string_value TEXT, PRIMARY KEY (execution_id, name));
CREATE TABLE event (
  id INTEGER PRIMARY KEY, artifact_id INTEGER NOT NULL REFERENCES artifact(id),
  execution_id INTEGER NOT NULL REFERENCES execution(id), type INTEGER NOT NULL,
  key TEXT NOT NULL, idx INTEGER NOT NULL, time_ms INTEGER NOT NULL);
CREATE INDEX event_by_artifact ON event (artifact_id);
CREATE INDEX event_by_execution ON event (execution_id);
CREATE TABLE context (
  id INTEGER PRIMARY KEY, type_id INTEGER NOT NULL REFERENCES type(id), name TEXT NOT NULL,
  parent_id INTEGER NOT NULL, create_time_ms INTEGER NOT NULL, UNIQUE (type_id, name));
CREATE TABLE attribution (
  context_id INTEGER NOT NULL REFERENCES context(id),
  artifact_id INTEGER NOT NULL REFERENCES artifact(id), PRIMARY KEY (context_id, artifact_id));
CREATE TABLE association (
  context_id INTEGER NOT NULL REFERENCES context(id),
  execution_id INTEGER NOT NULL REFERENCES execution(id), PRIMARY KEY (context_id, execution_id));
)sql";

constexpr const char* kArtifactColumns =
    "SELECT a.id, t.name, a.uri, a.state, a.create_time_ms, a.update_time_ms FROM artifact a "
    "JOIN type t ON t.id = a.type_id";
constexpr const char* kExecutionColumns =
    "SELECT e.id, e.component_id, t.name, e.state, e.start_time_ms, e.end_time_ms, e.cache_key, "
    "e.error, e.cached_from, e.pid FROM execution e JOIN type t ON t.id = e.type_id";
constexpr const char* kEventColumns =
    "SELECT id, artifact_id, execution_id, type, key, idx, time_ms FROM event";
constexpr const char* kContextColumns =
    "SELECT c.id, t.name, c.name, c.parent_id, c.create_time_ms FROM context c "
    "JOIN type t ON t.id = c.type_id";

ArtifactRecord ReadArtifactRow(const SqliteStmt& s) {
  ArtifactRecord r;
  r.artifact.id = s.Int(0);
  r.artifact.type = s.Text(1);
  r.artifact.uri = s.Text(2);
  r.state = static_cast<ArtifactState>(s.Int(3));
  r.create_time_ms = s.Int(4);
  r.update_time_ms = s.Int(5);
  return r;
}

ExecutionRecord ReadExecutionRow(const SqliteStmt& s) {
  ExecutionRecord r;
  r.id = s.Int(0);
  r.component_id = s.Text(1);
  r.component_type = s.Text(2);
  r.state = static_cast<ExecutionState>(s.Int(3));
  r.start_time_ms = s.Int(4);
  r.end_time_ms = s.Int(5);
  r.cache_key = s.Text(6);
  r.error = s.Text(7);
  r.cached_from = s.Int(8);
  r.pid = s.Int(9);
  return r;
}

Event ReadEventRow(const SqliteStmt& s) {
  Event e;
  e.id = s.Int(0);
  e.artifact_id = s.Int(1);
  e.execution_id = s.Int(2);
  e.type = static_cast<EventType>(s.Int(3));
  e.key = s.Text(4);
  e.index = static_cast<int>(s.Int(5));
  e.time_ms = s.Int(6);
  return e;
}

Context ReadContextRow(const SqliteStmt& s) {
  Context c;
  c.id = s.Int(0);
  c.type = s.Text(1);
  c.name = s.Text(2);
  c.parent_id = s.Int(3);
  c.create_time_ms = s.Int(4);
  return c;
}

}  // namespace

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view ArtifactStateName(ArtifactState s) {
  switch (s) {
    case ArtifactState::kPending:
      return "PENDING";
    case ArtifactState::kLive:
      return "LIVE";
    case ArtifactState::kMarkedForDeletion:
      return "MARKED_FOR_DELETION";
    case ArtifactState::kDeleted:
      return "DELETED";
    case ArtifactState::kAbandoned:
      return "ABANDONED";
    case ArtifactState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

std::string_view ExecutionStateName(ExecutionState s) {
  switch (s) {
    case ExecutionState::kNew:
      return "NEW";
    case ExecutionState::kRunning:
      return "RUNNING";
    case ExecutionState::kComplete:
      return "COMPLETE";
    case ExecutionState::kFailed:
      return "FAILED";
    case ExecutionState::kCached:
      return "CACHED";
    case ExecutionState::kCanceled:
      return "CANCELED";
    case ExecutionState::kUnknown:
      break;
  }
  return "UNKNOWN";
}

MetadataStore::MetadataStore(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

MetadataStore::~MetadataStore() { sqlite3_close_v2(db_); }

Result<std::unique_ptr<MetadataStore>> MetadataStore::Open(const std::string& path,
                                                           MetadataStoreOptions options) {
  Env* env = Env::Default();
  if (env->IsDirectory(path)) {
    return Status::InvalidArgument(path + ": is a folder, not a metadata store file");
  }
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (options.create_if_missing) {
    flags |= SQLITE_OPEN_CREATE;
    if (!env->Exists(path)) RETURN_IF_ERROR(env->CreateDirs(Dirname(path)));
  } else if (!env->Exists(path)) {
    return Status::NotFound(path + ": no such metadata store");
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, path, "opening the metadata store");
    sqlite3_close_v2(db);
    return s;
  }
  std::unique_ptr<MetadataStore> store(new MetadataStore(path, db));
  sqlite3_busy_timeout(db, 10000);
  RETURN_IF_ERROR(store->Initialize());
  return store;
}

Status MetadataStore::Initialize() {
  std::lock_guard lock(mu_);
  // The first read of the file: fails with SQLITE_NOTADB when it is not SQLite.
  auto app = SqliteStmt::Prepare(db_, path_, "PRAGMA application_id");
  Status first = app.ok() ? (*app)->Step().status() : app.status();
  if (!first.ok()) {
    if (first.code() == StatusCode::kDataLoss) {
      return Status::DataLoss(path_ + ": not an edgepipe metadata store (not a SQLite file)");
    }
    return first;
  }
  const int64_t application_id = (*app)->Int(0);
  app->reset();
  RETURN_IF_ERROR(SqliteExec(db_, path_, "PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(SqliteExec(db_, path_, "PRAGMA synchronous=NORMAL"));
  RETURN_IF_ERROR(SqliteExec(db_, path_, "PRAGMA foreign_keys=ON"));
  return Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto tables,
                     SqliteStmt::Prepare(db_, path_, "SELECT COUNT(*) FROM sqlite_master"));
    RETURN_IF_ERROR(tables->Step().status());
    if (tables->Int(0) == 0) {
      RETURN_IF_ERROR(SqliteExec(db_, path_, kSchemaSql));
      RETURN_IF_ERROR(SqliteExec(db_, path_,
                                 "INSERT INTO schema_version (version) VALUES (" +
                                     std::to_string(kMetadataSchemaVersion) + ")"));
      return SqliteExec(db_, path_, "PRAGMA application_id=" + std::to_string(kApplicationId));
    }
    ASSIGN_OR_RETURN(auto has_version,
                     SqliteStmt::Prepare(db_, path_,
                                         "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                         "AND name = 'schema_version'"));
    RETURN_IF_ERROR(has_version->Step().status());
    if (has_version->Int(0) == 0 || application_id != kApplicationId) {
      return Status::DataLoss(path_ +
                              ": not an edgepipe metadata store (a SQLite file without "
                              "edgepipe's schema_version table and application id)");
    }
    ASSIGN_OR_RETURN(auto version,
                     SqliteStmt::Prepare(db_, path_, "SELECT MAX(version) FROM schema_version"));
    RETURN_IF_ERROR(version->Step().status());
    const int64_t v = version->IsNull(0) ? 0 : version->Int(0);
    if (v > kMetadataSchemaVersion) {
      return Status::FailedPrecondition(path_ + ": metadata schema version " + std::to_string(v) +
                                        " is newer than this edgepipe supports (" +
                                        std::to_string(kMetadataSchemaVersion) +
                                        "); use a newer edgepipe");
    }
    if (v < 1) {
      return Status::DataLoss(path_ + ": metadata schema version " + std::to_string(v) +
                              " is invalid (must be >= 1)");
    }
    return Status::Ok();
  });
}

Status MetadataStore::Transaction(const std::function<Status()>& body) {
  std::lock_guard lock(mu_);
  if (transaction_depth_ > 0) {
    ++transaction_depth_;
    Status s = body();
    --transaction_depth_;
    return s;
  }
  RETURN_IF_ERROR(SqliteExec(db_, path_, "BEGIN IMMEDIATE"));
  transaction_depth_ = 1;
  Status s = body();
  transaction_depth_ = 0;
  if (s.ok()) {
    s = SqliteExec(db_, path_, "COMMIT");
    if (s.ok()) return s;
  }
  SqliteExec(db_, path_, "ROLLBACK").IgnoreError();
  return s;
}

// --- shared helpers (mu_ held by the callers through Transaction) ----------

namespace {

Result<int64_t> TypeId(sqlite3* db, const std::string& path, int kind, std::string_view name) {
  ASSIGN_OR_RETURN(
      auto ins,
      SqliteStmt::Prepare(db, path, "INSERT OR IGNORE INTO type (kind, name) VALUES (?, ?)"));
  RETURN_IF_ERROR(ins->Bind(1, int64_t{kind}).Bind(2, name).Run());
  ASSIGN_OR_RETURN(
      auto sel, SqliteStmt::Prepare(db, path, "SELECT id FROM type WHERE kind = ? AND name = ?"));
  sel->Bind(1, int64_t{kind}).Bind(2, name);
  ASSIGN_OR_RETURN(bool row, sel->Step());
  if (!row) return Status::Internal(path + ": type \"" + std::string(name) + "\" not stored");
  return sel->Int(0);
}

// Replaces the properties of row `id` in `table` (artifact_property or
// execution_property, whose id column is `id_column`).
Status WriteProperties(sqlite3* db, const std::string& path, const std::string& table,
                       const std::string& id_column, int64_t id, const Properties& props) {
  ASSIGN_OR_RETURN(
      auto del,
      SqliteStmt::Prepare(db, path, "DELETE FROM " + table + " WHERE " + id_column + " = ?"));
  RETURN_IF_ERROR(del->Bind(1, id).Run());
  for (const auto& [name, value] : props) {
    ASSIGN_OR_RETURN(auto ins,
                     SqliteStmt::Prepare(db, path,
                                         "INSERT INTO " + table + " (" + id_column +
                                             ", name, int_value, double_value, string_value) "
                                             "VALUES (?, ?, ?, ?, ?)"));
    ins->Bind(1, id).Bind(2, name).BindNull(3).BindNull(4).BindNull(5);
    if (const auto* i = std::get_if<int64_t>(&value)) ins->Bind(3, *i);
    if (const auto* d = std::get_if<double>(&value)) ins->Bind(4, *d);
    if (const auto* s = std::get_if<std::string>(&value)) ins->Bind(5, *s);
    RETURN_IF_ERROR(ins->Run());
  }
  return Status::Ok();
}

Result<Properties> ReadProperties(sqlite3* db, const std::string& path, const std::string& table,
                                  const std::string& id_column, int64_t id) {
  ASSIGN_OR_RETURN(auto sel,
                   SqliteStmt::Prepare(db, path,
                                       "SELECT name, int_value, double_value, string_value FROM " +
                                           table + " WHERE " + id_column + " = ?"));
  sel->Bind(1, id);
  Properties props;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) break;
    Value v;
    if (!sel->IsNull(1)) {
      v = sel->Int(1);
    } else if (!sel->IsNull(2)) {
      v = sel->Double(2);
    } else {
      v = sel->Text(3);
    }
    props[sel->Text(0)] = std::move(v);
  }
  return props;
}

}  // namespace

// --- contexts ---------------------------------------------------------------

Result<int64_t> MetadataStore::PutContext(std::string_view type, std::string_view name,
                                          int64_t parent_id) {
  int64_t id = 0;
  Status tx = Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t type_id, TypeId(db_, path_, kContextKind, type));
    ASSIGN_OR_RETURN(auto ins,
                     SqliteStmt::Prepare(db_, path_,
                                         "INSERT OR IGNORE INTO context (type_id, name, "
                                         "parent_id, create_time_ms) VALUES (?, ?, ?, ?)"));
    RETURN_IF_ERROR(
        ins->Bind(1, type_id).Bind(2, name).Bind(3, parent_id).Bind(4, NowMillis()).Run());
    ASSIGN_OR_RETURN(
        auto sel,
        SqliteStmt::Prepare(db_, path_, "SELECT id FROM context WHERE type_id = ? AND name = ?"));
    sel->Bind(1, type_id).Bind(2, name);
    RETURN_IF_ERROR(sel->Step().status());
    id = sel->Int(0);
    return Status::Ok();
  });
  RETURN_IF_ERROR(tx);
  return id;
}

Result<std::vector<Context>> MetadataStore::GetContexts(std::string_view type) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto sel, SqliteStmt::Prepare(
                    db_, path_, std::string(kContextColumns) + " WHERE t.name = ? ORDER BY c.id"));
  sel->Bind(1, type);
  std::vector<Context> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) break;
    out.push_back(ReadContextRow(*sel));
  }
  return out;
}

Result<Context> MetadataStore::GetContext(int64_t id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto sel, SqliteStmt::Prepare(db_, path_, std::string(kContextColumns) + " WHERE c.id = ?"));
  sel->Bind(1, id);
  ASSIGN_OR_RETURN(bool row, sel->Step());
  if (!row) return Status::NotFound(path_ + ": no context " + std::to_string(id));
  return ReadContextRow(*sel);
}

Result<std::vector<ExecutionRecord>> MetadataStore::GetExecutionsByContext(int64_t context_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto sel, SqliteStmt::Prepare(db_, path_,
                                                 std::string(kExecutionColumns) +
                                                     " JOIN association s ON s.execution_id = e.id "
                                                     "WHERE s.context_id = ? ORDER BY e.id"));
  sel->Bind(1, context_id);
  std::vector<ExecutionRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) break;
    out.push_back(ReadExecutionRow(*sel));
  }
  for (ExecutionRecord& e : out) {
    ASSIGN_OR_RETURN(e.parameters,
                     ReadProperties(db_, path_, "execution_property", "execution_id", e.id));
  }
  return out;
}

// --- artifacts --------------------------------------------------------------

Result<int64_t> MetadataStore::PutArtifact(const Artifact& artifact, ArtifactState state) {
  int64_t id = 0;
  Status tx = Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t type_id, TypeId(db_, path_, kArtifactKind, artifact.type));
    ASSIGN_OR_RETURN(auto ins, SqliteStmt::Prepare(db_, path_,
                                                   "INSERT INTO artifact (type_id, uri, state, "
                                                   "create_time_ms, update_time_ms) VALUES (?, ?, "
                                                   "?, ?, ?)"));
    const int64_t now = NowMillis();
    RETURN_IF_ERROR(ins->Bind(1, type_id)
                        .Bind(2, artifact.uri)
                        .Bind(3, static_cast<int64_t>(state))
                        .Bind(4, now)
                        .Bind(5, now)
                        .Run());
    id = ins->LastInsertId();
    return WriteProperties(db_, path_, "artifact_property", "artifact_id", id, artifact.properties);
  });
  RETURN_IF_ERROR(tx);
  return id;
}

Status MetadataStore::UpdateArtifact(const Artifact& artifact, ArtifactState state) {
  return Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto up, SqliteStmt::Prepare(db_, path_,
                                                  "UPDATE artifact SET uri = ?, state = ?, "
                                                  "update_time_ms = ? WHERE id = ?"));
    RETURN_IF_ERROR(up->Bind(1, artifact.uri)
                        .Bind(2, static_cast<int64_t>(state))
                        .Bind(3, NowMillis())
                        .Bind(4, artifact.id)
                        .Run());
    if (sqlite3_changes(db_) != 1) {
      return Status::NotFound(path_ + ": no artifact " + std::to_string(artifact.id) +
                              " to update");
    }
    return WriteProperties(db_, path_, "artifact_property", "artifact_id", artifact.id,
                           artifact.properties);
  });
}

Result<ArtifactRecord> MetadataStore::GetArtifact(int64_t id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(
      auto sel, SqliteStmt::Prepare(db_, path_, std::string(kArtifactColumns) + " WHERE a.id = ?"));
  sel->Bind(1, id);
  ASSIGN_OR_RETURN(bool row, sel->Step());
  if (!row) return Status::NotFound(path_ + ": no artifact with id " + std::to_string(id));
  ArtifactRecord r = ReadArtifactRow(*sel);
  ASSIGN_OR_RETURN(r.artifact.properties,
                   ReadProperties(db_, path_, "artifact_property", "artifact_id", id));
  return r;
}

Result<std::vector<ArtifactRecord>> MetadataStore::GetArtifacts(std::string_view type) {
  std::lock_guard lock(mu_);
  std::string sql = kArtifactColumns;
  if (!type.empty()) sql += " WHERE t.name = ?";
  ASSIGN_OR_RETURN(auto sel, SqliteStmt::Prepare(db_, path_, sql + " ORDER BY a.id"));
  if (!type.empty()) sel->Bind(1, type);
  std::vector<ArtifactRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) break;
    out.push_back(ReadArtifactRow(*sel));
  }
  for (ArtifactRecord& r : out) {
    ASSIGN_OR_RETURN(r.artifact.properties,
                     ReadProperties(db_, path_, "artifact_property", "artifact_id", r.artifact.id));
  }
  return out;
}

Status MetadataStore::Attribute(int64_t context_id, int64_t artifact_id) {
  return Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto ins, SqliteStmt::Prepare(db_, path_,
                                                   "INSERT OR IGNORE INTO attribution (context_id, "
                                                   "artifact_id) VALUES (?, ?)"));
    return ins->Bind(1, context_id).Bind(2, artifact_id).Run();
  });
}

// --- executions -------------------------------------------------------------

Result<int64_t> MetadataStore::PutExecution(const ExecutionRecord& e) {
  int64_t id = 0;
  Status tx = Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t type_id, TypeId(db_, path_, kExecutionKind, e.component_type));
    ASSIGN_OR_RETURN(auto ins,
                     SqliteStmt::Prepare(db_, path_,
                                         "INSERT INTO execution (type_id, component_id, state, "
                                         "start_time_ms, end_time_ms, cache_key, error, "
                                         "cached_from, pid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(ins->Bind(1, type_id)
                        .Bind(2, e.component_id)
                        .Bind(3, static_cast<int64_t>(e.state))
                        .Bind(4, e.start_time_ms)
                        .Bind(5, e.end_time_ms)
                        .Bind(6, e.cache_key)
                        .Bind(7, e.error)
                        .Bind(8, e.cached_from)
                        .Bind(9, e.pid)
                        .Run());
    id = ins->LastInsertId();
    return WriteProperties(db_, path_, "execution_property", "execution_id", id, e.parameters);
  });
  RETURN_IF_ERROR(tx);
  return id;
}

Status MetadataStore::UpdateExecution(const ExecutionRecord& e) {
  return Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto up, SqliteStmt::Prepare(db_, path_,
                                                  "UPDATE execution SET state = ?, end_time_ms = "
                                                  "?, error = ?, cache_key = ?, cached_from = ? "
                                                  "WHERE id = ?"));
    RETURN_IF_ERROR(up->Bind(1, static_cast<int64_t>(e.state))
                        .Bind(2, e.end_time_ms)
                        .Bind(3, e.error)
                        .Bind(4, e.cache_key)
                        .Bind(5, e.cached_from)
                        .Bind(6, e.id)
                        .Run());
    if (sqlite3_changes(db_) != 1) {
      return Status::NotFound(path_ + ": no execution " + std::to_string(e.id) + " to update");
    }
    return Status::Ok();
  });
}

Result<ExecutionRecord> MetadataStore::GetExecution(int64_t id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto sel, SqliteStmt::Prepare(
                                 db_, path_, std::string(kExecutionColumns) + " WHERE e.id = ?"));
  sel->Bind(1, id);
  ASSIGN_OR_RETURN(bool row, sel->Step());
  if (!row) return Status::NotFound(path_ + ": no execution with id " + std::to_string(id));
  ExecutionRecord r = ReadExecutionRow(*sel);
  ASSIGN_OR_RETURN(r.parameters,
                   ReadProperties(db_, path_, "execution_property", "execution_id", id));
  return r;
}

namespace {

Result<std::vector<ExecutionRecord>> QueryExecutions(sqlite3* db, const std::string& path,
                                                     const std::string& where,
                                                     std::string_view arg) {
  ASSIGN_OR_RETURN(auto sel,
                   SqliteStmt::Prepare(db, path, std::string(kExecutionColumns) + " " + where));
  if (!arg.empty()) sel->Bind(1, arg);
  std::vector<ExecutionRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) break;
    out.push_back(ReadExecutionRow(*sel));
  }
  for (ExecutionRecord& e : out) {
    ASSIGN_OR_RETURN(e.parameters,
                     ReadProperties(db, path, "execution_property", "execution_id", e.id));
  }
  return out;
}

}  // namespace

Result<std::vector<ExecutionRecord>> MetadataStore::GetExecutions() {
  std::lock_guard lock(mu_);
  return QueryExecutions(db_, path_, "ORDER BY e.id", "");
}

Result<std::vector<ExecutionRecord>> MetadataStore::GetCompleteExecutionsByCacheKey(
    std::string_view key) {
  std::lock_guard lock(mu_);
  if (key.empty()) return std::vector<ExecutionRecord>{};
  return QueryExecutions(db_, path_,
                         "WHERE e.cache_key = ?1 AND e.state = " +
                             std::to_string(static_cast<int>(ExecutionState::kComplete)) +
                             " ORDER BY e.id DESC",
                         key);
}

Result<std::vector<ExecutionRecord>> MetadataStore::GetUnfinishedExecutions() {
  std::lock_guard lock(mu_);
  return QueryExecutions(
      db_, path_,
      "WHERE e.state IN (" + std::to_string(static_cast<int>(ExecutionState::kNew)) + ", " +
          std::to_string(static_cast<int>(ExecutionState::kRunning)) + ") ORDER BY e.id",
      "");
}

Status MetadataStore::Associate(int64_t context_id, int64_t execution_id) {
  return Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto ins, SqliteStmt::Prepare(db_, path_,
                                                   "INSERT OR IGNORE INTO association (context_id, "
                                                   "execution_id) VALUES (?, ?)"));
    return ins->Bind(1, context_id).Bind(2, execution_id).Run();
  });
}

// --- events -----------------------------------------------------------------

Result<int64_t> MetadataStore::PutEvent(const Event& ev) {
  int64_t id = 0;
  Status tx = Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto ins,
                     SqliteStmt::Prepare(db_, path_,
                                         "INSERT INTO event (artifact_id, execution_id, type, key, "
                                         "idx, time_ms) VALUES (?, ?, ?, ?, ?, ?)"));
    RETURN_IF_ERROR(ins->Bind(1, ev.artifact_id)
                        .Bind(2, ev.execution_id)
                        .Bind(3, static_cast<int64_t>(ev.type))
                        .Bind(4, ev.key)
                        .Bind(5, int64_t{ev.index})
                        .Bind(6, ev.time_ms != 0 ? ev.time_ms : NowMillis())
                        .Run());
    id = ins->LastInsertId();
    return Status::Ok();
  });
  RETURN_IF_ERROR(tx);
  return id;
}

namespace {

Result<std::vector<Event>> QueryEvents(sqlite3* db, const std::string& path,
                                       const std::string& column, int64_t id) {
  ASSIGN_OR_RETURN(auto sel, SqliteStmt::Prepare(db, path,
                                                 std::string(kEventColumns) + " WHERE " + column +
                                                     " = ? ORDER BY id"));
  sel->Bind(1, id);
  std::vector<Event> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, sel->Step());
    if (!row) break;
    out.push_back(ReadEventRow(*sel));
  }
  return out;
}

}  // namespace

Result<std::vector<Event>> MetadataStore::GetEventsByArtifact(int64_t artifact_id) {
  std::lock_guard lock(mu_);
  return QueryEvents(db_, path_, "artifact_id", artifact_id);
}

Result<std::vector<Event>> MetadataStore::GetEventsByExecution(int64_t execution_id) {
  std::lock_guard lock(mu_);
  return QueryEvents(db_, path_, "execution_id", execution_id);
}

// --- derived queries --------------------------------------------------------

Result<ArtifactMap> MetadataStore::GetExecutionArtifacts(int64_t execution_id, EventType type) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(std::vector<Event> events, GetEventsByExecution(execution_id));
  std::map<std::string, std::map<int, Artifact>> by_key;
  for (const Event& ev : events) {
    if (ev.type != type) continue;
    ASSIGN_OR_RETURN(ArtifactRecord r, GetArtifact(ev.artifact_id));
    by_key[ev.key][ev.index] = std::move(r.artifact);
  }
  ArtifactMap out;
  for (auto& [key, list] : by_key) {
    std::vector<Artifact>& v = out[key];
    for (auto& [index, a] : list) v.push_back(std::move(a));
  }
  return out;
}

Result<ExecutionRecord> MetadataStore::GetProducer(int64_t artifact_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(std::vector<Event> events, GetEventsByArtifact(artifact_id));
  for (const Event& ev : events) {
    if (ev.type == EventType::kOutput) return GetExecution(ev.execution_id);
  }
  return Status::NotFound(path_ + ": artifact " + std::to_string(artifact_id) +
                          " has no producing execution");
}

Result<std::vector<ExecutionRecord>> MetadataStore::GetConsumers(int64_t artifact_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(std::vector<Event> events, GetEventsByArtifact(artifact_id));
  std::vector<ExecutionRecord> out;
  for (const Event& ev : events) {
    if (ev.type != EventType::kInput) continue;
    if (!out.empty() && out.back().id == ev.execution_id) continue;
    ASSIGN_OR_RETURN(ExecutionRecord e, GetExecution(ev.execution_id));
    out.push_back(std::move(e));
  }
  return out;
}

Status MetadataStore::CheckConsistency() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto integrity, SqliteStmt::Prepare(db_, path_, "PRAGMA integrity_check"));
  ASSIGN_OR_RETURN(bool row, integrity->Step());
  if (!row || integrity->Text(0) != "ok") {
    return Status::DataLoss(path_ + ": SQLite integrity check: " +
                            (row ? integrity->Text(0) : std::string("no result")));
  }
  const std::pair<const char*, const char*> checks[] = {
      {"SELECT COUNT(*) FROM event v LEFT JOIN artifact a ON a.id = v.artifact_id "
       "WHERE a.id IS NULL",
       "events naming a missing artifact"},
      {"SELECT COUNT(*) FROM event v LEFT JOIN execution e ON e.id = v.execution_id "
       "WHERE e.id IS NULL",
       "events naming a missing execution"},
      {"SELECT COUNT(*) FROM artifact a WHERE a.state = 2 AND NOT EXISTS (SELECT 1 FROM event v "
       "WHERE v.artifact_id = a.id AND v.type = 2)",
       "LIVE artifacts without an output event"},
      {"SELECT COUNT(*) FROM execution e WHERE e.state = 3 AND EXISTS (SELECT 1 FROM event v "
       "JOIN artifact a ON a.id = v.artifact_id WHERE v.execution_id = e.id AND v.type = 2 AND "
       "a.state <> 2 AND a.state <> 4)",
       "COMPLETE executions with outputs that are not LIVE"},
  };
  for (const auto& [sql, what] : checks) {
    ASSIGN_OR_RETURN(auto sel, SqliteStmt::Prepare(db_, path_, sql));
    RETURN_IF_ERROR(sel->Step().status());
    if (sel->Int(0) != 0) {
      return Status::DataLoss(path_ + ": " + std::to_string(sel->Int(0)) + " " + what);
    }
  }
  return Status::Ok();
}

}  // namespace edgepipe::pipeline
