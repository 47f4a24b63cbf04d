#include "edgepipe/core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

namespace edgepipe {
namespace {

namespace fs = std::filesystem;

Status ErrnoStatus(const std::string& path, std::string_view what, int err) {
  std::string msg = path;
  msg += ": ";
  msg += what;
  msg += ": ";
  msg += std::strerror(err);
  if (err == ENOENT) return Status::NotFound(std::move(msg));
  return Status::IoError(std::move(msg));
}

class PosixReadableFile final : public ReadableFile {
 public:
  PosixReadableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~PosixReadableFile() override { ::close(fd_); }

  Result<size_t> Read(char* buf, size_t n) override {
    while (true) {
      ssize_t r = ::read(fd_, buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno == EINTR) continue;
      return ErrnoStatus(path_, "read failed", errno);
    }
  }
  const std::string& path() const override { return path_; }

 private:
  std::string path_;
  int fd_;
};

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {
    buffer_.reserve(kBufferSize);
  }
  ~PosixWritableFile() override {
    if (fd_ >= 0) Close().IgnoreError();
  }

  Status Append(std::string_view data) override {
    if (fd_ < 0) return Status::FailedPrecondition(path_ + ": append after close");
    if (buffer_.size() + data.size() <= kBufferSize) {
      buffer_.append(data);
      return Status::Ok();
    }
    RETURN_IF_ERROR(Flush());
    if (data.size() >= kBufferSize) return WriteAll(data);
    buffer_.append(data);
    return Status::Ok();
  }
  Status Flush() override {
    if (fd_ < 0) return Status::FailedPrecondition(path_ + ": flush after close");
    Status s = WriteAll(buffer_);
    buffer_.clear();
    return s;
  }
  Status Sync() override {
    RETURN_IF_ERROR(Flush());
    if (::fsync(fd_) != 0) return ErrnoStatus(path_, "fsync failed", errno);
    return Status::Ok();
  }
  Status Close() override {
    if (fd_ < 0) return Status::Ok();
    Status s = Flush();
    if (::close(fd_) != 0 && s.ok()) s = ErrnoStatus(path_, "close failed", errno);
    fd_ = -1;
    return s;
  }
  const std::string& path() const override { return path_; }

 private:
  static constexpr size_t kBufferSize = 1 << 20;

  Status WriteAll(std::string_view data) {
    while (!data.empty()) {
      ssize_t w = ::write(fd_, data.data(), data.size());
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(path_, "write failed", errno);
      }
      data.remove_prefix(static_cast<size_t>(w));
    }
    return Status::Ok();
  }

  std::string path_;
  int fd_;
  std::string buffer_;
};

class PosixEnv final : public Env {
 public:
  Result<std::unique_ptr<ReadableFile>> OpenForRead(const std::string& path) override {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(path, "cannot open for reading", errno);
    struct stat st;
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
      ::close(fd);
      return Status::InvalidArgument(path + ": is a directory, expected a file");
    }
#ifdef POSIX_FADV_SEQUENTIAL
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    return std::unique_ptr<ReadableFile>(new PosixReadableFile(path, fd));
  }
  Result<std::unique_ptr<WritableFile>> OpenForWrite(const std::string& path) override {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(path, "cannot open for writing", errno);
    return std::unique_ptr<WritableFile>(new PosixWritableFile(path, fd));
  }
  bool Exists(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
  }
  bool IsDirectory(const std::string& path) override {
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
  }
  Result<uint64_t> FileSize(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return ErrnoStatus(path, "cannot stat", errno);
    return static_cast<uint64_t>(st.st_size);
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return ErrnoStatus(dir, "cannot list directory", ec.value());
    std::sort(names.begin(), names.end());
    return names;
  }
  Status CreateDirs(const std::string& dir) override {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return ErrnoStatus(dir, "cannot create directory", ec.value());
    return Status::Ok();
  }
  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus(from, "cannot rename to " + to, errno);
    }
    return Status::Ok();
  }
  Status RemoveFile(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return ErrnoStatus(path, "cannot remove", errno);
    return Status::Ok();
  }
  Status RemoveAll(const std::string& path) override {
    std::error_code ec;
    fs::remove_all(path, ec);
    if (ec) return ErrnoStatus(path, "cannot remove", ec.value());
    return Status::Ok();
  }
  Status SyncDir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(dir, "cannot open directory", errno);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return ErrnoStatus(dir, "fsync of directory failed", err);
    return Status::Ok();
  }
};

}  // namespace

Env* Env::Default() {
  static PosixEnv* env = new PosixEnv();
  return env;
}

Result<std::string> ReadFileToString(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(auto file, env->OpenForRead(path));
  std::string out;
  char buf[1 << 16];
  while (true) {
    ASSIGN_OR_RETURN(size_t n, file->Read(buf, sizeof(buf)));
    if (n == 0) break;
    out.append(buf, n);
  }
  return out;
}

std::string JoinPath(std::string_view a, std::string_view b) {
  if (a.empty()) return std::string(b);
  if (b.empty()) return std::string(a);
  std::string out(a);
  if (out.back() != '/') out += '/';
  if (b.front() == '/') b.remove_prefix(1);
  out += b;
  return out;
}

std::string_view Basename(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || path == "/") return path;  // POSIX: "/" -> "/"
  return path.substr(slash + 1);
}

std::string Dirname(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string TempSiblingPath(std::string_view path) {
  static std::atomic<uint64_t> counter{0};
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
}

Status WriteFileAtomic(const std::string& path, std::string_view contents, Env* env) {
  std::string tmp = TempSiblingPath(path);
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(auto file, env->OpenForWrite(tmp));
    RETURN_IF_ERROR(file->Append(contents));
    RETURN_IF_ERROR(file->Sync());
    RETURN_IF_ERROR(file->Close());
    RETURN_IF_ERROR(env->Rename(tmp, path));
    return env->SyncDir(Dirname(path));
  }();
  if (!s.ok() && env->Exists(tmp)) env->RemoveFile(tmp).IgnoreError();
  return s;
}

Result<std::unique_ptr<AtomicDir>> AtomicDir::Create(const std::string& final_path, bool overwrite,
                                                     Env* env) {
  if (final_path.empty()) return Status::InvalidArgument("output folder path is empty");
  if (env->Exists(final_path) && !overwrite) {
    return Status::AlreadyExists(final_path +
                                 ": output folder exists (remove it or pass --overwrite)");
  }
  std::string parent = Dirname(final_path);
  RETURN_IF_ERROR(env->CreateDirs(parent));
  std::string tmp = TempSiblingPath(final_path);
  RETURN_IF_ERROR(env->CreateDirs(tmp));
  return std::unique_ptr<AtomicDir>(new AtomicDir(final_path, tmp, overwrite, env));
}

AtomicDir::~AtomicDir() {
  if (!committed_) env_->RemoveAll(temp_path_).IgnoreError();
}

Status AtomicDir::Commit() {
  if (committed_) return Status::FailedPrecondition(final_path_ + ": already committed");
  RETURN_IF_ERROR(env_->SyncDir(temp_path_));
  if (env_->Exists(final_path_)) {
    if (!overwrite_) {
      return Status::AlreadyExists(final_path_ + ": output folder appeared while writing");
    }
    // Move the old folder aside first so that a crash never leaves neither.
    std::string old = TempSiblingPath(final_path_);
    RETURN_IF_ERROR(env_->Rename(final_path_, old));
    Status s = env_->Rename(temp_path_, final_path_);
    if (!s.ok()) {
      env_->Rename(old, final_path_).IgnoreError();
      return s;
    }
    env_->RemoveAll(old).IgnoreError();
  } else {
    RETURN_IF_ERROR(env_->Rename(temp_path_, final_path_));
  }
  committed_ = true;
  return env_->SyncDir(Dirname(final_path_));
}

}  // namespace edgepipe
