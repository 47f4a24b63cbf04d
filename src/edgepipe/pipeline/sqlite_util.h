// A thin RAII layer over SQLite's prepared statements, for the metadata
// store. Internal to the pipeline layer.
//
// Not thread-safe: the caller serializes use of a connection.
#ifndef EDGEPIPE_PIPELINE_SQLITE_UTIL_H_
#define EDGEPIPE_PIPELINE_SQLITE_UTIL_H_

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgepipe/core/status.h"

namespace edgepipe::pipeline {

// A Status for SQLite result code `rc`: "<path>: <what>: <sqlite message>".
// SQLITE_NOTADB / SQLITE_CORRUPT become DataLoss, SQLITE_BUSY/LOCKED
// FailedPrecondition, the rest IoError.
Status SqliteError(sqlite3* db, int rc, std::string_view path, std::string_view what);

// Runs statements without results ("CREATE ...; INSERT ...").
Status SqliteExec(sqlite3* db, std::string_view path, const std::string& sql);

// One prepared statement. Bind parameters are 1-based as in SQLite.
class SqliteStmt {
 public:
  static Result<std::unique_ptr<SqliteStmt>> Prepare(sqlite3* db, std::string_view path,
                                                     std::string_view sql);
  ~SqliteStmt();
  SqliteStmt(const SqliteStmt&) = delete;
  SqliteStmt& operator=(const SqliteStmt&) = delete;

  SqliteStmt& Bind(int i, int64_t v);
  SqliteStmt& Bind(int i, double v);
  SqliteStmt& Bind(int i, std::string_view v);
  SqliteStmt& BindNull(int i);

  // Steps once: true when a row is available, false when done.
  Result<bool> Step();
  // Steps to the end (for writes).
  Status Run();

  bool IsNull(int col) const;
  int64_t Int(int col) const;
  double Double(int col) const;
  std::string Text(int col) const;

  // The rowid of the last INSERT on this connection.
  int64_t LastInsertId() const;

 private:
  SqliteStmt(sqlite3* db, sqlite3_stmt* stmt, std::string path)
      : db_(db), stmt_(stmt), path_(std::move(path)) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  std::string path_;
};

}  // namespace edgepipe::pipeline

#endif  // EDGEPIPE_PIPELINE_SQLITE_UTIL_H_
