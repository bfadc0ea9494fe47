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
#include <cstdlib>
#include <memory>
#include <type_traits>
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
  bool collects() const override { return false; }  // never frees

  // The estimate of an object's size that HeapLimits::max_bytes counts: a
  // 16-byte header (type, and length for arrays) plus each field or element
  // at its storage size (i8 1, i16 2, i32/f32 4, i64/f64/ref 8).
  static constexpr uint64_t kHeaderBytes = 16;

 private:
  // One object. Array elements live packed at their storage size, so an i8
  // array of N elements costs N bytes, as its estimate says; a struct's
  // fields are one 8-byte word each (few and small, and a word per field
  // makes field access a plain load), holding the value masked to the
  // field's storage size.
  // No member initializers: Object stays trivial, so objects_ grows by
  // realloc; every Object is built as `Object o{}` before it is pushed.
  struct Object {
    CanonTypeId type;
    uint32_t length;    // arrays: elements; structs: fields
    uint8_t* data;      // the payload, in one of chunks_
    uint32_t slots;     // structs: first of its type's field masks in masks_
    uint8_t elem_size;  // arrays only
    bool is_array;
  };
  // Field layout of a struct type, computed once per type: its fields'
  // masks are masks_[first, first + count); `bytes` is the size estimate of
  // the fields (storageBytes each, runtime/storage_bytes.h), what HeapLimits counts.
  struct StructLayout {
    bool known = false;
    uint32_t first = 0;
    uint32_t count = 0;
    uint32_t bytes = 0;
  };

  // Computes the layout of a struct type on its first allocation (and
  // checks that `type` is a struct type at all).
  const StructLayout& computeLayout(CanonTypeId type);
  // Whether `bytes` more stay within HeapLimits::max_bytes.
  bool fits(uint64_t bytes) const {
    // Written without `live + bytes`, which could wrap.
    return bytes <= limits_.max_bytes && stats_.live_bytes <= limits_.max_bytes - bytes;
  }
  Ref push(const Object& obj, uint64_t bytes) {
    if (num_objects_ == objects_cap_) [[unlikely]]
      growObjects();
    objects_.get()[num_objects_++] = obj;
    stats_.allocations++;
    stats_.live_objects++;
    stats_.live_bytes += bytes;
    return Ref::object(num_objects_);  // ids count up from 1, never reused
  }

  // Inline: the id check is one compare on every access, and the reports
  // (callerBug and friends) are out of line so no formatting is on the path.
  const Object& resolve(Ref obj, std::string_view op) const {
    uint64_t id = obj.heapId();
    if (!obj.isObject() || id - 1 >= num_objects_) [[unlikely]]
      badId(op, obj);
    return objects_.get()[id - 1];
  }
  Object& resolve(Ref obj, std::string_view op) {
    return const_cast<Object&>(std::as_const(*this).resolve(obj, op));
  }
  const Object& resolveArray(Ref obj, std::string_view op) const;
  Object& resolveArray(Ref obj, std::string_view op) {
    return const_cast<Object&>(std::as_const(*this).resolveArray(obj, op));
  }
  // A struct field access: the object is a struct and `field` one of its.
  const Object& structOf(Ref obj, uint32_t field, std::string_view op) const {
    const Object& o = resolve(obj, op);
    if (o.is_array || field >= o.length) [[unlikely]]
      badField(op, obj, field);
    return o;
  }
  [[noreturn]] void callerBug(std::string_view op, Ref obj, std::string_view what) const;
  [[noreturn, gnu::cold, gnu::noinline]] void badId(std::string_view op, Ref obj) const;
  [[noreturn, gnu::cold, gnu::noinline]] void badField(std::string_view op, Ref obj,
                                                       uint32_t field) const;

  uint8_t* payload(const Object& o) { return o.data; }
  const uint8_t* payload(const Object& o) const { return o.data; }
  // Reserves `bytes` of zeroed payload, bumped from the current chunk.
  uint8_t* carve(uint64_t bytes) {
    if (bytes > static_cast<uint64_t>(bump_end_ - bump_)) [[unlikely]]
      return carveSlow(bytes);
    uint8_t* at = bump_;
    bump_ += bytes;
    return at;
  }
  // A new chunk: a fresh bump chunk, or one of its own for a large payload.
  uint8_t* carveSlow(uint64_t bytes);
  void growObjects();

  // Id N is objects_[N - 1], for N <= num_objects_ <= objects_cap_. Grown
  // geometrically with realloc (Object is trivially copyable; large blocks
  // grow by remapping, without a copy).
  struct FreeObjects {
    void operator()(Object* p) const { std::free(p); }
  };
  std::unique_ptr<Object, FreeObjects> objects_;
  size_t num_objects_ = 0;
  size_t objects_cap_ = 0;
  // Every object's payload, bumped from zeroed chunks (calloc) that are
  // never freed or moved until the heap goes: nothing is ever freed, so
  // this is the simplest correct store, costs no allocation per object and
  // no copy on growth. bump_ <= bump_end_ delimit the current chunk's rest.
  struct FreeChunk {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  std::vector<std::unique_ptr<uint8_t, FreeChunk>> chunks_;
  uint8_t* bump_ = nullptr;
  uint8_t* bump_end_ = nullptr;
  // Chunks start small and double up to kChunkBytes: most runs allocate a
  // few kilobytes, and zeroing a megabyte for each (calloc from a heap that
  // no longer maps fresh pages) was a tenth of such a run.
  static constexpr uint64_t kFirstChunkBytes = uint64_t{16} << 10;
  static constexpr uint64_t kChunkBytes = uint64_t{1} << 20;
  uint64_t next_chunk_bytes_ = kFirstChunkBytes;
  std::vector<StructLayout> layouts_;  // indexed by CanonTypeId
  // Every known struct type's field masks: the low 8, 16, 32 or 64 bits,
  // by storage size (spec 4.4.x "struct.new": pack to the storage type).
  std::vector<uint64_t> masks_;
  HeapStats stats_;
};

}  // namespace slabfuzz
