// TFRecord files: TensorFlow's framing of a sequence of byte strings.
//
// Each record on disk (all integers little-endian):
//   uint64  length
//   uint32  masked crc32c of the 8 length bytes
//   byte    data[length]
//   uint32  masked crc32c of data
// The file may be gzip-compressed as a whole (".gz" shards). See crc32c.h for
// the mask. Files written here are byte-identical to TensorFlow's.
//
// Thread safety: readers and writers are not thread-safe; use one from one
// thread at a time. Distinct objects are independent.
#ifndef EDGEPIPE_DATA_TFRECORD_H_
#define EDGEPIPE_DATA_TFRECORD_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe::data {

// Size of a record's framing: 12 header bytes plus 4 footer bytes.
inline constexpr size_t kTFRecordHeaderSize = 12;
inline constexpr size_t kTFRecordFooterSize = 4;

enum class Compression {
  kAuto,  // writer: gzip when the path ends in ".gz"; reader: gzip magic bytes
  kNone,
  kGzip,
};

// Writes the 12-byte header of a record of `length` bytes into `out`.
void EncodeTFRecordHeader(uint64_t length, char out[kTFRecordHeaderSize]);

struct TFRecordWriterOptions {
  Compression compression = Compression::kAuto;
  int gzip_level = 6;  // zlib's 0..9; 1 is fastest
};

// Appends records to a file. Close() must be called and its status checked;
// the destructor closes silently otherwise. After an error every later call
// returns that error.
class TFRecordWriter {
 public:
  // Creates or truncates `path`. InvalidArgument for a gzip level outside 0..9.
  static Result<std::unique_ptr<TFRecordWriter>> Open(const std::string& path,
                                                      const TFRecordWriterOptions& options = {},
                                                      Env* env = Env::Default());
  // Writes into `file` (takes ownership). Compression::kAuto looks at
  // file->path().
  static Result<std::unique_ptr<TFRecordWriter>> Create(std::unique_ptr<WritableFile> file,
                                                        const TFRecordWriterOptions& options = {});
  ~TFRecordWriter();
  TFRecordWriter(const TFRecordWriter&) = delete;
  TFRecordWriter& operator=(const TFRecordWriter&) = delete;

  Status Write(std::string_view record);
  // Pushes buffered bytes to the operating system (a gzip stream keeps its
  // compression state; only Close() makes a gzip file complete).
  Status Flush();
  // Finishes the stream and closes the file. Later calls to Write fail with
  // FailedPrecondition; Close() again returns the first Close()'s status.
  Status Close();

  uint64_t records_written() const { return records_; }
  const std::string& path() const { return path_; }

 private:
  TFRecordWriter(std::unique_ptr<WritableFile> file, std::string path)
      : file_(std::move(file)), path_(std::move(path)) {}
  std::unique_ptr<WritableFile> file_;
  std::string path_;
  Status status_;
  uint64_t records_ = 0;
  bool closed_ = false;
};

struct TFRecordReaderOptions {
  Compression compression = Compression::kAuto;
  // When false the data crc is not checked (the length crc always is).
  bool verify_data_crc = true;
  // Bytes requested from the file per read; grows for larger records.
  size_t buffer_size = size_t{1} << 20;
  // Records longer than this are reported as DataLoss (a corrupt length that
  // happens to match its crc must not allocate gigabytes).
  uint64_t max_record_length = uint64_t{2} << 30;
  // When true the reader never overwrites bytes it has handed out: a full
  // buffer is replaced by a fresh block (unless no one else holds it), so
  // the views of Next(std::string_view*, TFRecordBlock*) stay valid as long
  // as their block is held. Costs nothing when records are read once.
  bool stable_views = false;
};

// A read buffer block, shared by the reader and whoever holds views into it.
using TFRecordBlock = std::shared_ptr<const char[]>;

// Checks a record's data crc: the 4 bytes that follow `record` in memory,
// as TFRecordReader returns it with verify_data_crc = false (its views are
// always followed by their footer). `path`, `index` and `offset` (the
// record's header byte, uncompressed when `gzip`) make the DataLoss message
// the same as the reader's own check:
//   "x.tfrecord: record 5 at byte 16040: data crc mismatch: stored 0x..., computed 0x... over
//   3191 data bytes".
// Thread-safe (pure).
Status CheckTFRecordDataCrc(std::string_view record, const std::string& path, uint64_t index,
                            uint64_t offset, bool gzip);

// Reads records front to back, verifying every crc. Errors are DataLoss and
// name the file, the record index (from 0), its byte offset (uncompressed
// for gzip files) and what was expected, e.g.
//   "x.tfrecord: record 5 at byte 16040: expected 3191 data bytes, file ends after 100".
// After an error every later call returns the same error.
class TFRecordReader {
 public:
  static Result<std::unique_ptr<TFRecordReader>> Open(const std::string& path,
                                                      const TFRecordReaderOptions& options = {},
                                                      Env* env = Env::Default());
  // Reads from `file` (takes ownership). With Compression::kAuto the first
  // bytes are peeked for the gzip magic.
  static Result<std::unique_ptr<TFRecordReader>> Create(std::unique_ptr<ReadableFile> file,
                                                        const TFRecordReaderOptions& options = {});
  ~TFRecordReader();
  TFRecordReader(const TFRecordReader&) = delete;
  TFRecordReader& operator=(const TFRecordReader&) = delete;

  // Reads the next record into `*record` (a view into the reader's buffer,
  // valid until the next call or the reader's destruction). Returns false at
  // a clean end of file (after a complete record, or an empty file).
  Result<bool> Next(std::string_view* record);
  // As above, copying into `*record`.
  Result<bool> Next(std::string* record);
  // As the first form, and sets *block to the buffer block holding the
  // record: with options.stable_views the view stays valid while *block (or
  // a copy) is held, across later calls and the reader's destruction.
  // Without stable_views the view is as short-lived as the first form's.
  Result<bool> Next(std::string_view* record, TFRecordBlock* block);

  // True when the file is read through gzip (offsets are uncompressed).
  bool gzip() const { return gzip_; }

  // Index of the next record (= records read so far).
  uint64_t record_index() const { return index_; }
  // Byte offset of the next record (uncompressed).
  uint64_t offset() const { return offset_; }
  const std::string& path() const;

 private:
  TFRecordReader(std::unique_ptr<ReadableFile> file, const TFRecordReaderOptions& options,
                 bool gzip);
  // Ensures `need` bytes from begin_ are buffered, or end of file was seen.
  Status Fill(size_t need);
  Status Corrupt(const std::string& what);

  std::unique_ptr<ReadableFile> file_;
  TFRecordReaderOptions options_;
  bool gzip_;
  std::shared_ptr<char[]> buf_;  // shared with views' holders when stable_views
  size_t cap_ = 0;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last buffered byte
  bool eof_ = false;
  bool done_ = false;
  Status status_;
  uint64_t index_ = 0;
  uint64_t offset_ = 0;
};

// Reads the records of several files in order, as one sequence. Files are
// opened one at a time, when reached. Errors are those of TFRecordReader.
class TFRecordFileSetReader {
 public:
  // NotFound for an empty list or a missing file (checked up front).
  static Result<std::unique_ptr<TFRecordFileSetReader>> Open(
      std::vector<std::string> paths, const TFRecordReaderOptions& options = {},
      Env* env = Env::Default());

  // As TFRecordReader::Next, over all files; false after the last file.
  Result<bool> Next(std::string_view* record);
  Result<bool> Next(std::string* record);

  const std::vector<std::string>& paths() const { return paths_; }
  // Index into paths() of the file being read (paths().size() when done).
  size_t file_index() const { return file_index_; }
  // Records read so far, over all files.
  uint64_t records_read() const { return records_; }

 private:
  TFRecordFileSetReader(std::vector<std::string> paths, const TFRecordReaderOptions& options,
                        Env* env)
      : paths_(std::move(paths)), options_(options), env_(env) {}
  std::vector<std::string> paths_;
  TFRecordReaderOptions options_;
  Env* env_;
  size_t file_index_ = 0;
  uint64_t records_ = 0;
  std::unique_ptr<TFRecordReader> current_;
};

// Expands a shard pattern whose last path component may contain shell
// wildcards (*, ?, [...]), e.g. "Split-train/data_tfrecord-*.gz", into the
// sorted list of matching files. A pattern without wildcards names one file.
// NotFound when nothing matches.
Result<std::vector<std::string>> MatchFiles(const std::string& pattern, Env* env = Env::Default());

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_TFRECORD_H_
