// LEB128 integers with the exact bounds of the binary format (spec 5.2.2).
// Owns: reading unsigned and signed LEB128 of N bits from a byte range.
// Does not own: error messages or offsets (binary_reader.h turns a status
// into an Error). Contract: an N-bit integer takes at most ceil(N/7) bytes;
// in the last byte the bits beyond N must be zero (unsigned) or copies of the
// sign bit (signed). The checks run in the same order as the reference
// interpreter, so "too large" wins over "too long" on the last byte.
#pragma once

#include <cstdint>

namespace slabfuzz::leb {

enum class Status : uint8_t {
  Ok,
  End,       // ran off the end of the readable range; p == end
  TooLong,   // more than ceil(N/7) bytes; p points just past the last allowed byte
  TooLarge,  // unused bits of the last byte are wrong; p points at that byte
};

// Unsigned LEB128 of `Bits` bits (32 or 64). Advances `p` on success.
template <int Bits>
inline Status readUnsigned(const uint8_t*& p, const uint8_t* end, uint64_t& out) {
  static_assert(Bits > 0 && Bits <= 64);
  uint64_t result = 0;
  for (int shift = 0;; shift += 7) {
    if (shift >= Bits) return Status::TooLong;
    if (p == end) return Status::End;
    const uint8_t byte = *p++;
    const int remaining = Bits - shift;
    if (remaining < 7 && ((byte & 0x7F) >> remaining) != 0) {
      --p;
      return Status::TooLarge;
    }
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      out = result;
      return Status::Ok;
    }
  }
}

// Signed LEB128 of `Bits` bits (32, 33 or 64), sign-extended to 64 bits.
template <int Bits>
inline Status readSigned(const uint8_t*& p, const uint8_t* end, int64_t& out) {
  static_assert(Bits > 0 && Bits <= 64);
  uint64_t result = 0;
  for (int shift = 0;; shift += 7) {
    if (shift >= Bits) return Status::TooLong;
    if (p == end) return Status::End;
    const uint8_t byte = *p++;
    const int remaining = Bits - shift;
    if (remaining < 7) {
      // Bits remaining-1 .. 6 hold the sign bit and its extension: all equal.
      const uint8_t mask = static_cast<uint8_t>((0x7F << (remaining - 1)) & 0x7F);
      if ((byte & mask) != 0 && (byte & mask) != mask) {
        --p;
        return Status::TooLarge;
      }
    }
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      const int width = shift + 7;
      if (width < 64 && (byte & 0x40) != 0) result |= ~uint64_t{0} << width;
      out = static_cast<int64_t>(result);
      return Status::Ok;
    }
  }
}

}  // namespace slabfuzz::leb
