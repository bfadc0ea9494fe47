// Slab heap ids: how a heap id (the 61-bit payload of `Ref::object`) names a
// heap, a slab, the slab's identity, a slot and the slot's generation.
// Owns: the field widths, packing and unpacking, and the limits the widths
// imply. Does not own: checking an id against a heap (slab_heap.h resolve)
// or what slots hold (slab.h).
// Contract: every id a SlabHeap makes is non-zero (the heap tag is never 0)
// and fits in kIdBits, so `Ref::object(id)` round-trips through heapId().
//
// Layout, low bits first (61 bits in all):
//
//   bits  0..12  generation     13 bits: a slot is reused at most 8191 times;
//                               when its generation would wrap, the slot is
//                               retired (never handed out again) until its
//                               slab is released, so a stale id can never
//                               match by wrap-around (slab.h)
//   bits 13..26  slot           14 bits: at most 16384 slots per slab
//   bits 27..36  slab identity  10 bits: a slab index is reused at most 1023
//                               times; when its identity counter would wrap
//                               the index is retired (never reused), so an
//                               old id can never match a newer slab there
//   bits 37..54  slab index     18 bits: at most 262143 slabs alive at once
//                               (index 0 is never used); running out is
//                               HeapExhausted, a resource trap
//   bits 55..60  heap tag       6 bits: 1..63, given out round-robin per
//                               process; two heaps 63 creations apart share
//                               a tag and cannot tell their ids apart by tag
//                               (the later checks still catch most mix-ups)
#pragma once

#include <cstdint>

#include "heap/violation.h"

namespace slabfuzz::slabid {

inline constexpr unsigned kGenerationBits = 13;
inline constexpr unsigned kSlotBits = 14;
inline constexpr unsigned kIdentityBits = 10;
inline constexpr unsigned kSlabBits = 18;
inline constexpr unsigned kTagBits = 6;

inline constexpr unsigned kSlotShift = kGenerationBits;
inline constexpr unsigned kIdentityShift = kSlotShift + kSlotBits;
inline constexpr unsigned kSlabShift = kIdentityShift + kIdentityBits;
inline constexpr unsigned kTagShift = kSlabShift + kSlabBits;
inline constexpr unsigned kIdBits = kTagShift + kTagBits;
static_assert(kIdBits == 61, "a heap id is the 61-bit payload of Ref::object");

inline constexpr uint32_t kMaxGeneration = (1u << kGenerationBits) - 1;
inline constexpr uint32_t kMaxSlots = 1u << kSlotBits;  // slots per slab
inline constexpr uint32_t kMaxIdentity = (1u << kIdentityBits) - 1;
inline constexpr uint32_t kMaxSlabIndex = (1u << kSlabBits) - 1;  // index 0 unused
inline constexpr uint32_t kMaxTag = (1u << kTagBits) - 1;         // tag 0 unused

constexpr uint64_t mask(unsigned bits) {
  return (uint64_t{1} << bits) - 1;
}

constexpr uint64_t pack(uint32_t tag, uint32_t slab, uint32_t identity, uint32_t slot,
                        uint32_t generation) {
  return (uint64_t{tag} << kTagShift) | (uint64_t{slab} << kSlabShift) |
         (uint64_t{identity} << kIdentityShift) | (uint64_t{slot} << kSlotShift) |
         uint64_t{generation};
}
constexpr uint32_t tagOf(uint64_t id) {
  return static_cast<uint32_t>(id >> kTagShift);
}
constexpr uint32_t slabOf(uint64_t id) {
  return static_cast<uint32_t>((id >> kSlabShift) & mask(kSlabBits));
}
constexpr uint32_t identityOf(uint64_t id) {
  return static_cast<uint32_t>((id >> kIdentityShift) & mask(kIdentityBits));
}
constexpr uint32_t slotOf(uint64_t id) {
  return static_cast<uint32_t>((id >> kSlotShift) & mask(kSlotBits));
}
constexpr uint32_t generationOf(uint64_t id) {
  return static_cast<uint32_t>(id & mask(kGenerationBits));
}

// The parts of `id`, for reports (violation.h).
constexpr DecodedId decode(uint64_t id) {
  DecodedId d;
  d.raw = id;
  d.heap_tag = tagOf(id);
  d.slab = slabOf(id);
  d.slab_identity = identityOf(id);
  d.slot = slotOf(id);
  d.generation = generationOf(id);
  return d;
}

static_assert(tagOf(pack(63, 5, 7, 9, 11)) == 63 && slabOf(pack(63, 5, 7, 9, 11)) == 5 &&
              identityOf(pack(63, 5, 7, 9, 11)) == 7 && slotOf(pack(63, 5, 7, 9, 11)) == 9 &&
              generationOf(pack(63, 5, 7, 9, 11)) == 11);

}  // namespace slabfuzz::slabid
