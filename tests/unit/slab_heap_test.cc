// Unit tests for heap/slab_heap.h: values and side tables through the Heap
// interface, the collector (roots, tracing, sweeping, slab release and
// reuse), every id violation provoked on purpose, the verifier's
// invariants broken through a test-only hook, zeal and triggers, limits as
// traps, the digest against the reference heap, and a seeded property test
// against a model.
#include "heap/slab_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <vector>

#include "heap/reference_heap.h"
#include "runtime/decode.h"
#include "tests/support/wasm_bytes.h"

namespace slabfuzz {

// The test-only hook (a friend of SlabHeap and Slab): breaks what the
// verifier must notice.
class SlabHeapTestAccess {
 public:
  static Slab<uint64_t>& slabOf(SlabHeap& h, Ref r) {
    return h.slabs_[slabid::slabOf(r.heapId())].slab;
  }
  static uint64_t* words(SlabHeap& h, Ref r) { return slabOf(h, r).at(slabid::slotOf(r.heapId())); }
  static void duplicateFreeListTop(Slab<uint64_t>& s) {
    ASSERT_GT(s.free_top_, 0u);
    ASSERT_LT(s.free_top_, s.capacity_);
    s.free_.get()[s.free_top_] = s.free_.get()[s.free_top_ - 1];
    ++s.free_top_;
  }
  static void pushOnFreeList(Slab<uint64_t>& s, uint32_t slot) {
    ASSERT_LT(s.free_top_, s.capacity_);
    s.free_.get()[s.free_top_++] = slot;
  }
  static void writeIntoFreeSlot(Slab<uint64_t>& s, uint32_t slot) {
    SLABFUZZ_UNPOISON(s.at(slot), 8);
    s.at(slot)[0] = 0x1234;
    SLABFUZZ_POISON(s.at(slot), 8);
  }
  static void bumpLive(Slab<uint64_t>& s) { ++s.live_; }
  // Marks the last slot, never handed out, as allocated.
  static void dirtyFreshSlot(Slab<uint64_t>& s) {
    ASSERT_LT(s.fresh_next_, s.capacity_);
    s.state_.get()[s.capacity_ - 1] = Slab<uint64_t>::kAllocatedBit;
  }
  // As if verify() ran inside the collection that just finished.
  static bool verifyAsAfterGc(SlabHeap& h, RootSource& roots) {
    h.quiescent_ = true;
    bool ok = h.verify(roots);
    h.quiescent_ = false;
    return ok;
  }
  static void setMark(SlabHeap& h, Ref r) { words(h, r)[0] |= SlabHeap::kMark; }
  static void setHeaderType(SlabHeap& h, Ref r, CanonTypeId t) {
    uint64_t* o = words(h, r);
    o[0] = (o[0] & ~SlabHeap::kTypeMask) | t;
  }
  static void forgetInternedFunc(SlabHeap& h, uint32_t addr) { h.func_entries_[addr] = 0; }
  // Frees an object the way a collector with a missed root would.
  static void freeBehindTheHeapsBack(SlabHeap& h, Ref r) {
    h.stats_.live_bytes -= h.accountedBytes(words(h, r));
    h.stats_.live_objects--;
    slabOf(h, r).free(slabid::slotOf(r.heapId()));
  }
  static uint64_t fieldWord(SlabHeap& h, Ref r, uint32_t i) { return words(h, r)[1 + i]; }
  static void setFieldWord(SlabHeap& h, Ref r, uint32_t i, uint64_t w) { words(h, r)[1 + i] = w; }
  static void setHeaderBits(SlabHeap& h, Ref r, uint64_t bits) { words(h, r)[0] |= bits; }
  static constexpr uint64_t kSideEntryBit = SlabHeap::kSideEntry;
  static size_t liveSlabIndexCount(SlabHeap& h) {
    size_t n = 0;
    for (auto& e : h.slabs_) n += e.slab.isLive();
    return n;
  }
};

namespace {

using test::Bytes;
using Access = SlabHeapTestAccess;

// Types 0..9 (see the accessors below).
Bytes typesModule() {
  Bytes types;
  types.u32(10);
  types.raw({kCodeStruct, 6, kCodeI8, 1, kCodeI16, 1, kCodeI32, 1, kCodeI64, 1, kCodeF64, 1,
             kCodeRefNull, HeapType::Func, 1});                  // 0
  types.raw({kCodeArray, kCodeI8, 1});                           // 1
  types.raw({kCodeArray, kCodeI16, 1});                          // 2
  types.raw({kCodeArray, kCodeRefNull, HeapType::Any, 1});       // 3
  types.raw({kCodeArray, kCodeI64, 1});                          // 4
  types.raw({kCodeStruct, 2, kCodeRefNull, 5, 1, kCodeI32, 1});  // 5 node
  types.raw(
      {kCodeStruct, 2, kCodeRefNull, HeapType::Any, 1, kCodeRefNull, HeapType::Extern, 1});  // 6
  types.raw({kCodeArray, kCodeRefNull, HeapType::Func, 1});                                  // 7
  types.raw({kCodeStruct, 1, kCodeRefNull, 1, 1});                                           // 8
  types.raw({kCodeArray, kCodeRefNull, HeapType::Extern, 1});                                // 9
  Bytes m = Bytes::header();
  return m.section(1, types);
}

// Roots as the runtime gives them: a list of slots.
class VecRoots final : public RootSource {
 public:
  VecRoots() = default;
  VecRoots(std::initializer_list<Ref> refs) : refs(refs) {}
  void forEachRoot(RootVisitor& v) override {
    for (Ref& r : refs) v.visit(r);
  }
  std::vector<Ref> refs;
};

class SlabHeapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto decoded = decodeModule(typesModule().data());
    ASSERT_TRUE(decoded.ok()) << decoded.error().toString();
    module_ = std::make_unique<Module>(std::move(decoded).value());
    auto types = canonicalizeTypes(*module_, store_);
    ASSERT_TRUE(types.ok()) << types.error().toString();
    for (uint32_t i = 0; i < 10; ++i) ids_.push_back(types->canon(i));
  }
  CanonTypeId mixedT() const { return ids_[0]; }
  CanonTypeId i8Array() const { return ids_[1]; }
  CanonTypeId i16Array() const { return ids_[2]; }
  CanonTypeId anyArray() const { return ids_[3]; }
  CanonTypeId i64Array() const { return ids_[4]; }
  CanonTypeId nodeT() const { return ids_[5]; }
  CanonTypeId anyExternT() const { return ids_[6]; }
  CanonTypeId funcArray() const { return ids_[7]; }
  CanonTypeId holderT() const { return ids_[8]; }
  CanonTypeId externArray() const { return ids_[9]; }

  static SlabHeapConfig tiny() {
    SlabHeapConfig c = SlabHeapConfig::smallSlabs();
    c.verify_after_gc = true;
    return c;
  }
  Ref node(Heap& h, Ref next, int32_t v) {
    Value f[] = {Value::ref(next), Value::i32(v)};
    return h.newStruct(nodeT(), f).value();
  }
  static std::vector<Value> mixedFields() {
    return {Value::i32(0x1FF), Value::i32(-1),   Value::i32(-7),
            Value::i64(-2),    Value::f64(-0.0), Value::ref(Ref::func(3))};
  }

  TypeStore store_;
  std::unique_ptr<Module> module_;
  std::vector<CanonTypeId> ids_;
};

// --- Values through the interface -------------------------------------------------------

TEST_F(SlabHeapTest, StructFieldsKeepValuesAndTruncatePacked) {
  SlabHeap heap(store_);
  Ref s = heap.newStruct(mixedT(), mixedFields()).value();
  EXPECT_TRUE(s.isObject());
  EXPECT_EQ(heap.typeOf(s), mixedT());
  EXPECT_EQ(heap.structGet(s, 0).bits(), 0xFFu);
  EXPECT_EQ(heap.structGet(s, 1).bits(), 0xFFFFu);
  EXPECT_EQ(heap.structGet(s, 2).i32(), -7);
  EXPECT_EQ(heap.structGet(s, 3).i64(), -2);
  EXPECT_EQ(heap.structGet(s, 4).f64Bits(), Value::f64(-0.0).f64Bits());
  EXPECT_EQ(heap.structGet(s, 5).ref(), Ref::func(3));
  heap.structSet(s, 0, Value::i32(0x12345678));
  EXPECT_EQ(heap.structGet(s, 0).bits(), 0x78u);
  heap.structSet(s, 5, Value::ref(Ref::func(9)));
  EXPECT_EQ(heap.structGet(s, 5).ref(), Ref::func(9));
  EXPECT_EQ(heap.violation(), nullptr);
}

TEST_F(SlabHeapTest, FuncsAndHostRefsInFieldsLiveInSideTables) {
  SlabHeap heap(store_);
  Ref s = heap.newStruct(mixedT(), mixedFields()).value();
  // The field holds a side-table id under the func tag, not the func itself.
  uint64_t w = Access::fieldWord(heap, s, 5);
  EXPECT_EQ(w & 7, 2u);
  EXPECT_NE(w, Ref::func(3).bits());
  EXPECT_EQ(slabid::tagOf(w >> 3), heap.tag());
  // Interned: the same func stored twice is one entry.
  Ref t = heap.newStruct(mixedT(), mixedFields()).value();
  EXPECT_EQ(Access::fieldWord(heap, t, 5), w);
  EXPECT_EQ(heap.slabStats().side_entries, 1u);
  Value ext[] = {Value::ref(Ref::host(77)), Value::ref(Ref::host(78))};
  Ref a = heap.newStruct(anyExternT(), ext).value();
  EXPECT_EQ(heap.structGet(a, 0).ref(), Ref::host(77));
  EXPECT_EQ(heap.structGet(a, 1).ref(), Ref::host(78));
  EXPECT_EQ(heap.slabStats().side_entries, 3u);
  // i31 and null stay inline.
  heap.structSet(a, 0, Value::ref(Ref::i31(5)));
  EXPECT_EQ(Access::fieldWord(heap, a, 0), Ref::i31(5).bits());
  EXPECT_EQ(heap.structGet(a, 0).ref(), Ref::i31(5));
  // A collection keeps the entries referenced from live objects only.
  VecRoots roots{s};
  heap.collect(roots);
  EXPECT_EQ(heap.violation(), nullptr);
  EXPECT_EQ(heap.slabStats().side_entries, 1u);
  EXPECT_EQ(heap.structGet(s, 5).ref(), Ref::func(3));
}

TEST_F(SlabHeapTest, ArraysFillGetSetCopyAndTruncate) {
  SlabHeap heap(store_);
  Ref a = heap.newArray(i16Array(), 4, Value::i32(0x12345)).value();
  EXPECT_EQ(heap.arrayLength(a), 4u);
  for (uint32_t i = 0; i < 4; ++i) EXPECT_EQ(heap.arrayGet(a, i).bits(), 0x2345u);
  heap.arraySet(a, 2, Value::i32(-1));
  EXPECT_EQ(heap.arrayGet(a, 2).bits(), 0xFFFFu);
  heap.arrayFill(a, 1, Value::i32(7), 2);
  EXPECT_EQ(heap.arrayGet(a, 0).bits(), 0x2345u);
  EXPECT_EQ(heap.arrayGet(a, 1).bits(), 7u);
  EXPECT_EQ(heap.arrayGet(a, 3).bits(), 0x2345u);
  std::vector<Value> init;
  for (int i = 0; i < 6; ++i) init.push_back(Value::i64(i));
  Ref b = heap.newArrayFrom(i64Array(), init).value();
  heap.arrayCopy(b, 1, b, 0, 4);  // overlap: 0 0 1 2 3 5
  std::vector<int64_t> want = {0, 0, 1, 2, 3, 5};
  for (uint32_t i = 0; i < 6; ++i) EXPECT_EQ(heap.arrayGet(b, i).i64(), want[i]) << i;
  Ref bytes = heap.newArray(i8Array(), 300, Value::i32(0x1AB)).value();  // a dedicated slab
  EXPECT_EQ(heap.arrayGet(bytes, 299).bits(), 0xABu);
  Ref funcs = heap.newArray(funcArray(), 3, Value::ref(Ref::func(4))).value();
  EXPECT_EQ(heap.arrayGet(funcs, 2).ref(), Ref::func(4));
  Ref funcs2 = heap.newArray(funcArray(), 3, Value::ref(Ref::null())).value();
  heap.arrayCopy(funcs2, 0, funcs, 1, 2);
  EXPECT_EQ(heap.arrayGet(funcs2, 1).ref(), Ref::func(4));
  EXPECT_TRUE(heap.arrayGet(funcs2, 2).ref().isNull());
  Value ext[] = {Value::ref(Ref::host(1)), Value::ref(Ref::i31(2)), Value::ref(Ref::null())};
  Ref e = heap.newArrayFrom(externArray(), ext).value();
  EXPECT_EQ(heap.arrayGet(e, 0).ref(), Ref::host(1));
  EXPECT_EQ(heap.arrayGet(e, 1).ref(), Ref::i31(2));
  Ref empty = heap.newArrayFrom(anyArray(), {}).value();
  EXPECT_EQ(heap.arrayLength(empty), 0u);
  EXPECT_EQ(heap.violation(), nullptr);
  VecRoots roots{b, funcs2, e};
  EXPECT_TRUE(heap.verify(roots));
}

// --- Collector --------------------------------------------------------------------------

TEST_F(SlabHeapTest, CollectKeepsReachableAndFreesTheRest) {
  SlabHeap heap(store_, {}, tiny());
  Ref keep = node(heap, Ref::null(), 1);
  keep = node(heap, keep, 2);
  Ref drop = node(heap, Ref::null(), 3);
  (void)drop;
  Value elems[] = {Value::ref(keep), Value::ref(Ref::i31(9))};
  Ref arr = heap.newArrayFrom(anyArray(), elems).value();
  EXPECT_EQ(heap.stats().live_objects, 4u);
  VecRoots roots{arr};
  heap.collect(roots);
  ASSERT_EQ(heap.violation(), nullptr);
  EXPECT_EQ(heap.stats().collections, 1u);
  EXPECT_EQ(heap.stats().live_objects, 3u);
  EXPECT_EQ(heap.slabStats().objects_freed, 1u);
  Ref first = heap.arrayGet(arr, 0).ref();
  EXPECT_EQ(heap.structGet(first, 1).i32(), 2);
  EXPECT_EQ(heap.structGet(heap.structGet(first, 0).ref(), 1).i32(), 1);
  EXPECT_TRUE(heap.verify(roots));
}

// The benchmark times pauses through GcObserver: each collection, whether
// forced by collect() or triggered at a safepoint, is bracketed exactly once,
// Started before any work and Finished after the collection is counted.
TEST_F(SlabHeapTest, ObserverBracketsEachCollectionOnce) {
  struct Recorder final : GcObserver {
    const SlabHeap* heap = nullptr;
    std::vector<std::pair<char, uint64_t>> events;  // 'S' or 'F', collections then
    void collectionStarted() override { events.emplace_back('S', heap->stats().collections); }
    void collectionFinished() override { events.emplace_back('F', heap->stats().collections); }
  } rec;
  SlabHeapConfig c = tiny();
  c.zeal = Zeal::everySafepoint();
  c.observer = &rec;
  SlabHeap heap(store_, {}, c);
  rec.heap = &heap;
  VecRoots roots{node(heap, Ref::null(), 1)};
  heap.collect(roots);
  heap.safepoint(roots);
  ASSERT_EQ(heap.violation(), nullptr);
  std::vector<std::pair<char, uint64_t>> want = {{'S', 0}, {'F', 1}, {'S', 1}, {'F', 2}};
  EXPECT_EQ(rec.events, want);
  EXPECT_EQ(heap.stats().collections, 2u);
}

TEST_F(SlabHeapTest, EmptySlabsAreReleasedAndTheirIndicesReused) {
  SlabHeap heap(store_, {}, tiny());
  VecRoots none;
  for (int i = 0; i < 100; ++i) (void)node(heap, Ref::null(), i);
  uint64_t created = heap.slabStats().slabs_created;
  EXPECT_GT(created, 3u);  // 256-byte slabs: many of them
  heap.collect(none);
  EXPECT_EQ(heap.slabStats().slabs_released, created);
  EXPECT_EQ(heap.slabStats().live_slabs, 0u);
  EXPECT_EQ(heap.stats().live_objects, 0u);
  EXPECT_EQ(heap.stats().live_bytes, 0u);
  Ref r = node(heap, Ref::null(), 5);
  EXPECT_EQ(slabid::slabOf(r.heapId()), 1u);  // the lowest index back, with a new identity
  EXPECT_EQ(slabid::identityOf(r.heapId()), 1u);
}

TEST_F(SlabHeapTest, AMillionLongListDoesNotRecurse) {
  SlabHeap heap(store_);
  Ref head = Ref::null();
  constexpr int kLength = 1000000;
  for (int i = 0; i < kLength; ++i) head = node(heap, head, i);
  VecRoots roots{head};
  heap.collect(roots);
  ASSERT_EQ(heap.violation(), nullptr);
  EXPECT_EQ(heap.stats().live_objects, uint64_t{kLength});
  roots.refs.clear();
  heap.collect(roots);
  EXPECT_EQ(heap.stats().live_objects, 0u);
  EXPECT_EQ(heap.slabStats().live_slabs, 0u);
}

TEST_F(SlabHeapTest, AnIndexWhoseIdentitiesRunOutIsRetired) {
  SlabHeap heap(store_, {}, tiny());
  VecRoots none;
  // Each round: one slab at index 1, released by the collection.
  for (uint32_t round = 0; round <= slabid::kMaxIdentity; ++round) {
    Ref r = node(heap, Ref::null(), 1);
    ASSERT_EQ(slabid::slabOf(r.heapId()), 1u) << round;
    ASSERT_EQ(slabid::identityOf(r.heapId()), round);
    heap.collect(none);
  }
  // Identity 1023 was the last: index 1 is never reused, so no old id can
  // match a slab there again.
  Ref r = node(heap, Ref::null(), 1);
  EXPECT_EQ(slabid::slabOf(r.heapId()), 2u);
  EXPECT_EQ(heap.violation(), nullptr);
}

TEST_F(SlabHeapTest, VerifyAfterGcFollowsTheBuild) {
  EXPECT_EQ(SlabHeapConfig{}.verify_after_gc, kCheckingLevel >= 1);
}

#ifdef SLABFUZZ_ASAN
using SlabHeapDeathTest = SlabHeapTest;

// Freed slots are ASan-poisoned: a raw read through a stale pointer (what a
// heap bug that skipped the id checks would do) stops the process.
TEST_F(SlabHeapDeathTest, FreedSlotsArePoisonedForAsan) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  SlabHeap heap(store_, {}, tiny());
  Ref keep = node(heap, Ref::null(), 1);
  Ref dead = node(heap, Ref::null(), 2);
  const volatile uint64_t* raw = Access::words(heap, dead);
  VecRoots roots{keep};
  heap.collect(roots);
  EXPECT_DEATH((void)raw[1], "use-after-poison");
}
#endif

// --- Violations, each on purpose -------------------------------------------------------

TEST_F(SlabHeapTest, ForeignHeap) {
  SlabHeap a(store_), b(store_);
  Ref r = a.newStruct(mixedT(), mixedFields()).value();
  EXPECT_EQ(b.typeOf(r), 0u);  // harmless
  ASSERT_NE(b.violation(), nullptr);
  EXPECT_EQ(b.violation()->kind, HeapViolationKind::ForeignHeap);
  EXPECT_EQ(b.violation()->signatureKind(), "slab-id:foreign-heap");
  EXPECT_EQ(b.violation()->id.heap_tag, a.tag());
}

TEST_F(SlabHeapTest, SlabOutOfRange) {
  SlabHeap heap(store_);
  Ref r = Ref::object(slabid::pack(heap.tag(), 1000, 0, 0, 0));
  EXPECT_EQ(heap.arrayLength(r), 0u);
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::SlabOutOfRange);
  EXPECT_EQ(heap.violation()->id.slab, 1000u);
}

TEST_F(SlabHeapTest, ReleasedSlabIsOutOfRange) {
  SlabHeap heap(store_, {}, tiny());
  Ref r = node(heap, Ref::null(), 1);
  VecRoots none;
  heap.collect(none);  // released, index not reused yet
  (void)heap.structGet(r, 1);
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::SlabOutOfRange);
}

TEST_F(SlabHeapTest, DifferentSlab) {
  SlabHeap heap(store_, {}, tiny());
  Ref old = node(heap, Ref::null(), 1);
  VecRoots none;
  heap.collect(none);  // its slab is empty: released
  // The index comes back for the next slab, of another size class even.
  Ref fresh = heap.newArray(i64Array(), 3, Value()).value();
  ASSERT_EQ(slabid::slabOf(fresh.heapId()), slabid::slabOf(old.heapId()));
  ASSERT_NE(slabid::identityOf(fresh.heapId()), slabid::identityOf(old.heapId()));
  EXPECT_EQ(heap.structGet(old, 1).bits(), 0u);  // harmless
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::DifferentSlab);
  EXPECT_EQ(heap.violation()->operation, "structGet");
  EXPECT_EQ(heap.violation()->phase, HeapPhase::Mutator);
  EXPECT_EQ(heap.violation()->gc_cycle, 1u);
  std::string text = heap.violation()->describe();
  EXPECT_NE(text.find("id from different slab"), std::string::npos) << text;
  EXPECT_NE(text.find("slab-id:different-slab"), std::string::npos) << text;
  EXPECT_NE(text.find("an array"), std::string::npos) << text;  // what the slot holds now
}

TEST_F(SlabHeapTest, FreeSlot) {
  SlabHeap heap(store_, {}, tiny());
  Ref keep = node(heap, Ref::null(), 1);
  Ref dead = node(heap, Ref::null(), 2);
  ASSERT_EQ(slabid::slabOf(keep.heapId()), slabid::slabOf(dead.heapId()));
  VecRoots roots{keep};
  heap.collect(roots);
  heap.structSet(dead, 1, Value::i32(5));  // nothing written
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::FreeSlot);
  EXPECT_NE(heap.violation()->now_holds.find("free"), std::string::npos);
  // A slot beyond the slab's capacity is a free slot too.
  heap.clearViolation();
  uint64_t id = keep.heapId();
  Ref beyond = Ref::object(slabid::pack(heap.tag(), slabid::slabOf(id), slabid::identityOf(id),
                                        slabid::kMaxSlots - 1, 0));
  (void)heap.typeOf(beyond);
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::FreeSlot);
}

TEST_F(SlabHeapTest, StaleGeneration) {
  SlabHeap heap(store_, {}, tiny());
  Ref keep = node(heap, Ref::null(), 1);
  Ref dead = node(heap, Ref::null(), 2);
  VecRoots roots{keep};
  heap.collect(roots);
  Ref reused = node(heap, Ref::null(), 3);  // the freed slot, LIFO
  ASSERT_EQ(slabid::slotOf(reused.heapId()), slabid::slotOf(dead.heapId()));
  ASSERT_EQ(slabid::slabOf(reused.heapId()), slabid::slabOf(dead.heapId()));
  EXPECT_EQ(heap.structGet(dead, 1).bits(), 0u);  // not 3
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::StaleGeneration);
  EXPECT_EQ(heap.violation()->id.generation + 1, slabid::generationOf(reused.heapId()));
}

TEST_F(SlabHeapTest, TypeConfusion) {
  SlabHeap heap(store_);
  Ref s = heap.newStruct(mixedT(), mixedFields()).value();
  EXPECT_EQ(heap.arrayLength(s), 0u);  // a struct used as an array
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::TypeConfusion);
  heap.clearViolation();
  Ref a = heap.newArray(i8Array(), 2, Value()).value();
  (void)heap.structGet(a, 0);  // an array used as a struct
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::TypeConfusion);
  heap.clearViolation();
  (void)heap.structGet(s, 6);  // a field the type does not have
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::TypeConfusion);
  heap.clearViolation();
  // A side-table id used as an object (a func table id read as a struct).
  uint64_t side = Access::fieldWord(heap, s, 5) >> 3;
  (void)heap.typeOf(Ref::object(side));
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::TypeConfusion);
}

TEST_F(SlabHeapTest, StaleRootIsSeenInTheMarkPhase) {
  SlabHeap heap(store_, {}, tiny());
  Ref keep = node(heap, Ref::null(), 1);
  Ref lost = node(heap, Ref::null(), 2);
  VecRoots roots{keep};
  heap.collect(roots);  // `lost` was not a root: freed
  (void)node(heap, Ref::null(), 3);
  roots.refs.push_back(lost);  // ...and now it shows up as one
  heap.collect(roots);
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::StaleGeneration);
  EXPECT_EQ(heap.violation()->phase, HeapPhase::Mark);
  EXPECT_EQ(heap.stats().collections, 1u);  // the second never swept
  heap.clearViolation();
  roots.refs.pop_back();
  EXPECT_TRUE(heap.verify(roots));  // and left no mark bit behind
}

// --- Verifier invariants, each broken through the hook ----------------------------------

class SlabHeapVerifyTest : public SlabHeapTest {
 protected:
  // Three nodes in one slab, the middle one freed: a free list of one.
  void build(SlabHeap& heap) {
    a = node(heap, Ref::null(), 1);
    b = node(heap, Ref::null(), 2);
    c = node(heap, a, 3);
    roots.refs = {c};
    heap.collect(roots);
    ASSERT_EQ(heap.violation(), nullptr);
    ASSERT_TRUE(heap.verify(roots));
  }
  void expectInvariant(SlabHeap& heap, const std::string& invariant) {
    EXPECT_FALSE(heap.verify(roots));
    ASSERT_NE(heap.violation(), nullptr);
    EXPECT_EQ(heap.violation()->kind, HeapViolationKind::Verify);
    EXPECT_EQ(heap.violation()->phase, HeapPhase::Verify);
    EXPECT_EQ(heap.violation()->invariant, invariant) << heap.violation()->describe();
    EXPECT_EQ(heap.violation()->signatureKind(), "heap-verify:" + invariant);
  }
  Ref a, b, c;
  VecRoots roots;
};

TEST_F(SlabHeapVerifyTest, FreeListDuplicate) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::duplicateFreeListTop(Access::slabOf(heap, b));
  expectInvariant(heap, "free list holds no duplicates");
}

TEST_F(SlabHeapVerifyTest, FreeListHoldsAnAllocatedSlot) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::pushOnFreeList(Access::slabOf(heap, a), slabid::slotOf(a.heapId()));
  expectInvariant(heap, "free list holds only free slots");
}

TEST_F(SlabHeapVerifyTest, FreeSlotWrittenAfterFree) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::writeIntoFreeSlot(Access::slabOf(heap, b), slabid::slotOf(b.heapId()));
  expectInvariant(heap, "free list holds only poisoned slots");
  // Allocation notices it too, when it hands the slot out.
  heap.clearViolation();
  Ref again = node(heap, Ref::null(), 4);
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->invariant, "free slot written after free");
  EXPECT_EQ(heap.violation()->id.raw, again.heapId());
}

TEST_F(SlabHeapVerifyTest, SlotCountsDisagree) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::bumpLive(Access::slabOf(heap, a));
  expectInvariant(heap, "live + free == capacity");
}

TEST_F(SlabHeapVerifyTest, FreshSlotWithState) {
  SlabHeap heap(store_, {}, SlabHeapConfig{});  // 64 KiB slabs: fresh slots remain
  build(heap);
  Access::dirtyFreshSlot(Access::slabOf(heap, a));
  expectInvariant(heap, "fresh slots have no state");
}

TEST_F(SlabHeapVerifyTest, StaleMarkBit) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::setMark(heap, a);
  expectInvariant(heap, "no mark bit outside a collection");
}

TEST_F(SlabHeapVerifyTest, HeaderTypeDisagrees) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::setHeaderType(heap, c, i8Array());  // a struct header naming an array type
  expectInvariant(heap, "header type is the object's kind");
}

TEST_F(SlabHeapVerifyTest, ReachableSlotFreed) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::freeBehindTheHeapsBack(heap, a);  // c.next still names it
  expectInvariant(heap, "no reachable slot is free");
}

TEST_F(SlabHeapVerifyTest, FieldValueOfTheWrongType) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  // (ref null $i8array) field holding a node: the interpreter would never.
  Value f[] = {Value::ref(a)};
  Ref h = heap.newStruct(holderT(), f).value();
  roots.refs.push_back(h);
  expectInvariant(heap, "field value matches field type");
}

TEST_F(SlabHeapVerifyTest, SideTableOutOfStep) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Ref s = heap.newStruct(mixedT(), mixedFields()).value();
  roots.refs.push_back(s);
  ASSERT_TRUE(heap.verify(roots));
  Access::forgetInternedFunc(heap, 3);
  expectInvariant(heap, "side entries == interned entries");
}

TEST_F(SlabHeapVerifyTest, SlotHeaderOfTheWrongKind) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Access::setHeaderBits(heap, a, Access::kSideEntryBit);  // an "entry" in an object slab
  expectInvariant(heap, "slot header kind == slab kind");
}

TEST_F(SlabHeapVerifyTest, RootFromAnotherHeap) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  SlabHeap other(store_);
  roots.refs.push_back(node(other, Ref::null(), 9));
  expectInvariant(heap, "every reachable id resolves");
  EXPECT_NE(heap.violation()->now_holds.find("foreign-heap"), std::string::npos);
}

TEST_F(SlabHeapVerifyTest, FuncFieldWithABadSideId) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  Ref s = heap.newStruct(mixedT(), mixedFields()).value();
  roots.refs.push_back(s);
  ASSERT_TRUE(heap.verify(roots));
  // The seed bug's last step in Wasmtime: a funcref field whose table id
  // names no entry. Here: a side id into a slab that never existed.
  uint64_t bogus = slabid::pack(heap.tag(), 1000, 0, 0, 0);
  Access::setFieldWord(heap, s, 5, (bogus << 3) | 2);
  expectInvariant(heap, "side-table ids in fields resolve");
  heap.clearViolation();
  EXPECT_TRUE(heap.structGet(s, 5).ref().isNull());  // harmless
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->kind, HeapViolationKind::SlabOutOfRange);
}

TEST_F(SlabHeapVerifyTest, LiveButUnreachableAfterAGC) {
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  // Inside a collection, fewer roots than the collection saw stand for a
  // sweep that kept something unreachable.
  roots.refs.clear();
  EXPECT_FALSE(SlabHeapTestAccess::verifyAsAfterGc(heap, roots));
  ASSERT_NE(heap.violation(), nullptr);
  EXPECT_EQ(heap.violation()->invariant, "live objects == reachable objects after a GC");
}

TEST_F(SlabHeapVerifyTest, GarbageAfterTheRootsShrankIsNotAViolation) {
  // On demand (the oracle's observation points), roots that shrank since
  // the last collection leave garbage live: that is not a broken invariant.
  SlabHeap heap(store_, {}, tiny());
  build(heap);
  roots.refs.clear();
  EXPECT_TRUE(heap.verify(roots));
  EXPECT_EQ(heap.violation(), nullptr);
}

// --- Triggers and zeal ---------------------------------------------------------------------

TEST_F(SlabHeapTest, ZealEverySafepoint) {
  SlabHeapConfig c;
  c.zeal = Zeal::everySafepoint();
  SlabHeap heap(store_, {}, c);
  VecRoots roots;
  for (int i = 0; i < 10; ++i) {
    heap.safepoint(roots);
    roots.refs.push_back(node(heap, Ref::null(), i));
  }
  EXPECT_EQ(heap.stats().collections, 10u);
  EXPECT_EQ(heap.stats().live_objects, 10u);
  EXPECT_EQ(heap.violation(), nullptr);
}

TEST_F(SlabHeapTest, ZealEveryNAllocations) {
  SlabHeapConfig c;
  c.zeal = Zeal::everyNAllocations(3);
  SlabHeap heap(store_, {}, c);
  VecRoots roots;
  for (int i = 0; i < 10; ++i) {
    heap.safepoint(roots);  // before allocations 1..10: after 3, 6 and 9
    (void)node(heap, Ref::null(), i);
  }
  EXPECT_EQ(heap.stats().collections, 3u);
  EXPECT_EQ(heap.stats().live_objects, 1u);  // nothing rooted: only the last survives
}

TEST_F(SlabHeapTest, ZealRandomIsDeterministicPerSeed) {
  auto schedule = [&](uint64_t seed) {
    SlabHeapConfig c;
    c.zeal = Zeal::random(seed, 4);
    SlabHeap heap(store_, {}, c);
    VecRoots roots;
    std::vector<uint64_t> at;
    for (int i = 0; i < 200; ++i) {
      uint64_t before = heap.stats().collections;
      heap.safepoint(roots);
      if (heap.stats().collections != before) at.push_back(i);
    }
    return at;
  };
  std::vector<uint64_t> a = schedule(42), b = schedule(42), other = schedule(43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  EXPECT_GT(a.size(), 20u);  // about one in four of 200
  EXPECT_LT(a.size(), 90u);
}

TEST_F(SlabHeapTest, BudgetTriggersACollection) {
  SlabHeapConfig c;
  c.gc_budget_bytes = 1000;
  SlabHeap heap(store_, {}, c);
  VecRoots roots;
  heap.safepoint(roots);
  EXPECT_EQ(heap.stats().collections, 0u);
  for (int i = 0; i < 30; ++i) (void)node(heap, Ref::null(), i);  // 30 * 28 bytes
  heap.safepoint(roots);
  EXPECT_EQ(heap.stats().collections, 0u);
  for (int i = 0; i < 30; ++i) (void)node(heap, Ref::null(), i);
  heap.safepoint(roots);
  EXPECT_EQ(heap.stats().collections, 1u);
  EXPECT_EQ(heap.stats().live_objects, 0u);
}

// --- Limits -----------------------------------------------------------------------------------

TEST_F(SlabHeapTest, HugeArraysAreRefusedBeforeAllocating) {
  SlabHeap heap(store_);
  auto r = heap.newArray(i8Array(), uint32_t{1} << 31, Value());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), TrapKind::ArrayTooLarge);
  HeapLimits big;
  big.max_array_length = UINT32_MAX;
  SlabHeap heap2(store_, big);
  auto t = heap2.newArray(i64Array(), UINT32_MAX, Value());  // 32 GiB
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error(), TrapKind::HeapExhausted);
  EXPECT_EQ(heap.slabStats().slabs_created + heap2.slabStats().slabs_created, 0u);
  EXPECT_EQ(heap.stats().allocations + heap2.stats().allocations, 0u);
}

TEST_F(SlabHeapTest, MaxBytesTrapsAndACollectionMakesRoom) {
  HeapLimits limits;
  limits.max_bytes = 4096;
  SlabHeap heap(store_, limits, tiny());
  int made = 0;
  for (; made < 100; ++made) {
    auto r = heap.newArray(i64Array(), 100, Value());  // 816 bytes each
    if (!r.ok()) {
      EXPECT_EQ(r.error(), TrapKind::HeapExhausted);
      break;
    }
  }
  EXPECT_EQ(made, 5);
  EXPECT_LE(heap.stats().live_bytes, limits.max_bytes);
  VecRoots none;
  heap.collect(none);
  EXPECT_TRUE(heap.newArray(i64Array(), 100, Value()).ok());
  // Near the cap, safepoints collect before the allocation is refused.
  for (int i = 0; i < 50; ++i) {
    heap.safepoint(none);
    ASSERT_TRUE(heap.newArray(i64Array(), 100, Value()).ok()) << i;
  }
  EXPECT_GT(heap.stats().collections, 1u);
}

// --- Digest -----------------------------------------------------------------------------------

TEST_F(SlabHeapTest, DigestEqualsTheReferenceHeapsForTheSameGraph) {
  auto build = [&](Heap& h, int32_t tweak) {
    std::vector<Ref> roots;
    Ref list = Ref::null();
    for (int i = 0; i < 20; ++i) list = node(h, list, i);
    Ref mixed = h.newStruct(mixedT(), mixedFields()).value();
    Value ae[] = {Value::ref(list), Value::ref(Ref::i31(7)), Value::ref(mixed),
                  Value::ref(Ref::host(11)), Value::ref(list)};
    Ref anys = h.newArrayFrom(anyArray(), ae).value();
    Ref bytes = h.newArray(i8Array(), 40, Value::i32(0x3C5)).value();
    h.arraySet(bytes, 3, Value::i32(tweak));
    Value ext[] = {Value::ref(anys), Value::ref(Ref::host(5))};
    Ref pair = h.newStruct(anyExternT(), ext).value();
    roots = {pair, Ref::null(), bytes, Ref::func(8), list};
    return roots;
  };
  ReferenceHeap ref(store_);
  SlabHeap slab(store_, {}, tiny());
  std::vector<Ref> rr = build(ref, 1), sr = build(slab, 1);
  uint64_t d = ref.digest(rr);
  EXPECT_EQ(slab.digest(sr), d);
  // Still equal after a collection in the slab heap (and garbage in it).
  (void)node(slab, Ref::null(), 99);
  VecRoots roots;
  roots.refs = sr;
  slab.collect(roots);
  ASSERT_EQ(slab.violation(), nullptr);
  EXPECT_EQ(slab.digest(sr), d);
  // One field differs: the digest differs.
  ReferenceHeap ref2(store_);
  std::vector<Ref> rr2 = build(ref2, 2);
  EXPECT_NE(ref2.digest(rr2), d);
  // Sharing matters: the same object twice is not two equal objects.
  ReferenceHeap ref3(store_);
  Ref x = node(ref3, Ref::null(), 1), y = node(ref3, Ref::null(), 1);
  std::vector<Ref> same = {x, x}, twins = {x, y};
  EXPECT_NE(ref3.digest(same), ref3.digest(twins));
}

// --- Property test: random operations against a model ----------------------------------------

TEST_F(SlabHeapTest, RandomOperationsMatchAModel) {
  enum Kind { Node, Longs, Bytes8 };
  struct Obj {
    Ref ref;
    Kind kind;
    std::vector<uint64_t> values;  // node: {value}; arrays: elements
    int next = -1;                 // node: model handle of .next, or -1
    bool alive = true;
  };
  for (uint32_t seed : {1u, 2u, 3u, 4u}) {
    SCOPED_TRACE(seed);
    std::mt19937 rng(seed);
    SlabHeap heap(store_, {}, tiny());
    std::vector<Obj> objs;
    std::vector<int> rooted;
    auto reachable = [&] {
      std::vector<char> seen(objs.size(), 0);
      std::vector<int> work(rooted.begin(), rooted.end());
      while (!work.empty()) {
        int h = work.back();
        work.pop_back();
        if (seen[h]) continue;
        seen[h] = 1;
        if (objs[h].kind == Node && objs[h].next >= 0) work.push_back(objs[h].next);
      }
      return seen;
    };
    auto pickLive = [&]() -> int {
      std::vector<int> live;
      for (size_t i = 0; i < objs.size(); ++i)
        if (objs[i].alive) live.push_back(static_cast<int>(i));
      return live.empty() ? -1 : live[rng() % live.size()];
    };
    auto checkContents = [&](const Obj& o) {
      if (o.kind == Node) {
        ASSERT_EQ(heap.structGet(o.ref, 1).u32(), o.values[0]);
        Ref next = heap.structGet(o.ref, 0).ref();
        ASSERT_EQ(next, o.next < 0 ? Ref::null() : objs[o.next].ref);
      } else {
        ASSERT_EQ(heap.arrayLength(o.ref), o.values.size());
        for (uint32_t i = 0; i < o.values.size(); ++i)
          ASSERT_EQ(heap.arrayGet(o.ref, i).bits(), o.values[i]) << i;
      }
      ASSERT_EQ(heap.violation(), nullptr) << heap.violation()->describe();
    };
    std::vector<Ref> dead_refs;
    // Whatever the roots no longer reach is dead to the model (and to the
    // test: never touched again, only probed after the next collection).
    auto buryUnreachable = [&] {
      std::vector<char> seen = reachable();
      for (size_t i = 0; i < objs.size(); ++i)
        if (objs[i].alive && !seen[i]) {
          objs[i].alive = false;
          dead_refs.push_back(objs[i].ref);
        }
    };
    for (int step = 0; step < 3000; ++step) {
      switch (rng() % 8) {
        case 0:
        case 1: {  // allocate a node pointing at a live object (or null)
          int to = rng() % 2 ? pickLive() : -1;
          if (to >= 0 && objs[to].kind != Node) to = -1;
          uint32_t v = rng();
          Ref r = node(heap, to < 0 ? Ref::null() : objs[to].ref, static_cast<int32_t>(v));
          objs.push_back({r, Node, {v}, to});
          rooted.push_back(static_cast<int>(objs.size()) - 1);
          break;
        }
        case 2: {  // allocate an array: small, or big enough for a slab of its own
          bool longs = rng() % 2;
          uint32_t n = rng() % (longs ? 40 : 300);
          std::vector<Value> init;
          std::vector<uint64_t> model;
          for (uint32_t i = 0; i < n; ++i) {
            uint64_t v = longs ? (uint64_t{rng()} << 32 | rng()) : rng() & 0xFF;
            init.push_back(Value::fromBits(v));
            model.push_back(v);
          }
          Ref r = heap.newArrayFrom(longs ? i64Array() : i8Array(), init).value();
          objs.push_back({r, longs ? Longs : Bytes8, model});
          rooted.push_back(static_cast<int>(objs.size()) - 1);
          break;
        }
        case 3: {  // write
          int h = pickLive();
          if (h < 0) break;
          Obj& o = objs[h];
          if (o.kind == Node) {
            if (rng() % 2) {
              uint32_t v = rng();
              heap.structSet(o.ref, 1, Value::i32(static_cast<int32_t>(v)));
              o.values[0] = v;
            } else {
              int to = pickLive();
              if (to >= 0 && objs[to].kind != Node) to = -1;
              heap.structSet(o.ref, 0, Value::ref(to < 0 ? Ref::null() : objs[to].ref));
              o.next = to;
              buryUnreachable();  // the old target may have lost its last path
            }
          } else if (!o.values.empty()) {
            uint32_t i = rng() % o.values.size();
            uint64_t v = o.kind == Longs ? rng() : rng() & 0xFF;
            heap.arraySet(o.ref, i, Value::fromBits(v));
            o.values[i] = v;
          }
          break;
        }
        case 4: {  // read
          int h = pickLive();
          if (h >= 0) checkContents(objs[h]);
          break;
        }
        case 5:
        case 6: {  // drop a root
          if (rooted.empty()) break;
          rooted.erase(rooted.begin() + rng() % rooted.size());
          buryUnreachable();
          break;
        }
        case 7: {  // collect, verify, read everything back
          VecRoots roots;
          for (int h : rooted) roots.refs.push_back(objs[h].ref);
          heap.collect(roots);
          ASSERT_EQ(heap.violation(), nullptr) << heap.violation()->describe();
          ASSERT_TRUE(heap.verify(roots));
          uint64_t alive = 0;
          for (const Obj& o : objs)
            if (o.alive) {
              ++alive;
              checkContents(o);
            }
          ASSERT_EQ(heap.stats().live_objects, alive);
          // Every dead id now fails (the slot was freed, or its slab released).
          for (Ref r : dead_refs) {
            (void)heap.typeOf(r);
            ASSERT_NE(heap.violation(), nullptr);
            HeapViolationKind k = heap.violation()->kind;
            ASSERT_TRUE(k == HeapViolationKind::SlabOutOfRange ||
                        k == HeapViolationKind::DifferentSlab || k == HeapViolationKind::FreeSlot ||
                        k == HeapViolationKind::StaleGeneration)
                << heap.violation()->describe();
            heap.clearViolation();
          }
          dead_refs.clear();
          break;
        }
      }
      if (HasFatalFailure()) return;
    }
    EXPECT_GT(heap.slabStats().slabs_released, 10u);
    EXPECT_GT(heap.slabStats().slabs_created, heap.slabStats().live_slabs + 10);
  }
}

}  // namespace
}  // namespace slabfuzz
