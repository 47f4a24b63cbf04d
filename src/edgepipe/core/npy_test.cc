#include "edgepipe/core/npy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string Bytes(const char* s, size_t n) { return std::string(s, n); }

// What numpy.save writes for np.arange(6, dtype=np.int32).reshape(2, 3),
// derived from the format spec (numpy/lib/format.py): magic, version 1.0,
// header length 118 (0x76 = 'v'), the dict, 20 spaces of growth room
// (21 - len("2")), 38 spaces of padding so the data starts at byte 128, '\n',
// then six little-endian int32.
std::string NumpyInt32Golden() {
  return Bytes("\x93NUMPY\x01\x00v\x00", 10) +
         "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }" + std::string(58, ' ') +
         "\n" + Bytes("\0\0\0\0\1\0\0\0\2\0\0\0\3\0\0\0\4\0\0\0\5\0\0\0", 24);
}

// np.array([1.0, -2.0, 0.5], dtype=np.float32): shape (3,), 20 + 40 spaces.
std::string NumpyFloat32Golden() {
  return Bytes("\x93NUMPY\x01\x00v\x00", 10) +
         "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }" + std::string(60, ' ') + "\n" +
         Bytes("\x00\x00\x80\x3f\x00\x00\x00\xc0\x00\x00\x00\x3f", 12);
}

// A test-side builder: any header text, version 1 (uint16 length) or 2
// (uint32 length), no padding rules applied.
std::string MakeNpy(const std::string& header, const std::string& data, int version = 1) {
  std::string out = "\x93NUMPY";
  out += static_cast<char>(version);
  out += '\0';
  const size_t len = header.size();
  out += static_cast<char>(len & 0xff);
  out += static_cast<char>((len >> 8) & 0xff);
  if (version >= 2) {
    out += static_cast<char>((len >> 16) & 0xff);
    out += static_cast<char>((len >> 24) & 0xff);
  }
  return out + header + data;
}

TEST(NpyTest, ParsesNumpyGoldenBytes) {
  Result<Array> a = ParseNpy(NumpyInt32Golden(), "golden.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->dtype(), DType::kInt32);
  EXPECT_THAT(a->shape(), ElementsAre(2, 3));
  EXPECT_THAT(a->data<int32_t>(), ElementsAre(0, 1, 2, 3, 4, 5));

  Result<Array> f = ParseNpy(NumpyFloat32Golden(), "f.npy");
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->dtype(), DType::kFloat32);
  EXPECT_THAT(f->shape(), ElementsAre(3));
  EXPECT_THAT(f->data<float>(), ElementsAre(1.0f, -2.0f, 0.5f));
}

TEST(NpyTest, SerializesExactlyLikeNumpy) {
  std::vector<int32_t> v = {0, 1, 2, 3, 4, 5};
  Result<Array> a = Array::FromVector<int32_t>({2, 3}, v);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(SerializeNpy(*a), NumpyInt32Golden());
  std::vector<float> fv = {1.0f, -2.0f, 0.5f};
  Result<Array> f = Array::FromVector<float>({3}, fv);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(SerializeNpy(*f), NumpyFloat32Golden());
}

TEST(NpyTest, ScalarAndEmptyShapes) {
  // A 0-d array: shape () and no growth padding.
  Result<Array> s = Array::Zeros(DType::kInt64, {});
  ASSERT_TRUE(s.ok());
  s->data<int64_t>()[0] = -7;
  std::string bytes = SerializeNpy(*s);
  EXPECT_THAT(bytes, HasSubstr("'shape': (), }"));
  // 10 + 55 dict characters + '\n' > 64: the data starts at 128.
  EXPECT_EQ(bytes.size(), 128u + 8u);
  Result<Array> back = ParseNpy(bytes, "s.npy");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->rank(), 0);
  EXPECT_EQ(back->data<int64_t>()[0], -7);

  Result<Array> e = Array::Zeros(DType::kFloat32, {0, 5});
  ASSERT_TRUE(e.ok());
  back = ParseNpy(SerializeNpy(*e), "e.npy");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_THAT(back->shape(), ElementsAre(0, 5));
  EXPECT_EQ(back->num_elements(), 0);
}

template <typename T>
void RoundTrip(std::vector<int64_t> shape, std::initializer_list<T> values) {
  SCOPED_TRACE(std::string(DTypeName(DTypeOf<T>())));
  Result<Array> a = Array::FromVector<T>(shape, std::span<const T>(values.begin(), values.size()));
  ASSERT_TRUE(a.ok()) << a.status();
  std::string bytes = SerializeNpy(*a);
  size_t header_end = bytes.size() - a->num_bytes();
  EXPECT_EQ(header_end % 64, 0u);
  EXPECT_EQ(bytes[header_end - 1], '\n');
  Result<Array> back = ParseNpy(bytes, "rt.npy");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dtype(), DTypeOf<T>());
  EXPECT_EQ(back->shape(), shape);
  EXPECT_TRUE(std::equal(values.begin(), values.end(), back->template data<T>().begin()));
}

TEST(NpyTest, RoundTripsEveryDType) {
  RoundTrip<float>({2, 2}, {1.5f, -0.0f, 3e38f, -1e-38f});
  RoundTrip<int8_t>({3}, {-128, 0, 127});
  RoundTrip<uint8_t>({1, 3}, {0, 128, 255});
  RoundTrip<int32_t>({2}, {INT32_MIN, INT32_MAX});
  RoundTrip<int64_t>({1, 1, 2}, {INT64_MIN, INT64_MAX});
  RoundTrip<bool>({4}, {true, false, false, true});
}

TEST(NpyTest, DescrStrings) {
  const std::pair<DType, const char*> kCases[] = {
      {DType::kFloat32, "'<f4'"}, {DType::kInt8, "'|i1'"},  {DType::kUInt8, "'|u1'"},
      {DType::kInt32, "'<i4'"},   {DType::kInt64, "'<i8'"}, {DType::kBool, "'|b1'"},
  };
  for (const auto& [dtype, descr] : kCases) {
    Result<Array> a = Array::Zeros(dtype, {1});
    ASSERT_TRUE(a.ok());
    EXPECT_THAT(SerializeNpy(*a), HasSubstr(std::string("{'descr': ") + descr));
  }
}

TEST(NpyTest, ReadsVersion2AndPython2StyleHeaders) {
  std::string data = Bytes("\1\0\0\0\2\0\0\0", 8);
  Result<Array> a = ParseNpy(
      MakeNpy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }\n", data, 2), "v2.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->data<int32_t>(), ElementsAre(1, 2));
  // Double quotes, other key order, no trailing comma, long suffix.
  a = ParseNpy(MakeNpy("{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<i4\"}", data),
               "py2.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->shape(), ElementsAre(1, 2));
}

TEST(NpyTest, BigEndianIsByteSwapped) {
  Result<Array> a = ParseNpy(MakeNpy("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n",
                                     Bytes("\0\0\1\2\xff\xff\xff\xfe", 8)),
                             "be.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->data<int32_t>(), ElementsAre(0x102, -2));
  a = ParseNpy(MakeNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }\n",
                       Bytes("\x3f\x80\0\0", 4)),
               "bef.npy");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_THAT(a->data<float>(), ElementsAre(1.0f));
}

// Each bad input: the error names the file and the problem.
struct BadCase {
  const char* what;
  std::string bytes;
  StatusCode code;
  const char* message_part;
};

TEST(NpyTest, BadInputsGiveClearErrors) {
  const std::string ok_header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n";
  const std::string ok_data(24, '\0');
  std::string truncated_header = MakeNpy(ok_header, ok_data).substr(0, 30);
  const BadCase kCases[] = {
      {"wrong magic", "PK\x03\x04 this is a zip file", StatusCode::kInvalidArgument,
       "not a .npy file"},
      {"empty", "", StatusCode::kInvalidArgument, "not a .npy file"},
      {"truncated prefix", "\x93NUMPY\x01", StatusCode::kDataLoss, "truncated"},
      {"truncated header", truncated_header, StatusCode::kDataLoss,
       "truncated .npy header: needs 60 bytes, file has 20"},
      {"bad version", Bytes("\x93NUMPY\x04\x00\x10\x00", 10), StatusCode::kUnimplemented,
       "version 4.0"},
      {"no colon", MakeNpy("{'descr' '<f4', 'fortran_order': False, 'shape': (2, 3), }", ok_data),
       StatusCode::kInvalidArgument, "malformed .npy header at offset 9: expected ':'"},
      {"not a dict", MakeNpy("['<f4', False, (2, 3)]", ok_data), StatusCode::kInvalidArgument,
       "expected '{'"},
      {"unterminated", MakeNpy("{'descr': '<f4", ok_data), StatusCode::kInvalidArgument,
       "unterminated string"},
      {"missing shape", MakeNpy("{'descr': '<f4', 'fortran_order': False}", ok_data),
       StatusCode::kInvalidArgument, "missing key 'shape'"},
      {"extra key",
       MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", ok_data),
       StatusCode::kInvalidArgument, "unexpected key 'x'"},
      {"bad bool", MakeNpy("{'descr': '<f4', 'fortran_order': 0, 'shape': (6,)}", ok_data),
       StatusCode::kInvalidArgument, "fortran_order must be True or False"},
      {"negative dim", MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (-6,)}", ok_data),
       StatusCode::kInvalidArgument, "shape dimension 0 must be a non-negative integer"},
      {"text after", MakeNpy(ok_header + "x", ok_data), StatusCode::kInvalidArgument,
       "unexpected text after '}'"},
      {"fortran", MakeNpy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", ok_data),
       StatusCode::kUnimplemented, "fortran_order True is not supported"},
      {"shape overflows int64",
       MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
               ok_data),
       StatusCode::kInvalidArgument, "overflows int64"},
      {"bytes overflow",
       MakeNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (2305843009213693952,)}",
               ok_data),
       StatusCode::kInvalidArgument, "overflows the byte count"},
      {"dimension overflows",
       MakeNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
               ok_data),
       StatusCode::kInvalidArgument, "shape dimension 0 overflows int64"},
      {"short data", MakeNpy(ok_header, ok_data.substr(0, 20)), StatusCode::kDataLoss,
       "shape [2, 3] of float32 needs 24 data bytes but the file has 20"},
      {"trailing data", MakeNpy(ok_header, ok_data + "xy"), StatusCode::kInvalidArgument,
       "trailing bytes"},
      {"float64", MakeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (3,)}", ok_data),
       StatusCode::kUnimplemented, "unsupported dtype descr '<f8'"},
      {"complex", MakeNpy("{'descr': '<c8', 'fortran_order': False, 'shape': (3,)}", ok_data),
       StatusCode::kUnimplemented, "unsupported dtype descr '<c8'"},
      {"pipe on f4", MakeNpy("{'descr': '|f4', 'fortran_order': False, 'shape': (6,)}", ok_data),
       StatusCode::kUnimplemented, "unsupported dtype descr '|f4'"},
      {"structured",
       MakeNpy("{'descr': [('x', '<f4')], 'fortran_order': False, 'shape': (6,)}", ok_data),
       StatusCode::kUnimplemented, "structured dtypes"},
      {"bool byte 2",
       MakeNpy("{'descr': '|b1', 'fortran_order': False, 'shape': (3,)}", Bytes("\1\2\0", 3)),
       StatusCode::kInvalidArgument, "bool element 1 has byte value 2"},
  };
  for (const BadCase& c : kCases) {
    SCOPED_TRACE(c.what);
    Result<Array> a = ParseNpy(c.bytes, "bad.npy");
    ASSERT_FALSE(a.ok());
    EXPECT_EQ(a.status().code(), c.code) << a.status();
    EXPECT_THAT(a.status().message(), ::testing::StartsWith("bad.npy: "));
    EXPECT_THAT(a.status().message(), HasSubstr(c.message_part));
  }
}

TEST(NpyTest, FloatHintForFloat64) {
  Result<Array> a = ParseNpy(
      MakeNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (1,)}", std::string(8, '\0')),
      "f8.npy");
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("astype(np.float32)"));
}

class NpyFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(tmp_.path().empty()); }
  TempDir tmp_;
};

TEST_F(NpyFileTest, WriteThenReadThroughShortReads) {
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(i) * 0.25f;
  Result<Array> a = Array::FromVector<float>({10, 100}, v);
  ASSERT_TRUE(a.ok());
  const std::string path = tmp_.Join("x.npy");
  ASSERT_TRUE(WriteNpy(path, *a).ok());
  Result<std::string> raw = ReadFileToString(path);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(*raw, SerializeNpy(*a));

  FaultEnv env;
  env.SetMaxReadChunk(5);
  Result<Array> back = ReadNpy(path, &env);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_THAT(back->shape(), ElementsAre(10, 100));
  EXPECT_TRUE(std::equal(v.begin(), v.end(), back->data<float>().begin()));

  env.FailNth(FaultEnv::Op::kRead, 10);
  back = ReadNpy(path, &env);
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kIoError);
}

TEST_F(NpyFileTest, ReadErrorsNameThePath) {
  const std::string missing = tmp_.Join("missing.npy");
  Result<Array> r = ReadNpy(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr(missing));

  // A header claiming far more data than the file holds fails before any
  // large allocation.
  const std::string lying = tmp_.Join("lying.npy");
  ASSERT_TRUE(WriteFileAtomic(lying, MakeNpy("{'descr': '<f4', 'fortran_order': False, "
                                             "'shape': (100000, 100000, 100), }\n",
                                             std::string(16, '\0')))
                  .ok());
  r = ReadNpy(lying);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr(lying + ": shape [100000, 100000, 100]"));

  const std::string garbage = tmp_.Join("garbage.npy");
  ASSERT_TRUE(WriteFileAtomic(garbage, "hello").ok());
  r = ReadNpy(garbage);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr(garbage + ": not a .npy file"));

  const std::string cut = tmp_.Join("cut.npy");
  ASSERT_TRUE(WriteFileAtomic(cut, NumpyInt32Golden().substr(0, 50)).ok());
  r = ReadNpy(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(r.status().message(), HasSubstr("truncated .npy header"));

  const std::string v2 = tmp_.Join("v2.npy");
  ASSERT_TRUE(WriteFileAtomic(v2, MakeNpy("{'descr': '|u1', 'fortran_order': False, "
                                          "'shape': (3,), }\n",
                                          "abc", 2))
                  .ok());
  r = ReadNpy(v2);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->data<uint8_t>(), ElementsAre('a', 'b', 'c'));
}

TEST_F(NpyFileTest, FailedWriteKeepsOldFile) {
  const std::string path = tmp_.Join("w.npy");
  Result<Array> a = Array::Zeros(DType::kUInt8, {4});
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(WriteNpy(path, *a).ok());
  FaultEnv env;
  env.FailNth(FaultEnv::Op::kRename, 1);
  Result<Array> b = Array::Zeros(DType::kInt64, {9});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(WriteNpy(path, *b, &env).ok());
  Result<Array> back = ReadNpy(path);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->dtype(), DType::kUInt8);
}

}  // namespace
}  // namespace edgepipe
