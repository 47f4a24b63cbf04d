// CRC-32C (Castagnoli; reflected polynomial 0x82F63B78), the checksum of
// TFRecord, iSCSI (RFC 3720) and ext4.
//
// Crc32c() picks at first use the fastest implementation the CPU supports:
// SSE4.2 `crc32` with three interleaved streams combined by carry-less
// multiplication (x86-64), the ARMv8 CRC32 extension (aarch64), or a portable
// slicing-by-8 table. All give identical results.
//
// Thread safety: all functions are pure and may be called concurrently.
#ifndef EDGEPIPE_DATA_CRC32C_H_
#define EDGEPIPE_DATA_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace edgepipe::data {

// Returns the crc32c of data[0, n) extended from `crc`, the crc32c of the
// bytes before: Crc32cExtend(Crc32c(a), b) == Crc32c(a + b); Crc32c of no
// bytes is 0. `data` may be null when n == 0.
uint32_t Crc32cExtend(uint32_t crc, const void* data, size_t n);

// The crc32c of data[0, n).
inline uint32_t Crc32c(const void* data, size_t n) { return Crc32cExtend(0, data, n); }

// The masked form TFRecord stores, so that a crc of data containing crcs
// stays well distributed: rotate right by 15, add 0xa282ead8 (mod 2^32).
inline uint32_t Crc32cMask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

// Inverse of Crc32cMask.
inline uint32_t Crc32cUnmask(uint32_t masked) {
  const uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

// The portable slicing-by-8 implementation (same contract as Crc32cExtend).
// Exposed so tests and benchmarks can compare it with the hardware path.
uint32_t Crc32cPortable(uint32_t crc, const void* data, size_t n);

// Signature of an implementation of Crc32cExtend.
using Crc32cExtendFn = uint32_t (*)(uint32_t crc, const void* data, size_t n);

// The hardware implementation (same contract as Crc32cExtend), or nullptr
// when this CPU or build has none.
Crc32cExtendFn Crc32cHardware();

// Name of the implementation Crc32cExtend uses: "sse4.2+pclmul", "sse4.2",
// "armv8-crc" or "portable". For logs and benchmark labels.
const char* Crc32cImplementationName();

}  // namespace edgepipe::data

#endif  // EDGEPIPE_DATA_CRC32C_H_
