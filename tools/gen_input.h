// The input bytes for a generator seed: one derivation shared by
// `slabfuzz gen --seed`, its tests and the benchmarks, so a seed names the
// same module everywhere. Owns only that derivation; does not own what the
// generator does with the bytes (generators/gcgen/gcgen.h).
// Contract: seedInput(n, size) is `size` bytes, the little-endian bytes of
// successive splitmix64 outputs from state n (the last output truncated), the
// same on every machine and build.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace slabfuzz {

// splitmix64 (Steele, Lea, Flood 2014): a cheap, well-mixed stream whose
// state is just the seed, so consecutive seeds give unrelated bytes.
inline uint64_t splitmix64Next(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline std::vector<uint8_t> seedInput(uint64_t seed, size_t size) {
  std::vector<uint8_t> out(size);
  uint64_t state = seed;
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = splitmix64Next(state);
    for (size_t k = 0; k < 8 && i + k < size; ++k) out[i + k] = static_cast<uint8_t>(v >> (8 * k));
  }
  return out;
}

}  // namespace slabfuzz
