// A thin file-system layer. All of edgepipe's file access goes through Env so
// that tests can inject faults (short reads, failing writes, a full disk).
//
// Env::Default() is the POSIX file system; it is thread-safe. File objects are
// not: use one from one thread at a time. Errors name the path and the
// operating system's reason.
#ifndef EDGEPIPE_CORE_FILE_H_
#define EDGEPIPE_CORE_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/status.h"

namespace edgepipe {

// A file read front to back.
class ReadableFile {
 public:
  virtual ~ReadableFile() = default;
  // Reads up to `n` bytes into `buf`; returns the count read, 0 only at end
  // of file. A short count does not mean end of file.
  virtual Result<size_t> Read(char* buf, size_t n) = 0;
  virtual const std::string& path() const = 0;
};

// A file written front to back. Close() must be called and checked; the
// destructor closes silently (and loses the error) when it was not.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Flush() = 0;
  // Flushes and fsyncs the data to stable storage.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  virtual const std::string& path() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;
  // The process-wide POSIX environment. Never null, never destroyed.
  static Env* Default();

  virtual Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) = 0;
  // Creates or truncates `path`.
  virtual Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path) = 0;

  virtual bool Exists(const std::string& path) = 0;
  virtual bool IsDirectory(const std::string& path) = 0;
  virtual Result<uint64_t> FileSize(const std::string& path) = 0;
  // Entry names (not paths) in `dir`, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  // Creates `dir` and missing parents; OK when it exists.
  virtual Status CreateDirs(const std::string& dir) = 0;
  // Atomic on POSIX when both are on one file system; replaces a file `to`
  // or an empty directory `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Removes a file or a directory tree; OK when absent.
  virtual Status RemoveAll(const std::string& path) = 0;
  // fsyncs a directory so that renames within it are durable.
  virtual Status SyncDir(const std::string& dir) = 0;
};

// Reads a whole file.
Result<std::string> ReadFileToString(const std::string& path, Env* env = Env::Default());

// Writes `contents` to `path` atomically: a temp file beside it is written,
// fsynced and renamed over `path`. On failure `path` is untouched and the temp
// file is removed.
Status WriteFileAtomic(const std::string& path, std::string_view contents,
                       Env* env = Env::Default());

// Joins path parts with '/'.
std::string JoinPath(std::string_view a, std::string_view b);
// "dir/file.txt" -> "file.txt"; trailing slashes ignored ("a/b/" -> "b"); "/" -> "/".
std::string_view Basename(std::string_view path);
// "dir/file.txt" -> "dir"; "file" -> ".".
std::string Dirname(std::string_view path);

// A unique sibling name for a temp file or folder: "<path>.tmp-<pid>-<n>".
std::string TempSiblingPath(std::string_view path);

// Builds a directory atomically: work goes into temp_path(); Commit() renames
// it to the final path (replacing an existing one only if `overwrite`).
// Destroying an uncommitted AtomicDir removes the temp folder, so a failure
// leaves no half-written output.
class AtomicDir {
 public:
  static Result<std::unique_ptr<AtomicDir>> Create(const std::string& final_path, bool overwrite,
                                                   Env* env = Env::Default());
  ~AtomicDir();
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;

  const std::string& temp_path() const { return temp_path_; }
  const std::string& final_path() const { return final_path_; }
  // Syncs and renames the temp folder into place. Call at most once.
  Status Commit();

 private:
  AtomicDir(std::string final_path, std::string temp_path, bool overwrite, Env* env)
      : final_path_(std::move(final_path)),
        temp_path_(std::move(temp_path)),
        overwrite_(overwrite),
        env_(env) {}
  std::string final_path_;
  std::string temp_path_;
  bool overwrite_;
  Env* env_;
  bool committed_ = false;
};

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_FILE_H_
