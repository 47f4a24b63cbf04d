#include "edgepipe/pipeline/sqlite_util.h"

namespace edgepipe::pipeline {

Status SqliteError(sqlite3* db, int rc, std::string_view path, std::string_view what) {
  std::string msg = std::string(path) + ": " + std::string(what) + ": " +
                    (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (rc & 0xff) {
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Status::DataLoss(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::FailedPrecondition(std::move(msg));
    case SQLITE_CANTOPEN:
      return Status::NotFound(std::move(msg));
    default:
      return Status::IoError(std::move(msg));
  }
}

Status SqliteExec(sqlite3* db, std::string_view path, const std::string& sql) {
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, rc, path, "executing \"" + sql.substr(0, 60) + "\"");
  return Status::Ok();
}

Result<std::unique_ptr<SqliteStmt>> SqliteStmt::Prepare(sqlite3* db, std::string_view path,
                                                        std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return SqliteError(db, rc, path, "preparing \"" + std::string(sql.substr(0, 60)) + "\"");
  }
  return std::unique_ptr<SqliteStmt>(new SqliteStmt(db, stmt, std::string(path)));
}

SqliteStmt::~SqliteStmt() { sqlite3_finalize(stmt_); }

SqliteStmt& SqliteStmt::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
SqliteStmt& SqliteStmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStmt& SqliteStmt::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> SqliteStmt::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db_, rc, path_, std::string("running \"") + sqlite3_sql(stmt_) + "\"");
}

Status SqliteStmt::Run() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

bool SqliteStmt::IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int64_t SqliteStmt::Int(int col) const { return sqlite3_column_int64(stmt_, col); }
double SqliteStmt::Double(int col) const { return sqlite3_column_double(stmt_, col); }
std::string SqliteStmt::Text(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}
int64_t SqliteStmt::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }

}  // namespace edgepipe::pipeline
