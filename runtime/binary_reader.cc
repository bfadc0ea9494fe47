#include "runtime/binary_reader.h"

#include <fmt/format.h>

namespace slabfuzz {

bool isValidUtf8(const uint8_t* data, size_t size) {
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  auto cont = [&](const uint8_t* q, uint8_t lo = 0x80, uint8_t hi = 0xBF) {
    return q < end && *q >= lo && *q <= hi;
  };
  while (p < end) {
    const uint8_t b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    // Unicode 15, table 3-7: the well-formed byte sequences. The ranges on
    // the second byte exclude overlong forms (E0, F0), surrogates (ED) and
    // code points above U+10FFFF (F4).
    if (b >= 0xC2 && b <= 0xDF) {
      if (!cont(p + 1)) return false;
      p += 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      const uint8_t lo = b == 0xE0 ? 0xA0 : 0x80;
      const uint8_t hi = b == 0xED ? 0x9F : 0xBF;
      if (!cont(p + 1, lo, hi) || !cont(p + 2)) return false;
      p += 3;
    } else if (b >= 0xF0 && b <= 0xF4) {
      const uint8_t lo = b == 0xF0 ? 0x90 : 0x80;
      const uint8_t hi = b == 0xF4 ? 0x8F : 0xBF;
      if (!cont(p + 1, lo, hi) || !cont(p + 2) || !cont(p + 3)) return false;
      p += 4;
    } else {
      return false;  // a stray continuation byte, C0/C1, or F5..FF
    }
  }
  return true;
}

std::string BinaryReader::remainingText() const {
  return fmt::format("{} byte{} left", remaining(), remaining() == 1 ? "" : "s");
}

bool BinaryReader::fail(ErrorCode code, uint32_t offset, std::string message) {
  if (!failed_) {
    failed_ = true;
    error_ = makeError(code, offset, std::move(message));
  }
  return false;
}

bool BinaryReader::unsupported(uint32_t offset, std::string_view feature) {
  return fail(ErrorCode::UnsupportedFeature, offset,
              fmt::format("unsupported feature: {}", feature));
}

bool BinaryReader::lebError(leb::Status status, const uint8_t* start) {
  switch (status) {
    case leb::Status::Ok: return true;
    case leb::Status::End: return unexpectedEnd();
    case leb::Status::TooLong:
      return fail(ErrorCode::IntegerTooLong, offset(), "integer representation too long");
    case leb::Status::TooLarge:
      return fail(ErrorCode::IntegerTooLarge, offset(), "integer too large");
  }
  return fail(ErrorCode::IntegerTooLarge, offsetOf(start), "integer too large");
}

bool BinaryReader::readBytes(uint32_t size, const uint8_t*& start) {
  if (size > remaining()) {
    return fail(ErrorCode::UnexpectedEnd, offset(),
                fmt::format("length out of bounds: {} bytes declared, {}", size, remainingText()));
  }
  start = pos_;
  pos_ += size;
  return true;
}

bool BinaryReader::readName(std::string& out) {
  uint32_t size;
  const uint8_t* start;
  if (!readU32(size) || !readBytes(size, start)) return false;
  if (!isValidUtf8(start, size)) {
    return fail(ErrorCode::MalformedUtf8, offsetOf(start), "malformed UTF-8 encoding");
  }
  out.assign(reinterpret_cast<const char*>(start), size);
  return true;
}

bool BinaryReader::readCount(uint32_t& out, uint32_t limit, std::string_view what) {
  const uint32_t at = offset();
  if (!readU32(out)) return false;
  if (out > remaining()) {
    return fail(
        ErrorCode::UnexpectedEnd, at,
        fmt::format("length out of bounds: {} {} declared, {}", out, what, remainingText()));
  }
  if (out > limit) {
    return fail(ErrorCode::TooMany, at,
                fmt::format("too many {}: {} (limit {})", what, out, limit));
  }
  return true;
}

// heaptype ::= absheaptype | s33 (>= 0)   (spec 5.3.4)
bool BinaryReader::readHeapType(HeapType& out) {
  uint8_t first;
  if (!peekU8(first)) return unexpectedEnd();
  return readHeapTypeAfterPeek(first, out);
}

bool BinaryReader::readHeapTypeAfterPeek(uint8_t first, HeapType& out) {
  const uint32_t at = offset();
  if (isInScopeAbstract(first)) {
    ++pos_;
    out = HeapType::abstract(static_cast<HeapType::Abstract>(first));
    return true;
  }
  if (isExceptionAbstract(first)) return unsupported(at, feature::kExceptions);
  if (first == kCodeShared) return unsupported(at, feature::kSharedEverything);
  int64_t index;
  if (!readS33(index)) return false;
  if (index < 0)
    return fail(ErrorCode::MalformedType, at, fmt::format("malformed heap type 0x{:02x}", first));
  // HeapType holds indices below kMaxTypes only; a larger index cannot name
  // a type of any module we accept, so it is the validator's "unknown type",
  // reported here because it cannot be represented.
  if (index >= kMaxTypes) {
    return fail(ErrorCode::UnknownIndex, at, fmt::format("unknown type {}", index));
  }
  out = HeapType::index(static_cast<uint32_t>(index));
  return true;
}

// reftype ::= 0x64 ht | 0x63 ht | absheaptype   (spec 5.3.5)
bool BinaryReader::readRefType(ValType& out) {
  const uint32_t at = offset();
  uint8_t b;
  if (!readU8(b)) return false;
  HeapType ht;
  if (b == kCodeRef || b == kCodeRefNull) {
    if (!readHeapType(ht)) return false;
    out = ValType::ref(ht, b == kCodeRefNull);
    return true;
  }
  if (isInScopeAbstract(b)) {
    out = ValType::ref(HeapType::abstract(static_cast<HeapType::Abstract>(b)), true);
    return true;
  }
  if (isExceptionAbstract(b)) return unsupported(at, feature::kExceptions);
  if (b == kCodeShared) return unsupported(at, feature::kSharedEverything);
  return fail(ErrorCode::MalformedType, at, fmt::format("malformed reference type 0x{:02x}", b));
}

// valtype ::= numtype | vectype | reftype   (spec 5.3.6)
bool BinaryReader::readValType(ValType& out) {
  uint8_t b;
  if (!peekU8(b)) return unexpectedEnd();
  switch (b) {
    case kCodeI32: out = ValType::i32(); break;
    case kCodeI64: out = ValType::i64(); break;
    case kCodeF32: out = ValType::f32(); break;
    case kCodeF64: out = ValType::f64(); break;
    case kCodeV128: return unsupported(offset(), feature::kSimd);
    default:
      if (b == kCodeRef || b == kCodeRefNull || isInScopeAbstract(b) || isExceptionAbstract(b) ||
          b == kCodeShared) {
        return readRefType(out);
      }
      return fail(ErrorCode::MalformedType, offset(),
                  fmt::format("malformed value type 0x{:02x}", b));
  }
  ++pos_;
  return true;
}

// storagetype ::= valtype | 0x78 (i8) | 0x77 (i16)   (spec 5.3.8)
bool BinaryReader::readStorageType(ValType& out) {
  uint8_t b;
  if (!peekU8(b)) return unexpectedEnd();
  if (b == kCodeI8 || b == kCodeI16) {
    ++pos_;
    out = b == kCodeI8 ? ValType::i8() : ValType::i16();
    return true;
  }
  return readValType(out);
}

}  // namespace slabfuzz
