// Unit tests for heap/slab.h and heap/heap_id.h: slot hand-out order, free
// list reuse, generations and their retirement, poison on free (and the
// detection of a write after free), release, and the slot-count invariant
// under a random sequence.
#include "heap/slab.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "heap/heap_id.h"
#include "runtime/value.h"

namespace slabfuzz {
namespace {

template <typename T>
uint32_t retiredSlots(const Slab<T>& s) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < s.capacity(); ++i) n += s.isRetired(i);
  return n;
}

template <typename T>
void expectCountsAddUp(const Slab<T>& s) {
  // live + freeList + fresh + retired == capacity
  EXPECT_EQ(uint64_t{s.live()} + s.freeListSize() + s.fresh() + s.retired(), s.capacity());
  uint32_t allocated = 0;
  for (uint32_t i = 0; i < s.capacity(); ++i) allocated += s.isAllocated(i);
  EXPECT_EQ(allocated, s.live());
  EXPECT_EQ(retiredSlots(s), s.retired());
}

TEST(SlabIdTest, PacksAndUnpacksEveryField) {
  uint64_t id = slabid::pack(slabid::kMaxTag, slabid::kMaxSlabIndex, slabid::kMaxIdentity,
                             slabid::kMaxSlots - 1, slabid::kMaxGeneration);
  EXPECT_LT(id, uint64_t{1} << 61);  // fits Ref::object
  EXPECT_EQ(Ref::object(id).heapId(), id);
  DecodedId d = slabid::decode(id);
  EXPECT_EQ(d.heap_tag, slabid::kMaxTag);
  EXPECT_EQ(d.slab, slabid::kMaxSlabIndex);
  EXPECT_EQ(d.slab_identity, slabid::kMaxIdentity);
  EXPECT_EQ(d.slot, slabid::kMaxSlots - 1);
  EXPECT_EQ(d.generation, slabid::kMaxGeneration);
  EXPECT_NE(slabid::pack(1, 0, 0, 0, 0), 0u);  // a tag makes every id non-zero
}

TEST(SlabTest, FreshSlotsComeInOrderZeroed) {
  Slab<uint64_t> s(4, 2, 7);
  EXPECT_TRUE(s.isLive());
  EXPECT_EQ(s.identity(), 7u);
  EXPECT_EQ(s.fresh(), 4u);
  for (uint32_t i = 0; i < 4; ++i) {
    auto a = s.alloc();
    EXPECT_EQ(a.slot, i);
    EXPECT_EQ(a.generation, 0u);
    EXPECT_TRUE(a.poison_intact);
    EXPECT_EQ(s.at(i)[0], 0u);
    EXPECT_EQ(s.at(i)[1], 0u);
  }
  EXPECT_TRUE(s.full());
  EXPECT_EQ(s.live(), 4u);
  expectCountsAddUp(s);
}

TEST(SlabTest, FreePoisonsBumpsGenerationAndIsReusedFirst) {
  Slab<uint64_t> s(4, 2, 0);
  for (int i = 0; i < 3; ++i) (void)s.alloc();
  s.at(1)[0] = 42;
  EXPECT_TRUE(s.free(1));
  EXPECT_FALSE(s.isAllocated(1));
  EXPECT_EQ(s.generation(1), 1u);
  EXPECT_TRUE(s.holdsPoison(1));
  expectCountsAddUp(s);
  auto a = s.alloc();  // the freed slot before the fresh one (LIFO)
  EXPECT_EQ(a.slot, 1u);
  EXPECT_EQ(a.generation, 1u);
  EXPECT_TRUE(a.poison_intact);
  EXPECT_EQ(s.at(1)[0], kPoisonWord);  // the caller initialises it
  expectCountsAddUp(s);
}

TEST(SlabTest, WriteAfterFreeIsSeenOnReuse) {
  Slab<uint64_t> s(2, 1, 0);
  (void)s.alloc();
  ASSERT_TRUE(s.free(0));
  // A store through a stale pointer (unpoisoned first, as ASan would stop it).
  SLABFUZZ_UNPOISON(s.at(0), 8);
  s.at(0)[0] = 1;
  SLABFUZZ_POISON(s.at(0), 8);
  EXPECT_FALSE(s.holdsPoison(0));
  auto a = s.alloc();
  EXPECT_EQ(a.slot, 0u);
  EXPECT_FALSE(a.poison_intact);
}

TEST(SlabTest, ExhaustedGenerationRetiresTheSlot) {
  Slab<uint64_t> s(2, 1, 0);
  for (uint32_t g = 0; g < slabid::kMaxGeneration; ++g) {
    auto a = s.alloc();
    ASSERT_EQ(a.slot, 0u);
    ASSERT_EQ(a.generation, g);
    ASSERT_TRUE(s.free(0));
  }
  auto a = s.alloc();
  EXPECT_EQ(a.generation, slabid::kMaxGeneration);
  EXPECT_FALSE(s.free(0));  // would wrap: retired instead
  EXPECT_TRUE(s.isRetired(0));
  EXPECT_EQ(s.retired(), 1u);
  expectCountsAddUp(s);
  EXPECT_EQ(s.alloc().slot, 1u);  // never slot 0 again
  EXPECT_TRUE(s.full());
}

TEST(SlabTest, ReleaseKillsTheSlab) {
  Slab<uint64_t> s(8, 4, 3);
  (void)s.alloc();
  s.release();
  EXPECT_FALSE(s.isLive());
  EXPECT_EQ(s.identity(), Slab<uint64_t>::kNoIdentity);
  EXPECT_EQ(s.capacity(), 0u);
}

TEST(SlabTest, RenewKeepsStorageAndStartsOver) {
  Slab<uint64_t> s(4, 2, 3, /*zeroed=*/false);
  const uint64_t* storage = s.at(0);
  for (int i = 0; i < 3; ++i) (void)s.alloc();
  ASSERT_TRUE(s.free(1));
  ASSERT_TRUE(s.free(1 - 1));
  s.renew(9);
  EXPECT_TRUE(s.isLive());
  EXPECT_EQ(s.identity(), 9u);
  EXPECT_EQ(s.at(0), storage);  // the same memory, not a new block
  EXPECT_EQ(s.live(), 0u);
  EXPECT_EQ(s.freeListSize(), 0u);
  EXPECT_EQ(s.fresh(), 4u);
  EXPECT_EQ(s.used(), 0u);
  EXPECT_TRUE(s.freshStatesClear());
  expectCountsAddUp(s);
  // Fresh again from slot 0, generation 0 (old ids fail on the identity).
  auto a = s.alloc();
  EXPECT_EQ(a.slot, 0u);
  EXPECT_EQ(a.generation, 0u);
  EXPECT_EQ(s.used(), 1u);
}

TEST(SlabTest, CapacityIsClampedToTheIdSlotField) {
  Slab<uint8_t> s(slabid::kMaxSlots * 2, 1, 0);
  EXPECT_EQ(s.capacity(), slabid::kMaxSlots);
}

// A slot type whose size is not a multiple of 8: poison is checked per byte.
struct Odd {
  uint16_t a, b, c;
};

TEST(SlabTest, OddSizedSlotsPoisonEveryByte) {
  Slab<Odd> s(3, 1, 0);
  (void)s.alloc();
  ASSERT_TRUE(s.free(0));
  EXPECT_TRUE(s.holdsPoison(0));
  SLABFUZZ_UNPOISON(s.at(0), sizeof(Odd));
  s.at(0)->c = 0;
  SLABFUZZ_POISON(s.at(0), sizeof(Odd));
  EXPECT_FALSE(s.holdsPoison(0));
}

// Random alloc/free against a model set: the invariants hold at every step.
TEST(SlabTest, RandomSequencesKeepTheCountsAndGenerations) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    std::mt19937 rng(seed);
    Slab<uint64_t> s(37, 3, 0);
    std::set<uint32_t> live;
    std::vector<uint32_t> gen(37, 0);
    for (int step = 0; step < 5000; ++step) {
      bool do_alloc = live.empty() || (!s.full() && rng() % 2 == 0);
      if (do_alloc) {
        if (s.full()) continue;
        auto a = s.alloc();
        ASSERT_TRUE(live.insert(a.slot).second) << "slot handed out twice";
        ASSERT_EQ(a.generation, gen[a.slot]);
        ASSERT_TRUE(a.poison_intact);
        s.at(a.slot)[0] = step;
      } else {
        auto it = live.begin();
        std::advance(it, rng() % live.size());
        uint32_t slot = *it;
        live.erase(it);
        ASSERT_EQ(s.at(slot)[0] != kPoisonWord, true);
        ASSERT_TRUE(s.free(slot));
        ++gen[slot];
      }
      ASSERT_EQ(s.live(), live.size());
      ASSERT_EQ(uint64_t{s.live()} + s.freeListSize() + s.fresh() + s.retired(), s.capacity());
    }
    std::set<uint32_t> on_list(s.freeList().begin(), s.freeList().end());
    EXPECT_EQ(on_list.size(), s.freeListSize());  // no duplicates
    for (uint32_t slot : s.freeList()) EXPECT_TRUE(s.holdsPoison(slot));
  }
}

}  // namespace
}  // namespace slabfuzz
