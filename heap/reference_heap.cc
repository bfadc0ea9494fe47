#include "heap/reference_heap.h"

#include <fmt/format.h>

#include <bit>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace slabfuzz {
namespace {

// Values are stored little-endian at their storage size: the low bytes of
// the operand-stack bits, which for i8/i16 is exactly the spec's wrap
// (spec 4.4.x "struct.new": pack the value to the field's storage type).
static_assert(std::endian::native == std::endian::little,
              "storeBits/loadBits copy the low bytes of a little-endian word");
// One case per storage size, so that each copy is a single fixed-size move.
void storeBits(uint8_t* at, uint8_t size, uint64_t bits) {
  switch (size) {
    case 1: std::memcpy(at, &bits, 1); return;
    case 2: std::memcpy(at, &bits, 2); return;
    case 4: std::memcpy(at, &bits, 4); return;
    default: std::memcpy(at, &bits, 8); return;
  }
}
uint64_t loadBits(const uint8_t* at, uint8_t size) {
  uint64_t bits = 0;
  switch (size) {
    case 1: std::memcpy(&bits, at, 1); break;
    case 2: std::memcpy(&bits, at, 2); break;
    case 4: std::memcpy(&bits, at, 4); break;
    default: std::memcpy(&bits, at, 8); break;
  }
  return bits;
}

}  // namespace

ReferenceHeap::ReferenceHeap(const TypeStore& types, HeapLimits limits) : Heap(types, limits) {}

uint32_t ReferenceHeap::storageSize(ValType t) {
  switch (t.kind()) {
    case ValKind::I8: return 1;
    case ValKind::I16: return 2;
    case ValKind::I32:
    case ValKind::F32: return 4;
    default:  // i64, f64, references (as Ref bits); v128 is out of scope
      return 8;
  }
}

void ReferenceHeap::callerBug(std::string_view op, Ref obj, std::string_view what) const {
  // See the header: only a broken runtime gets here, never a module.
  std::fprintf(stderr,
               "slabfuzz: ReferenceHeap::%.*s: %.*s (ref bits 0x%llx, %zu objects allocated); "
               "this is a bug in the runtime, not in the module\n",
               static_cast<int>(op.size()), op.data(), static_cast<int>(what.size()), what.data(),
               static_cast<unsigned long long>(obj.bits()), objects_.size());
  std::abort();
}

const ReferenceHeap::Object& ReferenceHeap::resolve(Ref obj, std::string_view op) const {
  if (!obj.isObject()) callerBug(op, obj, "not a heap object reference");
  uint64_t id = obj.heapId();
  if (id == 0 || id > objects_.size()) callerBug(op, obj, "id names no object of this heap");
  return objects_[id - 1];
}

const ReferenceHeap::Object& ReferenceHeap::resolveArray(Ref obj, std::string_view op) const {
  const Object& o = resolve(obj, op);
  if (!o.is_array) callerBug(op, obj, "object is a struct, not an array");
  return o;
}

const ReferenceHeap::StructLayout& ReferenceHeap::layoutOf(CanonTypeId type) {
  if (type >= layouts_.size()) layouts_.resize(type + 1);
  StructLayout& l = layouts_[type];
  if (!l.known) {
    for (const FieldType& f : types_.fields(type)) {
      uint32_t size = storageSize(f.type);
      l.offsets.push_back(l.bytes);
      l.sizes.push_back(static_cast<uint8_t>(size));
      l.bytes += size;
    }
    l.known = true;
  }
  return l;
}

uint64_t ReferenceHeap::carve(uint64_t bytes) {
  uint64_t at = arena_.size();
  arena_.resize(at + bytes);  // geometric growth: amortised O(1) per byte
  return at;
}

bool ReferenceHeap::fits(uint64_t bytes) const {
  // Written without `live + bytes`, which could wrap.
  return bytes <= limits_.max_bytes && stats_.live_bytes <= limits_.max_bytes - bytes;
}

Ref ReferenceHeap::push(Object obj, uint64_t bytes) {
  objects_.push_back(std::move(obj));
  stats_.allocations++;
  stats_.live_objects++;
  stats_.live_bytes += bytes;
  return Ref::object(objects_.size());  // ids count up from 1, never reused
}

Result<Ref, TrapKind> ReferenceHeap::newStruct(CanonTypeId type, std::span<const Value> fields) {
  if (type >= types_.size() || types_.kind(type) != CompositeKind::Struct)
    callerBug("newStruct", Ref::null(), fmt::format("type {} is not a struct type", type));
  const StructLayout& l = layoutOf(type);
  if (fields.size() != l.sizes.size())
    callerBug("newStruct", Ref::null(),
              fmt::format("{} values for {} fields", fields.size(), l.sizes.size()));
  uint64_t bytes = kHeaderBytes + l.bytes;
  if (!fits(bytes)) return TrapKind::HeapExhausted;
  Object o;
  o.type = type;
  o.length = static_cast<uint32_t>(fields.size());
  o.data = carve(l.bytes);
  for (size_t i = 0; i < fields.size(); ++i)
    storeBits(payload(o) + l.offsets[i], l.sizes[i], fields[i].bits());
  return push(std::move(o), bytes);
}

Result<Ref, TrapKind> ReferenceHeap::newArray(CanonTypeId type, uint32_t length, Value fill) {
  if (type >= types_.size() || types_.kind(type) != CompositeKind::Array)
    callerBug("newArray", Ref::null(), fmt::format("type {} is not an array type", type));
  uint32_t elem_size = storageSize(types_.fields(type)[0].type);
  // The element bytes are computed in 64 bits; a length whose size would
  // overflow them is "too large" even before the byte limit (WAMR 4942's
  // class: array.new length * size overflow).
  uint64_t payload = 0;
  if (length > limits_.max_array_length ||
      __builtin_mul_overflow(uint64_t{length}, uint64_t{elem_size}, &payload))
    return TrapKind::ArrayTooLarge;
  uint64_t bytes = kHeaderBytes + payload;
  if (!fits(bytes)) return TrapKind::HeapExhausted;
  Object o;
  o.type = type;
  o.is_array = true;
  o.length = length;
  o.elem_size = static_cast<uint8_t>(elem_size);
  o.data = carve(payload);
  if (fill.bits() != 0) {  // the arena is zeroed already
    uint8_t* p = this->payload(o);
    for (uint32_t i = 0; i < length; ++i) storeBits(p + uint64_t{i} * elem_size, o.elem_size, fill.bits());
  }
  return push(std::move(o), bytes);
}

Result<Ref, TrapKind> ReferenceHeap::newArrayFrom(CanonTypeId type, std::span<const Value> elems) {
  if (elems.size() > UINT32_MAX) return TrapKind::ArrayTooLarge;
  auto r = newArray(type, static_cast<uint32_t>(elems.size()), Value());
  if (!r.ok()) return r;
  Object& o = objects_[r.value().heapId() - 1];
  for (size_t i = 0; i < elems.size(); ++i)
    storeBits(payload(o) + i * o.elem_size, o.elem_size, elems[i].bits());
  return r;
}

CanonTypeId ReferenceHeap::typeOf(Ref obj) const {
  return resolve(obj, "typeOf").type;
}

Value ReferenceHeap::structGet(Ref obj, uint32_t field) const {
  const Object& o = resolve(obj, "structGet");
  if (o.is_array) callerBug("structGet", obj, "object is an array, not a struct");
  if (field >= o.length) callerBug("structGet", obj, fmt::format("field {} out of range", field));
  // The layout exists: it was computed when the object was allocated.
  const StructLayout& l = layouts_[o.type];
  return Value::fromBits(loadBits(payload(o) + l.offsets[field], l.sizes[field]));
}

void ReferenceHeap::structSet(Ref obj, uint32_t field, Value v) {
  Object& o = resolve(obj, "structSet");
  if (o.is_array) callerBug("structSet", obj, "object is an array, not a struct");
  if (field >= o.length) callerBug("structSet", obj, fmt::format("field {} out of range", field));
  const StructLayout& l = layouts_[o.type];
  storeBits(payload(o) + l.offsets[field], l.sizes[field], v.bits());
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
