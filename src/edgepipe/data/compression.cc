#include "edgepipe/data/compression.h"

#include <zlib.h>

#include <cstring>
#include <vector>

namespace edgepipe::data {
namespace {

constexpr size_t kChunk = 1 << 18;

std::string ZlibReason(const z_stream& zs, int rc) {
  if (zs.msg != nullptr) return zs.msg;
  return "zlib error " + std::to_string(rc);
}

class GzipReadableFile final : public ReadableFile {
 public:
  explicit GzipReadableFile(std::unique_ptr<ReadableFile> base)
      : base_(std::move(base)), in_(kChunk) {
    std::memset(&zs_, 0, sizeof(zs_));
    // 16 + MAX_WBITS: gzip wrapper only.
    init_rc_ = inflateInit2(&zs_, 16 + MAX_WBITS);
  }
  ~GzipReadableFile() override {
    if (init_rc_ == Z_OK) inflateEnd(&zs_);
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (init_rc_ != Z_OK) return Status::Internal(path() + ": cannot initialise zlib");
    if (n == 0 || done_) return size_t{0};
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    const uInt want = zs_.avail_out;
    while (zs_.avail_out == want) {
      if (zs_.avail_in == 0) {
        ASSIGN_OR_RETURN(size_t got, base_->Read(reinterpret_cast<char*>(in_.data()), in_.size()));
        if (got == 0) {
          if (at_member_start_) {  // clean end after a complete member
            done_ = true;
            return size_t{0};
          }
          return Status::DataLoss(path() + ": gzip stream truncated after " +
                                  std::to_string(consumed_) + " compressed bytes");
        }
        zs_.next_in = in_.data();
        zs_.avail_in = static_cast<uInt>(got);
      }
      const uInt before_in = zs_.avail_in;
      int rc = inflate(&zs_, Z_NO_FLUSH);
      consumed_ += before_in - zs_.avail_in;
      if (zs_.avail_in != before_in || zs_.avail_out != want) at_member_start_ = false;
      if (rc == Z_STREAM_END) {
        // Another member may follow (concatenated gzip).
        inflateReset(&zs_);
        at_member_start_ = true;
        if (zs_.avail_out != want) break;
        continue;
      }
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return Status::DataLoss(path() + ": bad gzip stream at compressed byte " +
                                std::to_string(consumed_) + ": " + ZlibReason(zs_, rc));
      }
    }
    return static_cast<size_t>(want - zs_.avail_out);
  }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<ReadableFile> base_;
  std::vector<Bytef> in_;
  z_stream zs_;
  int init_rc_;
  uint64_t consumed_ = 0;
  bool at_member_start_ = true;
  bool done_ = false;
};

class GzipWritableFile final : public WritableFile {
 public:
  GzipWritableFile(std::unique_ptr<WritableFile> base, int level)
      : base_(std::move(base)), out_(kChunk), level_(level) {
    std::memset(&zs_, 0, sizeof(zs_));
    init_rc_ = (level < 0 || level > 9)
                   ? Z_STREAM_ERROR
                   : deflateInit2(&zs_, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  }
  ~GzipWritableFile() override {
    if (!closed_) Close().IgnoreError();
    if (init_rc_ == Z_OK) deflateEnd(&zs_);
  }

  Status Append(std::string_view data) override {
    if (closed_) return Status::FailedPrecondition(path() + ": append after close");
    if (init_rc_ != Z_OK) return InitError();
    while (!data.empty()) {
      const size_t take = std::min<size_t>(data.size(), 1u << 30);
      zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      zs_.avail_in = static_cast<uInt>(take);
      RETURN_IF_ERROR(Pump(Z_NO_FLUSH));
      data.remove_prefix(take);
    }
    return Status::Ok();
  }
  // Flushes buffered bytes of the underlying file; the deflate state keeps
  // its window (a sync flush would hurt the ratio).
  Status Flush() override { return base_->Flush(); }
  Status Sync() override { return base_->Sync(); }
  Status Close() override {
    if (closed_) return Status::Ok();
    closed_ = true;
    if (init_rc_ != Z_OK) {
      base_->Close().IgnoreError();
      return InitError();
    }
    zs_.next_in = nullptr;
    zs_.avail_in = 0;
    Status s = Pump(Z_FINISH);
    Status c = base_->Close();
    return s.ok() ? c : s;
  }
  const std::string& path() const override { return base_->path(); }

 private:
  Status InitError() const {
    if (level_ < 0 || level_ > 9) {
      return Status::InvalidArgument(path() + ": gzip level " + std::to_string(level_) +
                                     " is outside 0..9");
    }
    return Status::Internal(path() + ": cannot initialise zlib");
  }

  Status Pump(int flush) {
    while (true) {
      zs_.next_out = out_.data();
      zs_.avail_out = static_cast<uInt>(out_.size());
      int rc = deflate(&zs_, flush);
      if (rc == Z_STREAM_ERROR) {
        return Status::Internal(path() + ": deflate failed: " + ZlibReason(zs_, rc));
      }
      const size_t have = out_.size() - zs_.avail_out;
      if (have > 0) {
        RETURN_IF_ERROR(
            base_->Append(std::string_view(reinterpret_cast<const char*>(out_.data()), have)));
      }
      if (flush == Z_FINISH ? rc == Z_STREAM_END : zs_.avail_out != 0) return Status::Ok();
    }
  }

  std::unique_ptr<WritableFile> base_;
  std::vector<Bytef> out_;
  int level_;
  z_stream zs_;
  int init_rc_;
  bool closed_ = false;
};

// Replays a peeked prefix, then continues from the base file.
class PrefixedReadableFile final : public ReadableFile {
 public:
  PrefixedReadableFile(std::string prefix, std::unique_ptr<ReadableFile> base)
      : prefix_(std::move(prefix)), base_(std::move(base)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ < prefix_.size()) {
      size_t take = std::min(n, prefix_.size() - pos_);
      std::memcpy(buf, prefix_.data() + pos_, take);
      pos_ += take;
      return take;
    }
    return base_->Read(buf, n);
  }
  const std::string& path() const override { return base_->path(); }

 private:
  std::string prefix_;
  size_t pos_ = 0;
  std::unique_ptr<ReadableFile> base_;
};

}  // namespace

bool HasGzipMagic(std::string_view prefix) {
  return prefix.size() >= 2 && static_cast<unsigned char>(prefix[0]) == 0x1f &&
         static_cast<unsigned char>(prefix[1]) == 0x8b;
}

std::unique_ptr<ReadableFile> NewGzipReadableFile(std::unique_ptr<ReadableFile> base) {
  return std::make_unique<GzipReadableFile>(std::move(base));
}

std::unique_ptr<WritableFile> NewGzipWritableFile(std::unique_ptr<WritableFile> base, int level) {
  return std::make_unique<GzipWritableFile>(std::move(base), level);
}

Result<std::unique_ptr<ReadableFile>> OpenMaybeGzip(const std::string& path, Env* env) {
  ASSIGN_OR_RETURN(auto file, env->OpenForRead(path));
  return MaybeGzip(std::move(file));
}

Result<std::unique_ptr<ReadableFile>> MaybeGzip(std::unique_ptr<ReadableFile> file, bool* is_gzip) {
  std::string prefix(2, '\0');
  size_t have = 0;
  while (have < 2) {
    ASSIGN_OR_RETURN(size_t n, file->Read(prefix.data() + have, 2 - have));
    if (n == 0) break;
    have += n;
  }
  prefix.resize(have);
  const bool gz = HasGzipMagic(prefix);
  if (is_gzip != nullptr) *is_gzip = gz;
  std::unique_ptr<ReadableFile> replay =
      std::make_unique<PrefixedReadableFile>(std::move(prefix), std::move(file));
  if (gz) return NewGzipReadableFile(std::move(replay));
  return replay;
}

}  // namespace edgepipe::data
