// Field and element storage shared by the heaps: a value is kept
// little-endian at its storage size, the low bytes of its operand-stack
// bits, which for i8/i16 is exactly the spec's packing (spec 4.4.x
// "struct.new": pack the value to the field's storage type).
// Owns: the byte copies only. Does not own: layouts (each heap's own).
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace slabfuzz::storage {

static_assert(std::endian::native == std::endian::little,
              "storeBits/loadBits copy the low bytes of a little-endian word");

// One case per storage size, so that each copy is a single fixed-size move.
inline void storeBits(uint8_t* at, uint32_t size, uint64_t bits) {
  switch (size) {
    case 1: std::memcpy(at, &bits, 1); return;
    case 2: std::memcpy(at, &bits, 2); return;
    case 4: std::memcpy(at, &bits, 4); return;
    default: std::memcpy(at, &bits, 8); return;
  }
}
inline uint64_t loadBits(const uint8_t* at, uint32_t size) {
  uint64_t bits = 0;
  switch (size) {
    case 1: std::memcpy(&bits, at, 1); break;
    case 2: std::memcpy(&bits, at, 2); break;
    case 4: std::memcpy(&bits, at, 4); break;
    default: std::memcpy(&bits, at, 8); break;
  }
  return bits;
}

}  // namespace slabfuzz::storage
