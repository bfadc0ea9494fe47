#include "heap/reference_heap.h"
#include "heap/storage.h"
#include "runtime/storage_bytes.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace slabfuzz {
namespace {

using storage::loadBits;
using storage::storeBits;

}  // namespace

ReferenceHeap::ReferenceHeap(const TypeStore& types, HeapLimits limits) : Heap(types, limits) {}

void ReferenceHeap::callerBug(std::string_view op, Ref obj, std::string_view what) const {
  // See the header: only a broken runtime gets here, never a module.
  std::fprintf(stderr,
               "slabfuzz: ReferenceHeap::%.*s: %.*s (ref bits 0x%llx, %zu objects allocated); "
               "this is a bug in the runtime, not in the module\n",
               static_cast<int>(op.size()), op.data(), static_cast<int>(what.size()), what.data(),
               static_cast<unsigned long long>(obj.bits()), num_objects_);
  std::abort();
}

void ReferenceHeap::badId(std::string_view op, Ref obj) const {
  callerBug(op, obj,
            obj.isObject() ? "id names no object of this heap" : "not a heap object reference");
}

void ReferenceHeap::badField(std::string_view op, Ref obj, uint32_t field) const {
  if (objects_.get()[obj.heapId() - 1].is_array)
    callerBug(op, obj, "object is an array, not a struct");
  callerBug(op, obj, fmt::format("field {} out of range", field));
}

const ReferenceHeap::Object& ReferenceHeap::resolveArray(Ref obj, std::string_view op) const {
  const Object& o = resolve(obj, op);
  if (!o.is_array) callerBug(op, obj, "object is a struct, not an array");
  return o;
}

const ReferenceHeap::StructLayout& ReferenceHeap::computeLayout(CanonTypeId type) {
  if (type >= types_.size() || types_.kind(type) != CompositeKind::Struct)
    callerBug("newStruct", Ref::null(), fmt::format("type {} is not a struct type", type));
  if (type >= layouts_.size()) layouts_.resize(type + 1);
  StructLayout& l = layouts_[type];
  if (!l.known) {
    l.first = static_cast<uint32_t>(masks_.size());
    for (const FieldType& f : types_.fields(type)) {
      uint32_t size = storageBytes(f.type);
      masks_.push_back(size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1);
      l.bytes += size;
    }
    l.count = static_cast<uint32_t>(masks_.size()) - l.first;
    l.known = true;
  }
  return l;
}

uint8_t* ReferenceHeap::carveSlow(uint64_t bytes) {
  // A payload over a quarter chunk gets a chunk of its own, so the rest of
  // the current chunk is not wasted. calloc: chunks come zeroed (usually
  // fresh pages, at no cost).
  bool own = bytes > kChunkBytes / 4;
  while (!own && next_chunk_bytes_ < kChunkBytes && bytes > next_chunk_bytes_ / 4)
    next_chunk_bytes_ *= 2;
  uint64_t size = own ? std::max<uint64_t>(bytes, 1) : next_chunk_bytes_;
  if (!own) next_chunk_bytes_ = std::min(next_chunk_bytes_ * 2, kChunkBytes);
  auto* p = static_cast<uint8_t*>(std::calloc(size, 1));
  if (!p) throw std::bad_alloc();  // as the std::vector this replaced
  chunks_.emplace_back(p);
  if (own) return p;
  bump_ = p + bytes;
  bump_end_ = p + size;
  return p;
}

void ReferenceHeap::growObjects() {
  static_assert(std::is_trivially_copyable_v<Object>);
  size_t cap = std::max<size_t>(objects_cap_ * 2, 1024);
  void* p = std::realloc(objects_.get(), cap * sizeof(Object));
  if (!p) throw std::bad_alloc();  // as the std::vector this replaced
  (void)objects_.release();
  objects_.reset(static_cast<Object*>(p));
  objects_cap_ = cap;
}

Result<Ref, TrapKind> ReferenceHeap::newStruct(CanonTypeId type, std::span<const Value> fields) {
  // A known layout was computed for a struct type, so the type check is
  // done once per type (computeLayout).
  const StructLayout& l = type < layouts_.size() && layouts_[type].known ? layouts_[type]
                                                                           : computeLayout(type);
  if (fields.size() != l.count) [[unlikely]]
    callerBug("newStruct", Ref::null(),
              fmt::format("{} values for {} fields", fields.size(), l.count));
  uint64_t bytes = kHeaderBytes + l.bytes;
  if (!fits(bytes)) return TrapKind::HeapExhausted;
  Object o{};
  o.type = type;
  o.length = l.count;
  o.slots = l.first;
  o.data = carve(uint64_t{l.count} * 8);
  // The payload is word-aligned: every struct payload is whole words, and
  // so is every carve before it (arrays are rounded up, newArray).
  auto* words = reinterpret_cast<uint64_t*>(o.data);
  const uint64_t* mask = masks_.data() + l.first;
  for (size_t i = 0; i < fields.size(); ++i) words[i] = fields[i].bits() & mask[i];
  return push(o, bytes);
}

Result<Ref, TrapKind> ReferenceHeap::newArray(CanonTypeId type, uint32_t length, Value fill) {
  if (type >= types_.size() || types_.kind(type) != CompositeKind::Array)
    callerBug("newArray", Ref::null(), fmt::format("type {} is not an array type", type));
  uint32_t elem_size = storageBytes(types_.fields(type)[0].type);
  // The element bytes are computed in 64 bits; a length whose size would
  // overflow them is "too large" even before the byte limit (WAMR 4942's
  // class: array.new length * size overflow).
  uint64_t payload = 0;
  if (length > limits_.max_array_length ||
      __builtin_mul_overflow(uint64_t{length}, uint64_t{elem_size}, &payload))
    return TrapKind::ArrayTooLarge;
  uint64_t bytes = kHeaderBytes + payload;
  if (!fits(bytes)) return TrapKind::HeapExhausted;
  Object o{};
  o.type = type;
  o.is_array = true;
  o.length = length;
  o.elem_size = static_cast<uint8_t>(elem_size);
  o.data = carve((payload + 7) & ~uint64_t{7});  // whole words: struct payloads stay aligned
  if (fill.bits() != 0) {  // the arena is zeroed already
    uint8_t* p = this->payload(o);
    for (uint32_t i = 0; i < length; ++i) storeBits(p + uint64_t{i} * elem_size, o.elem_size, fill.bits());
  }
  return push(o, bytes);
}

Result<Ref, TrapKind> ReferenceHeap::newArrayFrom(CanonTypeId type, std::span<const Value> elems) {
  if (elems.size() > UINT32_MAX) return TrapKind::ArrayTooLarge;
  auto r = newArray(type, static_cast<uint32_t>(elems.size()), Value());
  if (!r.ok()) return r;
  Object& o = objects_.get()[r.value().heapId() - 1];
  for (size_t i = 0; i < elems.size(); ++i)
    storeBits(payload(o) + i * o.elem_size, o.elem_size, elems[i].bits());
  return r;
}

CanonTypeId ReferenceHeap::typeOf(Ref obj) const {
  return resolve(obj, "typeOf").type;
}

Value ReferenceHeap::structGet(Ref obj, uint32_t field) const {
  const Object& o = structOf(obj, field, "structGet");
  // Stored masked, so packed fields come back zero-extended.
  return Value::fromBits(reinterpret_cast<const uint64_t*>(o.data)[field]);
}

void ReferenceHeap::structSet(Ref obj, uint32_t field, Value v) {
  const Object& o = structOf(obj, field, "structSet");
  reinterpret_cast<uint64_t*>(o.data)[field] = v.bits() & masks_[o.slots + field];
}

uint32_t ReferenceHeap::arrayLength(Ref obj) const {
  return resolveArray(obj, "arrayLength").length;
}

Value ReferenceHeap::arrayGet(Ref obj, uint32_t index) const {
  const Object& o = resolveArray(obj, "arrayGet");
  if (index >= o.length) callerBug("arrayGet", obj, fmt::format("index {} out of range", index));
  return Value::fromBits(loadBits(payload(o) + uint64_t{index} * o.elem_size, o.elem_size));
}

void ReferenceHeap::arraySet(Ref obj, uint32_t index, Value v) {
  Object& o = resolveArray(obj, "arraySet");
  if (index >= o.length) callerBug("arraySet", obj, fmt::format("index {} out of range", index));
  storeBits(payload(o) + uint64_t{index} * o.elem_size, o.elem_size, v.bits());
}

void ReferenceHeap::arrayFill(Ref obj, uint32_t offset, Value v, uint32_t count) {
  Object& o = resolveArray(obj, "arrayFill");
  if (uint64_t{offset} + count > o.length)
    callerBug("arrayFill", obj, fmt::format("range [{}, +{}) out of range", offset, count));
  for (uint64_t i = offset; i < uint64_t{offset} + count; ++i)
    storeBits(payload(o) + i * o.elem_size, o.elem_size, v.bits());
}

void ReferenceHeap::arrayCopy(Ref dst, uint32_t dst_offset, Ref src, uint32_t src_offset,
                              uint32_t count) {
  Object& d = resolveArray(dst, "arrayCopy");
  const Object& s = resolveArray(src, "arrayCopy");
  if (uint64_t{dst_offset} + count > d.length)
    callerBug("arrayCopy", dst,
              fmt::format("destination range [{}, +{}) out of range", dst_offset, count));
  if (uint64_t{src_offset} + count > s.length)
    callerBug("arrayCopy", src,
              fmt::format("source range [{}, +{}) out of range", src_offset, count));
  if (d.elem_size != s.elem_size)
    callerBug("arrayCopy", dst, "element sizes of source and destination differ");
  if (count == 0) return;
  // memmove: source and destination may be the same array, overlapping.
  std::memmove(payload(d) + uint64_t{dst_offset} * d.elem_size,
               payload(s) + uint64_t{src_offset} * s.elem_size, uint64_t{count} * d.elem_size);
}

}  // namespace slabfuzz
