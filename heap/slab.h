// A slab: fixed-capacity storage of equal slots with a free list, a
// generation per slot and an identity for the whole slab (DESIGN.md "Heap").
// Owns: slot storage, per-slot state (allocated, retired, generation), the
// free list, the poison pattern of free slots (and their ASan poisoning),
// and the slab's counts. Does not own: what a slot means (the slab heap puts
// a GC object or a side-table entry there), ids (heap_id.h packs the slab's
// identity, the slot and its generation with a slab index and heap tag), or
// when a slab is released (the heap drops it when it is empty).
// Contract: a slot is handed out only while free; freeing it fills it with
// the poison pattern, ASan-poisons it and bumps its generation, so an id made
// before the free no longer matches (stale-generation). A slot whose
// generation would wrap is retired instead (never handed out again by this
// slab). Slots never handed out yet ("fresh") are ASan-poisoned and hold
// zero (a `zeroed` slab) or whatever the allocator gave (their first user
// writes them whole).
//
// Invariants (checked by SlabHeap::verify, heap/verify.cc):
//   live + freeListSize + fresh + retired == capacity
//   every slot on the free list is free, not retired, listed once, and
//   holds the poison pattern in every byte
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <type_traits>

#include "heap/faults.h"
#include "heap/heap_id.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLABFUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(SLABFUZZ_ASAN)
#define SLABFUZZ_ASAN 1
#endif
#ifdef SLABFUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define SLABFUZZ_POISON(addr, size) ASAN_POISON_MEMORY_REGION(addr, size)
#define SLABFUZZ_UNPOISON(addr, size) ASAN_UNPOISON_MEMORY_REGION(addr, size)
#else
#define SLABFUZZ_POISON(addr, size) ((void)(addr), (void)(size))
#define SLABFUZZ_UNPOISON(addr, size) ((void)(addr), (void)(size))
#endif

namespace slabfuzz {

class SlabHeapTestAccess;

// Every byte of a free (freed, not fresh) slot. As a word, 0xF0F0...F0 has
// the low three bits of a heap id and a heap tag (0x1E) no live heap is
// likely to have, so a reference read from a freed slot fails to resolve.
inline constexpr uint8_t kPoisonByte = 0xF0;
inline constexpr uint64_t kPoisonWord = 0xF0F0F0F0F0F0F0F0ull;

template <typename T>
class Slab {
  static_assert(std::is_trivially_copyable_v<T>, "slots are filled and compared as bytes");

 public:
  // Slot state, one uint16_t per slot.
  static constexpr uint16_t kAllocatedBit = 0x8000;
  static constexpr uint16_t kRetiredBit = 0x4000;
  static constexpr uint16_t kGenerationMask = slabid::kMaxGeneration;
  static_assert((kGenerationMask & (kAllocatedBit | kRetiredBit)) == 0);
  // The identity of a slab that holds nothing: no id carries it (identities
  // are at most slabid::kMaxIdentity), so the id check fails on it.
  static constexpr uint32_t kNoIdentity = ~uint32_t{0};

  // A dead slab: no storage, no slots.
  Slab() = default;
  // `capacity` slots of `stride` T's each, all fresh and ASan-poisoned;
  // zero-filled when `zeroed` (calloc: free for large blocks, which come
  // as fresh pages, a memset for small ones). Throws std::bad_alloc like a
  // container when memory runs out (the heap refuses sizes over its limits
  // before it gets here).
  Slab(uint32_t capacity, uint32_t stride, uint32_t identity, bool zeroed = true)
      : capacity_(std::clamp<uint32_t>(capacity, 1, slabid::kMaxSlots)),
        stride_(std::max<uint32_t>(stride, 1)),
        identity_(identity),
        zeroed_(zeroed) {
    size_t bytes = size_t{capacity_} * stride_ * sizeof(T);
    storage_.reset(static_cast<T*>(zeroed ? std::calloc(bytes, 1) : std::malloc(bytes)));
    storage_.get_deleter().bytes = bytes;
    state_.reset(static_cast<uint16_t*>(std::calloc(capacity_, sizeof(uint16_t))));
    // Read only below free_top_, so never before it is written.
    free_.reset(static_cast<uint32_t*>(std::malloc(size_t{capacity_} * sizeof(uint32_t))));
    if (!storage_ || !state_ || !free_) throw std::bad_alloc();
    SLABFUZZ_POISON(storage_.get(), bytes);
  }

  bool isLive() const { return storage_ != nullptr; }
  uint32_t capacity() const { return capacity_; }
  uint32_t stride() const { return stride_; }
  // kNoIdentity for a dead slab (release() resets it), so one compare
  // rejects both a dead slab and a reused one.
  uint32_t identity() const { return identity_; }
  size_t slotBytes() const { return size_t{stride_} * sizeof(T); }
  size_t storageBytes() const { return size_t{capacity_} * slotBytes(); }
  uint32_t live() const { return live_; }
  uint32_t retired() const { return retired_; }
  uint32_t fresh() const { return capacity_ - fresh_next_; }
  uint32_t freeListSize() const { return free_top_; }
  // Frees since the slab was made or renewed. Invariant ("generations count
  // frees"): every free bumps one slot's generation by one, or retires it,
  // so frees == sum of generations over used slots + retired.
  uint64_t frees() const { return frees_; }
  // Whether alloc() can hand out a slot.
  bool full() const { return free_top_ == 0 && fresh_next_ == capacity_; }

  uint16_t state(uint32_t slot) const { return state_.get()[slot]; }
  const uint16_t* states() const { return state_.get(); }
  bool isAllocated(uint32_t slot) const { return (state(slot) & kAllocatedBit) != 0; }
  bool isRetired(uint32_t slot) const { return (state(slot) & kRetiredBit) != 0; }
  uint32_t generation(uint32_t slot) const { return state(slot) & kGenerationMask; }
  // Whether the slot was ever handed out (fresh slots were not).
  bool wasUsed(uint32_t slot) const { return slot < fresh_next_; }
  // Slots [0, used()) were handed out at some time; the rest are fresh. A
  // walk over the slab's objects need not look past it.
  uint32_t used() const { return fresh_next_; }
  // Whether every fresh slot's state is still zero (never allocated, never
  // retired, generation 0): the verifier's check of the part it does not
  // walk slot by slot.
  bool freshStatesClear() const {
    // One memcmp against zeros: the verifier runs after every collection in
    // checking builds, where a per-slot loop under ASan cost a fifth of a
    // fuzz target's time.
    static constexpr uint16_t kZeros[slabid::kMaxSlots] = {};
    return std::memcmp(state_.get() + fresh_next_, kZeros,
                       size_t{capacity_ - fresh_next_} * sizeof(uint16_t)) == 0;
  }

  T* at(uint32_t slot) { return storage_.get() + size_t{slot} * stride_; }
  const T* at(uint32_t slot) const { return storage_.get() + size_t{slot} * stride_; }
  T* base() { return storage_.get(); }
  const T* base() const { return storage_.get(); }
  std::span<const uint32_t> freeList() const { return {free_.get(), free_top_}; }

  struct Allocation {
    uint32_t slot;
    uint32_t generation;
    // False when a reused slot no longer held the poison pattern: something
    // wrote to it after it was freed (a use-after-free through a stale id
    // that escaped the checks). The slot is handed out all the same.
    bool poison_intact;
    // The slot holds zero in every byte (fresh in a zeroed slab).
    bool zero;
  };
  // Hands out a free slot (precondition: !full()): the most recently freed
  // first (LIFO, so a stale id meets a reused slot soon), else the next
  // fresh one. The slot's contents are the poison pattern (reused) or zero
  // (fresh); the caller initialises it.
  Allocation alloc() {
    uint32_t slot;
    bool intact = true, zero = false;
    if (free_top_ > 0) {
      slot = free_.get()[--free_top_];
      SLABFUZZ_UNPOISON(at(slot), slotBytes());
      intact = holdsPoisonUnpoisoned(slot);
    } else {
      slot = fresh_next_++;
      SLABFUZZ_UNPOISON(at(slot), slotBytes());
      zero = zeroed_;
    }
    uint16_t& s = state_.get()[slot];
    s = static_cast<uint16_t>(kAllocatedBit | (s & kGenerationMask));
    ++live_;
    return {slot, static_cast<uint32_t>(s & kGenerationMask), intact, zero};
  }

  // Frees an allocated slot: poison, bump the generation, push it on the
  // free list, or retire it when its generation is exhausted (returns false
  // then). Precondition: isAllocated(slot).
  bool free(uint32_t slot) {
    if constexpr (sizeof(T) == 8) {
      // Word stores: slots are a few words, a memset call costs more.
      T* p = at(slot);
      for (uint32_t i = 0; i < stride_; ++i) std::memcpy(p + i, &kPoisonWord, 8);
    } else {
      std::memset(static_cast<void*>(at(slot)), kPoisonByte, slotBytes());
    }
    SLABFUZZ_POISON(at(slot), slotBytes());
    uint16_t& s = state_.get()[slot];
    uint32_t gen = s & kGenerationMask;
    --live_;
    ++frees_;
    if (gen == slabid::kMaxGeneration) {
      // A wrap would let an id from 8192 reuses ago match again.
      s = static_cast<uint16_t>(kRetiredBit | gen);
      ++retired_;
      return false;
    }
    s = static_cast<uint16_t>(gen + 1);
    // Fault zoo: the slot keeps its generation, so an id of the dead object
    // would resolve to the next one.
    if (SLABFUZZ_FAULT(GenerationNotBumped)) {
      SLABFUZZ_FAULT_TRIGGERED(GenerationNotBumped);
      s = static_cast<uint16_t>(gen);
    }
    free_.get()[free_top_++] = slot;
    // Fault zoo: the last slot handed out goes on the free list twice, so
    // two later allocations get it.
    if (slot + 1 == fresh_next_ && free_top_ < capacity_ && SLABFUZZ_FAULT(FreeListDoublePush)) {
      SLABFUZZ_FAULT_TRIGGERED(FreeListDoublePush);
      free_.get()[free_top_++] = slot;
    }
    return true;
  }

  // Whether a free slot still holds the poison pattern in every byte (the
  // slot stays ASan-poisoned; it is unpoisoned only while it is read).
  bool holdsPoison(uint32_t slot) const {
    SLABFUZZ_UNPOISON(at(slot), slotBytes());
    bool ok = holdsPoisonUnpoisoned(slot);
    SLABFUZZ_POISON(at(slot), slotBytes());
    return ok;
  }

  // Gives every slot's storage back (the slab becomes dead).
  void release() { *this = Slab(); }

  // Makes this slab a new one under `identity`, keeping its storage: every
  // slot fresh again (state zero, generation 0) and ASan-poisoned, the free
  // list empty. What a release and a new Slab of the same shape would give,
  // without returning the storage to the allocator and asking for it again
  // (a zeal run empties and refills slabs thousands of times per module).
  // Only for slabs that are not `zeroed`: fresh slots keep old bytes. Ids
  // made before are refused by the identity check, as for a new slab.
  void renew(uint32_t identity) {
    std::memset(state_.get(), 0, size_t{fresh_next_} * sizeof(uint16_t));
    SLABFUZZ_POISON(storage_.get(), storageBytes());
    identity_ = identity;
    free_top_ = 0;
    fresh_next_ = 0;
    live_ = 0;
    retired_ = 0;
    frees_ = 0;
  }
  bool zeroed() const { return zeroed_; }

 private:
  friend class SlabHeapTestAccess;

  bool holdsPoisonUnpoisoned(uint32_t slot) const {
    const auto* p = reinterpret_cast<const unsigned char*>(at(slot));
    size_t n = slotBytes();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w != kPoisonWord) return false;
    }
    for (; i < n; ++i)
      if (p[i] != kPoisonByte) return false;
    return true;
  }

  struct FreeStorage {
    size_t bytes = 0;
    void operator()(T* p) const {
      SLABFUZZ_UNPOISON(p, bytes);  // give the allocator clean memory back
      std::free(p);
    }
  };
  template <typename U>
  struct FreeMeta {
    void operator()(U* p) const { std::free(p); }
  };

  std::unique_ptr<T, FreeStorage> storage_;
  std::unique_ptr<uint16_t, FreeMeta<uint16_t>> state_;
  std::unique_ptr<uint32_t, FreeMeta<uint32_t>> free_;  // stack of free slots, free_top_ of them
  uint32_t capacity_ = 0;
  uint32_t stride_ = 1;
  uint32_t identity_ = kNoIdentity;
  bool zeroed_ = true;
  uint32_t free_top_ = 0;
  uint32_t fresh_next_ = 0;  // slots [fresh_next_, capacity_) were never handed out
  uint32_t live_ = 0;
  uint32_t retired_ = 0;
  uint64_t frees_ = 0;
};

}  // namespace slabfuzz
