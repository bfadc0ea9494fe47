// Value, heap and storage types as small comparable values.
// Owns: the encoding of `HeapType` and `ValType` in 32 bits, their binary
// codes, and printing. Does not own: subtyping or canonical type identity
// (runtime/types.h), which need a module's type section.
// Contract: a concrete heap type names a module-relative type index
// (< kMaxTypes); equality here is syntactic, not structural.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace slabfuzz {

// Implementation limits shared by decoder and validator (the JS API limits,
// which V8 also enforces). Exceeding one is malformed or invalid, never a crash.
inline constexpr uint32_t kMaxTypes = 1000000;
inline constexpr uint32_t kMaxFunctions = 1000000;
inline constexpr uint32_t kMaxImports = 100000;
inline constexpr uint32_t kMaxExports = 100000;
inline constexpr uint32_t kMaxGlobals = 1000000;
inline constexpr uint32_t kMaxTables = 100000;
inline constexpr uint32_t kMaxSegments = 100000;
inline constexpr uint32_t kMaxLocals = 50000;
inline constexpr uint32_t kMaxFunctionSize = 7654321;
inline constexpr uint32_t kMaxParams = 1000;
inline constexpr uint32_t kMaxResults = 1000;
inline constexpr uint32_t kMaxStructFields = 10000;
inline constexpr uint32_t kMaxBrTableTargets = 65520;
inline constexpr uint32_t kMaxSubtypingDepth = 63;
inline constexpr uint32_t kMaxArrayNewFixed = 10000;
inline constexpr uint64_t kMaxMemoryPages = 65536;        // 4 GiB of 64 KiB pages
inline constexpr uint64_t kMaxTableSize = 10000000;

// A heap type: either an abstract one (its binary code) or a type index.
class HeapType {
 public:
  // Binary codes of the abstract heap types (spec 5.3.4).
  enum Abstract : uint8_t {
    NoExn = 0x74,  // exceptions: out of scope, decoded only to be rejected
    NoFunc = 0x73,
    NoExtern = 0x72,
    None = 0x71,
    Func = 0x70,
    Extern = 0x6F,
    Any = 0x6E,
    Eq = 0x6D,
    I31 = 0x6C,
    Struct = 0x6B,
    Array = 0x6A,
    Exn = 0x69,
  };
  static constexpr uint32_t kAbstractFlag = 0x800000;

  constexpr HeapType() : bits_(kAbstractFlag | Any) {}
  static constexpr HeapType index(uint32_t i) { return HeapType(i); }
  static constexpr HeapType abstract(Abstract a) { return HeapType(kAbstractFlag | a); }
  static constexpr HeapType fromBits(uint32_t bits) { return HeapType(bits); }
  static bool isAbstractCode(uint8_t byte);

  constexpr bool isIndex() const { return (bits_ & kAbstractFlag) == 0; }
  constexpr bool isAbstract() const { return !isIndex(); }
  constexpr uint32_t index() const { return bits_; }
  constexpr Abstract abstractKind() const { return static_cast<Abstract>(bits_ & 0xFF); }
  constexpr uint32_t bits() const { return bits_; }
  constexpr bool operator==(HeapType o) const { return bits_ == o.bits_; }
  constexpr bool operator!=(HeapType o) const { return bits_ != o.bits_; }

  // "func", "none", "$3" (or "$name" when a namer is given by the caller).
  std::string toString() const;

 private:
  explicit constexpr HeapType(uint32_t bits) : bits_(bits) {}
  uint32_t bits_;
};

// I8/I16 are storage types: legal only as struct/array field types.
enum class ValKind : uint8_t { I32, I64, F32, F64, V128, Ref, I8, I16 };

// A value (or storage) type packed into 32 bits:
//   bits 0-3 kind, bit 4 nullable (refs only), bits 8-31 heap type (refs only).
class ValType {
 public:
  constexpr ValType() : bits_(0) {}  // i32
  static constexpr ValType i32() { return ValType(ValKind::I32); }
  static constexpr ValType i64() { return ValType(ValKind::I64); }
  static constexpr ValType f32() { return ValType(ValKind::F32); }
  static constexpr ValType f64() { return ValType(ValKind::F64); }
  static constexpr ValType i8() { return ValType(ValKind::I8); }
  static constexpr ValType i16() { return ValType(ValKind::I16); }
  static constexpr ValType ref(HeapType ht, bool nullable) {
    return ValType(static_cast<uint32_t>(ValKind::Ref) | (nullable ? 0x10u : 0u) |
                   (ht.bits() << 8));
  }
  static constexpr ValType fromBits(uint32_t bits) { return ValType(bits); }

  constexpr ValKind kind() const { return static_cast<ValKind>(bits_ & 0xF); }
  constexpr bool isRef() const { return kind() == ValKind::Ref; }
  constexpr bool isNum() const { return kind() <= ValKind::F64; }
  constexpr bool isPacked() const { return kind() == ValKind::I8 || kind() == ValKind::I16; }
  constexpr bool nullable() const { return (bits_ & 0x10) != 0; }
  constexpr HeapType heapType() const { return HeapType::fromBits(bits_ >> 8); }
  constexpr ValType asNullable(bool n) const { return ref(heapType(), n); }
  // Packed storage types read as i32 on the operand stack.
  constexpr ValType unpacked() const { return isPacked() ? i32() : *this; }
  constexpr uint32_t bits() const { return bits_; }
  constexpr bool operator==(ValType o) const { return bits_ == o.bits_; }
  constexpr bool operator!=(ValType o) const { return bits_ != o.bits_; }

  // Text-format spelling: "i32", "funcref", "(ref null $3)", "(ref any)".
  std::string toString() const;

 private:
  explicit constexpr ValType(ValKind k) : bits_(static_cast<uint32_t>(k)) {}
  explicit constexpr ValType(uint32_t bits) : bits_(bits) {}
  uint32_t bits_;
};

// Binary codes of value and storage types (spec 5.3).
inline constexpr uint8_t kCodeI32 = 0x7F, kCodeI64 = 0x7E, kCodeF32 = 0x7D, kCodeF64 = 0x7C,
                         kCodeV128 = 0x7B, kCodeI8 = 0x78, kCodeI16 = 0x77,
                         kCodeRef = 0x64, kCodeRefNull = 0x63;
// Composite and recursive type forms.
inline constexpr uint8_t kCodeFunc = 0x60, kCodeStruct = 0x5F, kCodeArray = 0x5E,
                         kCodeCont = 0x5D, kCodeSub = 0x50, kCodeSubFinal = 0x4F,
                         kCodeRec = 0x4E, kCodeShared = 0x65, kCodeEmptyBlock = 0x40;

}  // namespace slabfuzz

template <>
struct std::hash<slabfuzz::ValType> {
  size_t operator()(slabfuzz::ValType t) const noexcept { return std::hash<uint32_t>()(t.bits()); }
};
