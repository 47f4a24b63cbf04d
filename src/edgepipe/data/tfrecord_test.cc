#include "edgepipe/data/tfrecord.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "edgepipe/core/file.h"
#include "edgepipe/data/compression.h"
#include "edgepipe/data/crc32c.h"

namespace edgepipe::data {
namespace {

using ::testing::HasSubstr;

const std::string kFixture = EDGEPIPE_SHARED_DIR "/fixtures/tfx/mnist.tfrecord";

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "tfrecord_test.XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { Env::Default()->RemoveAll(path_).IgnoreError(); }
  std::string File(const std::string& name) const { return JoinPath(path_, name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A file served from memory in reads of at most `chunk` bytes, optionally
// failing once `fail_at` bytes have been served.
class MemoryFile final : public ReadableFile {
 public:
  MemoryFile(std::string data, size_t chunk, size_t fail_at = SIZE_MAX)
      : data_(std::move(data)), chunk_(chunk), fail_at_(fail_at) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ >= fail_at_) return Status::IoError(path_ + ": injected read failure");
    const size_t take = std::min({n, chunk_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, take, buf);
    pos_ += take;
    return take;
  }
  const std::string& path() const override { return path_; }

 private:
  std::string data_;
  size_t chunk_;
  size_t fail_at_;
  size_t pos_ = 0;
  std::string path_ = "mem.tfrecord";
};

std::vector<std::string> SampleRecords() {
  std::mt19937 rng(7);
  std::vector<std::string> records;
  for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{3191}, size_t{70000}, size_t{12},
                   size_t{(1 << 20) + 3}, size_t{5}}) {
    std::string r(n, '\0');
    for (char& c : r) c = static_cast<char>(rng());
    records.push_back(std::move(r));
  }
  return records;
}

// TFRecord framing built by hand from the format's definition.
std::string Frame(const std::string& data) {
  std::string out;
  auto put = [&out](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
  };
  put(data.size(), 8);
  put(Crc32cMask(Crc32c(out.data(), 8)), 4);
  out += data;
  put(Crc32cMask(Crc32c(data.data(), data.size())), 4);
  return out;
}

std::string FrameAll(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& r : records) out += Frame(r);
  return out;
}

// Reads every record; the error, if any, is returned in `status`.
std::vector<std::string> ReadAll(TFRecordReader& reader, Status* status) {
  std::vector<std::string> out;
  std::string record;
  while (true) {
    Result<bool> more = reader.Next(&record);
    if (!more.ok()) {
      *status = more.status();
      return out;
    }
    if (!*more) break;
    out.push_back(record);
  }
  *status = Status::Ok();
  return out;
}

std::unique_ptr<TFRecordReader> ReaderOver(std::string bytes, size_t chunk,
                                           TFRecordReaderOptions options = {}) {
  auto reader =
      TFRecordReader::Create(std::make_unique<MemoryFile>(std::move(bytes), chunk), options);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return std::move(reader).value();
}

TEST(TFRecordTest, WriterMatchesHandBuiltFraming) {
  TempDir dir;
  const auto records = SampleRecords();
  const std::string path = dir.File("a.tfrecord");
  {
    auto writer = TFRecordWriter::Open(path);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const auto& r : records) ASSERT_TRUE((*writer)->Write(r).ok());
    EXPECT_EQ((*writer)->records_written(), records.size());
    ASSERT_TRUE((*writer)->Close().ok());
    EXPECT_EQ((*writer)->Write("x").code(), StatusCode::kFailedPrecondition);
  }
  auto bytes = ReadFileToString(path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, FrameAll(records));
  char header[kTFRecordHeaderSize];
  EncodeTFRecordHeader(3191, header);
  EXPECT_EQ(std::string(header, 12), Frame(std::string(3191, 'x')).substr(0, 12));
}

TEST(TFRecordTest, ReadsBackWithAnyBufferAndReadSize) {
  const auto records = SampleRecords();
  const std::string bytes = FrameAll(records);
  for (size_t buffer : {size_t{1}, size_t{13}, size_t{4096}, size_t{1} << 20}) {
    for (size_t chunk : {size_t{1} << 30, size_t{7}, size_t{4093}}) {
      if (chunk == 7 && buffer > 13) continue;  // byte-trickle reads only with small buffers
      SCOPED_TRACE("buffer " + std::to_string(buffer) + " chunk " + std::to_string(chunk));
      TFRecordReaderOptions options;
      options.buffer_size = buffer;
      auto reader = ReaderOver(bytes, chunk, options);
      Status status;
      EXPECT_EQ(ReadAll(*reader, &status), records);
      EXPECT_TRUE(status.ok()) << status;
      EXPECT_EQ(reader->record_index(), records.size());
      EXPECT_EQ(reader->offset(), bytes.size());
      // End of file is sticky and clean.
      std::string_view view;
      auto again = reader->Next(&view);
      ASSERT_TRUE(again.ok());
      EXPECT_FALSE(*again);
    }
  }
}

TEST(TFRecordTest, ViewsPointIntoTheBuffer) {
  const auto records = SampleRecords();
  auto reader = ReaderOver(FrameAll(records), 1 << 30);
  for (const auto& want : records) {
    std::string_view view;
    auto more = reader->Next(&view);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(view, want);
  }
}

// stable_views: every view stays valid while its block is held, whatever
// the buffer and read sizes (blocks fill, overflow into fresh blocks, grow).
TEST(TFRecordTest, StableViewsOutliveLaterReads) {
  const auto records = SampleRecords();
  const std::string bytes = FrameAll(records);
  for (size_t buffer : {size_t{13}, size_t{4096}, size_t{1} << 20}) {
    for (size_t chunk : {size_t{1} << 30, size_t{4093}}) {
      SCOPED_TRACE("buffer " + std::to_string(buffer) + " chunk " + std::to_string(chunk));
      TFRecordReaderOptions options;
      options.buffer_size = buffer;
      options.stable_views = true;
      auto reader = ReaderOver(bytes, chunk, options);
      std::vector<std::string_view> views;
      std::vector<TFRecordBlock> blocks;
      while (true) {
        std::string_view view;
        TFRecordBlock block;
        auto more = reader->Next(&view, &block);
        ASSERT_TRUE(more.ok()) << more.status();
        if (!*more) break;
        ASSERT_NE(block, nullptr);
        EXPECT_GE(view.data(), block.get());
        views.push_back(view);
        blocks.push_back(std::move(block));
      }
      reader.reset();  // the views must not depend on the reader
      ASSERT_EQ(views.size(), records.size());
      for (size_t i = 0; i < records.size(); ++i) EXPECT_EQ(views[i], records[i]) << i;
    }
  }
}

// Without other holders the block is reused (no fresh block per fill).
TEST(TFRecordTest, StableViewsReuseAnUnheldBlock) {
  std::vector<std::string> records(50, std::string(1000, 'x'));
  TFRecordReaderOptions options;
  options.buffer_size = 4096;
  options.stable_views = true;
  auto reader = ReaderOver(FrameAll(records), 1 << 30, options);
  std::set<const char*> distinct;
  for (size_t i = 0; i < records.size(); ++i) {
    std::string_view view;
    TFRecordBlock block;
    auto more = reader->Next(&view, &block);
    ASSERT_TRUE(more.ok() && *more);
    EXPECT_EQ(view, records[i]);
    distinct.insert(block.get());
  }
  // The first block is replaced once (held by `block` while the second fill
  // runs), then the two alternate at most.
  EXPECT_LE(distinct.size(), 3u);
}

// A reader with verify_data_crc = false plus CheckTFRecordDataCrc gives the
// verifying reader's error, word for word, for plain and gzip files.
TEST(TFRecordTest, DeferredDataCrcCheckMatchesTheReader) {
  TempDir tmp;
  const std::vector<std::string> records = {std::string(100, 'a'), std::string(3191, 'b'),
                                            std::string(50, 'c')};
  std::string bad = FrameAll(records);
  bad[12 + 100 + 4 + 12 + 7] ^= 0x20;  // a data byte of record 1
  for (bool gz : {false, true}) {
    SCOPED_TRACE(gz ? "gzip" : "plain");
    const std::string path = tmp.File(gz ? "bad.tfrecord.gz" : "bad.tfrecord");
    if (gz) {
      auto file = Env::Default()->OpenForWrite(path);
      ASSERT_TRUE(file.ok());
      auto out = NewGzipWritableFile(std::move(*file), 1);
      ASSERT_TRUE(out->Append(bad).ok());
      ASSERT_TRUE(out->Close().ok());
    } else {
      ASSERT_TRUE(WriteFileAtomic(path, bad).ok());
    }
    auto verifying = TFRecordReader::Open(path);
    ASSERT_TRUE(verifying.ok());
    Status want;
    ReadAll(**verifying, &want);
    ASSERT_EQ(want.code(), StatusCode::kDataLoss);
    EXPECT_THAT(want.message(), HasSubstr("data crc mismatch"));

    TFRecordReaderOptions options;
    options.verify_data_crc = false;
    options.stable_views = true;
    auto lazy = TFRecordReader::Open(path, options);
    ASSERT_TRUE(lazy.ok());
    std::vector<Status> got;
    while (true) {
      const uint64_t index = (*lazy)->record_index(), offset = (*lazy)->offset();
      std::string_view view;
      TFRecordBlock block;
      auto more = (*lazy)->Next(&view, &block);
      ASSERT_TRUE(more.ok());
      if (!*more) break;
      got.push_back(CheckTFRecordDataCrc(view, path, index, offset, (*lazy)->gzip()));
    }
    ASSERT_EQ(got.size(), 3u);
    EXPECT_TRUE(got[0].ok());
    EXPECT_EQ(got[1], want);
    EXPECT_TRUE(got[2].ok());
  }
}

TEST(TFRecordTest, EmptyFileHasNoRecords) {
  auto reader = ReaderOver("", 1 << 30);
  std::string record;
  auto more = reader->Next(&record);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(TFRecordTest, GzipRoundTripByExtensionAndByOption) {
  TempDir dir;
  const auto records = SampleRecords();
  for (const auto& [name, compression] : std::vector<std::pair<std::string, Compression>>{
           {"a.tfrecord.gz", Compression::kAuto}, {"b.tfrecord", Compression::kGzip}}) {
    SCOPED_TRACE(name);
    const std::string path = dir.File(name);
    auto writer = TFRecordWriter::Open(path, {.compression = compression, .gzip_level = 1});
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (const auto& r : records) ASSERT_TRUE((*writer)->Write(r).ok());
    ASSERT_TRUE((*writer)->Close().ok());
    auto bytes = ReadFileToString(path);
    ASSERT_TRUE(bytes.ok());
    EXPECT_TRUE(HasGzipMagic(*bytes));
    // Inflated, it is exactly the plain framing.
    auto inflated = OpenMaybeGzip(path);
    ASSERT_TRUE(inflated.ok());
    std::string plain_bytes, chunk(1 << 16, '\0');
    while (true) {
      auto n = (*inflated)->Read(chunk.data(), chunk.size());
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
      plain_bytes.append(chunk.data(), *n);
    }
    EXPECT_TRUE(plain_bytes == FrameAll(records));
    for (Compression read_as : {Compression::kAuto, Compression::kGzip}) {
      auto reader = TFRecordReader::Open(path, {.compression = read_as});
      ASSERT_TRUE(reader.ok());
      Status status;
      EXPECT_EQ(ReadAll(**reader, &status), records);
      EXPECT_TRUE(status.ok()) << status;
    }
    // Read as plain, the gzip bytes are not TFRecord framing.
    auto plain = TFRecordReader::Open(path, {.compression = Compression::kNone});
    ASSERT_TRUE(plain.ok());
    Status status;
    ReadAll(**plain, &status);
    EXPECT_EQ(status.code(), StatusCode::kDataLoss);
  }
}

TEST(TFRecordTest, RejectsBadGzipLevel) {
  TempDir dir;
  auto writer = TFRecordWriter::Open(dir.File("x.gz"), {.gzip_level = 10});
  ASSERT_FALSE(writer.ok());
  EXPECT_EQ(writer.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(writer.status().message(), HasSubstr("gzip level 10"));
}

// Corruptions of record 1 (records 0 and 2 intact).
class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    records_ = {std::string(100, 'a'), std::string(3191, 'b'), std::string(50, 'c')};
    bytes_ = FrameAll(records_);
    start1_ = 12 + 100 + 4;
  }
  Status ReadCorrupt(const std::string& bytes, TFRecordReaderOptions options = {}) {
    auto reader = ReaderOver(bytes, 1 << 30, options);
    Status status;
    got_ = ReadAll(*reader, &status);
    return status;
  }
  std::vector<std::string> records_;
  std::string bytes_;
  size_t start1_ = 0;
  std::vector<std::string> got_;
};

TEST_F(CorruptionTest, FlippedLengthByte) {
  std::string bad = bytes_;
  bad[start1_ + 1] ^= 0x01;
  Status s = ReadCorrupt(bad);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("mem.tfrecord: record 1 at byte 116: length crc mismatch"));
  EXPECT_EQ(got_.size(), 1u);
}

TEST_F(CorruptionTest, FlippedLengthCrcByte) {
  std::string bad = bytes_;
  bad[start1_ + 9] ^= 0x80;
  Status s = ReadCorrupt(bad);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("record 1 at byte 116: length crc mismatch"));
}

TEST_F(CorruptionTest, FlippedDataByte) {
  std::string bad = bytes_;
  bad[start1_ + 12 + 2000] ^= 0x04;
  Status s = ReadCorrupt(bad);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("record 1 at byte 116: data crc mismatch"));
  EXPECT_THAT(s.message(), HasSubstr("3191 data bytes"));
  // Without data verification the corrupted record is returned as is.
  TFRecordReaderOptions no_verify;
  no_verify.verify_data_crc = false;
  EXPECT_TRUE(ReadCorrupt(bad, no_verify).ok());
  ASSERT_EQ(got_.size(), 3u);
  EXPECT_NE(got_[1], records_[1]);
}

TEST_F(CorruptionTest, FlippedDataCrcByte) {
  std::string bad = bytes_;
  bad[start1_ + 12 + 3191 + 3] ^= 0x01;
  Status s = ReadCorrupt(bad);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr("record 1 at byte 116: data crc mismatch"));
}

TEST_F(CorruptionTest, ErrorIsSticky) {
  std::string bad = bytes_;
  bad[start1_ + 12] ^= 0x01;
  auto reader = ReaderOver(bad, 1 << 30);
  std::string record;
  ASSERT_TRUE(reader->Next(&record).ok());
  Status first = reader->Next(&record).status();
  EXPECT_EQ(first.code(), StatusCode::kDataLoss);
  EXPECT_EQ(reader->Next(&record).status(), first);
}

TEST_F(CorruptionTest, AbsurdLengthWithValidCrc) {
  char header[12];
  EncodeTFRecordHeader(uint64_t{3} << 30, header);
  Status s = ReadCorrupt(bytes_.substr(0, start1_) + std::string(header, 12) + "tail");
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(),
              HasSubstr("record 1 at byte 116: record length 3221225472 exceeds the limit"));
  // Below the limit but far beyond the file: reported without allocating it.
  EncodeTFRecordHeader(uint64_t{1} << 30, header);
  s = ReadCorrupt(std::string(header, 12) + "tail");
  EXPECT_THAT(s.message(),
              HasSubstr("record 0 at byte 0: expected 1073741824 data bytes, file ends after 4"));
}

// Truncating at every offset inside the first two records and at a few
// later ones: clean end exactly at record boundaries, DataLoss naming the
// record and its offset otherwise, never a crash.
TEST_F(CorruptionTest, TruncatedAtEveryOffset) {
  const std::vector<size_t> starts = {0, start1_, start1_ + 12 + 3191 + 4, bytes_.size()};
  for (size_t cut = 0; cut <= bytes_.size(); ++cut) {
    if (cut > starts[2] + 20 && cut < bytes_.size() - 20) continue;
    const size_t record = static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), cut) -
                                              starts.begin() - 1);
    const bool boundary = cut == starts[record];
    for (size_t chunk : {size_t{1} << 30, size_t{5}}) {
      TFRecordReaderOptions options;
      options.buffer_size = chunk == 5 ? 64 : 8192;
      auto reader = ReaderOver(bytes_.substr(0, cut), chunk, options);
      Status s;
      std::vector<std::string> got = ReadAll(*reader, &s);
      ASSERT_EQ(got.size(), record) << "cut " << cut;
      if (boundary) {
        EXPECT_TRUE(s.ok()) << "cut " << cut << ": " << s;
        continue;
      }
      ASSERT_EQ(s.code(), StatusCode::kDataLoss) << "cut " << cut;
      const size_t have = cut - starts[record];
      const std::string where =
          "record " + std::to_string(record) + " at byte " + std::to_string(starts[record]) + ": ";
      const size_t length = records_[record].size();
      std::string what;
      if (have < 12) {
        what = "truncated length header: expected 12 header bytes, file ends after " +
               std::to_string(have);
      } else if (have < 12 + length) {
        what = "expected " + std::to_string(length) + " data bytes, file ends after " +
               std::to_string(have - 12);
      } else {
        what = "expected 4 data crc bytes after " + std::to_string(length) +
               " data bytes, file ends after " + std::to_string(have - 12 - length);
      }
      EXPECT_THAT(s.message(), HasSubstr(where + what)) << "cut " << cut;
    }
  }
}

TEST(TFRecordTest, ReadErrorsPassThrough) {
  const std::string bytes = FrameAll(SampleRecords());
  auto reader = TFRecordReader::Create(std::make_unique<MemoryFile>(bytes, 1000, 5000));
  ASSERT_TRUE(reader.ok());
  Status s;
  ReadAll(**reader, &s);
  EXPECT_EQ(s.code(), StatusCode::kIoError);
  EXPECT_THAT(s.message(), HasSubstr("injected read failure"));
}

TEST(TFRecordTest, CorruptGzipIsDataLoss) {
  TempDir dir;
  const std::string path = dir.File("c.tfrecord.gz");
  {
    auto writer = TFRecordWriter::Open(path);
    ASSERT_TRUE(writer.ok());
    for (const auto& r : SampleRecords()) ASSERT_TRUE((*writer)->Write(r).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  const std::string good = *ReadFileToString(path);
  // Truncated.
  ASSERT_TRUE(WriteFileAtomic(path, good.substr(0, good.size() / 2)).ok());
  auto reader = TFRecordReader::Open(path);
  ASSERT_TRUE(reader.ok());
  Status s;
  ReadAll(**reader, &s);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr(path));
  // Overwritten bytes in the middle of the deflate stream.
  std::string bad = good;
  for (size_t i = bad.size() / 3; i < bad.size() / 3 + 16; ++i) bad[i] = static_cast<char>(0xAA);
  ASSERT_TRUE(WriteFileAtomic(path, bad).ok());
  reader = TFRecordReader::Open(path);
  ASSERT_TRUE(reader.ok());
  ReadAll(**reader, &s);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_THAT(s.message(), HasSubstr(path));
}

TEST(TFRecordTest, FileSetReadsShardsInOrder) {
  TempDir dir;
  std::vector<std::string> all;
  for (int shard = 0; shard < 3; ++shard) {
    const std::string path =
        dir.File("data-0000" + std::to_string(shard) + "-of-00003" + (shard == 1 ? ".gz" : ""));
    auto writer = TFRecordWriter::Open(path);
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < shard * 2; ++i) {  // shard 0 is empty
      all.push_back("s" + std::to_string(shard) + "r" + std::to_string(i));
      ASSERT_TRUE((*writer)->Write(all.back()).ok());
    }
    ASSERT_TRUE((*writer)->Close().ok());
  }
  ASSERT_TRUE(WriteFileAtomic(dir.File("other.txt"), "x").ok());
  auto paths = MatchFiles(dir.File("data-*-of-00003*"));
  ASSERT_TRUE(paths.ok()) << paths.status();
  ASSERT_EQ(paths->size(), 3u);
  EXPECT_EQ((*paths)[0], dir.File("data-00000-of-00003"));
  auto set = TFRecordFileSetReader::Open(*paths);
  ASSERT_TRUE(set.ok());
  std::vector<std::string> got;
  std::string record;
  while (true) {
    auto more = (*set)->Next(&record);
    ASSERT_TRUE(more.ok()) << more.status();
    if (!*more) break;
    got.push_back(record);
  }
  EXPECT_EQ(got, all);
  EXPECT_EQ((*set)->records_read(), all.size());
  EXPECT_EQ((*set)->file_index(), 3u);

  EXPECT_EQ(MatchFiles(dir.File("nothing-*")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(TFRecordFileSetReader::Open({}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(TFRecordFileSetReader::Open({dir.File("missing")}).status().code(),
            StatusCode::kNotFound);
}

// --- The fixture written by TensorFlow ---

TEST(TFRecordFixtureTest, ReadsAllRecordsVerified) {
  auto reader = TFRecordReader::Open(kFixture);
  ASSERT_TRUE(reader.ok()) << reader.status();
  Status s;
  std::vector<std::string> records = ReadAll(**reader, &s);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(records.size(), 1000u);
  auto size = Env::Default()->FileSize(kFixture);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ((*reader)->offset(), *size);
}

TEST(TFRecordFixtureTest, RewriteIsByteIdentical) {
  auto reader = TFRecordReader::Open(kFixture);
  ASSERT_TRUE(reader.ok());
  Status s;
  const std::vector<std::string> records = ReadAll(**reader, &s);
  ASSERT_TRUE(s.ok());
  TempDir dir;
  const std::string plain = dir.File("mnist.tfrecord");
  const std::string gz = dir.File("mnist.tfrecord.gz");
  for (const std::string& path : {plain, gz}) {
    auto writer = TFRecordWriter::Open(path);
    ASSERT_TRUE(writer.ok());
    for (const auto& r : records) ASSERT_TRUE((*writer)->Write(r).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto theirs = ReadFileToString(kFixture);
  auto ours = ReadFileToString(plain);
  ASSERT_TRUE(theirs.ok() && ours.ok());
  EXPECT_TRUE(*ours == *theirs) << "rewritten file differs from TensorFlow's";

  auto gz_reader = TFRecordReader::Open(gz);
  ASSERT_TRUE(gz_reader.ok());
  EXPECT_EQ(ReadAll(**gz_reader, &s), records);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace edgepipe::data
