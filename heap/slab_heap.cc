// The slab heap's allocation, access, id diagnostics and collector; see
// slab_heap.h. The verifier is heap/verify.cc.
#include "heap/slab_heap.h"
#include "heap/storage.h"
#include "runtime/storage_bytes.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <new>

namespace slabfuzz {
namespace {

using storage::loadBits;
using storage::storeBits;

static_assert(std::endian::native == std::endian::little,
              "packed elements are the low bytes of a little-endian word");

uint64_t maskFor(uint32_t size) {
  return size == 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * size)) - 1;
}


// A reference that a field stores through a side table (Ref tags 010, 100).
bool needsSideEntry(uint64_t bits) {
  return (bits & 1) == 0 && (bits & 6) != 0 && (bits & 6) != 6;
}

// Heap tags are handed out round-robin, 1..63 (heap_id.h).
uint32_t nextTag() {
  static std::atomic<uint32_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed) % slabid::kMaxTag + 1;
}

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

const char* kindName(uint8_t kind) {
  switch (kind) {
    case 0: return "object";
    case 1: return "func side-table";
    default: return "host side-table";
  }
}

}  // namespace

SlabHeap::SlabHeap(const TypeStore& types, HeapLimits limits, SlabHeapConfig config)
    : Heap(types, limits), config_(config), tag_(nextTag()) {
  config_.slab_bytes = std::clamp<uint32_t>(config_.slab_bytes, 64, 16u << 20);
  // An object takes a classed slot when at least two fit in a slab.
  max_classed_words_ = 0;
  for (uint32_t w : kClassWords)
    if (w * 8 * 2 <= config_.slab_bytes) max_classed_words_ = w;
  uint32_t c = 0;
  for (uint32_t w = 0; w <= kMaxClassWords; ++w) {
    while (c + 1 < kNumClasses && kClassWords[c] < w) ++c;
    class_of_words_[w] = static_cast<uint8_t>(c);
  }
  slabs_.emplace_back();  // index 0: never live, so no id names it
  num_slabs_ = 1;
  zeal_state_ = config_.zeal.seed;
  updateTrigger();
}

SlabHeap::~SlabHeap() = default;

// --- Diagnostics ---------------------------------------------------------------------

std::string SlabHeap::describeSlot(uint32_t idx, uint32_t slot) const {
  if (idx == 0 || idx >= slabs_.size())
    return fmt::format("no slab {} (this heap has slabs 1..{})", idx, slabs_.size() - 1);
  const SlabEntry& e = slabs_[idx];
  const Slab<uint64_t>& s = e.slab;
  if (!s.isLive())
    return fmt::format("slab {} is released (the next slab there gets identity {})", idx,
                       e.next_identity);
  std::string out = fmt::format("slab {} has identity {} ({} slab, {}-word slots, {} of {} live)",
                                idx, s.identity(), kindName(static_cast<uint8_t>(e.kind)),
                                s.stride(), s.live(), s.capacity());
  if (slot >= s.capacity()) return out + fmt::format("; slot {} is out of range", slot);
  if (s.isRetired(slot)) return out + fmt::format("; slot {} is retired", slot);
  if (!s.isAllocated(slot))
    return out + fmt::format("; slot {} is free (generation {}{})", slot, s.generation(slot),
                             s.wasUsed(slot) ? "" : ", never used");
  const uint64_t* o = s.at(slot);
  uint64_t h = o[0];
  if (h & kSideEntry) {
    Ref r = Ref::fromBits(o[1]);
    return out + fmt::format("; slot {} (generation {}) holds a side-table entry for {}", slot,
                             s.generation(slot),
                             typeBits(h) == kSideFunc
                                 ? fmt::format("func {}", r.funcAddr())
                                 : fmt::format("host ref {}", r.hostPayload()));
  }
  return out + fmt::format("; slot {} (generation {}) holds {} of type {} ({} {})", slot,
                           s.generation(slot), (h & kArray) ? "an array" : "a struct", typeBits(h),
                           lengthOf(h), (h & kArray) ? "elements" : "fields");
}

void SlabHeap::reportViolation(HeapViolationKind kind, uint64_t id, std::string now_holds,
                               std::string expected, const char* op) const {
  HeapViolation v;
  v.kind = kind;
  v.phase = phase_;
  v.id = slabid::decode(id);
  v.now_holds = std::move(now_holds);
  v.expected = std::move(expected);
  v.operation = op;
  v.gc_cycle = stats_.collections;
  // The heap's own record of the first violation; the accessors stay const
  // for the interpreter, as ReferenceHeap's do.
  const_cast<SlabHeap*>(this)->report(std::move(v));
}

bool SlabHeap::classifyId(uint64_t id, HeapViolationKind& kind) const {
  uint32_t idx = slabid::slabOf(id), slot = slabid::slotOf(id);
  if (slabid::tagOf(id) != tag_) {
    kind = HeapViolationKind::ForeignHeap;
  } else if (idx == 0 || idx >= slabs_.size() || !slabs_[idx].slab.isLive()) {
    kind = HeapViolationKind::SlabOutOfRange;
  } else {
    const Slab<uint64_t>& s = slabs_[idx].slab;
    if (s.identity() != slabid::identityOf(id)) {
      kind = HeapViolationKind::DifferentSlab;
    } else if (slot >= s.capacity() || !s.isAllocated(slot)) {
      kind = HeapViolationKind::FreeSlot;
    } else if (s.generation(slot) != slabid::generationOf(id)) {
      kind = HeapViolationKind::StaleGeneration;
    } else {
      return false;
    }
  }
  return true;
}

const uint64_t* SlabHeap::resolveFailed(uint64_t id, const char* op) const {
  HeapViolationKind kind;
  // classifyId repeats the fast checks one by one, so it finds the failure.
  if (!classifyId(id, kind)) kind = HeapViolationKind::FreeSlot;
  std::string expected;
  if (kind == HeapViolationKind::DifferentSlab)
    expected = fmt::format("slab identity {}", slabid::identityOf(id));
  else if (kind == HeapViolationKind::StaleGeneration)
    expected = fmt::format("generation {}", slabid::generationOf(id));
  std::string now =
      kind == HeapViolationKind::ForeignHeap
          ? fmt::format("this heap's tag is {}, the id's is {}", tag_, slabid::tagOf(id))
          : describeSlot(slabid::slabOf(id), slabid::slotOf(id));
  reportViolation(kind, id, std::move(now), std::move(expected), op);
  return nullptr;
}

const uint64_t* SlabHeap::notAnObject(Ref r, const char* op) const {
  // The interpreter passes only object refs here (it checked null and cast);
  // anything else is the runtime confusing kinds.
  reportViolation(HeapViolationKind::TypeConfusion, 0,
                  fmt::format("the reference 0x{:x} is not a heap object ({})", r.bits(),
                              r.isNull()   ? "null"
                              : r.isI31()  ? "i31"
                              : r.isFunc() ? "func"
                                           : "host"),
                  "a heap object", op);
  return nullptr;
}

const uint64_t* SlabHeap::typeConfusion(uint64_t id, const uint64_t* slot, const char* op,
                                        const char* expected) const {
  reportViolation(HeapViolationKind::TypeConfusion, id,
                  describeSlot(slabid::slabOf(id), slabid::slotOf(id)), expected, op);
  (void)slot;
  return nullptr;
}

// --- Side tables -----------------------------------------------------------------------

uint64_t SlabHeap::internSide(uint64_t ref_bits) {
  Ref r = Ref::fromBits(ref_bits);
  uint64_t* cached = nullptr;
  if (r.isFunc()) {
    uint32_t addr = r.funcAddr();
    if (addr >= func_entries_.size()) func_entries_.resize(size_t{addr} + 1, 0);
    cached = &func_entries_[addr];
  } else {
    cached = &host_entries_[r.hostPayload()];
  }
  if (*cached != 0) return *cached;
  // `cached` stays valid: allocSlot touches neither intern table.
  bool func = r.isFunc();
  uint64_t id = 0;
  uint64_t* o = allocSlot(2, func ? kFuncList : kHostList,
                          func ? SlabKind::FuncTable : SlabKind::HostTable, id);
  if (!o) {
    if (!func) host_entries_.erase(r.hostPayload());
    return 0;
  }
  o[0] = kSideEntry | (func ? kSideFunc : kSideHost);
  o[1] = ref_bits;
  slab_stats_.side_entries++;
  *cached = id;
  return id;
}

bool SlabHeap::encodeRef(uint64_t bits, uint64_t& word) {
  quiescent_ = false;
  if (!needsSideEntry(bits)) [[likely]] {
    word = bits;
    return true;
  }
  uint64_t id = internSide(bits);
  if (id == 0) return false;
  word = (id << 3) | (bits & 7);
  return true;
}

uint64_t SlabHeap::storedRef(uint64_t bits) {
  if (needsSideEntry(bits) && SLABFUZZ_FAULT(RefWriteSkipsSideTable)) {
    // Fault zoo: the store skips the side table and writes the reference
    // as it is; its tag then reads as a side-table id that is not one.
    SLABFUZZ_FAULT_TRIGGERED(RefWriteSkipsSideTable);
    quiescent_ = false;
    return bits;
  }
  return encodeRefOrThrow(bits);
}

uint64_t SlabHeap::encodeRefOrThrow(uint64_t bits) {
  uint64_t word;
  // A store cannot trap (Heap's interface): running out of slab indices for
  // a side entry is running out of memory, reported as a container would.
  if (!encodeRef(bits, word)) throw std::bad_alloc();
  return word;
}

Value SlabHeap::decodeSide(uint64_t word, const char* op) const {
  uint64_t id = word >> 3;
  const uint64_t* e = resolve(id, op);
  if (!e) return Value();
  uint64_t want = (word & 7) == 2 ? kSideFunc : kSideHost;
  if ((e[0] & kSideEntry) == 0 || typeBits(e[0]) != want) {
    typeConfusion(id, e, op,
                  want == kSideFunc ? "a func side-table entry" : "a host side-table entry");
    return Value();
  }
  return Value::fromBits(e[1]);
}

// --- Allocation --------------------------------------------------------------------------

uint32_t SlabHeap::newSlab(uint32_t list, SlabKind kind, uint32_t words) {
  uint32_t idx;
  if (!free_indices_.empty()) {
    idx = free_indices_.back();
    free_indices_.pop_back();
  } else {
    if (slabs_.size() > slabid::kMaxSlabIndex) return 0;
    idx = static_cast<uint32_t>(slabs_.size());
    slabs_.emplace_back();
    num_slabs_ = static_cast<uint32_t>(slabs_.size());
  }
  SlabEntry& e = slabs_[idx];
  bool dedicated = list == kDedicated;
  uint32_t capacity =
      dedicated ? 1 : std::min<uint32_t>(config_.slab_bytes / (words * 8), slabid::kMaxSlots);
  // Dedicated slabs zeroed (calloc of a large block is fresh pages, and an
  // array's payload must start zero); small-object slabs not (every slot is
  // written whole when it is handed out).
  auto spare = std::find_if(spare_slabs_.begin(), spare_slabs_.end(), [&](const Slab<uint64_t>& s) {
    return !dedicated && s.capacity() == capacity && s.stride() == words;
  });
  if (spare != spare_slabs_.end()) {
    e.slab = std::move(*spare);
    spare_slabs_.erase(spare);
    e.slab.renew(e.next_identity);
  } else {
    e.slab = Slab<uint64_t>(capacity, words, e.next_identity, dedicated);
  }
  e.kind = kind;
  e.size_class = static_cast<uint8_t>(list);
  slab_stats_.slabs_created++;
  slab_stats_.live_slabs++;
  slab_stats_.footprint_bytes += e.slab.storageBytes();
  return idx;
}

void SlabHeap::releaseSlab(uint32_t idx) {
  SlabEntry& e = slabs_[idx];
  slab_stats_.slabs_released++;
  slab_stats_.live_slabs--;
  slab_stats_.footprint_bytes -= e.slab.storageBytes();
  if (!e.slab.zeroed() && spare_slabs_.size() < kMaxSpareSlabs) {
    e.slab.renew(Slab<uint64_t>::kNoIdentity);  // poisoned, and no id matches it
    spare_slabs_.push_back(std::move(e.slab));
  }
  e.slab.release();
  // The next slab here gets a new identity, so every id into this one
  // fails as different-slab. An index whose identities are used up is
  // retired: reusing it would let a 1024-reuses-old id match again.
  if (e.next_identity < slabid::kMaxIdentity) {
    e.next_identity++;
    free_indices_.push_back(idx);
  }
}

void SlabHeap::reportWrittenAfterFree(uint64_t id) {
  // Something wrote into the slot while it was free: a store through an id
  // that should have been caught (use after free).
  HeapViolation v;
  v.kind = HeapViolationKind::Verify;
  v.phase = phase_;
  v.invariant = "free slot written after free";
  v.id = slabid::decode(id);
  v.now_holds =
      fmt::format("slab {} slot {} did not hold the poison pattern 0x{:x} when it was handed out",
                  slabid::slabOf(id), slabid::slotOf(id), kPoisonWord);
  v.operation = "allocate";
  v.gc_cycle = stats_.collections;
  report(std::move(v));
}

uint64_t* SlabHeap::allocSlot(uint32_t words, uint32_t list, SlabKind kind, uint64_t& id,
                              bool& zero) {
  uint32_t idx;
  if (list == kDedicated) {
    idx = newSlab(kDedicated, kind, words);
    if (idx == 0) return nullptr;
  } else if (!available_[list].empty()) [[likely]] {
    idx = available_[list].back();
  } else {
    idx = newSlab(list, kind, list < kNumClasses ? kClassWords[list] : words);
    if (idx == 0) return nullptr;
    available_[list].push_back(idx);
  }
  Slab<uint64_t>& s = slabs_[idx].slab;
  Slab<uint64_t>::Allocation a = s.alloc();
  if (s.full() && list != kDedicated) available_[list].pop_back();
  zero = a.zero;
  id = slabid::pack(tag_, idx, s.identity(), a.slot, a.generation);
  if (!a.poison_intact) [[unlikely]]
    reportWrittenAfterFree(id);
  return s.at(a.slot);
}

const SlabHeap::StructLayout* SlabHeap::computeLayout(CanonTypeId type) {
  if (type >= types_.size() || types_.kind(type) != CompositeKind::Struct) return nullptr;
  if (type >= layouts_.size()) layouts_.resize(size_t{type} + 1);
  StructLayout& l = layouts_[type];
  l.first = static_cast<uint32_t>(masks_.size());
  l.ref_first = static_cast<uint32_t>(ref_fields_.size());
  l.bytes = kHeaderBytes;
  std::span<const FieldType> fields = types_.fields(type);
  // Fault zoo: each type packs its own reference fields first, as if no
  // subtype had to keep its supertype's fields where they are (wasmtime
  // #10459); a subtype that adds a reference moves the fields before it.
  const bool packed = SLABFUZZ_FAULT(SubtypeLayoutMovesField);
  uint32_t num_refs = 0;
  for (const FieldType& f : fields) num_refs += f.type.isRef();
  uint32_t i = 0, next_ref = 1, next_other = 1 + num_refs;
  for (const FieldType& f : fields) {
    uint32_t size = storageBytes(f.type);
    uint32_t word = !packed ? 1 + i : f.type.isRef() ? next_ref++ : next_other++;
    if (packed) field_words_.push_back(word);
    if (f.type.isRef()) {
      masks_.push_back(0);  // 0: a reference, stored through encodeRef
      ref_fields_.push_back(word - 1);
    } else {
      masks_.push_back(maskFor(size));
    }
    l.bytes += size;
    ++i;
  }
  if (packed) {
    // A subtype whose fields moved from where its supertype keeps them.
    CanonTypeId super = types_.supertype(type);
    if (super != kNoCanonType && types_.kind(super) == CompositeKind::Struct) {
      std::span<const FieldType> sf = types_.fields(super);
      uint32_t super_refs = 0;
      for (const FieldType& f : sf) super_refs += f.type.isRef();
      if (super_refs != num_refs) SLABFUZZ_FAULT_TRIGGERED(SubtypeLayoutMovesField);
    }
  }
  l.count = i;
  l.ref_count = static_cast<uint32_t>(ref_fields_.size()) - l.ref_first;
  l.known = true;
  return &l;
}

uint64_t SlabHeap::accountedBytes(const uint64_t* slot) const {
  uint64_t h = slot[0];
  if (h & kArray) return kHeaderBytes + (uint64_t{lengthOf(h)} << ((h >> kElemShift) & 3));
  CanonTypeId t = typeBits(h);
  return t < layouts_.size() ? layouts_[t].bytes : kHeaderBytes;
}

Result<Ref, TrapKind> SlabHeap::newStruct(CanonTypeId type, std::span<const Value> fields) {
  const StructLayout* l = structLayout(type);
  if (!l || fields.size() != l->count) [[unlikely]] {
    reportViolation(HeapViolationKind::TypeConfusion, 0,
                    fmt::format("type {} with {} values", type, fields.size()),
                    "a struct type and one value per field", "newStruct");
    return Ref::null();
  }
  if (!fits(l->bytes)) return TrapKind::HeapExhausted;
  uint32_t words = 1 + l->count;
  uint32_t list = words <= max_classed_words_ ? class_of_words_[words] : kDedicated;
  uint32_t first = l->first, count = l->count;
  uint64_t bytes = l->bytes;
  uint64_t id;
  uint64_t* o = allocSlot(words, list, SlabKind::Object, id);
  if (!o) return TrapKind::HeapExhausted;
  o[0] = uint64_t{type} | (uint64_t{count} << 32);
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t m = masks_[first + i];
    uint64_t bits = fields[i].bits();
    uint64_t& word = o[wordOf(*l, i)];
    if (m != 0) {
      word = bits & m;
    } else if (!encodeRef(bits, word)) {
      // No side entry could be made: give the slot back, trap.
      Slab<uint64_t>& s = slabs_[slabid::slabOf(id)].slab;
      s.free(slabid::slotOf(id));
      return TrapKind::HeapExhausted;
    }
  }
  noteAllocated(bytes);
  return Ref::object(id);
}

Result<Ref, TrapKind> SlabHeap::allocArray(CanonTypeId type, uint32_t length, uint64_t*& slot) {
  if (type >= types_.size() || types_.kind(type) != CompositeKind::Array) [[unlikely]] {
    reportViolation(HeapViolationKind::TypeConfusion, 0, fmt::format("type {}", type),
                    "an array type", "newArray");
    return Ref::null();
  }
  ValType et = types_.fields(type)[0].type;
  uint32_t elem = storageBytes(et);
  // Refused before anything is allocated (WAMR 4942's class: a length
  // whose byte size overflows): a request for terabytes never allocates.
  uint64_t payload = uint64_t{length} * elem;  // < 2^35: no overflow
  if (SLABFUZZ_FAULT(ArrayNewLengthOverflow)) {
    // Fault zoo: the size is computed in 32 bits and the length is checked
    // only through it, so a huge length wraps to a small slot (whose header
    // still records the huge length).
    uint32_t wrapped = length * elem;
    if (wrapped != payload) SLABFUZZ_FAULT_TRIGGERED(ArrayNewLengthOverflow);
    payload = wrapped;
    if (payload / (elem ? elem : 1) > limits_.max_array_length) return TrapKind::ArrayTooLarge;
  } else if (length > limits_.max_array_length) {
    return TrapKind::ArrayTooLarge;
  }
  uint64_t bytes = kHeaderBytes + payload;
  if (!fits(bytes)) return TrapKind::HeapExhausted;
  uint64_t words64 = 1 + (payload + 7) / 8;
  if (words64 > UINT32_MAX) return TrapKind::ArrayTooLarge;
  uint32_t words = static_cast<uint32_t>(words64);
  uint32_t list = words <= max_classed_words_ ? class_of_words_[words] : kDedicated;
  uint64_t id;
  bool zero;
  uint64_t* o = allocSlot(words, list, SlabKind::Object, id, zero);
  if (!o) return TrapKind::HeapExhausted;
  o[0] = uint64_t{type} | (uint64_t{static_cast<uint32_t>(std::countr_zero(elem))} << kElemShift) |
         (et.isRef() ? kRefElems : 0) | kArray | (uint64_t{length} << 32);
  // A reused or fresh small slot holds poison or garbage: clear the
  // payload (padding included) unless it is known zero.
  if (!zero) std::fill(o + 1, o + words64, uint64_t{0});
  noteAllocated(bytes);
  slot = o;
  return Ref::object(id);
}

Result<Ref, TrapKind> SlabHeap::newArray(CanonTypeId type, uint32_t length, Value fill) {
  uint64_t* o = nullptr;
  Result<Ref, TrapKind> r = allocArray(type, length, o);
  if (!o) return r;
  uint64_t h = o[0];
  uint64_t bits = fill.bits();
  if (h & kRefElems) {
    uint64_t word;
    if (!encodeRef(bits, word)) return TrapKind::HeapExhausted;  // the array is garbage now
    if (word != 0) std::fill(o + 1, o + 1 + length, word);
    return r;
  }
  uint32_t elem = 1u << ((h >> kElemShift) & 3);
  auto* p = reinterpret_cast<uint8_t*>(o + 1);
  if ((bits & maskFor(elem)) == 0) return r;
  switch (elem) {
    case 1: std::memset(p, static_cast<int>(bits & 0xFF), length); break;
    case 8: std::fill(o + 1, o + 1 + length, bits); break;
    default:
      for (uint32_t i = 0; i < length; ++i) storeBits(p + size_t{i} * elem, elem, bits);
  }
  return r;
}

Result<Ref, TrapKind> SlabHeap::newArrayFrom(CanonTypeId type, std::span<const Value> elems) {
  if (elems.size() > UINT32_MAX) return TrapKind::ArrayTooLarge;
  uint64_t* o = nullptr;
  Result<Ref, TrapKind> r = allocArray(type, static_cast<uint32_t>(elems.size()), o);
  if (!o) return r;
  uint64_t h = o[0];
  if (h & kRefElems) {
    for (size_t i = 0; i < elems.size(); ++i)
      if (!encodeRef(elems[i].bits(), o[1 + i])) return TrapKind::HeapExhausted;
    return r;
  }
  uint32_t elem = 1u << ((h >> kElemShift) & 3);
  auto* p = reinterpret_cast<uint8_t*>(o + 1);
  for (size_t i = 0; i < elems.size(); ++i) storeBits(p + i * elem, elem, elems[i].bits());
  return r;
}

// --- Access ---------------------------------------------------------------------------------

CanonTypeId SlabHeap::typeOf(Ref obj) const {
  const uint64_t* o = obj.isObject() ? resolve(obj.heapId(), "typeOf") : notAnObject(obj, "typeOf");
  if (!o) return 0;
  if (o[0] & kSideEntry) [[unlikely]] {
    typeConfusion(obj.heapId(), o, "typeOf", "a struct or an array");
    return 0;
  }
  return typeBits(o[0]);
}

Value SlabHeap::structGet(Ref obj, uint32_t field) const {
  const uint64_t* o = structAt(obj, field, "structGet");
  if (!o) return Value();
  const StructLayout& l = layouts_[typeBits(o[0])];
  uint64_t m = masks_[l.first + field];
  uint64_t w = o[wordOf(l, field)];
  return m != 0 ? Value::fromBits(w) : decodeRef(w, "structGet");
}

Value SlabHeap::structGetThrough(Ref obj, CanonTypeId static_type, uint32_t field) {
  if (!faultActive(Fault::SubtypeLayoutMovesField)) return structGet(obj, field);
  const uint64_t* o = structAt(obj, field, "structGet");
  const StructLayout* sl = structLayout(static_type);
  if (!o || !sl || field >= sl->count) return Value();
  // Fault zoo: the compiled code's offset, from its static type's layout.
  const StructLayout& dl = layouts_[typeBits(o[0])];
  if (wordOf(*sl, field) != wordOf(dl, field)) SLABFUZZ_FAULT_TRIGGERED(SubtypeLayoutMovesField);
  uint64_t m = masks_[sl->first + field];
  uint64_t w = o[wordOf(*sl, field)];
  return m != 0 ? Value::fromBits(w & m) : decodeRef(w, "structGet");
}

void SlabHeap::structSetThrough(Ref obj, CanonTypeId static_type, uint32_t field, Value v) {
  if (!faultActive(Fault::SubtypeLayoutMovesField)) return structSet(obj, field, v);
  uint64_t* o = const_cast<uint64_t*>(structAt(obj, field, "structSet"));
  const StructLayout* sl = structLayout(static_type);
  if (!o || !sl || field >= sl->count) return;
  const StructLayout& dl = layouts_[typeBits(o[0])];
  if (wordOf(*sl, field) != wordOf(dl, field)) SLABFUZZ_FAULT_TRIGGERED(SubtypeLayoutMovesField);
  uint64_t m = masks_[sl->first + field];
  quiescent_ = false;
  o[wordOf(*sl, field)] = m != 0 ? v.bits() & m : storedRef(v.bits());
}

void SlabHeap::structSet(Ref obj, uint32_t field, Value v) {
  uint64_t* o = const_cast<uint64_t*>(structAt(obj, field, "structSet"));
  if (!o) return;
  const StructLayout& l = layouts_[typeBits(o[0])];
  uint64_t m = masks_[l.first + field];
  if (m != 0) {
    o[wordOf(l, field)] = v.bits() & m;
  } else {
    quiescent_ = false;
    o[wordOf(l, field)] = storedRef(v.bits());
  }
}

uint32_t SlabHeap::arrayLength(Ref obj) const {
  const uint64_t* o = arrayAt(obj, "arrayLength");
  return o ? lengthOf(o[0]) : 0;
}

Value SlabHeap::arrayGet(Ref obj, uint32_t index) const {
  const uint64_t* o = arrayAt(obj, "arrayGet");
  if (!o) return Value();
  uint64_t h = o[0];
  if (index >= lengthOf(h)) [[unlikely]] {
    typeConfusion(obj.heapId(), o, "arrayGet", "an array longer than the index");
    return Value();
  }
  if (h & kRefElems) return decodeRef(o[1 + index], "arrayGet");
  uint32_t elem = 1u << ((h >> kElemShift) & 3);
  return Value::fromBits(
      loadBits(reinterpret_cast<const uint8_t*>(o + 1) + size_t{index} * elem, elem));
}

void SlabHeap::arraySet(Ref obj, uint32_t index, Value v) {
  uint64_t* o = const_cast<uint64_t*>(arrayAt(obj, "arraySet"));
  if (!o) return;
  uint64_t h = o[0];
  if (index >= lengthOf(h)) [[unlikely]] {
    typeConfusion(obj.heapId(), o, "arraySet", "an array longer than the index");
    return;
  }
  if (h & kRefElems) {
    o[1 + index] = storedRef(v.bits());
    return;
  }
  uint32_t elem = 1u << ((h >> kElemShift) & 3);
  storeBits(reinterpret_cast<uint8_t*>(o + 1) + size_t{index} * elem, elem, v.bits());
}

void SlabHeap::arrayFill(Ref obj, uint32_t offset, Value v, uint32_t count) {
  uint64_t* o = const_cast<uint64_t*>(arrayAt(obj, "arrayFill"));
  if (!o) return;
  uint64_t h = o[0];
  if (uint64_t{offset} + count > lengthOf(h)) [[unlikely]] {
    typeConfusion(obj.heapId(), o, "arrayFill", "an array longer than the range");
    return;
  }
  if (count == 0) return;
  if (h & kRefElems) {
    uint64_t word = encodeRefOrThrow(v.bits());
    std::fill(o + 1 + offset, o + 1 + offset + count, word);
    return;
  }
  uint32_t elem = 1u << ((h >> kElemShift) & 3);
  auto* p = reinterpret_cast<uint8_t*>(o + 1);
  for (uint64_t i = offset; i < uint64_t{offset} + count; ++i)
    storeBits(p + i * elem, elem, v.bits());
}

void SlabHeap::arrayCopy(Ref dst, uint32_t dst_offset, Ref src, uint32_t src_offset,
                         uint32_t count) {
  uint64_t* d = const_cast<uint64_t*>(arrayAt(dst, "arrayCopy"));
  if (!d) return;
  const uint64_t* s = arrayAt(src, "arrayCopy");
  if (!s) return;
  constexpr uint64_t kElemBits = (uint64_t{3} << kElemShift) | kRefElems;
  if ((d[0] & kElemBits) != (s[0] & kElemBits)) [[unlikely]] {
    typeConfusion(src.heapId(), s, "arrayCopy", "an array with the destination's element type");
    return;
  }
  if (uint64_t{dst_offset} + count > lengthOf(d[0])) [[unlikely]] {
    typeConfusion(dst.heapId(), d, "arrayCopy", "an array longer than the destination range");
    return;
  }
  if (uint64_t{src_offset} + count > lengthOf(s[0])) [[unlikely]] {
    typeConfusion(src.heapId(), s, "arrayCopy", "an array longer than the source range");
    return;
  }
  if (count == 0) return;
  quiescent_ = false;
  uint32_t elem = 1u << ((d[0] >> kElemShift) & 3);
  // memmove: the same array, overlapping. Reference words are side ids or
  // object ids of this heap, valid wherever they are copied to.
  std::memmove(reinterpret_cast<uint8_t*>(d + 1) + size_t{dst_offset} * elem,
               reinterpret_cast<const uint8_t*>(s + 1) + size_t{src_offset} * elem,
               size_t{count} * elem);
}

// --- Collection ------------------------------------------------------------------------------

struct SlabHeap::RootMarker final : RootVisitor {
  explicit RootMarker(SlabHeap& h) : heap(h) {}
  void visit(Ref& slot) override {
    // Funcs and host refs as roots are not heap ids (only fields hold side
    // ids); null and i31 hold nothing.
    if (ok && slot.isObject()) ok = heap.markObject(slot.heapId(), "mark root");
  }
  SlabHeap& heap;
  bool ok = true;
};

bool SlabHeap::markObject(uint64_t id, const char* op) {
  uint64_t* o = resolveMut(id, op);  // a stale root is seen here, phase Mark
  if (!o) return false;
  uint64_t h = o[0];
  if (h & kSideEntry) [[unlikely]] {
    typeConfusion(id, o, op, "a struct or an array");
    return false;
  }
  if (h & kMark) return true;
  o[0] = h | kMark;
  slabs_[slabid::slabOf(id)].marked++;
  // Leaves (numeric arrays) need no tracing.
  if (!(h & kArray) || (h & kRefElems)) mark_stack_.push_back(o);
  return true;
}

bool SlabHeap::markWord(uint64_t word) {
  if (word == 0 || (word & 1)) return true;  // null, i31
  uint64_t tag = word & 7;
  if (tag == 0) return markObject(word >> 3, "trace");
  if (tag != 2 && tag != 4) return true;  // not a Ref tag; the verifier names it
  uint64_t id = word >> 3;
  uint64_t* e = resolveMut(id, "trace side entry");
  if (!e) return false;
  uint64_t want = tag == 2 ? kSideFunc : kSideHost;
  if ((e[0] & kSideEntry) == 0 || typeBits(e[0]) != want) [[unlikely]] {
    typeConfusion(id, e, "trace side entry",
                  tag == 2 ? "a func side-table entry" : "a host side-table entry");
    return false;
  }
  if (!(e[0] & kMark)) {
    e[0] |= kMark;
    slabs_[slabid::slabOf(id)].marked++;
  }
  return true;
}

void SlabHeap::clearMarks() {
  for (SlabEntry& e : slabs_) {
    e.marked = 0;
    Slab<uint64_t>& s = e.slab;
    if (!s.isLive()) continue;
    for (uint32_t slot = 0; slot < s.used(); ++slot)
      if (s.isAllocated(slot)) s.at(slot)[0] &= ~kMark;
  }
  mark_stack_.clear();
}

void SlabHeap::sweep() {
  // Highest index first, so released indices go on free_indices_ in
  // descending order and the lowest is reused first (a compact directory).
  for (uint32_t idx = static_cast<uint32_t>(slabs_.size()); idx-- > 1;) {
    SlabEntry& e = slabs_[idx];
    Slab<uint64_t>& s = e.slab;
    if (!s.isLive()) continue;
    uint32_t used = s.capacity() - s.fresh();
    const uint16_t* states = s.states();
    bool whole = e.marked == 0 && e.kind == SlabKind::Object;
    e.marked = 0;
    if (whole) {
      // Nothing in it survives: count what goes and release the storage
      // as it is (no slot needs poisoning, no id into it can match again).
      for (uint32_t slot = 0; slot < used; ++slot) {
        if (!(states[slot] & Slab<uint64_t>::kAllocatedBit)) continue;
        stats_.live_bytes -= accountedBytes(s.at(slot));
        stats_.live_objects--;
        slab_stats_.objects_freed++;
      }
      releaseSlab(idx);
      continue;
    }
    for (uint32_t slot = 0; slot < used; ++slot) {
      if (!(states[slot] & Slab<uint64_t>::kAllocatedBit)) continue;
      uint64_t* o = s.at(slot);
      if (o[0] & kMark) {
        o[0] &= ~kMark;
        continue;
      }
      if (e.kind == SlabKind::Object) {
        stats_.live_bytes -= accountedBytes(o);
        stats_.live_objects--;
        slab_stats_.objects_freed++;
      } else {
        // Forget the interned entry (only if it is this one).
        Ref r = Ref::fromBits(o[1]);
        uint64_t id = slabid::pack(tag_, idx, s.identity(), slot, s.generation(slot));
        if (SLABFUZZ_FAULT(SideTableSlabReleased)) {
          // Fault zoo: the index keeps naming the dead entry.
          SLABFUZZ_FAULT_TRIGGERED(SideTableSlabReleased);
        } else if (e.kind == SlabKind::FuncTable) {
          if (r.funcAddr() < func_entries_.size() && func_entries_[r.funcAddr()] == id)
            func_entries_[r.funcAddr()] = 0;
        } else {
          auto it = host_entries_.find(r.hostPayload());
          if (it != host_entries_.end() && it->second == id) host_entries_.erase(it);
        }
        slab_stats_.side_entries--;
      }
      s.free(slot);
    }
    if (s.live() == 0) releaseSlab(idx);
  }
}

void SlabHeap::rebuildAvailable() {
  for (std::vector<uint32_t>& a : available_) a.clear();
  // Highest index first on the stack's bottom, so that allocation fills the
  // lowest slabs first.
  for (uint32_t idx = static_cast<uint32_t>(slabs_.size()); idx-- > 1;) {
    const SlabEntry& e = slabs_[idx];
    if (e.slab.isLive() && !e.slab.full() && e.size_class != kDedicated)
      available_[e.size_class].push_back(idx);
  }
}

void SlabHeap::updateTrigger() {
  // Half of the headroom left under max_bytes, so that collections come
  // sooner as live data approaches the cap (and a collection can free the
  // garbage before an allocation is refused).
  uint64_t headroom =
      limits_.max_bytes > stats_.live_bytes ? limits_.max_bytes - stats_.live_bytes : 0;
  trigger_bytes_ = std::max<uint64_t>(1, std::min(config_.gc_budget_bytes, headroom / 2));
}

void SlabHeap::collect(RootSource& roots) {
  // After a violation the heap's graph is suspect; collecting could free
  // what the report is about.
  if (violation_) return;
  // Finished is called on every way out, the abandoned mark included.
  struct ObserverScope {
    GcObserver* o;
    explicit ObserverScope(GcObserver* o) : o(o) {
      if (o) o->collectionStarted();
    }
    ~ObserverScope() {
      if (o) o->collectionFinished();
    }
  } observed(config_.observer);
  phase_ = HeapPhase::Mark;
  mark_stack_.clear();
  RootMarker marker(*this);
  roots.forEachRoot(marker);
  bool ok = marker.ok;
  // An explicit mark stack: a million-long list must not recurse.
  while (ok && !mark_stack_.empty()) {
    const uint64_t* o = mark_stack_.back();
    mark_stack_.pop_back();
    uint64_t h = o[0];
    if (h & kArray) {
      uint32_t n = lengthOf(h);
      for (uint32_t i = 0; i < n && ok; ++i) ok = markWord(o[1 + i]);
    } else {
      CanonTypeId t = typeBits(h);
      if (t >= layouts_.size() || !layouts_[t].known || layouts_[t].count != lengthOf(h))
          [[unlikely]] {
        reportViolation(HeapViolationKind::TypeConfusion, 0,
                        fmt::format("a struct header names type {} with {} fields", t, lengthOf(h)),
                        "a struct type this heap allocated", "trace");
        ok = false;
        break;
      }
      const StructLayout& l = layouts_[t];
      for (uint32_t k = 0; k < l.ref_count && ok; ++k)
        ok = markWord(o[1 + ref_fields_[l.ref_first + k]]);
    }
  }
  if (!ok) {
    // Leave no mark behind (WAMR 5070's class: stale mark bits).
    clearMarks();
    phase_ = HeapPhase::Mutator;
    return;
  }
  phase_ = HeapPhase::Sweep;
  const uint64_t freed_before = slab_stats_.objects_freed;
  sweep();
  rebuildAvailable();
  phase_ = HeapPhase::Mutator;
  stats_.collections++;
  // Survivors were traced, the freed were swept; every live slab was walked.
  stats_.gc_work += 1 + stats_.live_objects + slab_stats_.side_entries +
                    (slab_stats_.objects_freed - freed_before) + slab_stats_.live_slabs;
  allocated_since_gc_ = 0;
  allocations_since_gc_ = 0;
  updateTrigger();
  if (config_.verify_after_gc) {
    // "live == reachable" holds only here, against the roots the collection
    // itself saw: once the runtime resumes, its roots shrink (a frame
    // returns, a local is overwritten) without the heap being told, and
    // garbage is then legitimately live until the next collection.
    quiescent_ = true;
    (void)verify(roots);
    quiescent_ = false;
  }
}

void SlabHeap::safepoint(RootSource& roots) {
  slab_stats_.safepoints++;
  bool go = allocated_since_gc_ >= trigger_bytes_;
  switch (config_.zeal.mode) {
    case Zeal::Mode::None: break;
    case Zeal::Mode::EverySafepoint: go = true; break;
    case Zeal::Mode::EveryNAllocations:
      go = go || allocations_since_gc_ >= std::max<uint64_t>(config_.zeal.n, 1);
      break;
    case Zeal::Mode::Random:
      // Drawn at every safepoint, so the schedule depends only on the seed
      // and the sequence of safepoints.
      if (config_.zeal.one_in <= 1 || splitmix64(zeal_state_) % config_.zeal.one_in == 0) go = true;
      break;
  }
  if (go) collect(roots);
}

}  // namespace slabfuzz
