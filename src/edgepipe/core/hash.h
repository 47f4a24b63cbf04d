// Fast, stable, non-cryptographic 64-bit hashing.
//
// Fingerprint64 decides which split (train / eval) a record lands in, and the
// split must be reproducible forever: the algorithm below is frozen. Changing
// it would silently reshuffle every pipeline's data; add a new function
// instead.
//
// Algorithm (byte-oriented, so identical on every platform and endianness):
//   1. h = FNV-1a-64 of the bytes: h = 0xcbf29ce484222325; for each byte b:
//      h ^= b; h *= 0x100000001b3 (mod 2^64).
//   2. h ^= length of the input in bytes (mod 2^64).
//   3. The MurmurHash3 64-bit finalizer ("fmix64"):
//      h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33;
//      h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33.
// FNV-1a's low bits mix poorly; the finalizer spreads every input bit over all
// 64 output bits, so `Fingerprint64(key) % n` buckets evenly.
//
// Not for security: collisions can be constructed on purpose. Pure functions;
// thread-safe.
#ifndef EDGEPIPE_CORE_HASH_H_
#define EDGEPIPE_CORE_HASH_H_

#include <cstdint>
#include <string_view>

namespace edgepipe {

// Step 1 alone: the standard FNV-1a 64-bit hash.
uint64_t Fnv1a64(std::string_view data);

// Step 3 alone: MurmurHash3's fmix64, a bijection on 64-bit values.
uint64_t Mix64(uint64_t h);

// The frozen record fingerprint described above.
uint64_t Fingerprint64(std::string_view data);

}  // namespace edgepipe

#endif  // EDGEPIPE_CORE_HASH_H_
