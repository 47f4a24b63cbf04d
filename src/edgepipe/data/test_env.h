// Test helpers for data/ tests (header-only; not part of the library API):
// a scratch folder per test and an Env whose reads fail after a byte budget.
#ifndef EDGEPIPE_DATA_TEST_ENV_H_
#define EDGEPIPE_DATA_TEST_ENV_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "edgepipe/core/file.h"

namespace edgepipe::data::testing {

// A fresh, empty folder under the test temp dir, unique to the running test.
inline std::string MakeTestDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string dir =
      JoinPath(::testing::TempDir(), std::string("edgepipe_") + info->test_suite_name() + "_" +
                                         info->name() + "_" + std::to_string(::getpid()));
  Env* env = Env::Default();
  EXPECT_TRUE(env->RemoveAll(dir).ok());
  EXPECT_TRUE(env->CreateDirs(dir).ok());
  return dir;
}

// Writes `contents` to `path` through the Env, failing the test on error.
inline void WriteTestFile(const std::string& path, std::string_view contents) {
  Status s = WriteFileAtomic(path, contents);
  ASSERT_TRUE(s.ok()) << s;
}

// Wraps Env::Default(); files opened for reading return an IoError once
// `fail_after` bytes have been delivered.
class FailingReadEnv : public Env {
 public:
  explicit FailingReadEnv(size_t fail_after) : fail_after_(fail_after) {}

  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    ASSIGN_OR_RETURN(auto base, Env::Default()->OpenForRead(path));
    return std::unique_ptr<ReadableFile>(new FailingFile(std::move(base), fail_after_));
  }
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path) override {
    return Env::Default()->OpenForWrite(path);
  }
  bool Exists(const std::string& p) override { return Env::Default()->Exists(p); }
  bool IsDirectory(const std::string& p) override { return Env::Default()->IsDirectory(p); }
  Result<uint64_t> FileSize(const std::string& p) override { return Env::Default()->FileSize(p); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return Env::Default()->ListDir(d);
  }
  Status CreateDirs(const std::string& d) override { return Env::Default()->CreateDirs(d); }
  Status Rename(const std::string& a, const std::string& b) override {
    return Env::Default()->Rename(a, b);
  }
  Status RemoveFile(const std::string& p) override { return Env::Default()->RemoveFile(p); }
  Status RemoveAll(const std::string& p) override { return Env::Default()->RemoveAll(p); }
  Status SyncDir(const std::string& d) override { return Env::Default()->SyncDir(d); }

 private:
  class FailingFile : public ReadableFile {
   public:
    FailingFile(std::unique_ptr<ReadableFile> base, size_t budget)
        : base_(std::move(base)), budget_(budget) {}
    Result<size_t> Read(char* buf, size_t n) override {
      if (budget_ == 0) return Status::IoError(path() + ": injected read failure");
      ASSIGN_OR_RETURN(size_t got, base_->Read(buf, std::min(n, budget_)));
      budget_ -= got;
      return got;
    }
    const std::string& path() const override { return base_->path(); }

   private:
    std::unique_ptr<ReadableFile> base_;
    size_t budget_;
  };
  size_t fail_after_;
};

}  // namespace edgepipe::data::testing

#endif  // EDGEPIPE_DATA_TEST_ENV_H_
