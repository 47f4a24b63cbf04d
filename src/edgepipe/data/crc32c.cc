#include "edgepipe/data/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__linux__)
#include <arm_acle.h>
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1 << 7)
#endif
#endif

namespace edgepipe::data {
namespace {

// Reflected polynomial: bit i holds the coefficient of x^(31-i).
constexpr uint32_t kPoly = 0x82F63B78u;

// Little-endian loads that work on any host byte order and alignment.
inline uint32_t LoadLE32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
[[maybe_unused]] inline uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));  // native order: the crc instructions want it as is
  return v;
}

// ---------------------------------------------------------------------------
// Portable: slicing-by-8. kTable[k][b] is the register update for byte b
// followed by k zero bytes.
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k) {
    for (uint32_t b = 0; b < 256; ++b) {
      const uint32_t prev = t[k - 1][b];
      t[k][b] = (prev >> 8) ^ t[0][prev & 0xff];
    }
  }
  return t;
}
constexpr Tables kTables = MakeTables();

uint32_t ExtendPortableImpl(uint32_t crc, const uint8_t* p, size_t n) {
  uint32_t c = ~crc;
  const auto& t = kTables;
  while (n >= 8) {
    const uint32_t lo = LoadLE32(p) ^ c;
    const uint32_t hi = LoadLE32(p + 4);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) c = (c >> 8) ^ t[0][(c ^ *p++) & 0xff];
  return ~c;
}

// ---------------------------------------------------------------------------
// GF(2)[x] mod P arithmetic in the reflected representation, for the
// constants that combine interleaved streams.

// a(x) * b(x) mod P.
[[maybe_unused]] constexpr uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if (a & m) product ^= b;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;  // b *= x
  }
  return product;
}

// x^n mod P.
[[maybe_unused]] constexpr uint32_t XPowModP(uint64_t n) {
  uint32_t result = 1u << 31;  // x^0
  uint32_t square = 1u << 30;  // x^1, then x^2, x^4, ...
  for (; n != 0; n >>= 1) {
    if (n & 1) result = MultModP(result, square);
    square = MultModP(square, square);
  }
  return result;
}

#if defined(__x86_64__)
// ---------------------------------------------------------------------------
// x86-64 SSE4.2. The crc32 instruction has a latency of 3 cycles and a
// throughput of 1 per cycle, so three independent streams keep it busy.
//
// Combining: the register after a block B of L bytes is linear,
//   reg(A|B, r) = reg(A, r) * x^(8L) ^ reg(B, 0)    (mod P).
// With clmul(a, k) read as a 64-bit reflected polynomial being a*k*x, and
// crc32_u64(0, v) = v * x^32 mod P, we get
//   crc32_u64(0, clmul(a, x^(8L-33) mod P)) = a * x^(8L) mod P.

__attribute__((target("sse4.2"))) uint32_t ExtendSse42(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  for (; n >= 8; n -= 8, p += 8) c = _mm_crc32_u64(c, LoadU64(p));
  while (n-- > 0) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}

// Bytes per stream for the long and the short three-stream blocks.
constexpr size_t kLongBlock = 8192;
constexpr size_t kShortBlock = 256;
constexpr uint64_t kLongShift1 = XPowModP(8 * kLongBlock - 33);
constexpr uint64_t kLongShift2 = XPowModP(16 * kLongBlock - 33);
constexpr uint64_t kShortShift1 = XPowModP(8 * kShortBlock - 33);
constexpr uint64_t kShortShift2 = XPowModP(16 * kShortBlock - 33);

// a * k * x as a 64-bit reflected polynomial.
__attribute__((target("sse4.2,pclmul"))) inline uint64_t ClMul(uint64_t a, uint64_t k) {
  const __m128i r = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(a)),
                                         _mm_cvtsi64_si128(static_cast<long long>(k)), 0x00);
  return static_cast<uint64_t>(_mm_cvtsi128_si64(r));
}

// Consumes as many three-stream blocks of `len` bytes per stream as fit.
// `p` must be 8-byte aligned.
template <size_t kLen, uint64_t kShift1, uint64_t kShift2>
__attribute__((target("sse4.2,pclmul"))) inline uint64_t ThreeStreams(uint64_t c, const uint8_t*& p,
                                                                      size_t& n) {
  while (n >= 3 * kLen) {
    uint64_t c0 = c, c1 = 0, c2 = 0;
    const uint8_t* end = p + kLen;
    do {
      c0 = _mm_crc32_u64(c0, LoadU64(p));
      c1 = _mm_crc32_u64(c1, LoadU64(p + kLen));
      c2 = _mm_crc32_u64(c2, LoadU64(p + 2 * kLen));
      c0 = _mm_crc32_u64(c0, LoadU64(p + 8));
      c1 = _mm_crc32_u64(c1, LoadU64(p + kLen + 8));
      c2 = _mm_crc32_u64(c2, LoadU64(p + 2 * kLen + 8));
      p += 16;
    } while (p < end);
    p += 2 * kLen;
    n -= 3 * kLen;
    c = _mm_crc32_u64(0, ClMul(c0, kShift2) ^ ClMul(c1, kShift1)) ^ c2;
  }
  return c;
}

__attribute__((target("sse4.2,pclmul"))) uint32_t ExtendSse42Clmul(uint32_t crc, const void* data,
                                                                   size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t c = static_cast<uint32_t>(~crc);
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    --n;
  }
  c = ThreeStreams<kLongBlock, kLongShift1, kLongShift2>(c, p, n);
  c = ThreeStreams<kShortBlock, kShortShift1, kShortShift2>(c, p, n);
  for (; n >= 8; n -= 8, p += 8) c = _mm_crc32_u64(c, LoadU64(p));
  while (n-- > 0) c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
  return ~static_cast<uint32_t>(c);
}
#endif  // __x86_64__

#if defined(__aarch64__) && defined(__linux__)
// ---------------------------------------------------------------------------
// ARMv8 CRC32 extension (optional in ARMv8.0, checked at run time).
#if defined(__clang__)
#define EDGEPIPE_ARM_CRC_TARGET __attribute__((target("crc")))
#else
#define EDGEPIPE_ARM_CRC_TARGET __attribute__((target("+crc")))
#endif

EDGEPIPE_ARM_CRC_TARGET uint32_t ExtendArmCrc(uint32_t crc, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (n > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = __crc32cb(c, *p++);
    --n;
  }
  for (; n >= 8; n -= 8, p += 8) c = __crc32cd(c, LoadU64(p));
  while (n-- > 0) c = __crc32cb(c, *p++);
  return ~c;
}
#endif

struct Impl {
  Crc32cExtendFn fn;
  const char* name;
};

Impl DetectHardware() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) {
    if (__builtin_cpu_supports("pclmul")) return {&ExtendSse42Clmul, "sse4.2+pclmul"};
    return {&ExtendSse42, "sse4.2"};
  }
#elif defined(__aarch64__) && defined(__linux__)
  if (getauxval(AT_HWCAP) & HWCAP_CRC32) return {&ExtendArmCrc, "armv8-crc"};
#endif
  return {nullptr, nullptr};
}

const Impl& Selected() {
  static const Impl impl = [] {
    Impl hw = DetectHardware();
    if (hw.fn != nullptr) return hw;
    return Impl{&Crc32cPortable, "portable"};
  }();
  return impl;
}

}  // namespace

uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n) {
  return ExtendPortableImpl(crc, static_cast<const uint8_t*>(data), n);
}

Crc32cExtendFn Crc32cHardware() {
  static const Crc32cExtendFn fn = DetectHardware().fn;
  return fn;
}

const char* Crc32cImplementationName() { return Selected().name; }

uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n) {
  return Selected().fn(crc, data, n);
}

}  // namespace edgepipe::data
