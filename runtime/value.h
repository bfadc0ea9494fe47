// Runtime values: numbers and references as 64-bit words.
// Owns: the encoding of `Ref` (a reference is an id, never a pointer; DESIGN.md
// "Heap") and of `Value`. Does not own: what a heap id names (heap/heap.h) or
// what a function address names (runtime/store.h).
// Contract: Value is trivially copyable and 8 bytes; all bit reinterpretation
// goes through std::bit_cast (no unions, no UB). NaN payloads are preserved.
#pragma once

#include <bit>
#include <cstdint>

namespace slabfuzz {

// A reference, tagged in its low three bits:
//   0                  null (of any hierarchy)
//   xx1                i31: the 31-bit value in bits 1..31
//   010                function reference: FuncAddr in bits 3..63
//   100                host reference (an externref made by the host, e.g. the
//                      spec suite's `ref.extern N`): payload in bits 3..63
//   000 (non-zero)     heap object: HeapId in bits 3..63; the Heap decides
//                      what an id means (the slab heap packs slab, slot and
//                      generation into it; the reference heap counts up)
// extern.convert_any / any.convert_extern do not change the bits.
class Ref {
 public:
  constexpr Ref() : bits_(0) {}
  static constexpr Ref null() { return Ref(0); }
  static constexpr Ref i31(uint32_t value) { return Ref((uint64_t{value & 0x7FFFFFFFu} << 1) | 1); }
  static constexpr Ref func(uint32_t addr) { return Ref((uint64_t{addr} << 3) | 2); }
  static constexpr Ref host(uint64_t payload) { return Ref((payload << 3) | 4); }
  static constexpr Ref object(uint64_t heap_id) { return Ref(heap_id << 3); }
  static constexpr Ref fromBits(uint64_t bits) { return Ref(bits); }

  constexpr bool isNull() const { return bits_ == 0; }
  constexpr bool isI31() const { return (bits_ & 1) != 0; }
  constexpr bool isFunc() const { return (bits_ & 7) == 2; }
  constexpr bool isHost() const { return (bits_ & 7) == 4; }
  constexpr bool isObject() const { return bits_ != 0 && (bits_ & 7) == 0; }

  constexpr int32_t i31Signed() const { return static_cast<int32_t>(static_cast<uint32_t>(bits_)) >> 1; }
  constexpr uint32_t i31Unsigned() const { return static_cast<uint32_t>(bits_ >> 1) & 0x7FFFFFFFu; }
  constexpr uint32_t funcAddr() const { return static_cast<uint32_t>(bits_ >> 3); }
  constexpr uint64_t hostPayload() const { return bits_ >> 3; }
  constexpr uint64_t heapId() const { return bits_ >> 3; }
  constexpr uint64_t bits() const { return bits_; }
  constexpr bool operator==(Ref o) const { return bits_ == o.bits_; }
  constexpr bool operator!=(Ref o) const { return bits_ != o.bits_; }

 private:
  explicit constexpr Ref(uint64_t bits) : bits_(bits) {}
  uint64_t bits_;
};

// One operand, local, global or field value. Which member is meant comes from
// the static type, as in the spec; an i32 is stored zero-extended.
class Value {
 public:
  constexpr Value() : bits_(0) {}
  static constexpr Value i32(int32_t v) { return Value(static_cast<uint32_t>(v)); }
  static constexpr Value i64(int64_t v) { return Value(static_cast<uint64_t>(v)); }
  static constexpr Value f32(float v) { return Value(std::bit_cast<uint32_t>(v)); }
  static constexpr Value f64(double v) { return Value(std::bit_cast<uint64_t>(v)); }
  static constexpr Value f32Bits(uint32_t bits) { return Value(bits); }
  static constexpr Value f64Bits(uint64_t bits) { return Value(bits); }
  static constexpr Value ref(Ref r) { return Value(r.bits()); }
  static constexpr Value fromBits(uint64_t bits) { return Value(bits); }

  constexpr int32_t i32() const { return static_cast<int32_t>(static_cast<uint32_t>(bits_)); }
  constexpr uint32_t u32() const { return static_cast<uint32_t>(bits_); }
  constexpr int64_t i64() const { return static_cast<int64_t>(bits_); }
  constexpr uint64_t u64() const { return bits_; }
  constexpr float f32() const { return std::bit_cast<float>(static_cast<uint32_t>(bits_)); }
  constexpr double f64() const { return std::bit_cast<double>(bits_); }
  constexpr uint32_t f32Bits() const { return static_cast<uint32_t>(bits_); }
  constexpr uint64_t f64Bits() const { return bits_; }
  constexpr Ref ref() const { return Ref::fromBits(bits_); }
  constexpr uint64_t bits() const { return bits_; }
  constexpr bool operator==(Value o) const { return bits_ == o.bits_; }

 private:
  explicit constexpr Value(uint64_t bits) : bits_(bits) {}
  uint64_t bits_;
};
static_assert(sizeof(Value) == 8);

}  // namespace slabfuzz
