#include "edgepipe/data/idx.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "edgepipe/data/test_env.h"

namespace edgepipe::data {
namespace {

using ::testing::HasSubstr;

// An IDX header: 00 00 <type> <rank> then big-endian dims.
std::string Header(uint8_t type, const std::vector<uint32_t>& dims) {
  std::string h = {'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  for (uint32_t d : dims) {
    h += static_cast<char>(d >> 24);
    h += static_cast<char>(d >> 16);
    h += static_cast<char>(d >> 8);
    h += static_cast<char>(d);
  }
  return h;
}

std::string Bytes(std::initializer_list<int> v) {
  std::string s;
  for (int b : v) s += static_cast<char>(b);
  return s;
}

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTestDir(); }
  std::string Write(const std::string& name, const std::string& contents) {
    std::string path = JoinPath(dir_, name);
    testing::WriteTestFile(path, contents);
    return path;
  }
  std::string dir_;
};

TEST_F(IdxTest, ReadsUbyteHeaderAndData) {
  std::string path = Write("a.idx", Header(0x08, {2, 3}) + Bytes({1, 2, 3, 250, 251, 255}));
  Result<IdxArray> r = ReadIdx(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->file_type, IdxType::kUInt8);
  EXPECT_EQ(r->array.dtype(), DType::kUInt8);
  EXPECT_EQ(r->array.shape(), (std::vector<int64_t>{2, 3}));
  auto d = r->array.data<uint8_t>();
  EXPECT_EQ(std::vector<uint8_t>(d.begin(), d.end()),
            (std::vector<uint8_t>{1, 2, 3, 250, 251, 255}));
}

TEST_F(IdxTest, ConvertsBigEndianTypes) {
  // sbyte: 0xff is -1.
  auto s8 = ReadIdx(Write("s8", Header(0x09, {2}) + Bytes({0xff, 0x7f})));
  ASSERT_TRUE(s8.ok()) << s8.status();
  EXPECT_EQ(s8->array.dtype(), DType::kInt8);
  EXPECT_EQ(s8->array.data<int8_t>()[0], -1);
  EXPECT_EQ(s8->array.data<int8_t>()[1], 127);

  // short -> int32, sign-extended: 0x0102 = 258, 0xfffe = -2.
  auto s16 = ReadIdx(Write("s16", Header(0x0B, {2}) + Bytes({0x01, 0x02, 0xff, 0xfe})));
  ASSERT_TRUE(s16.ok()) << s16.status();
  EXPECT_EQ(s16->file_type, IdxType::kInt16);
  EXPECT_EQ(s16->array.dtype(), DType::kInt32);
  EXPECT_EQ(s16->array.data<int32_t>()[0], 258);
  EXPECT_EQ(s16->array.data<int32_t>()[1], -2);

  // int: 0x01020304 = 16909060, 0xffffffff = -1.
  auto s32 = ReadIdx(Write("s32", Header(0x0C, {2}) + Bytes({1, 2, 3, 4, 0xff, 0xff, 0xff, 0xff})));
  ASSERT_TRUE(s32.ok()) << s32.status();
  EXPECT_EQ(s32->array.data<int32_t>()[0], 16909060);
  EXPECT_EQ(s32->array.data<int32_t>()[1], -1);

  // float: IEEE 754 0x3fc00000 = 1.5, 0xc0200000 = -2.5.
  auto f32 =
      ReadIdx(Write("f32", Header(0x0D, {1, 2}) + Bytes({0x3f, 0xc0, 0, 0, 0xc0, 0x20, 0, 0})));
  ASSERT_TRUE(f32.ok()) << f32.status();
  EXPECT_EQ(f32->array.dtype(), DType::kFloat32);
  EXPECT_EQ(f32->array.data<float>()[0], 1.5f);
  EXPECT_EQ(f32->array.data<float>()[1], -2.5f);

  // double -> float32: 0x3ff8000000000000 = 1.5, 0x400921fb54442d18 = pi.
  auto f64 =
      ReadIdx(Write("f64", Header(0x0E, {2}) + Bytes({0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x40, 0x09,
                                                      0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18})));
  ASSERT_TRUE(f64.ok()) << f64.status();
  EXPECT_EQ(f64->file_type, IdxType::kFloat64);
  EXPECT_EQ(f64->array.dtype(), DType::kFloat32);
  EXPECT_EQ(f64->array.data<float>()[0], 1.5f);
  EXPECT_EQ(f64->array.data<float>()[1], static_cast<float>(3.141592653589793));
}

TEST_F(IdxTest, WriteReadRoundTripPlainAndGzip) {
  std::vector<uint8_t> u8(2 * 3 * 4);
  for (size_t i = 0; i < u8.size(); ++i) u8[i] = static_cast<uint8_t>(i * 11);
  auto a = Array::FromVector<uint8_t>({2, 3, 4}, u8);
  ASSERT_TRUE(a.ok());
  for (const char* name : {"u8.idx", "u8.idx.gz"}) {
    std::string path = JoinPath(dir_, name);
    Status s = WriteIdx(path, *a);
    ASSERT_TRUE(s.ok()) << s;
    auto raw = ReadFileToString(path);
    ASSERT_TRUE(raw.ok());
    const bool gz = std::string(name).ends_with(".gz");
    EXPECT_EQ(raw->size() >= 2 && static_cast<uint8_t>((*raw)[0]) == 0x1f, gz) << name;
    if (!gz) {
      EXPECT_EQ(raw->substr(0, 16), Header(0x08, {2, 3, 4}));
    }
    auto r = ReadIdx(path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->array.shape(), a->shape());
    auto d = r->array.data<uint8_t>();
    EXPECT_EQ(std::vector<uint8_t>(d.begin(), d.end()), u8) << name;
  }

  std::vector<float> f = {0.f, -1.25f, 3.5e7f, 1e-30f, 42.f, -0.f};
  auto fa = Array::FromVector<float>({6}, f);
  ASSERT_TRUE(fa.ok());
  std::string fpath = JoinPath(dir_, "f.idx");
  ASSERT_TRUE(WriteIdx(fpath, *fa).ok());
  auto raw = ReadFileToString(fpath);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->substr(4 + 4 + 4, 4), Bytes({0xbf, 0xa0, 0, 0}));  // -1.25 big-endian
  auto fr = ReadIdx(fpath);
  ASSERT_TRUE(fr.ok()) << fr.status();
  auto fd = fr->array.data<float>();
  EXPECT_EQ(std::vector<float>(fd.begin(), fd.end()), f);

  std::vector<int32_t> i32 = {0, -1, 2147483647, -2147483647 - 1};
  auto ia = Array::FromVector<int32_t>({2, 2}, i32);
  ASSERT_TRUE(ia.ok());
  std::string ipath = JoinPath(dir_, "i.idx.gz");
  ASSERT_TRUE(WriteIdx(ipath, *ia).ok());
  auto ir = ReadIdx(ipath);
  ASSERT_TRUE(ir.ok()) << ir.status();
  EXPECT_EQ(ir->file_type, IdxType::kInt32);
  auto id = ir->array.data<int32_t>();
  EXPECT_EQ(std::vector<int32_t>(id.begin(), id.end()), i32);
}

TEST_F(IdxTest, WriteRejectsUnsupportedArrays) {
  auto i64 = Array::Zeros(DType::kInt64, {3});
  ASSERT_TRUE(i64.ok());
  Status s = WriteIdx(JoinPath(dir_, "x.idx"), *i64);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("int64"));
  auto scalar = Array::Zeros(DType::kUInt8, {});
  ASSERT_TRUE(scalar.ok());
  EXPECT_THAT(WriteIdx(JoinPath(dir_, "y.idx"), *scalar).message(), HasSubstr("rank-0"));
  EXPECT_FALSE(Env::Default()->Exists(JoinPath(dir_, "x.idx")));
}

TEST_F(IdxTest, RejectsBadMagicAndTypeCode) {
  auto r = ReadIdx(Write("m.idx", Bytes({0, 1, 8, 1, 0, 0, 0, 1, 5})));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(),
              HasSubstr("m.idx: bad IDX magic: first two bytes are 0x00 0x01"));

  r = ReadIdx(Write("t.idx", Header(0x0A, {1}) + "x"));
  EXPECT_THAT(r.status().message(), HasSubstr("t.idx: unknown IDX element type code 0x0a"));

  r = ReadIdx(Write("h.idx", Bytes({0, 0, 8})));
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("file has 3 bytes, an IDX header needs at least 4"));
}

TEST_F(IdxTest, RejectsBadDimsCount) {
  auto r = ReadIdx(Write("d0.idx", Header(0x08, {})));
  EXPECT_THAT(r.status().message(), HasSubstr("declares 0 dimensions, must be 1..8"));
  std::vector<uint32_t> nine(9, 1);
  r = ReadIdx(Write("d9.idx", Header(0x08, nine) + "x"));
  EXPECT_THAT(r.status().message(), HasSubstr("declares 9 dimensions, must be 1..8"));
  // Eight dims of size 1 are fine.
  r = ReadIdx(Write("d8.idx", Header(0x08, std::vector<uint32_t>(8, 1)) + "x"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->array.rank(), 8);
  // Header cut inside the dims.
  r = ReadIdx(Write("cut.idx", Header(0x08, {5, 5}).substr(0, 9)));
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("declares 2 dimensions (8 bytes)"));
}

TEST_F(IdxTest, RejectsDimProductOverflow) {
  auto r = ReadIdx(Write("o.idx", Header(0x08, std::vector<uint32_t>(3, 0xffffffffu))));
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("overflows 64 bits"));
  // Elements fit in 64 bits but bytes (x8 for double) do not fit int64.
  r = ReadIdx(Write("o2.idx", Header(0x0E, {0x40000000u, 0x40000000u})));
  EXPECT_THAT(r.status().message(), HasSubstr("more bytes than this machine can address"));
}

TEST_F(IdxTest, RejectsShortFile) {
  // The real MNIST train-images header with only 1000 data bytes.
  auto r = ReadIdx(Write("short.idx", Header(0x08, {60000, 28, 28}) + std::string(1000, 'a')));
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(),
              HasSubstr("short.idx: expected 47040000 data bytes for dims [60000, 28, 28] of "
                        "ubyte, found 1000"));
  // A header claiming 4 GiB (staging path: must not allocate it up front).
  r = ReadIdx(Write("huge.idx", Header(0x0C, {1u << 30}) + std::string(12, 'a')));
  EXPECT_THAT(r.status().message(), HasSubstr("expected 4294967296 data bytes"));
  EXPECT_THAT(r.status().message(), HasSubstr("found 12"));
  // Conversion types go through the staging path too.
  r = ReadIdx(Write("d.idx", Header(0x0E, {2}) + std::string(9, 'a')));
  EXPECT_THAT(r.status().message(),
              HasSubstr("expected 16 data bytes for dims [2] of double, found 9"));
}

TEST_F(IdxTest, RejectsTrailingBytes) {
  auto r = ReadIdx(Write("tr.idx", Header(0x08, {2}) + "abXYZ"));
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(),
              HasSubstr("tr.idx: 3 trailing bytes after the data (dims [2] imply 2 data bytes)"));
  r = ReadIdx(Write("tr2.idx", Header(0x0B, {1}) + "abc"));
  EXPECT_THAT(r.status().message(), HasSubstr("1 trailing bytes"));
}

TEST_F(IdxTest, ReportsMissingFileAndReadFailures) {
  auto r = ReadIdx(JoinPath(dir_, "nope.idx"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("nope.idx"));

  std::string path = Write("ok.idx", Header(0x08, {100}) + std::string(100, 'z'));
  testing::FailingReadEnv env(50);
  r = ReadIdx(path, &env);
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(), HasSubstr("injected read failure"));
}

TEST_F(IdxTest, ImagesAndLabelsPairIsValidated) {
  auto images = Array::Zeros(DType::kUInt8, {3, 2, 2});
  auto labels = Array::Zeros(DType::kUInt8, {2});
  auto labels3 = Array::Zeros(DType::kUInt8, {3});
  auto labels2d = Array::Zeros(DType::kUInt8, {3, 1});
  ASSERT_TRUE(images.ok() && labels.ok() && labels3.ok() && labels2d.ok());
  const std::string ip = JoinPath(dir_, "img.idx"), lp = JoinPath(dir_, "lab.idx"),
                    lp3 = JoinPath(dir_, "lab3.idx"), lp2d = JoinPath(dir_, "lab2d.idx");
  ASSERT_TRUE(WriteIdx(ip, *images).ok());
  ASSERT_TRUE(WriteIdx(lp, *labels).ok());
  ASSERT_TRUE(WriteIdx(lp3, *labels3).ok());
  ASSERT_TRUE(WriteIdx(lp2d, *labels2d).ok());

  auto r = ReadIdxImagesAndLabels(ip, lp);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("images file has 3 items but labels file has 2"));
  r = ReadIdxImagesAndLabels(ip, lp2d);
  EXPECT_THAT(r.status().message(), HasSubstr("lab2d.idx: labels file holds ubyte dims [3, 1]"));
  r = ReadIdxImagesAndLabels(lp3, lp3);
  EXPECT_THAT(r.status().message(), HasSubstr("expected ubyte with 3 dims"));
  r = ReadIdxImagesAndLabels(ip, lp3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->images.shape(), (std::vector<int64_t>{3, 2, 2}));
  EXPECT_EQ(r->labels.shape(), (std::vector<int64_t>{3}));
}

// Debian's dataset-fashion-mnist package: the real gzip IDX files.
constexpr char kFashionDir[] = "/usr/share/datasets/fashion-mnist";

void CheckFashionSplit(const std::string& prefix, int64_t count) {
  const std::string images = std::string(kFashionDir) + "/" + prefix + "-images-idx3-ubyte.gz";
  const std::string labels = std::string(kFashionDir) + "/" + prefix + "-labels-idx1-ubyte.gz";
  ASSERT_TRUE(Env::Default()->Exists(images) && Env::Default()->Exists(labels))
      << images << " or " << labels
      << " is missing: run scripts/setup.sh (installs Debian's dataset-fashion-mnist)";
  auto r = ReadIdxImagesAndLabels(images, labels);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->images.shape(), (std::vector<int64_t>{count, 28, 28}));
  EXPECT_EQ(r->labels.shape(), (std::vector<int64_t>{count}));
  // Fashion-MNIST is balanced: count / 10 items of each class.
  std::array<int64_t, 10> per_class{};
  for (uint8_t l : r->labels.data<uint8_t>()) {
    ASSERT_LT(l, 10) << "label out of range 0..9";
    ++per_class[l];
  }
  for (int c = 0; c < 10; ++c) EXPECT_EQ(per_class[static_cast<size_t>(c)], count / 10) << c;
  // Pixels are not all one value (the data really was read).
  uint8_t lo = 255, hi = 0;
  for (uint8_t p : r->images.data<uint8_t>()) {
    lo = std::min(lo, p);
    hi = std::max(hi, p);
  }
  EXPECT_EQ(lo, 0);
  EXPECT_EQ(hi, 255);
}

TEST(IdxFashionMnistTest, ReadsTrainSplit) { CheckFashionSplit("train", 60000); }
TEST(IdxFashionMnistTest, ReadsTestSplit) { CheckFashionSplit("t10k", 10000); }

}  // namespace
}  // namespace edgepipe::data
