#include "edgepipe/core/hash.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgepipe {
namespace {

// FNV-1a 64 test vectors published with the FNV specification
// (draft-eastlake-fnv, isthe.com/chongo/tech/comp/fnv).
TEST(HashTest, Fnv1a64PublishedVectors) {
  EXPECT_EQ(Fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(Fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(Fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(HashTest, Mix64) {
  EXPECT_EQ(Mix64(0), 0u);  // fmix64 fixes zero
  EXPECT_NE(Mix64(1), 1u);
}

// Golden values, frozen forever: records are split into train/eval by these.
// Computed once with an independent Python implementation of the algorithm in
// hash.h (FNV-1a-64, xor length, fmix64), not by the code under test.
TEST(HashTest, Fingerprint64Golden) {
  EXPECT_EQ(Fingerprint64(""), 0xefd01f60ba992926ULL);
  EXPECT_EQ(Fingerprint64("a"), 0x25ad9d1b70de62d1ULL);
  EXPECT_EQ(Fingerprint64("foobar"), 0xd0d1e0724ec13d10ULL);
  EXPECT_EQ(Fingerprint64("record-000017"), 0xb787ad96d642e694ULL);
  EXPECT_EQ(Fingerprint64(std::string(8, '\0')), 0xafc638b81ded6fe0ULL);
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  EXPECT_EQ(Fingerprint64(all_bytes), 0xb3506b1abbbc5eb7ULL);
}

// Bytes above 0x7f must hash as unsigned (char signedness differs by platform).
TEST(HashTest, HighBytesAreUnsigned) {
  uint64_t h = 0xcbf29ce484222325ULL;
  h ^= 0xffu;
  h *= 0x100000001b3ULL;
  EXPECT_EQ(Fnv1a64("\xff"), h);
}

// Buckets of Fingerprint64 % 10 over sequential keys are close to uniform.
TEST(HashTest, BucketsAreBalanced) {
  constexpr int kN = 100000;
  std::vector<int> buckets(10);
  for (int i = 0; i < kN; ++i) ++buckets[Fingerprint64("example-" + std::to_string(i)) % 10];
  for (int b : buckets) {
    // Expected 10000, binomial sd ~95: 5 sd.
    EXPECT_NEAR(b, kN / 10, 500);
  }
}

}  // namespace
}  // namespace edgepipe
