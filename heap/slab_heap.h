// The slab heap: the collecting `Heap` whose ids name a slab, a slot and a
// generation, built to see every way a reference goes wrong (DESIGN.md
// "Heap"; the bug class is wasmtime 10397, "id from different slab").
// Owns: objects in slabs by size class (big ones in a slab of their own),
// side tables for funcrefs and host externrefs stored in objects, the id
// checks on every access, the mark-sweep collector and its triggers (budget,
// limits, zeal), the verifier (heap/verify.cc) and the stats. Does not own:
// roots (the runtime enumerates them through RootSource), the digest
// (heap/digest.cc, for every heap), or what a violation means for a run.
// Contract: collections happen only inside safepoint() and collect(), never
// inside newStruct/newArray*, so allocation operands are safe. An id that
// fails a check is reported (Heap::report, the first one only) and the
// access returns a harmless value (Value(), length 0, type 0) without
// touching memory out of bounds; the runtime stops the run on violation().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "heap/checking.h"
#include "heap/heap.h"
#include "heap/heap_id.h"
#include "heap/slab.h"

namespace slabfuzz {

// When a collection is forced regardless of the allocation budget: the
// zeal of DESIGN.md "Heap", so that a missed root becomes a freed object at
// once. Deterministic: the random schedule is a seeded generator owned by
// the heap (no clocks, no global state).
struct Zeal {
  enum class Mode : uint8_t { None, EverySafepoint, EveryNAllocations, Random };
  Mode mode = Mode::None;
  // EveryNAllocations: collect at the first safepoint once this many objects
  // were allocated since the last collection (0 acts as 1).
  uint64_t n = 0;
  // Random: collect at a safepoint with probability 1/one_in (one_in <= 1:
  // at every safepoint), drawn from a splitmix64 stream started at `seed`.
  // The stream advances once per safepoint, so the schedule is a function of
  // the seed and the sequence of safepoints alone.
  uint64_t seed = 0;
  uint32_t one_in = 0;

  static Zeal none() { return {}; }
  static Zeal everySafepoint() { return {Mode::EverySafepoint, 0, 0, 0}; }
  static Zeal everyNAllocations(uint64_t n) { return {Mode::EveryNAllocations, n, 0, 0}; }
  static Zeal random(uint64_t seed, uint32_t one_in) { return {Mode::Random, 0, seed, one_in}; }
};

// Told when each collection starts and ends, so a benchmark can time GC
// pauses. The heap itself reads no clock (its behaviour must not depend on
// time); the observer, which its owner keeps alive as long as the heap, may.
// Called once each per collection, in order, from safepoint() and collect()
// (a collection abandoned after a violation still gets its Finished call).
class GcObserver {
 public:
  virtual ~GcObserver() = default;
  virtual void collectionStarted() = 0;
  virtual void collectionFinished() = 0;
};

// Every knob of the slab heap (CONVENTIONS.md rule 7). The size limits are
// HeapLimits, shared with the reference heap.
struct SlabHeapConfig {
  // Storage bytes of one slab of small objects (objects over half of it get
  // a slab of their own). Clamped to [64, 16 MiB]; a slab never has more
  // than 16384 slots (heap_id.h). Small values (see smallSlabs()) give many
  // slabs, many slab ids and frequent release and reuse of slab indices.
  // Defaults to 64 KiB.
  uint32_t slab_bytes = 64 * 1024;
  // Collect at the next safepoint once this many bytes (HeapLimits'
  // estimate) were allocated since the last collection; the trigger comes
  // sooner when live bytes approach HeapLimits::max_bytes (at half of the
  // headroom left after the last collection). Defaults to 8 MiB.
  uint64_t gc_budget_bytes = uint64_t{8} << 20;
  // Forced collections. Defaults to Zeal::none().
  Zeal zeal;
  // Run verify() after every collection (and record a Verify violation if
  // it fails). Defaults to on in builds with SLABFUZZ_CHECKING >= 1, off
  // otherwise.
  bool verify_after_gc = kCheckingLevel >= 1;
  // Told around each collection (not owned). Defaults to none.
  GcObserver* observer = nullptr;

  // The "small slabs" configuration of the oracle (DESIGN.md "Oracle"):
  // 256-byte slabs, so that slab indices are released and reused all the time.
  static SlabHeapConfig smallSlabs() {
    SlabHeapConfig c;
    c.slab_bytes = 256;
    return c;
  }
};

// Counters beyond HeapStats, for tests and the benchmark (none of them
// needs a clock).
struct SlabHeapStats {
  uint64_t safepoints = 0;       // safepoint() calls
  uint64_t objects_freed = 0;    // objects freed by sweeps
  uint64_t slabs_created = 0;    // slabs given storage (side tables included)
  uint64_t slabs_released = 0;   // slabs whose storage was released
  uint64_t live_slabs = 0;       // slabs holding storage now
  uint64_t side_entries = 0;     // live side-table entries (funcs and host refs)
  uint64_t footprint_bytes = 0;  // storage bytes of live slabs
};

class SlabHeap final : public Heap {
 public:
  explicit SlabHeap(const TypeStore& types, HeapLimits limits = {}, SlabHeapConfig config = {});
  ~SlabHeap() override;

  Result<Ref, TrapKind> newStruct(CanonTypeId type, std::span<const Value> fields) override;
  Result<Ref, TrapKind> newArray(CanonTypeId type, uint32_t length, Value fill) override;
  Result<Ref, TrapKind> newArrayFrom(CanonTypeId type, std::span<const Value> elems) override;

  CanonTypeId typeOf(Ref obj) const override;
  Value structGet(Ref obj, uint32_t field) const override;
  void structSet(Ref obj, uint32_t field, Value v) override;
  Value structGetThrough(Ref obj, CanonTypeId static_type, uint32_t field) override;
  void structSetThrough(Ref obj, CanonTypeId static_type, uint32_t field, Value v) override;
  uint32_t arrayLength(Ref obj) const override;
  Value arrayGet(Ref obj, uint32_t index) const override;
  void arraySet(Ref obj, uint32_t index, Value v) override;
  void arrayFill(Ref obj, uint32_t offset, Value v, uint32_t count) override;
  void arrayCopy(Ref dst, uint32_t dst_offset, Ref src, uint32_t src_offset,
                 uint32_t count) override;

  void safepoint(RootSource& roots) override;
  bool collects() const override { return true; }
  void collect(RootSource& roots) override;
  bool verify(RootSource& roots) override;  // heap/verify.cc

  HeapStats stats() const override { return stats_; }
  const SlabHeapStats& slabStats() const { return slab_stats_; }
  const SlabHeapConfig& config() const { return config_; }
  // This heap's tag (bits 55..60 of its ids).
  uint32_t tag() const { return tag_; }

  // HeapLimits' size estimate, as the reference heap counts it, so that
  // both heaps trap on max_bytes at the same allocation when nothing is freed.
  static constexpr uint64_t kHeaderBytes = 16;

 private:
  friend class SlabHeapTestAccess;
  struct RootMarker;

  // --- Slot header: word 0 of every slot ------------------------------------
  //   bits  0..22  canonical type id (side entries: 0 func, 1 host)
  //   bits 24..25  arrays: log2 of the element storage size
  //   bit  26      arrays: elements are references
  //   bit  29      a side-table entry (word 1 holds the Ref bits)
  //   bit  30      an array (else a struct)
  //   bit  31      mark (set only during a collection)
  //   bits 32..63  arrays: length; structs: field count
  static constexpr uint64_t kTypeMask = 0x7FFFFF;
  static constexpr unsigned kElemShift = 24;
  static constexpr uint64_t kRefElems = uint64_t{1} << 26;
  static constexpr uint64_t kSideEntry = uint64_t{1} << 29;
  static constexpr uint64_t kArray = uint64_t{1} << 30;
  static constexpr uint64_t kMark = uint64_t{1} << 31;
  static constexpr uint64_t kSideFunc = 0;
  static constexpr uint64_t kSideHost = 1;
  static uint32_t lengthOf(uint64_t header) { return static_cast<uint32_t>(header >> 32); }
  static CanonTypeId typeBits(uint64_t header) {
    return static_cast<CanonTypeId>(header & kTypeMask);
  }

  enum class SlabKind : uint8_t { Object, FuncTable, HostTable };
  // Size classes: slot sizes in words (header included). Objects of more
  // words, or of more than half a slab, get a dedicated one-slot slab.
  static constexpr uint32_t kClassWords[] = {2,  3,  4,  5,  6,  8,  10,  12,  16,  20, 24,
                                             32, 40, 48, 64, 80, 96, 128, 160, 192, 256};
  static constexpr uint32_t kNumClasses = sizeof(kClassWords) / sizeof(kClassWords[0]);
  static constexpr uint32_t kMaxClassWords = 256;
  static constexpr uint8_t kDedicated = 0xFF;
  // Allocation lists beyond the object classes: the two side tables.
  static constexpr uint32_t kFuncList = kNumClasses;
  static constexpr uint32_t kHostList = kNumClasses + 1;
  static constexpr uint32_t kNumLists = kNumClasses + 2;

  struct SlabEntry {
    Slab<uint64_t> slab;
    SlabKind kind = SlabKind::Object;
    uint8_t size_class = 0;      // index into kClassWords, or kDedicated
    uint32_t next_identity = 0;  // identity of the next slab at this index
    uint32_t marked = 0;         // objects marked in this slab (during a collection)
  };

  // Per struct type, computed on its first allocation.
  struct StructLayout {
    bool known = false;
    uint32_t first = 0;  // masks_[first, first + count)
    uint32_t count = 0;
    uint32_t ref_first = 0;  // ref_fields_[ref_first, ref_first + ref_count)
    uint32_t ref_count = 0;
    uint64_t bytes = 0;  // HeapLimits estimate, header included
  };

  // --- Id resolution (inline: a few loads and compares) ---------------------
  // After the id checks, the type-confusion check compares the slot's header
  // with what the access needs (the interpreter passes only the id and an
  // index, not the static type, so the canonical type itself is not compared
  // here; the verifier checks field values against declared types):
  //   struct.get/set: a struct (not an array, not a side-table entry) with
  //     more fields than the index; in checking builds also a header whose
  //     field count is its type's (a corrupted header is not trusted)
  //   array.*: an array, index or range within its length; array.copy also
  //     the same element storage size and reference-ness on both sides
  //   typeOf, mark: a struct or an array, not a side-table entry
  //   a side-table id in a field: an entry of the table its Ref tag names
  //     (func entries under 010, host entries under 100)
  //   newStruct/newArray*: the type id is a struct/array type and a struct
  //     gets one value per field (else the runtime is confused: reported
  //     the same way, with id 0)
  // The slot `r` names, or null after reporting why not. Checks, in order
  // (DESIGN.md "Heap"): this heap's tag, slab index in range and live, slab
  // identity, slot in range and allocated, generation.
  [[gnu::always_inline]] const uint64_t* resolve(uint64_t id, const char* op) const {
    uint32_t idx = slabid::slabOf(id);
    if (slabid::tagOf(id) != tag_ || idx >= num_slabs_) [[unlikely]]
      return resolveFailed(id, op);
    const Slab<uint64_t>& s = slabs_[idx].slab;
    uint32_t slot = slabid::slotOf(id);
    if (s.identity() != slabid::identityOf(id) || slot >= s.capacity() ||
        s.state(slot) != (Slab<uint64_t>::kAllocatedBit | slabid::generationOf(id))) [[unlikely]]
      return resolveFailed(id, op);
    return s.at(slot);
  }
  uint64_t* resolveMut(uint64_t id, const char* op) {
    return const_cast<uint64_t*>(resolve(id, op));
  }
  // A struct (not an array or side entry) with more than `field` fields.
  [[gnu::always_inline]] const uint64_t* structAt(Ref r, uint32_t field, const char* op) const {
    const uint64_t* o = r.isObject() ? resolve(r.heapId(), op) : notAnObject(r, op);
    if (!o) return nullptr;
    if ((o[0] & (kArray | kSideEntry)) != 0 || field >= lengthOf(o[0])) [[unlikely]]
      return typeConfusion(r.heapId(), o, op, "a struct with that field");
    if constexpr (kCheckingLevel >= 1) {
      // newStruct wrote type and field count from one layout; a header that
      // disagrees was corrupted (a heap bug), and its layout must not be used.
      CanonTypeId t = typeBits(o[0]);
      if (t >= layouts_.size() || layouts_[t].count != lengthOf(o[0])) [[unlikely]]
        return typeConfusion(r.heapId(), o, op, "a struct header matching its type's layout");
    }
    return o;
  }
  // An array (not a struct or side entry).
  [[gnu::always_inline]] const uint64_t* arrayAt(Ref r, const char* op) const {
    const uint64_t* o = r.isObject() ? resolve(r.heapId(), op) : notAnObject(r, op);
    if (!o) return nullptr;
    if ((o[0] & (kArray | kSideEntry)) != kArray) [[unlikely]]
      return typeConfusion(r.heapId(), o, op, "an array");
    return o;
  }
  // Why `id` does not resolve (false when it does), without reporting.
  bool classifyId(uint64_t id, HeapViolationKind& kind) const;
  // Out of line and cold: classify and report.
  [[gnu::cold, gnu::noinline]] const uint64_t* resolveFailed(uint64_t id, const char* op) const;
  [[gnu::cold, gnu::noinline]] const uint64_t* notAnObject(Ref r, const char* op) const;
  [[gnu::cold, gnu::noinline]] const uint64_t* typeConfusion(uint64_t id, const uint64_t* slot,
                                                             const char* op,
                                                             const char* expected) const;
  // What slab index `idx` and its `slot` hold now, in words.
  std::string describeSlot(uint32_t idx, uint32_t slot) const;
  void reportViolation(HeapViolationKind kind, uint64_t id, std::string now_holds,
                       std::string expected, const char* op) const;

  // --- Field words ------------------------------------------------------------
  // A reference as stored in an object: null, i31 and object ids as they
  // are; funcs and host refs as side-table ids under their own Ref tags.
  // Returns false (after reporting HeapExhausted to the caller) when no side
  // entry can be made.
  bool encodeRef(uint64_t bits, uint64_t& word);
  uint64_t encodeRefOrThrow(uint64_t bits);
  // The word a struct.set or array.set of a reference stores (encodeRef's,
  // unless the fault zoo's ref-write-skips-side-table is active).
  uint64_t storedRef(uint64_t bits);
  Value decodeRef(uint64_t word, const char* op) const {
    uint64_t tag = word & 7;
    if (tag != 2 && tag != 4) [[likely]]
      return Value::fromBits(word);
    return decodeSide(word, op);
  }
  Value decodeSide(uint64_t word, const char* op) const;
  uint64_t internSide(uint64_t ref_bits);  // 0 when the directory is full

  // --- Allocation ---------------------------------------------------------------
  const StructLayout* structLayout(CanonTypeId type) {
    if (type < layouts_.size() && layouts_[type].known) [[likely]]
      return &layouts_[type];
    return computeLayout(type);
  }
  const StructLayout* computeLayout(CanonTypeId type);
  // A slot of `words` words (header included) holding poison, zero (`zero`
  // set) or garbage (fresh), or null when the slab directory is full.
  uint64_t* allocSlot(uint32_t words, uint32_t list, SlabKind kind, uint64_t& id, bool& zero);
  uint64_t* allocSlot(uint32_t words, uint32_t list, SlabKind kind, uint64_t& id) {
    bool zero;
    return allocSlot(words, list, kind, id, zero);
  }
  uint32_t newSlab(uint32_t list, SlabKind kind, uint32_t words);
  void releaseSlab(uint32_t idx);
  [[gnu::cold, gnu::noinline]] void reportWrittenAfterFree(uint64_t id);
  bool fits(uint64_t bytes) const {
    return bytes <= limits_.max_bytes && stats_.live_bytes <= limits_.max_bytes - bytes;
  }
  Result<Ref, TrapKind> allocArray(CanonTypeId type, uint32_t length, uint64_t*& slot);
  void noteAllocated(uint64_t bytes) {
    stats_.allocations++;
    stats_.live_objects++;
    stats_.live_bytes += bytes;
    allocated_since_gc_ += bytes;
    allocations_since_gc_++;
    quiescent_ = false;
  }
  uint64_t accountedBytes(const uint64_t* slot) const;

  // --- Collection -----------------------------------------------------------------
  // Marks what `word` (a field word) names; false after a violation.
  bool markWord(uint64_t word);
  bool markObject(uint64_t id, const char* op);
  void trace(const uint64_t* obj);
  void sweep();
  void clearMarks();
  void rebuildAvailable();
  void updateTrigger();

  SlabHeapConfig config_;
  uint32_t tag_;
  std::vector<SlabEntry> slabs_;        // index 0 is never used (no id has slab 0)
  std::vector<uint32_t> free_indices_;  // released indices; the lowest is reused first
  // Storage of released small-object slabs kept for the next slab of the
  // same shape (Slab::renew), at most kMaxSpareSlabs of them. Not counted in
  // the footprint: they hold no slots.
  static constexpr size_t kMaxSpareSlabs = 4;
  std::vector<Slab<uint64_t>> spare_slabs_;
  uint32_t num_slabs_ = 0;              // slabs_.size(), kept for the id check
  // Per list, slabs that are live and not full, and only those: allocSlot
  // drops a slab when it fills, the sweep rebuilds the lists.
  std::vector<uint32_t> available_[kNumLists];
  uint8_t class_of_words_[kMaxClassWords + 1];
  uint32_t max_classed_words_;  // objects above this get a dedicated slab

  std::vector<StructLayout> layouts_;  // by CanonTypeId
  std::vector<uint64_t> masks_;        // per struct field: value mask, 0 for a reference
  std::vector<uint32_t> ref_fields_;   // per struct type: the words of its reference fields
  // Fault zoo only (subtype-layout-moves-field): per struct field, its word
  // in the object (declared order otherwise: field i is word 1 + i).
  std::vector<uint32_t> field_words_;
  // Where field `field` of a struct laid out as `l` lives (1 + field unless
  // the fault zoo packs fields).
  uint32_t wordOf(const StructLayout& l, uint32_t field) const {
    return faultActive(Fault::SubtypeLayoutMovesField) ? field_words_[l.first + field] : 1 + field;
  }

  // Side-table interning: the entry of each function / host payload, so a
  // value stored a million times costs one entry. Cleared by the sweep.
  std::vector<uint64_t> func_entries_;                   // by FuncAddr: side id or 0
  std::unordered_map<uint64_t, uint64_t> host_entries_;  // payload -> side id

  std::vector<const uint64_t*> mark_stack_;
  HeapPhase phase_ = HeapPhase::Mutator;
  HeapStats stats_;
  SlabHeapStats slab_stats_;
  uint64_t allocated_since_gc_ = 0;    // bytes (estimate)
  uint64_t allocations_since_gc_ = 0;  // objects
  uint64_t trigger_bytes_ = 0;         // collect once allocated_since_gc_ reaches this
  uint64_t zeal_state_ = 0;            // Random zeal's splitmix64 state
  // True from the end of a collection until the next allocation or store:
  // then "live == reachable" holds for the roots the collection saw.
  bool quiescent_ = false;
};

}  // namespace slabfuzz
