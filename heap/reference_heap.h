// The reference heap: the obviously correct `Heap` (DESIGN.md "Heap"), the
// baseline every other heap configuration is compared against.
// Owns: objects that are never freed, ids that are never reused (they count
// up from 1), field storage by value (packed i8/i16 fields keep their low
// bits), the HeapLimits as traps, and the stats. Does not own: collection,
// slab ids or verification (the slab heap, issue 4).
// Contract: every id the interpreter passes in was returned by this heap; an
// id that does not name one of its objects, a field or element index out of
// range, or a struct/array mix-up is a bug in the caller (the interpreter has
// already done the null, bounds and cast checks the spec asks for), so the
// reference heap reports it on stderr and aborts. That abort is the single
// exception to CONVENTIONS.md rule 8 here: no module input can reach it
// unless the runtime itself is broken, and a loud stop is the most useful
// report of such a bug from the baseline heap.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "heap/heap.h"

namespace slabfuzz {

class ReferenceHeap final : public Heap {
 public:
  explicit ReferenceHeap(const TypeStore& types, HeapLimits limits = {});

  Result<Ref, TrapKind> newStruct(CanonTypeId type, std::span<const Value> fields) override;
  Result<Ref, TrapKind> newArray(CanonTypeId type, uint32_t length, Value fill) override;
  Result<Ref, TrapKind> newArrayFrom(CanonTypeId type, std::span<const Value> elems) override;

  CanonTypeId typeOf(Ref obj) const override;

  Value structGet(Ref obj, uint32_t field) const override;
  void structSet(Ref obj, uint32_t field, Value v) override;
  uint32_t arrayLength(Ref obj) const override;
  Value arrayGet(Ref obj, uint32_t index) const override;
  void arraySet(Ref obj, uint32_t index, Value v) override;
  void arrayFill(Ref obj, uint32_t offset, Value v, uint32_t count) override;
  void arrayCopy(Ref dst, uint32_t dst_offset, Ref src, uint32_t src_offset,
                 uint32_t count) override;

  HeapStats stats() const override { return stats_; }

  // The estimate of an object's size that HeapLimits::max_bytes counts: a
  // 16-byte header (type, and length for arrays) plus each field or element
  // at its storage size (i8 1, i16 2, i32/f32 4, i64/f64/ref 8).
  static constexpr uint64_t kHeaderBytes = 16;
  static uint32_t storageSize(ValType t);

 private:
  // One object. Fields live packed in `data` at their storage size, so an
  // i8 array of N elements costs N bytes, as its estimate says.
  struct Object {
    CanonTypeId type = kNoCanonType;
    bool is_array = false;
    uint32_t length = 0;    // arrays: elements; structs: fields
    uint8_t elem_size = 0;  // arrays only
    uint64_t data = 0;      // offset of the payload in arena_
  };
  // Field offsets and sizes of a struct type, computed once per type.
  struct StructLayout {
    bool known = false;
    std::vector<uint32_t> offsets;
    std::vector<uint8_t> sizes;
    uint32_t bytes = 0;
  };

  const StructLayout& layoutOf(CanonTypeId type);
  // Whether `bytes` more stay within HeapLimits::max_bytes.
  bool fits(uint64_t bytes) const;
  Ref push(Object obj, uint64_t bytes);

  const Object& resolve(Ref obj, std::string_view op) const;
  Object& resolve(Ref obj, std::string_view op) {
    return const_cast<Object&>(std::as_const(*this).resolve(obj, op));
  }
  const Object& resolveArray(Ref obj, std::string_view op) const;
  Object& resolveArray(Ref obj, std::string_view op) {
    return const_cast<Object&>(std::as_const(*this).resolveArray(obj, op));
  }
  [[noreturn]] void callerBug(std::string_view op, Ref obj, std::string_view what) const;

  uint8_t* payload(const Object& o) { return arena_.data() + o.data; }
  const uint8_t* payload(const Object& o) const { return arena_.data() + o.data; }
  // Reserves `bytes` of zeroed payload at the end of the arena.
  uint64_t carve(uint64_t bytes);

  std::vector<Object> objects_;        // id N is objects_[N - 1]
  // Every object's payload, back to back: nothing is ever freed, so one
  // growing buffer is the simplest correct store and costs no allocation
  // per object. Pointers into it are not kept across an allocation.
  std::vector<uint8_t> arena_;
  std::vector<StructLayout> layouts_;  // indexed by CanonTypeId
  HeapStats stats_;
};

}  // namespace slabfuzz
