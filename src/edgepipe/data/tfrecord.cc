#include "edgepipe/data/tfrecord.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstring>

#include "edgepipe/data/compression.h"
#include "edgepipe/data/crc32c.h"

namespace edgepipe::data {
namespace {

void EncodeLE32(uint32_t v, char* out) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
void EncodeLE64(uint64_t v, char* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
uint32_t DecodeLE32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{u[0]} | uint32_t{u[1]} << 8 | uint32_t{u[2]} << 16 | uint32_t{u[3]} << 24;
}
uint64_t DecodeLE64(const char* p) {
  return uint64_t{DecodeLE32(p)} | uint64_t{DecodeLE32(p + 4)} << 32;
}

uint32_t MaskedCrc(const char* p, size_t n) { return Crc32cMask(Crc32c(p, n)); }

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Hex32(uint32_t v) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 28; shift >= 0; shift -= 4) s += kDigits[(v >> shift) & 0xf];
  return s;
}

std::string DataCrcMismatch(uint32_t stored, uint32_t computed, uint64_t length) {
  return "data crc mismatch: stored " + Hex32(stored) + ", computed " + Hex32(computed) + " over " +
         std::to_string(length) + " data bytes";
}

}  // namespace

void EncodeTFRecordHeader(uint64_t length, char out[kTFRecordHeaderSize]) {
  EncodeLE64(length, out);
  EncodeLE32(MaskedCrc(out, 8), out + 8);
}

// ---------------------------------------------------------------------------
// Writer

Result<std::unique_ptr<TFRecordWriter>> TFRecordWriter::Open(const std::string& path,
                                                             const TFRecordWriterOptions& options,
                                                             Env* env) {
  if (options.gzip_level < 0 || options.gzip_level > 9) {
    return Status::InvalidArgument(path + ": gzip level " + std::to_string(options.gzip_level) +
                                   " is outside 0..9");
  }
  ASSIGN_OR_RETURN(auto file, env->OpenForWrite(path));
  return Create(std::move(file), options);
}

Result<std::unique_ptr<TFRecordWriter>> TFRecordWriter::Create(
    std::unique_ptr<WritableFile> file, const TFRecordWriterOptions& options) {
  std::string path = file->path();
  bool gzip = options.compression == Compression::kGzip;
  if (options.compression == Compression::kAuto) gzip = EndsWith(path, ".gz");
  if (gzip) {
    if (options.gzip_level < 0 || options.gzip_level > 9) {
      return Status::InvalidArgument(path + ": gzip level " + std::to_string(options.gzip_level) +
                                     " is outside 0..9");
    }
    file = NewGzipWritableFile(std::move(file), options.gzip_level);
  }
  return std::unique_ptr<TFRecordWriter>(new TFRecordWriter(std::move(file), std::move(path)));
}

TFRecordWriter::~TFRecordWriter() {
  if (!closed_) Close().IgnoreError();
}

Status TFRecordWriter::Write(std::string_view record) {
  if (closed_) return Status::FailedPrecondition(path_ + ": write after close");
  RETURN_IF_ERROR(status_);
  char header[kTFRecordHeaderSize];
  EncodeTFRecordHeader(record.size(), header);
  char footer[kTFRecordFooterSize];
  EncodeLE32(MaskedCrc(record.data(), record.size()), footer);
  status_ = file_->Append(std::string_view(header, sizeof(header)));
  if (status_.ok()) status_ = file_->Append(record);
  if (status_.ok()) status_ = file_->Append(std::string_view(footer, sizeof(footer)));
  if (status_.ok()) ++records_;
  return status_;
}

Status TFRecordWriter::Flush() {
  if (closed_) return Status::FailedPrecondition(path_ + ": flush after close");
  RETURN_IF_ERROR(status_);
  status_ = file_->Flush();
  return status_;
}

Status TFRecordWriter::Close() {
  if (closed_) return status_;
  closed_ = true;
  Status s = file_->Close();
  if (status_.ok()) status_ = s;
  return status_;
}

// ---------------------------------------------------------------------------
// Reader

Result<std::unique_ptr<TFRecordReader>> TFRecordReader::Open(const std::string& path,
                                                             const TFRecordReaderOptions& options,
                                                             Env* env) {
  ASSIGN_OR_RETURN(auto file, env->OpenForRead(path));
  return Create(std::move(file), options);
}

Result<std::unique_ptr<TFRecordReader>> TFRecordReader::Create(
    std::unique_ptr<ReadableFile> file, const TFRecordReaderOptions& options) {
  if (options.buffer_size == 0) {
    return Status::InvalidArgument(file->path() + ": TFRecord read buffer size must be positive");
  }
  bool gzip = options.compression == Compression::kGzip;
  if (options.compression == Compression::kAuto) {
    ASSIGN_OR_RETURN(file, MaybeGzip(std::move(file), &gzip));
  } else if (gzip) {
    file = NewGzipReadableFile(std::move(file));
  }
  return std::unique_ptr<TFRecordReader>(new TFRecordReader(std::move(file), options, gzip));
}

TFRecordReader::TFRecordReader(std::unique_ptr<ReadableFile> file,
                               const TFRecordReaderOptions& options, bool gzip)
    : file_(std::move(file)),
      options_(options),
      gzip_(gzip),
      buf_(new char[options.buffer_size]),
      cap_(options.buffer_size) {}

TFRecordReader::~TFRecordReader() = default;

const std::string& TFRecordReader::path() const { return file_->path(); }

Status TFRecordReader::Corrupt(const std::string& what) {
  status_ = Status::DataLoss(path() + ": record " + std::to_string(index_) + " at " +
                             (gzip_ ? "uncompressed byte " : "byte ") + std::to_string(offset_) +
                             ": " + what);
  return status_;
}

Status TFRecordReader::Fill(size_t need) {
  while (end_ - begin_ < need && !eof_) {
    const size_t have = end_ - begin_;
    if (end_ == cap_ || cap_ - end_ < need - have) {
      // No room: move the partial record to the front, into a bigger block
      // when it fills the whole buffer (doubling as data arrives, so a length
      // that lies costs at most twice the bytes the file really holds), or
      // into a fresh block when views into this one may still be read
      // (stable_views; bytes past end_ are never handed out, so appending
      // there needs no fresh block).
      const bool shared = options_.stable_views && buf_.use_count() > 1;
      const size_t new_cap = have == cap_ ? cap_ * 2 : cap_;
      if (shared || new_cap != cap_) {
        std::shared_ptr<char[]> fresh(new char[new_cap]);
        std::memcpy(fresh.get(), buf_.get() + begin_, have);
        buf_ = std::move(fresh);
        cap_ = new_cap;
      } else if (begin_ > 0) {
        std::memmove(buf_.get(), buf_.get() + begin_, have);
      }
      begin_ = 0;
      end_ = have;
    }
    Result<size_t> got = file_->Read(buf_.get() + end_, cap_ - end_);
    if (!got.ok()) {
      status_ = got.status();
      return status_;
    }
    if (*got == 0) eof_ = true;
    end_ += *got;
  }
  return Status::Ok();
}

Result<bool> TFRecordReader::Next(std::string_view* record) {
  RETURN_IF_ERROR(status_);
  if (done_) return false;
  if (end_ - begin_ < kTFRecordHeaderSize) RETURN_IF_ERROR(Fill(kTFRecordHeaderSize));
  size_t avail = end_ - begin_;
  if (avail < kTFRecordHeaderSize) {
    if (avail == 0) {
      done_ = true;
      return false;
    }
    return Corrupt("truncated length header: expected " + std::to_string(kTFRecordHeaderSize) +
                   " header bytes, file ends after " + std::to_string(avail));
  }
  const char* header = buf_.get() + begin_;
  const uint64_t length = DecodeLE64(header);
  const uint32_t want_length_crc = DecodeLE32(header + 8);
  const uint32_t length_crc = MaskedCrc(header, 8);
  if (length_crc != want_length_crc) {
    return Corrupt("length crc mismatch: stored " + Hex32(want_length_crc) + ", computed " +
                   Hex32(length_crc) + " over length field " + std::to_string(length));
  }
  if (length > options_.max_record_length) {
    return Corrupt("record length " + std::to_string(length) + " exceeds the limit of " +
                   std::to_string(options_.max_record_length) + " bytes");
  }
  const size_t total = kTFRecordHeaderSize + static_cast<size_t>(length) + kTFRecordFooterSize;
  if (avail < total) {
    RETURN_IF_ERROR(Fill(total));
    avail = end_ - begin_;
    if (avail < total) {
      const size_t data_have = avail - kTFRecordHeaderSize;
      if (data_have < length) {
        return Corrupt("expected " + std::to_string(length) + " data bytes, file ends after " +
                       std::to_string(data_have));
      }
      return Corrupt("expected 4 data crc bytes after " + std::to_string(length) +
                     " data bytes, file ends after " + std::to_string(data_have - length));
    }
  }
  const char* data = buf_.get() + begin_ + kTFRecordHeaderSize;
  if (options_.verify_data_crc) {
    const uint32_t want_crc = DecodeLE32(data + length);
    const uint32_t crc = MaskedCrc(data, length);
    if (crc != want_crc) return Corrupt(DataCrcMismatch(want_crc, crc, length));
  }
  *record = std::string_view(data, length);
  begin_ += total;
  offset_ += total;
  ++index_;
  return true;
}

Result<bool> TFRecordReader::Next(std::string_view* record, TFRecordBlock* block) {
  ASSIGN_OR_RETURN(bool more, Next(record));
  if (more) *block = buf_;
  return more;
}

Status CheckTFRecordDataCrc(std::string_view record, const std::string& path, uint64_t index,
                            uint64_t offset, bool gzip) {
  const uint32_t want_crc = DecodeLE32(record.data() + record.size());
  const uint32_t crc = MaskedCrc(record.data(), record.size());
  if (crc == want_crc) return Status::Ok();
  return Status::DataLoss(path + ": record " + std::to_string(index) + " at " +
                          (gzip ? "uncompressed byte " : "byte ") + std::to_string(offset) + ": " +
                          DataCrcMismatch(want_crc, crc, record.size()));
}

Result<bool> TFRecordReader::Next(std::string* record) {
  std::string_view view;
  ASSIGN_OR_RETURN(bool more, Next(&view));
  if (more) record->assign(view.data(), view.size());
  return more;
}

// ---------------------------------------------------------------------------
// File sets

Result<std::unique_ptr<TFRecordFileSetReader>> TFRecordFileSetReader::Open(
    std::vector<std::string> paths, const TFRecordReaderOptions& options, Env* env) {
  if (paths.empty()) return Status::NotFound("TFRecord file set: no files given");
  for (const std::string& path : paths) {
    if (!env->Exists(path)) return Status::NotFound(path + ": TFRecord file does not exist");
  }
  return std::unique_ptr<TFRecordFileSetReader>(
      new TFRecordFileSetReader(std::move(paths), options, env));
}

Result<bool> TFRecordFileSetReader::Next(std::string_view* record) {
  while (file_index_ < paths_.size()) {
    if (current_ == nullptr) {
      ASSIGN_OR_RETURN(current_, TFRecordReader::Open(paths_[file_index_], options_, env_));
    }
    ASSIGN_OR_RETURN(bool more, current_->Next(record));
    if (more) {
      ++records_;
      return true;
    }
    current_.reset();
    ++file_index_;
  }
  return false;
}

Result<bool> TFRecordFileSetReader::Next(std::string* record) {
  std::string_view view;
  ASSIGN_OR_RETURN(bool more, Next(&view));
  if (more) record->assign(view.data(), view.size());
  return more;
}

Result<std::vector<std::string>> MatchFiles(const std::string& pattern, Env* env) {
  const std::string_view base = Basename(pattern);
  if (base.find_first_of("*?[") == std::string_view::npos) {
    if (!env->Exists(pattern)) return Status::NotFound(pattern + ": no such file");
    return std::vector<std::string>{pattern};
  }
  const bool has_dir = base.size() != pattern.size();
  const std::string dir = has_dir ? Dirname(pattern) : ".";
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->ListDir(dir));
  const std::string glob(base);
  std::vector<std::string> matches;
  for (const std::string& name : names) {
    if (fnmatch(glob.c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
    std::string path = has_dir ? JoinPath(dir, name) : name;
    if (env->IsDirectory(path)) continue;
    matches.push_back(std::move(path));
  }
  if (matches.empty()) return Status::NotFound(pattern + ": no files match");
  std::sort(matches.begin(), matches.end());
  return matches;
}

}  // namespace edgepipe::data
