// The slab heap's verifier (DESIGN.md "Heap", CONVENTIONS.md rule 10).
// Owns: checking every invariant of the slab heap over its slabs and over
// the graph reachable from the roots, and naming the first broken one.
// Does not own: the id checks of ordinary accesses (slab_heap.h resolve).
// Contract: verify() changes nothing the mutator can see (it borrows the
// mark bits and clears them again); on the first broken invariant it records
// a Verify violation (phase Verify) naming the invariant, the slab, the slot
// and the id, and returns false.
//
// The invariants, by the name a report gives them (HeapViolation::invariant,
// so the signature is heap-verify:<name>), in the order they are checked:
//   per slab
//     "slot header kind == slab kind"       object headers in object slabs,
//                                           func/host entries in their tables
//     "no mark bit outside a collection"    mark bits only inside collect()
//     "free list holds only free slots"     in range, not allocated/retired/fresh
//     "free list holds no duplicates"
//     "free list holds only poisoned slots" every byte == kPoisonByte
//     "live + free == capacity"             live + freeList + fresh + retired
//                                           == capacity, live == allocated slots
//     "generations count frees"             sum of used slots' generations +
//                                           retired == frees (every free bumps
//                                           a generation or retires the slot)
//   whole heap
//     "sum(slab live) == live objects"      == stats().live_objects
//     "side entries == interned entries"    side slab live == side stats ==
//                                           entries in the intern tables
//     "side entry is interned for its value" intern[value] == the entry's id
//   from the roots
//     "every reachable id resolves"         (the id check's kind in the text)
//     "no reachable slot is free"           free-slot / stale-generation
//     "header type is the object's kind"    struct/array type, field count,
//                                           element size and ref-ness
//     "field value matches field type"      null only if nullable; i31, object
//                                           (type <: field's heap type), func
//                                           only in func fields, host refs in
//                                           extern or any fields
//     "side-table ids in fields resolve"    to an entry of the tag's table
//   right after a collection (no allocation or reference store since)
//     "live objects == reachable objects after a GC"
//     "live side entries == referenced side entries after a GC"
// (Allocation checks one more, out of here: "free slot written after free",
// a reused slot that lost its poison; slab_heap.cc allocSlot.)
#include <fmt/format.h>

#include <vector>

#include "heap/slab_heap.h"

namespace slabfuzz {
namespace {

// Where a reference field's value may come from, by its declared type's
// hierarchy (canonical space).
enum class Hierarchy { Any, Func, Extern };

}  // namespace

bool SlabHeap::verify(RootSource& roots) {
  HeapPhase saved_phase = phase_;
  phase_ = HeapPhase::Verify;
  // It walks every slab and the reachable graph (HeapStats::gc_work).
  stats_.gc_work += 1 + stats_.live_objects + slab_stats_.side_entries + slab_stats_.live_slabs;
  bool failed = false;
  auto fail = [&](const char* invariant, uint64_t id, uint32_t idx, uint32_t slot,
                  std::string detail) {
    if (failed) return;
    failed = true;
    HeapViolation v;
    v.kind = HeapViolationKind::Verify;
    v.phase = HeapPhase::Verify;
    v.invariant = invariant;
    v.id = slabid::decode(id);
    v.now_holds = std::move(detail);
    if (idx != 0) v.now_holds += "; " + describeSlot(idx, slot);
    v.operation = "verify";
    v.gc_cycle = stats_.collections;
    report(std::move(v));
  };
  auto idOf = [&](uint32_t idx, uint32_t slot) {
    const Slab<uint64_t>& s = slabs_[idx].slab;
    return slabid::pack(tag_, idx, s.identity(), slot, s.generation(slot));
  };

  // --- Per slab ---------------------------------------------------------------------------
  uint64_t object_live = 0, side_live = 0;
  std::vector<uint8_t> seen;  // per slot of the slab at hand: on the free list already
  for (uint32_t idx = 1; idx < slabs_.size() && !failed; ++idx) {
    const SlabEntry& e = slabs_[idx];
    const Slab<uint64_t>& s = e.slab;
    if (!s.isLive()) continue;
    uint32_t allocated = 0, retired = 0;
    uint64_t generations = 0;
    // Slots past used() were never handed out: their states must be zero,
    // checked in one sweep rather than slot by slot.
    if (!s.freshStatesClear()) {
      fail("fresh slots have no state", 0, idx, s.used(),
           fmt::format("a slot at or past {} (never handed out) is allocated, retired or has a "
                       "generation",
                       s.used()));
      break;
    }
    for (uint32_t slot = 0; slot < s.used() && !failed; ++slot) {
      generations += s.generation(slot);
      if (s.isRetired(slot)) ++retired;
      if (!s.isAllocated(slot)) continue;
      ++allocated;
      uint64_t h = s.at(slot)[0];
      // The header is the slab's kind: an object in an object slab, an
      // entry of the right table in a side slab.
      bool side = (h & kSideEntry) != 0;
      bool kind_ok =
          e.kind == SlabKind::Object
              ? !side
              : side && typeBits(h) == (e.kind == SlabKind::FuncTable ? kSideFunc : kSideHost);
      if (!kind_ok)
        fail("slot header kind == slab kind", idOf(idx, slot), idx, slot,
             fmt::format("header 0x{:x}", h));
      // Mark bits live only inside collect() (WAMR 5070: a stale mark bit
      // makes garbage look live, or a non-reference a root).
      if (h & kMark)
        fail("no mark bit outside a collection", idOf(idx, slot), idx, slot,
             "the header's mark bit is set");
    }
    if (failed) break;
    // Free list: no duplicates, only free slots, only poisoned slots.
    seen.assign(s.used(), 0);
    for (uint32_t slot : s.freeList()) {
      if (slot >= s.capacity()) {
        fail("free list holds only free slots", 0, idx, 0,
             fmt::format("the free list names slot {} of {}", slot, s.capacity()));
        break;
      }
      if (s.wasUsed(slot) && seen[slot]++) {
        fail("free list holds no duplicates", idOf(idx, slot), idx, slot,
             fmt::format("slot {} is on the free list twice", slot));
        break;
      }
      if (s.isAllocated(slot) || s.isRetired(slot) || !s.wasUsed(slot)) {
        fail("free list holds only free slots", idOf(idx, slot), idx, slot,
             fmt::format("slot {} is on the free list but {}", slot,
                         s.isAllocated(slot) ? "allocated"
                         : s.isRetired(slot) ? "retired"
                                             : "fresh"));
        break;
      }
      if (!s.holdsPoison(slot)) {
        fail("free list holds only poisoned slots", idOf(idx, slot), idx, slot,
             fmt::format(
                 "free slot {} no longer holds the poison pattern 0x{:x} (written after free)",
                 slot, kPoisonWord));
        break;
      }
    }
    if (failed) break;
    // live + freeList + fresh + retired == capacity
    if (uint64_t{allocated} + s.freeListSize() + s.fresh() + retired != s.capacity() ||
        allocated != s.live() || retired != s.retired()) {
      fail("live + free == capacity", 0, idx, 0,
           fmt::format(
               "{} allocated (the slab counts {}) + {} on the free list + {} fresh + {} retired "
               "(counted {}) != capacity {}",
               allocated, s.live(), s.freeListSize(), s.fresh(), retired, s.retired(),
               s.capacity()));
      break;
    }
    if (generations + retired != s.frees()) {
      fail("generations count frees", 0, idx, 0,
           fmt::format("{} frees, but the generations of the slab's slots add up to {} and {} "
                       "slots are retired: a slot was reused without a new generation, so a "
                       "stale id would resolve to its next object",
                       s.frees(), generations, retired));
      break;
    }
    (e.kind == SlabKind::Object ? object_live : side_live) += allocated;
  }
  if (!failed && object_live != stats_.live_objects)
    fail(
        "sum(slab live) == live objects", 0, 0, 0,
        fmt::format("slabs hold {} objects, the stats count {}", object_live, stats_.live_objects));
  size_t interned = host_entries_.size();
  for (uint64_t id : func_entries_) interned += id != 0;
  if (!failed && (side_live != slab_stats_.side_entries || interned != side_live))
    fail("side entries == interned entries", 0, 0, 0,
         fmt::format("side slabs hold {} entries, the stats count {}, the intern tables {}",
                     side_live, slab_stats_.side_entries, interned));
  // Every live side entry is the interned one for its value.
  for (uint32_t idx = 1; idx < slabs_.size() && !failed; ++idx) {
    const SlabEntry& e = slabs_[idx];
    if (!e.slab.isLive() || e.kind == SlabKind::Object) continue;
    for (uint32_t slot = 0; slot < e.slab.used(); ++slot) {
      if (!e.slab.isAllocated(slot)) continue;
      Ref r = Ref::fromBits(e.slab.at(slot)[1]);
      uint64_t id = idOf(idx, slot);
      uint64_t interned_id = 0;
      if (e.kind == SlabKind::FuncTable) {
        if (r.isFunc() && r.funcAddr() < func_entries_.size())
          interned_id = func_entries_[r.funcAddr()];
      } else if (r.isHost()) {
        auto it = host_entries_.find(r.hostPayload());
        if (it != host_entries_.end()) interned_id = it->second;
      }
      if (interned_id != id) {
        fail("side entry is interned for its value", id, idx, slot,
             fmt::format("the intern table names 0x{:x} for 0x{:x}", interned_id, r.bits()));
        break;
      }
    }
  }
  if (failed) {
    phase_ = saved_phase;
    return false;
  }

  // --- Reachable graph (marks borrowed, all clear at this point) --------------------------
  uint64_t reached_objects = 0, reached_side = 0;
  std::vector<uint64_t> stack;  // ids of marked objects still to scan
  auto resolves = [&](uint64_t id, const char* what) -> uint64_t* {
    HeapViolationKind kind;
    if (classifyId(id, kind)) {
      bool freed =
          kind == HeapViolationKind::FreeSlot || kind == HeapViolationKind::StaleGeneration;
      fail(freed ? "no reachable slot is free" : "every reachable id resolves", id,
           kind == HeapViolationKind::ForeignHeap ? 0 : slabid::slabOf(id), slabid::slotOf(id),
           fmt::format("{} fails as {}", what, heapViolationName(kind)));
      return nullptr;
    }
    return const_cast<uint64_t*>(slabs_[slabid::slabOf(id)].slab.at(slabid::slotOf(id)));
  };
  auto reachObject = [&](uint64_t id, const char* what) -> uint64_t* {
    uint64_t* o = resolves(id, what);
    if (!o) return nullptr;
    if (o[0] & kSideEntry) {
      fail("every reachable id resolves", id, slabid::slabOf(id), slabid::slotOf(id),
           fmt::format("{} names a side-table entry, not an object", what));
      return nullptr;
    }
    if (!(o[0] & kMark)) {
      o[0] |= kMark;
      ++reached_objects;
      stack.push_back(id);
    }
    return o;
  };

  struct RootCheck final : RootVisitor {
    explicit RootCheck(std::vector<Ref>& out) : refs(out) {}
    void visit(Ref& slot) override { refs.push_back(slot); }
    std::vector<Ref>& refs;
  };
  std::vector<Ref> root_refs;
  RootCheck collect_roots(root_refs);
  roots.forEachRoot(collect_roots);
  for (Ref r : root_refs) {
    if (failed) break;
    if (r.isObject()) (void)reachObject(r.heapId(), "a root");
  }

  // A field word against its declared type (canonical space).
  auto checkRefWord = [&](uint64_t owner, uint64_t word, ValType declared, const char* where) {
    HeapType ht = declared.heapType();
    HeapType top = types_.top(ht);
    Hierarchy hier = top == HeapType::abstract(HeapType::Func)     ? Hierarchy::Func
                     : top == HeapType::abstract(HeapType::Extern) ? Hierarchy::Extern
                                                                   : Hierarchy::Any;
    auto mismatch = [&](std::string what) {
      fail("field value matches field type", owner, slabid::slabOf(owner), slabid::slotOf(owner),
           fmt::format("{} holds {}, declared {}", where, what, declared.toString()));
    };
    if (word == 0) {
      if (!declared.nullable()) mismatch("null");
      return;
    }
    if (word & 1) {  // i31 (extern.convert_any keeps the bits)
      bool ok =
          hier == Hierarchy::Extern ||
          (hier == Hierarchy::Any && types_.isHeapSubtype(HeapType::abstract(HeapType::I31), ht));
      if (!ok) mismatch(fmt::format("i31 {}", Ref::fromBits(word).i31Signed()));
      return;
    }
    uint64_t tag = word & 7;
    if (tag == 0) {
      uint64_t* o = reachObject(word >> 3, where);
      if (!o) return;
      if (hier == Hierarchy::Func) return mismatch("a GC object");  // funcref fields hold funcs
      CanonTypeId t = typeBits(o[0]);
      if (hier == Hierarchy::Any &&
          (t >= types_.size() || !types_.isHeapSubtype(HeapType::index(t), ht)))
        mismatch(fmt::format("an object of type {}", t));
      return;
    }
    if (tag != 2 && tag != 4)
      return mismatch(fmt::format("the word 0x{:x}, not a reference", word));
    // A side-table id: it resolves, to an entry of the table its tag names.
    uint64_t id = word >> 3;
    HeapViolationKind kind;
    if (classifyId(id, kind)) {
      fail("side-table ids in fields resolve", id,
           kind == HeapViolationKind::ForeignHeap ? 0 : slabid::slabOf(id), slabid::slotOf(id),
           fmt::format("{} holds a side id that fails as {}", where, heapViolationName(kind)));
      return;
    }
    uint64_t* e = const_cast<uint64_t*>(slabs_[slabid::slabOf(id)].slab.at(slabid::slotOf(id)));
    uint64_t want = tag == 2 ? kSideFunc : kSideHost;
    if (!(e[0] & kSideEntry) || typeBits(e[0]) != want) {
      fail("side-table ids in fields resolve", id, slabid::slabOf(id), slabid::slotOf(id),
           fmt::format("{} holds a {} side id naming something else", where,
                       tag == 2 ? "func" : "host"));
      return;
    }
    if (tag == 2 && hier != Hierarchy::Func) return mismatch("a function");
    if (tag == 4 && !(hier == Hierarchy::Extern ||
                      (hier == Hierarchy::Any && ht == HeapType::abstract(HeapType::Any))))
      return mismatch("a host reference");
    if (!(e[0] & kMark)) {
      e[0] |= kMark;
      ++reached_side;
    }
  };

  while (!stack.empty() && !failed) {
    uint64_t id = stack.back();
    stack.pop_back();
    const uint64_t* o = slabs_[slabid::slabOf(id)].slab.at(slabid::slotOf(id));
    uint64_t h = o[0];
    CanonTypeId t = typeBits(h);
    bool is_array = (h & kArray) != 0;
    // Header type and header agree.
    if (t >= types_.size() ||
        types_.kind(t) != (is_array ? CompositeKind::Array : CompositeKind::Struct)) {
      fail("header type is the object's kind", id, slabid::slabOf(id), slabid::slotOf(id),
           fmt::format("the header names type {} for {}", t, is_array ? "an array" : "a struct"));
      break;
    }
    std::span<const FieldType> fields = types_.fields(t);
    if (is_array) {
      ValType et = fields[0].type;
      uint32_t elem = 1u << ((h >> kElemShift) & 3);
      uint32_t want = et.kind() == ValKind::I8                                   ? 1
                      : et.kind() == ValKind::I16                                ? 2
                      : (et.kind() == ValKind::I32 || et.kind() == ValKind::F32) ? 4
                                                                                 : 8;
      if (elem != want || ((h & kRefElems) != 0) != et.isRef()) {
        fail("header type is the object's kind", id, slabid::slabOf(id), slabid::slotOf(id),
             fmt::format("header element size {} / refs {} for element type {}", elem,
                         (h & kRefElems) != 0, et.toString()));
        break;
      }
      if (et.isRef())
        for (uint32_t i = 0; i < lengthOf(h) && !failed; ++i)
          checkRefWord(id, o[1 + i], et, "an array element");
    } else {
      if (lengthOf(h) != fields.size()) {
        fail("header type is the object's kind", id, slabid::slabOf(id), slabid::slotOf(id),
             fmt::format("the header counts {} fields, type {} has {}", lengthOf(h), t,
                         fields.size()));
        break;
      }
      for (uint32_t i = 0; i < fields.size() && !failed; ++i)
        if (fields[i].type.isRef())
          checkRefWord(id, o[wordOf(layouts_[t], i)], fields[i].type, "a struct field");
    }
  }

  // After a collection, with nothing allocated or stored since: everything
  // live is reachable (the sweep freed the rest).
  if (!failed && quiescent_) {
    if (reached_objects != stats_.live_objects)
      fail("live objects == reachable objects after a GC", 0, 0, 0,
           fmt::format("{} objects live, {} reachable from the roots", stats_.live_objects,
                       reached_objects));
    else if (reached_side != slab_stats_.side_entries)
      fail("live side entries == referenced side entries after a GC", 0, 0, 0,
           fmt::format("{} side entries live, {} referenced by reachable objects",
                       slab_stats_.side_entries, reached_side));
  }

  clearMarks();
  phase_ = saved_phase;
  return !failed;
}

}  // namespace slabfuzz
