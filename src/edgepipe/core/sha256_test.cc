#include "edgepipe/core/sha256.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "edgepipe/core/testing/fault_env.h"
#include "edgepipe/core/testing/temp_dir.h"

namespace edgepipe {
namespace {

// FIPS 180-2 appendix B / NIST CSRC example vectors.
TEST(Sha256Test, NistVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                      "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

std::string Pattern(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += static_cast<char>((i * 31 + 7) & 255);
  return s;
}

// Lengths around the padding boundaries (55/56 bytes: one or two final
// blocks). Expected values computed once with Python's hashlib.
TEST(Sha256Test, PaddingBoundaries) {
  const std::pair<size_t, const char*> kCases[] = {
      {55, "8aa994584139d128848eeebc4e815639ba5ab6e6e39574195a63ac4f14f7c43b"},
      {56, "ad574708f75c044c9b85de64cb568ee7711ff4f36448c6242f053ba8f6cc2b63"},
      {63, "280ed3e8ff1df845b2e7dfe6ac6cee817bef20e783cc65abc41b818b4d2fe076"},
      {64, "c6ab9724ade5b6a7a1edfffb12f3aa9181351355af8fd08c919952ad211339dd"},
      {65, "788367c73c7ddf4c53f65e68cc0d943e6227ab55b0e78ba63ace822b1c6301c0"},
      {119, "3d610547d68216dedf7435a4fb6260353911f6b3fd3f18805ddb8be285d726fe"},
      {120, "1f80156a804cb7862ad113e8200e9d74499723e7c7854d5f48776d3148e09656"},
      {128, "cc548ca2dec1f6fe4f58b2e27aa9c7521607df1130d140b55a4dad0665302356"},
  };
  for (const auto& [n, hex] : kCases) EXPECT_EQ(Sha256Hex(Pattern(n)), hex) << "length " << n;
}

TEST(Sha256Test, IncrementalEqualsOneShotAtRandomSplits) {
  std::mt19937 rng(1234);
  const std::string data = Pattern(5000);
  for (int trial = 0; trial < 200; ++trial) {
    size_t len = rng() % data.size();
    std::string_view msg(data.data(), len);
    Sha256 h;
    size_t pos = 0;
    while (pos < len) {
      size_t take = std::min<size_t>(len - pos, rng() % 150);  // includes empty updates
      h.Update(msg.substr(pos, take));
      pos += take;
    }
    EXPECT_EQ(ToHex(h.Finish()), Sha256Hex(msg)) << "length " << len;
  }
}

TEST(Sha256Test, ByteAtATimeMillionA) {
  Sha256 h;
  for (int i = 0; i < 1000000; ++i) h.Update("a");
  EXPECT_EQ(ToHex(h.Finish()), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, FinishResetsAndCopyForks) {
  Sha256 h;
  h.Update("ab");
  Sha256 fork = h;
  h.Update("c");
  EXPECT_EQ(ToHex(h.Finish()), Sha256Hex("abc"));
  EXPECT_EQ(ToHex(h.Finish()), Sha256Hex(""));  // reset after Finish
  fork.Update("d");
  EXPECT_EQ(ToHex(fork.Finish()), Sha256Hex("abd"));
}

TEST(Sha256Test, ToHex) {
  EXPECT_EQ(ToHex(std::string_view("\x00\x0f\xf0\xff", 4)), "000ff0ff");
  EXPECT_EQ(ToHex(""), "");
}

TEST(Sha256Test, FileStreamsThroughEnv) {
  TempDir tmp;
  ASSERT_FALSE(tmp.path().empty());
  const std::string path = tmp.Join("big.bin");
  const std::string data = Pattern(300000);  // several read chunks
  ASSERT_TRUE(WriteFileAtomic(path, data).ok());
  FaultEnv env;
  env.SetMaxReadChunk(1000);  // short reads must not change the digest
  Result<Sha256Digest> d = Sha256File(path, &env);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(ToHex(*d), Sha256Hex(data));

  env.FailNth(FaultEnv::Op::kRead, 5);
  d = Sha256File(path, &env);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kIoError);

  d = Sha256File(tmp.Join("missing"));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(d.status().message(), ::testing::HasSubstr("missing"));
}

}  // namespace
}  // namespace edgepipe

namespace edgepipe {
namespace {

// Restores the default block function when a test ends.
class Sha256ModeTest : public ::testing::Test {
 protected:
  void TearDown() override { internal::SetSha256Accelerated(default_); }
  const bool default_ = internal::Sha256Accelerated();
};

// Both block functions give the standard digests: the NIST vectors and the
// same digest of random data of many lengths (the accelerated one only when
// the CPU has SHA-NI; SetSha256Accelerated(true) says whether it does).
TEST_F(Sha256ModeTest, PortableAndAcceleratedAgree) {
  std::mt19937 rng(11);
  std::vector<std::string> inputs = {"", "abc", std::string(1000000, 'a')};
  for (size_t n : {1u, 55u, 56u, 63u, 64u, 65u, 127u, 128u, 1000u, 4096u, 100003u}) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    inputs.push_back(std::move(s));
  }
  ASSERT_TRUE(internal::SetSha256Accelerated(false));
  EXPECT_FALSE(internal::Sha256Accelerated());
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(inputs[2]),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  std::vector<std::string> portable;
  for (const std::string& s : inputs) portable.push_back(Sha256Hex(s));
  if (!internal::SetSha256Accelerated(true)) {
    EXPECT_FALSE(internal::Sha256Accelerated());
    GTEST_SKIP() << "this CPU has no SHA extensions: the portable code was tested";
  }
  EXPECT_TRUE(internal::Sha256Accelerated());
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(inputs[2]),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(Sha256Hex(inputs[i]), portable[i])
        << "input " << i << ", " << inputs[i].size() << " bytes";
  }
}

}  // namespace
}  // namespace edgepipe
