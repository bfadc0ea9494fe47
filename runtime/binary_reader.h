// A cursor over module bytes for the decoder: the values of spec 5.2 (bytes,
// LEB128 integers, floats, names, vector lengths) and the single-value types
// of spec 5.3 (value, heap, reference and storage types).
// Owns: bounds, exact LEB128 limits, UTF-8 checking, and the first Error.
// Does not own: sections, instructions or module structure (decode.cc,
// decode_expr.cc). Contract: no read goes past the current window; a failed
// read returns false and records an Error at the offending byte (the first
// error recorded wins); callers stop at the first false.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "runtime/error.h"
#include "runtime/leb128.h"
#include "runtime/valtype.h"

namespace slabfuzz {

// Feature names used in "unsupported feature: ..." messages (DESIGN.md "Scope").
namespace feature {
inline constexpr std::string_view kSimd = "SIMD (v128)";
inline constexpr std::string_view kThreads = "threads";
inline constexpr std::string_view kExceptions = "exceptions";
inline constexpr std::string_view kStackSwitching = "stack switching";
inline constexpr std::string_view kSharedEverything = "shared-everything threads";
inline constexpr std::string_view kMemory64 = "memory64";
inline constexpr std::string_view kMultiMemory = "multi-memory";
}  // namespace feature

// True when [data, data+size) is well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF): spec 5.2.4.
bool isValidUtf8(const uint8_t* data, size_t size);

class BinaryReader {
 public:
  explicit BinaryReader(std::span<const uint8_t> bytes)
      : base_(bytes.data()), pos_(bytes.data()), end_(bytes.data() + bytes.size()) {}

  // --- Position and window -------------------------------------------------
  uint32_t offset() const { return offsetOf(pos_); }
  uint32_t offsetOf(const uint8_t* p) const { return static_cast<uint32_t>(p - base_); }
  const uint8_t* pos() const { return pos_; }
  const uint8_t* end() const { return end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - pos_); }
  bool atEnd() const { return pos_ == end_; }
  // "1 byte left", "7 bytes left": for messages.
  std::string remainingText() const;
  // Narrows the window to the next `size` bytes (a section or a function
  // body; the caller has checked size <= remaining()) and returns the old
  // end for `restore`.
  const uint8_t* narrow(size_t size) {
    const uint8_t* old = end_;
    end_ = pos_ + size;
    return old;
  }
  void restore(const uint8_t* old_end) { end_ = old_end; }
  void skipTo(const uint8_t* p) { pos_ = p; }

  // --- Errors -----------------------------------------------------------------
  bool failed() const { return failed_; }
  const Error& error() const { return error_; }
  Error& mutableError() { return error_; }
  // Records the error (unless one is already recorded) and returns false.
  bool fail(ErrorCode code, uint32_t offset, std::string message);
  bool unsupported(uint32_t offset, std::string_view feature);
  bool unexpectedEnd() { return fail(ErrorCode::UnexpectedEnd, offset(), "unexpected end"); }

  // --- Spec 5.2: values ----------------------------------------------------
  bool readU8(uint8_t& out) {
    if (pos_ == end_) return unexpectedEnd();
    out = *pos_++;
    return true;
  }
  // The next byte without consuming it; false (and no error) at the end.
  bool peekU8(uint8_t& out) const {
    if (pos_ == end_) return false;
    out = *pos_;
    return true;
  }
  bool readU32(uint32_t& out) {
    if (pos_ != end_ && *pos_ < 0x80) {  // one-byte fast path
      out = *pos_++;
      return true;
    }
    uint64_t v;
    if (!readLeb<32>(v)) return false;
    out = static_cast<uint32_t>(v);
    return true;
  }
  bool readU64(uint64_t& out) { return readLeb<64>(out); }
  bool readS32(int32_t& out) {
    int64_t v;
    if (!readSleb<32>(v)) return false;
    out = static_cast<int32_t>(v);
    return true;
  }
  bool readS33(int64_t& out) { return readSleb<33>(out); }
  bool readS64(int64_t& out) { return readSleb<64>(out); }
  bool readFixed32(uint32_t& out) { return readFixed(&out, 4); }
  bool readFixed64(uint64_t& out) { return readFixed(&out, 8); }
  // `size` raw bytes; "length out of bounds" when fewer remain.
  bool readBytes(uint32_t size, const uint8_t*& start);
  // A name: length-prefixed UTF-8 (spec 5.2.4).
  bool readName(std::string& out);
  // A vector length (spec 5.1.3). Every element takes at least one byte, so
  // a length above remaining() is out of bounds however the elements look:
  // checking it here keeps a lying count from reserving anything. Then the
  // implementation limit: above `limit` is "too many <what>".
  bool readCount(uint32_t& out, uint32_t limit, std::string_view what);

  // --- Spec 5.3: types that are a single value -----------------------------
  bool readHeapType(HeapType& out);
  bool readValType(ValType& out);
  bool readRefType(ValType& out);
  bool readStorageType(ValType& out);  // a value type or i8/i16

 private:
  template <int Bits>
  bool readLeb(uint64_t& out) {
    const uint8_t* start = pos_;
    leb::Status s = leb::readUnsigned<Bits>(pos_, end_, out);
    return s == leb::Status::Ok || lebError(s, start);
  }
  template <int Bits>
  bool readSleb(int64_t& out) {
    const uint8_t* start = pos_;
    leb::Status s = leb::readSigned<Bits>(pos_, end_, out);
    return s == leb::Status::Ok || lebError(s, start);
  }
  bool readFixed(void* out, size_t n) {
    if (remaining() < n) return unexpectedEnd();
    std::memcpy(out, pos_, n);  // the format is little-endian, as are our hosts
    pos_ += n;
    return true;
  }
  bool lebError(leb::Status status, const uint8_t* start);
  // A heap type whose first byte has been peeked as `first`.
  bool readHeapTypeAfterPeek(uint8_t first, HeapType& out);
  // Abstract heap type codes that are in scope: nofunc .. array.
  static bool isInScopeAbstract(uint8_t b) { return b >= HeapType::Array && b <= HeapType::NoFunc; }
  static bool isExceptionAbstract(uint8_t b) { return b == HeapType::Exn || b == HeapType::NoExn; }

  const uint8_t* base_;
  const uint8_t* pos_;
  const uint8_t* end_;
  bool failed_ = false;
  Error error_;
};

}  // namespace slabfuzz
