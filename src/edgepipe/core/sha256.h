// SHA-256 (FIPS 180-4): incremental hasher, hex helper and a streaming file
// digest through Env.
//
// Used for content addresses (cache keys, artifact fingerprints), so the
// output is the standard digest, bit for bit.
#ifndef EDGEPIPE_CORE_SHA256_H_
#define EDGEPIPE_CORE_SHA256_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edgepipe/core/file.h"
#include "edgepipe/core/status.h"

namespace edgepipe {

using Sha256Digest = std::array<uint8_t, 32>;

// Incremental SHA-256. Feed bytes with Update() in any split; Finish() returns
// the digest of everything fed and resets the hasher to the empty state, so
// one object can hash several messages in turn.
//
// Not thread-safe: one object per thread. Copyable (copying forks the state,
// e.g. to digest a common prefix once).
class Sha256 {
 public:
  Sha256() { Reset(); }

  // Returns to the state of a fresh hasher.
  void Reset();
  void Update(std::string_view data);
  // The 32-byte digest of all bytes since construction or the last Reset().
  Sha256Digest Finish();

 private:
  void Compress(const uint8_t* block);

  uint32_t state_[8];
  uint64_t total_bytes_;  // bytes fed so far
  uint8_t buffer_[64];    // partial block
  size_t buffer_len_;     // bytes used in buffer_
};

// Lower-case hex of `bytes`: "ba7816bf...".
std::string ToHex(std::string_view bytes);
std::string ToHex(const Sha256Digest& digest);

// Lower-case hex SHA-256 of `data` (64 characters).
std::string Sha256Hex(std::string_view data);

// SHA-256 of a whole file read through `env`, streamed in fixed-size chunks
// (memory use does not grow with the file). Errors name the path.
Result<Sha256Digest> Sha256File(const std::string& path, Env* env = Env::Default());

namespace internal {
// Whether blocks are compressed with the x86 SHA extensions (SHA-NI); on by
// default when the CPU has them, else the portable code. The digest is the
// same either way. SetSha256Accelerated(true) returns false (and changes
// nothing) on a CPU without them. For tests and benchmarks; thread-safe, but
// switching while other threads hash is pointless.
bool Sha256Accelerated();
bool SetSha256Accelerated(bool on);
}  // namespace internal

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_SHA256_H_
