#include "edgepipe/data/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace edgepipe::data {
namespace {

std::vector<uint8_t> RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Bit-at-a-time reference, straight from the definition; shares no code or
// tables with the implementations under test.
uint32_t ReferenceCrc32c(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1u)));
  }
  return ~c;
}

// All implementations available on this machine, with names.
std::vector<std::pair<std::string, Crc32cExtendFn>> Implementations() {
  std::vector<std::pair<std::string, Crc32cExtendFn>> impls = {{"portable", &Crc32cPortable},
                                                               {"dispatch", &Crc32cExtend}};
  if (Crc32cHardware() != nullptr) impls.emplace_back("hardware", Crc32cHardware());
  return impls;
}

// RFC 3720 (iSCSI), appendix B.4, and the common "123456789" check value.
TEST(Crc32cTest, KnownVectors) {
  std::vector<uint8_t> zeros(32, 0x00), ones(32, 0xFF), up(32), down(32);
  for (int i = 0; i < 32; ++i) {
    up[i] = static_cast<uint8_t>(i);
    down[i] = static_cast<uint8_t>(31 - i);
  }
  const char* digits = "123456789";
  for (const auto& [name, fn] : Implementations()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(fn(0, zeros.data(), zeros.size()), 0x8A9136AAu);
    EXPECT_EQ(fn(0, ones.data(), ones.size()), 0x62A8AB43u);
    EXPECT_EQ(fn(0, up.data(), up.size()), 0x46DD794Eu);
    EXPECT_EQ(fn(0, down.data(), down.size()), 0x113FDB5Cu);
    EXPECT_EQ(fn(0, digits, 9), 0xE3069283u);
    EXPECT_EQ(fn(0, nullptr, 0), 0u);
  }
  EXPECT_EQ(Crc32c(digits, 9), 0xE3069283u);
}

TEST(Crc32cTest, ReportsImplementation) {
  const std::string name = Crc32cImplementationName();
  if (Crc32cHardware() != nullptr) {
    EXPECT_NE(name, "portable");
  } else {
    EXPECT_EQ(name, "portable");
  }
#if defined(__x86_64__)
  // Every x86-64 CPU this project targets has SSE4.2.
  EXPECT_NE(Crc32cHardware(), nullptr);
#endif
}

TEST(Crc32cTest, AllLengthsAndAlignmentsAgreeWithReference) {
  const std::vector<uint8_t> buf = RandomBytes(1024 + 16, 1);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= 1024 + 8; ++n) {
      const uint8_t* p = buf.data() + offset;
      const uint32_t want = ReferenceCrc32c(p, n);
      for (const auto& [name, fn] : Implementations()) {
        ASSERT_EQ(fn(0, p, n), want) << name << " offset " << offset << " length " << n;
      }
    }
  }
}

// Lengths around the three-stream block sizes (3 x 256 and 3 x 8192 bytes)
// and large buffers, at odd alignments.
TEST(Crc32cTest, LargeBuffersAgree) {
  const std::vector<uint8_t> buf = RandomBytes((1 << 22) + 64, 2);
  std::vector<size_t> lengths = {767,   768,       769,    1535,    1536,
                                 1537,  24575,     24576,  24577,   24576 + 768 + 7,
                                 49152, 49152 + 1, 100003, 1 << 20, 1 << 22};
  for (size_t offset : {0, 1, 3, 7, 13}) {
    for (size_t n : lengths) {
      if (n + offset > buf.size()) continue;
      const uint8_t* p = buf.data() + offset;
      const uint32_t want = ReferenceCrc32c(p, n);
      for (const auto& [name, fn] : Implementations()) {
        EXPECT_EQ(fn(0, p, n), want) << name << " offset " << offset << " length " << n;
      }
    }
  }
}

TEST(Crc32cTest, ExtendComposes) {
  const std::vector<uint8_t> buf = RandomBytes(70000, 3);
  const uint32_t whole = Crc32c(buf.data(), buf.size());
  for (size_t split : {size_t{0}, size_t{1}, size_t{5}, size_t{4096}, size_t{30001}, buf.size()}) {
    for (const auto& [name, fn] : Implementations()) {
      const uint32_t head = fn(0, buf.data(), split);
      EXPECT_EQ(fn(head, buf.data() + split, buf.size() - split), whole)
          << name << " split " << split;
    }
  }
  // Byte by byte.
  uint32_t c = 0;
  for (size_t i = 0; i < 5000; ++i) c = Crc32cExtend(c, buf.data() + i, 1);
  EXPECT_EQ(c, Crc32c(buf.data(), 5000));
}

TEST(Crc32cTest, DetectsSingleBitFlips) {
  std::vector<uint8_t> buf = RandomBytes(3000, 4);
  const uint32_t base = Crc32c(buf.data(), buf.size());
  for (size_t i = 0; i < buf.size(); i += 97) {
    buf[i] ^= 0x10;
    EXPECT_NE(Crc32c(buf.data(), buf.size()), base) << "flip at " << i;
    buf[i] ^= 0x10;
  }
}

TEST(Crc32cTest, MaskRoundTripsAndDiffers) {
  std::mt19937 rng(5);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t crc = rng();
    EXPECT_EQ(Crc32cUnmask(Crc32cMask(crc)), crc);
    EXPECT_NE(Crc32cMask(crc), crc);
    EXPECT_NE(Crc32cMask(Crc32cMask(crc)), crc);
  }
  // By the formula: rotate right 15, add the constant.
  EXPECT_EQ(Crc32cMask(0), 0xa282ead8u);
  EXPECT_EQ(Crc32cMask(1u << 15), 0xa282ead9u);
  EXPECT_EQ(Crc32cMask(1u), (1u << 17) + 0xa282ead8u);
}

}  // namespace
}  // namespace edgepipe::data
