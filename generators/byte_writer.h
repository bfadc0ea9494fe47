// Byte-level writing of the binary format (spec 5): LEB128 integers, fixed
// width little-endian values, names and sections. Owns: the encodings only.
// Does not own: what is written (the module encoder, generators/encode.h, and
// the text assembler, text/, decide). Contract: every LEB128 is written in
// its shortest form, so equal values always give equal bytes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace slabfuzz {

class Bytes {
 public:
  void u8(uint8_t b) { data_.push_back(b); }
  void u32(uint64_t v) {  // unsigned LEB128, any width up to 64 bits
    do {
      uint8_t b = v & 0x7F;
      v >>= 7;
      data_.push_back(v ? (b | 0x80) : b);
    } while (v);
  }
  void s64(int64_t v) {  // signed LEB128 (s32, s33, s64 alike)
    for (;;) {
      uint8_t b = v & 0x7F;
      v >>= 7;
      bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
      data_.push_back(done ? b : (b | 0x80));
      if (done) return;
    }
  }
  void fixed32(uint32_t v) {
    for (int i = 0; i < 4; ++i) data_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void fixed64(uint64_t v) {
    for (int i = 0; i < 8; ++i) data_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  void raw(std::string_view s) { data_.insert(data_.end(), s.begin(), s.end()); }
  void raw(const Bytes& b) { data_.insert(data_.end(), b.data_.begin(), b.data_.end()); }
  void raw(const std::vector<uint8_t>& b) { data_.insert(data_.end(), b.begin(), b.end()); }
  void name(std::string_view s) {
    u32(s.size());
    raw(s);
  }
  // A section: id, size, payload.
  void section(uint8_t id, const Bytes& payload) {
    u8(id);
    u32(payload.size());
    raw(payload);
  }

  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  std::vector<uint8_t>& data() { return data_; }
  const std::vector<uint8_t>& data() const { return data_; }

 private:
  std::vector<uint8_t> data_;
};

}  // namespace slabfuzz
