// FaultEnv: an Env for tests that wraps a real one and injects failures.
//
//   FaultEnv env;                                  // wraps Env::Default()
//   env.FailNth(FaultEnv::Op::kRename, 1);         // the next Rename fails
//   env.SetMaxReadChunk(3);                        // every Read returns <= 3 bytes
//   env.SetWriteByteLimit(100);                    // "disk full" after 100 bytes
//   EXPECT_FALSE(WriteFileAtomic(path, data, &env).ok());
//
// Counting is per operation kind and starts when FailNth is called: n = 1
// fails the next call of that kind, n = 2 the one after, and so on; the
// failure fires once. Injected failures are IoError statuses whose message
// contains "injected". Header-only so that every layer's tests can use it.
// Thread-safe (one mutex); the wrapped Env must outlive it, and files it
// opened must not outlive it.
#ifndef EDGEPIPE_CORE_TESTING_FAULT_ENV_H_
#define EDGEPIPE_CORE_TESTING_FAULT_ENV_H_

#include <algorithm>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"

namespace edgepipe {

class FaultEnv : public Env {
 public:
  enum class Op {
    kOpenForRead,
    kOpenForWrite,
    kRead,
    kAppend,
    kFlush,
    kSync,
    kClose,
    kRename,
    kRemove,  // RemoveFile and RemoveAll
    kCreateDirs,
    kSyncDir,
    kListDir,
  };

  explicit FaultEnv(Env* base = Env::Default()) : base_(base) {}

  // Makes the n-th call of `op` from now on fail (n >= 1); n = 0 cancels.
  void FailNth(Op op, int n) {
    std::lock_guard<std::mutex> lock(mu_);
    countdown_[op] = n;
  }
  // Caps every Read() at `n` bytes (short reads); 0 removes the cap.
  void SetMaxReadChunk(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    max_read_chunk_ = n;
  }
  // Appends fail ("no space left") once `n` bytes in total have been
  // appended through this Env; the failing Append writes nothing.
  void SetWriteByteLimit(uint64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    write_limit_ = n;
  }
  // How many times `op` was called (successfully or not).
  int calls(Op op) {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_[op];
  }
  Env* base() const { return base_; }

  // Counts a call of `op` and returns the injected error, if it is due.
  Status Check(Op op, const std::string& path) {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_[op];
    int& c = countdown_[op];
    if (c > 0 && --c == 0) {
      return Status::IoError(path + ": injected failure of " + OpName(op));
    }
    return Status::Ok();
  }
  size_t ClampRead(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    return max_read_chunk_ == 0 ? n : std::min(n, max_read_chunk_);
  }
  Status ChargeWrite(const std::string& path, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (written_ + n > write_limit_) {
      return Status::IoError(path + ": injected failure: no space left on device");
    }
    written_ += n;
    return Status::Ok();
  }

  static const char* OpName(Op op) {
    switch (op) {
      case Op::kOpenForRead:
        return "OpenForRead";
      case Op::kOpenForWrite:
        return "OpenForWrite";
      case Op::kRead:
        return "Read";
      case Op::kAppend:
        return "Append";
      case Op::kFlush:
        return "Flush";
      case Op::kSync:
        return "Sync";
      case Op::kClose:
        return "Close";
      case Op::kRename:
        return "Rename";
      case Op::kRemove:
        return "Remove";
      case Op::kCreateDirs:
        return "CreateDirs";
      case Op::kSyncDir:
        return "SyncDir";
      case Op::kListDir:
        return "ListDir";
    }
    return "?";
  }

  // Env:
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    RETURN_IF_ERROR(Check(Op::kOpenForRead, path));
    ASSIGN_OR_RETURN(auto file, base_->OpenForRead(path));
    return std::unique_ptr<ReadableFile>(new FaultReadableFile(this, std::move(file)));
  }
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path) override {
    RETURN_IF_ERROR(Check(Op::kOpenForWrite, path));
    ASSIGN_OR_RETURN(auto file, base_->OpenForWrite(path));
    return std::unique_ptr<WritableFile>(new FaultWritableFile(this, std::move(file)));
  }
  bool Exists(const std::string& path) override { return base_->Exists(path); }
  bool IsDirectory(const std::string& path) override { return base_->IsDirectory(path); }
  Result<uint64_t> FileSize(const std::string& path) override { return base_->FileSize(path); }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    RETURN_IF_ERROR(Check(Op::kListDir, dir));
    return base_->ListDir(dir);
  }
  Status CreateDirs(const std::string& dir) override {
    RETURN_IF_ERROR(Check(Op::kCreateDirs, dir));
    return base_->CreateDirs(dir);
  }
  Status Rename(const std::string& from, const std::string& to) override {
    RETURN_IF_ERROR(Check(Op::kRename, from));
    return base_->Rename(from, to);
  }
  Status RemoveFile(const std::string& path) override {
    RETURN_IF_ERROR(Check(Op::kRemove, path));
    return base_->RemoveFile(path);
  }
  Status RemoveAll(const std::string& path) override {
    RETURN_IF_ERROR(Check(Op::kRemove, path));
    return base_->RemoveAll(path);
  }
  Status SyncDir(const std::string& dir) override {
    RETURN_IF_ERROR(Check(Op::kSyncDir, dir));
    return base_->SyncDir(dir);
  }

 private:
  class FaultReadableFile final : public ReadableFile {
   public:
    FaultReadableFile(FaultEnv* env, std::unique_ptr<ReadableFile> base)
        : env_(env), base_(std::move(base)) {}
    Result<size_t> Read(char* buf, size_t n) override {
      RETURN_IF_ERROR(env_->Check(Op::kRead, path()));
      return base_->Read(buf, env_->ClampRead(n));
    }
    const std::string& path() const override { return base_->path(); }

   private:
    FaultEnv* env_;
    std::unique_ptr<ReadableFile> base_;
  };

  class FaultWritableFile final : public WritableFile {
   public:
    FaultWritableFile(FaultEnv* env, std::unique_ptr<WritableFile> base)
        : env_(env), base_(std::move(base)) {}
    Status Append(std::string_view data) override {
      RETURN_IF_ERROR(env_->Check(Op::kAppend, path()));
      RETURN_IF_ERROR(env_->ChargeWrite(path(), data.size()));
      return base_->Append(data);
    }
    Status Flush() override {
      RETURN_IF_ERROR(env_->Check(Op::kFlush, path()));
      return base_->Flush();
    }
    Status Sync() override {
      RETURN_IF_ERROR(env_->Check(Op::kSync, path()));
      return base_->Sync();
    }
    Status Close() override {
      RETURN_IF_ERROR(env_->Check(Op::kClose, path()));
      return base_->Close();
    }
    const std::string& path() const override { return base_->path(); }

   private:
    FaultEnv* env_;
    std::unique_ptr<WritableFile> base_;
  };

  Env* base_;
  std::mutex mu_;
  std::map<Op, int> countdown_;
  std::map<Op, int> calls_;
  size_t max_read_chunk_ = 0;
  uint64_t write_limit_ = std::numeric_limits<uint64_t>::max();
  uint64_t written_ = 0;
};

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_TESTING_FAULT_ENV_H_
