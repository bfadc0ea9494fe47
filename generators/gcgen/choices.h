// The one source of randomness for gcgen: every choice the generator makes
// comes from the input bytes through this facade (CONVENTIONS.md rule 12).
// Owns: turning bytes into bounded integers, coin flips, picks and weighted
// picks. Does not own: what the choices mean (the generator does).
// Contract: deterministic in the bytes alone (no clocks, no global state, no
// std::random); once the bytes run out every choice is the simplest one
// (0, the first element, false), so any input, even an empty one, works.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace slabfuzz::gcgen {

class Choices {
 public:
  explicit Choices(std::span<const uint8_t> input) : fdp_(input.data(), input.size()) {}
  Choices(const Choices&) = delete;
  Choices& operator=(const Choices&) = delete;

  // A number in [0, n]; 0 when the bytes are gone.
  uint32_t upTo(uint32_t n) {
    if (n == 0 || fdp_.remaining_bytes() == 0) return 0;
    return fdp_.ConsumeIntegralInRange<uint32_t>(0, n);
  }
  // A number in [lo, hi] (lo when the bytes are gone).
  uint32_t inRange(uint32_t lo, uint32_t hi) { return hi <= lo ? lo : lo + upTo(hi - lo); }
  // True with probability 1/n; false when the bytes are gone (the simplest
  // module takes no optional branch).
  bool oneIn(uint32_t n) { return fdp_.remaining_bytes() != 0 && (n <= 1 || upTo(n - 1) == 0); }
  bool flip() { return fdp_.remaining_bytes() != 0 && fdp_.ConsumeBool(); }

  // An element of a non-empty span: the first one when the bytes are gone.
  template <typename T>
  const T& pick(std::span<const T> items) {
    return items[upTo(static_cast<uint32_t>(items.size() - 1))];
  }
  template <typename T>
  T& pick(std::span<T> items) {
    return items[upTo(static_cast<uint32_t>(items.size() - 1))];
  }
  // An index drawn with the given weights; the first index with a nonzero
  // weight when the bytes are gone. Returns weights.size() when every
  // weight is zero.
  size_t weighted(std::span<const uint32_t> weights) {
    uint64_t total = 0;
    for (uint32_t w : weights) total += w;
    if (total == 0) return weights.size();
    uint64_t r =
        total > UINT32_MAX ? upTo(UINT32_MAX) % total : upTo(static_cast<uint32_t>(total - 1));
    for (size_t i = 0; i < weights.size(); ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return weights.size() - 1;  // unreachable: r < total
  }
  size_t bytesLeft() const { return const_cast<FuzzedDataProvider&>(fdp_).remaining_bytes(); }

 private:
  FuzzedDataProvider fdp_;
};

}  // namespace slabfuzz::gcgen
