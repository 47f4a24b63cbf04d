#include "edgepipe/data/compression.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <algorithm>
#include <random>
#include <string>

namespace edgepipe::data {
namespace {

using ::testing::HasSubstr;

class MemoryReadable final : public ReadableFile {
 public:
  MemoryReadable(std::string data, size_t chunk) : data_(std::move(data)), chunk_(chunk) {}
  Result<size_t> Read(char* buf, size_t n) override {
    const size_t take = std::min({n, chunk_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, take, buf);
    pos_ += take;
    return take;
  }
  const std::string& path() const override { return path_; }

 private:
  std::string data_;
  size_t chunk_;
  size_t pos_ = 0;
  std::string path_ = "mem.gz";
};

class MemoryWritable final : public WritableFile {
 public:
  explicit MemoryWritable(std::string* out) : out_(out) {}
  Status Append(std::string_view data) override {
    if (closed_) return Status::FailedPrecondition("append after close");
    out_->append(data);
    return Status::Ok();
  }
  Status Flush() override { return Status::Ok(); }
  Status Sync() override { return Status::Ok(); }
  Status Close() override {
    closed_ = true;
    return Status::Ok();
  }
  const std::string& path() const override { return path_; }

 private:
  std::string* out_;
  bool closed_ = false;
  std::string path_ = "mem.gz";
};

std::string Compress(const std::string& plain, int level = 6, size_t piece = SIZE_MAX) {
  std::string out;
  auto gz = NewGzipWritableFile(std::make_unique<MemoryWritable>(&out), level);
  for (size_t i = 0; i < plain.size(); i += piece) {
    EXPECT_TRUE(gz->Append(std::string_view(plain).substr(i, piece)).ok());
  }
  EXPECT_TRUE(gz->Close().ok());
  return out;
}

// Inflates with our reader, reading `out_chunk` bytes at a time from a base
// that serves `in_chunk` bytes per read.
Result<std::string> Inflate(const std::string& gz, size_t in_chunk = SIZE_MAX,
                            size_t out_chunk = 1 << 16) {
  auto file = NewGzipReadableFile(std::make_unique<MemoryReadable>(gz, in_chunk));
  std::string out, buf(out_chunk, '\0');
  while (true) {
    ASSIGN_OR_RETURN(size_t n, file->Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

// Inflates with zlib directly (the reference).
std::string ZlibInflate(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[4096];
  int rc;
  do {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  } while (rc == Z_OK);
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

std::string SampleText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  // Compressible but not trivial: words from a small alphabet.
  for (char& c : s) c = "abcdefgh \n"[rng() % 10];
  return s;
}

TEST(CompressionTest, RoundTripsAtEveryLevelAndReadSize) {
  const std::string plain = SampleText(300000, 1);
  for (int level : {0, 1, 6, 9}) {
    const std::string gz = Compress(plain, level, 7777);
    EXPECT_TRUE(HasGzipMagic(gz));
    EXPECT_EQ(ZlibInflate(gz), plain) << "level " << level;
    if (level > 0) {
      EXPECT_LT(gz.size(), plain.size() / 2);
    }
    for (auto [in_chunk, out_chunk] :
         {std::pair<size_t, size_t>{SIZE_MAX, 1 << 20}, {1, 4096}, {4096, 1}, {1000, 333}}) {
      if (out_chunk == 1 && level != 1) continue;  // byte-wise output once is enough
      auto got = Inflate(gz, in_chunk, out_chunk);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_TRUE(*got == plain) << "level " << level << " in " << in_chunk << " out " << out_chunk;
    }
  }
}

TEST(CompressionTest, EmptyStreamRoundTrips) {
  const std::string gz = Compress("");
  EXPECT_TRUE(HasGzipMagic(gz));
  auto got = Inflate(gz);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, "");
}

TEST(CompressionTest, ConcatenatedMembersReadAsOne) {
  const std::string a = SampleText(100000, 2), b = SampleText(5, 3), c = SampleText(70000, 4);
  const std::string gz = Compress(a) + Compress(b) + Compress("") + Compress(c);
  for (size_t in_chunk : {SIZE_MAX, size_t{1}, size_t{4096}}) {
    auto got = Inflate(gz, in_chunk);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(*got == a + b + c) << "in_chunk " << in_chunk;
  }
}

TEST(CompressionTest, TruncatedStreamIsDataLoss) {
  const std::string gz = Compress(SampleText(50000, 5));
  for (size_t cut = 1; cut < gz.size(); cut += std::max<size_t>(1, cut / 4)) {
    auto got = Inflate(gz.substr(0, cut), 1000);
    ASSERT_FALSE(got.ok()) << "cut " << cut;
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(got.status().message(), HasSubstr("mem.gz: gzip stream truncated after " +
                                                  std::to_string(cut) + " compressed bytes"))
        << "cut " << cut;
  }
}

TEST(CompressionTest, CorruptedStreamIsDataLossWithOffset) {
  const std::string gz = Compress(SampleText(50000, 6));
  int detected = 0;
  for (size_t pos = 10; pos < gz.size(); pos += 97) {
    std::string bad = gz;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x5a);
    auto got = Inflate(bad);
    ASSERT_FALSE(got.ok()) << "corruption at " << pos << " went unnoticed";
    EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
    EXPECT_THAT(got.status().message(), HasSubstr("mem.gz: bad gzip stream at compressed byte "));
    ++detected;
  }
  EXPECT_GT(detected, 10);
  // A bad header names the reason.
  std::string bad_header = gz;
  bad_header[2] = 7;  // compression method must be 8 (deflate)
  auto got = Inflate(bad_header);
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(got.status().message(), HasSubstr("bad gzip stream at compressed byte"));
  EXPECT_THAT(got.status().message(), HasSubstr("unsupported compression method"));
}

TEST(CompressionTest, TrailingGarbageIsDataLoss) {
  auto got = Inflate(Compress("hello") + "garbage!");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
}

TEST(CompressionTest, BadLevelIsInvalidArgument) {
  std::string out;
  auto gz = NewGzipWritableFile(std::make_unique<MemoryWritable>(&out), 12);
  Status s = gz->Append("x");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("gzip level 12 is outside 0..9"));
  EXPECT_EQ(gz->Close().code(), StatusCode::kInvalidArgument);
}

TEST(CompressionTest, MaybeGzipDetectsByMagic) {
  const std::string plain = SampleText(10000, 7);
  for (bool compress : {false, true}) {
    for (size_t in_chunk : {SIZE_MAX, size_t{1}}) {
      bool is_gzip = !compress;
      auto file = MaybeGzip(
          std::make_unique<MemoryReadable>(compress ? Compress(plain) : plain, in_chunk), &is_gzip);
      ASSERT_TRUE(file.ok());
      EXPECT_EQ(is_gzip, compress);
      std::string out, buf(3000, '\0');
      while (true) {
        auto n = (*file)->Read(buf.data(), buf.size());
        ASSERT_TRUE(n.ok()) << n.status();
        if (*n == 0) break;
        out.append(buf.data(), *n);
      }
      EXPECT_TRUE(out == plain);
    }
  }
  // Inputs shorter than the magic.
  for (std::string tiny : {std::string(), std::string("\x1f")}) {
    bool is_gzip = true;
    auto file = MaybeGzip(std::make_unique<MemoryReadable>(tiny, 1), &is_gzip);
    ASSERT_TRUE(file.ok());
    EXPECT_FALSE(is_gzip);
    char buf[4];
    auto n = (*file)->Read(buf, sizeof(buf));
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, tiny.size());
  }
}

TEST(CompressionTest, OpenMaybeGzipOverFiles) {
  std::string tmpl = ::testing::TempDir() + "compression_test.XXXXXX";
  const std::string dir = mkdtemp(tmpl.data());
  const std::string plain = SampleText(20000, 8);
  const std::string gz_path = JoinPath(dir, "x.gz");
  {
    auto base = Env::Default()->OpenForWrite(gz_path);
    ASSERT_TRUE(base.ok());
    auto gz = NewGzipWritableFile(std::move(base).value(), 9);
    ASSERT_TRUE(gz->Append(plain).ok());
    ASSERT_TRUE(gz->Close().ok());
  }
  auto file = OpenMaybeGzip(gz_path);
  ASSERT_TRUE(file.ok());
  std::string out(plain.size() + 10, '\0');
  size_t have = 0;
  while (true) {
    auto n = (*file)->Read(out.data() + have, out.size() - have);
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    have += *n;
  }
  out.resize(have);
  EXPECT_TRUE(out == plain);
  EXPECT_EQ(OpenMaybeGzip(JoinPath(dir, "missing")).status().code(), StatusCode::kNotFound);
  Env::Default()->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace edgepipe::data

namespace edgepipe::data {
namespace {

// Inflates with zlib directly: an implementation independent of ours.
std::string ZlibGunzip(const std::string& gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[1 << 14];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - zs.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&zs);
  return out;
}

TEST(CompressionEnginesTest, EveryLevelIsStandardGzip) {
  std::mt19937 rng(7);
  std::string plain;
  for (int i = 0; i < 300000; ++i) plain.push_back(static_cast<char>('a' + rng() % 6));
  for (int level = 0; level <= 9; ++level) {
    const std::string gz = Compress(plain, level, 4097);
    EXPECT_EQ(ZlibGunzip(gz), plain) << "level " << level;
    auto ours = Inflate(gz, 333);
    ASSERT_TRUE(ours.ok()) << "level " << level << ": " << ours.status();
    EXPECT_EQ(*ours, plain) << "level " << level;
    if (level > 0) {
      EXPECT_LT(gz.size(), plain.size() / 2) << "level " << level;
    }
  }
}

}  // namespace
}  // namespace edgepipe::data
