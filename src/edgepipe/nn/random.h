// Rng: a small, fast, seeded random generator (xoshiro128+ seeded through
// splitmix64), identical on every platform, so seeded runs are reproducible.
// Not thread-safe: one Rng per thread / per owner.
#ifndef EDGEPIPE_NN_RANDOM_H_
#define EDGEPIPE_NN_RANDOM_H_

#include <cstdint>

namespace edgepipe::nn {

class Rng {
 public:
  explicit Rng(uint64_t seed = 0) { Seed(seed); }
  void Seed(uint64_t seed) {
    for (uint32_t& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = static_cast<uint32_t>(z ^ (z >> 31));
    }
    if ((s_[0] | s_[1] | s_[2] | s_[3]) == 0) s_[0] = 1;
  }
  uint32_t Next() {
    const uint32_t result = s_[0] + s_[3];
    const uint32_t t = s_[1] << 9;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = (s_[3] << 11) | (s_[3] >> 21);
    return result;
  }
  // Uniform in [0, 1).
  float Uniform() { return static_cast<float>(Next() >> 8) * (1.0f / 16777216.0f); }
  // Uniform in [lo, hi).
  float Uniform(float lo, float hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n); n > 0.
  uint64_t Below(uint64_t n) {
    uint64_t x = (static_cast<uint64_t>(Next()) << 32) | Next();
    return x % n;
  }

 private:
  uint32_t s_[4];
};

}  // namespace edgepipe::nn

#endif  // EDGEPIPE_NN_RANDOM_H_
