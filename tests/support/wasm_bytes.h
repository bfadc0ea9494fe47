// Test-only helper for writing module bytes by hand: LEB128, names, sections.
// Owns nothing the product uses; the real encoder lives in generators/.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>
#include <vector>

namespace slabfuzz::test {

class Bytes {
 public:
  Bytes() = default;
  Bytes(std::initializer_list<uint8_t> init) : data_(init) {}

  Bytes& u8(uint8_t b) { data_.push_back(b); return *this; }
  Bytes& raw(std::initializer_list<uint8_t> bs) { data_.insert(data_.end(), bs); return *this; }
  Bytes& raw(const Bytes& bs) { data_.insert(data_.end(), bs.data_.begin(), bs.data_.end()); return *this; }
  Bytes& u32(uint64_t v) {  // unsigned LEB128
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      data_.push_back(v ? (b | 0x80) : b);
    } while (v);
    return *this;
  }
  Bytes& s64(int64_t v) {  // signed LEB128
    bool more = true;
    while (more) {
      uint8_t b = v & 0x7F;
      v >>= 7;
      more = !((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40)));
      data_.push_back(more ? (b | 0x80) : b);
    }
    return *this;
  }
  Bytes& name(std::string_view s) {
    u32(s.size());
    data_.insert(data_.end(), s.begin(), s.end());
    return *this;
  }
  // A section: id, size, payload.
  Bytes& section(uint8_t id, const Bytes& payload) {
    u8(id);
    u32(payload.size());
    return raw(payload);
  }
  // "\0asm" and version 1.
  static Bytes header() { return Bytes{0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00}; }

  const std::vector<uint8_t>& data() const { return data_; }
  size_t size() const { return data_.size(); }

 private:
  std::vector<uint8_t> data_;
};

// A vector: the item count, then the items (spec 5.1.3).
inline Bytes vec(std::initializer_list<Bytes> items) {
  Bytes b;
  b.u32(items.size());
  for (const Bytes& i : items) b.raw(i);
  return b;
}

// A function type: 0x60, the parameter vector, the result vector.
inline Bytes funcT(std::initializer_list<Bytes> params, std::initializer_list<Bytes> results) {
  Bytes b{0x60};
  b.raw(vec(params)).raw(vec(results));
  return b;
}

}  // namespace slabfuzz::test
