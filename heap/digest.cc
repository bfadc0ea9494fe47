// The heap digest (DESIGN.md "Heap"): a canonical hash of the object graph
// reachable from a list of roots. Owns: the traversal order, the numbering
// of objects and the hash. Does not own: the roots (the caller lists them:
// globals, tables, results) or how any heap stores objects: it reads only
// through the virtual accessors, so it is defined for every heap.
// Contract: two heaps holding equal graphs give equal digests whatever their
// ids: objects are numbered 1, 2, ... in breadth-first first-visit order
// (roots in the order given, then fields in order), so an object's number
// depends only on the graph's shape. A heap that reports a violation while
// being read yields some digest; the caller checks violation().
//
// The hash: every item is a 64-bit word fed to `mix` (h = fmix64(h ^ w) *
// kPrime, with MurmurHash3's 64-bit finaliser fmix64), starting from
// kSeed, with a kind tag word before each value so that, e.g., i31 5 and
// object #5 differ. The final value is fmix64(h ^ count of words).
#include <deque>
#include <unordered_map>

#include "heap/heap.h"

namespace slabfuzz {
namespace {

constexpr uint64_t kSeed = 0x736C616266757A7Aull;  // "slabfuzz"
constexpr uint64_t kPrime = 0x100000001B3ull;      // FNV-1a's 64-bit prime

constexpr uint64_t fmix64(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDull;
  k ^= k >> 33;
  k *= 0xC4CEB9FE1A85EC53ull;
  k ^= k >> 33;
  return k;
}

// Tags of the items hashed.
enum Item : uint64_t {
  kRoot = 1,
  kObjectHeader,
  kStruct,
  kArray,
  kNull,
  kI31,
  kFunc,
  kHost,
  kObjectRef,
  kNumber,
  kBadType,
};

class Hasher {
 public:
  void add(uint64_t w) {
    h_ = fmix64(h_ ^ w) * kPrime;
    ++n_;
  }
  void add(Item tag, uint64_t w) {
    add(static_cast<uint64_t>(tag));
    add(w);
  }
  uint64_t finish() const { return fmix64(h_ ^ n_); }

 private:
  uint64_t h_ = kSeed;
  uint64_t n_ = 0;
};

uint64_t packedMask(ValType t) {
  switch (t.kind()) {
    case ValKind::I8: return 0xFF;
    case ValKind::I16: return 0xFFFF;
    case ValKind::I32:
    case ValKind::F32: return 0xFFFFFFFF;
    default: return ~uint64_t{0};
  }
}

}  // namespace

uint64_t Heap::digest(std::span<const Ref> roots) const {
  Hasher h;
  // A violation recorded before the digest is not ours to stop on.
  const HeapViolation* before = violation();
  auto broke = [&] { return violation() != before; };
  std::unordered_map<uint64_t, uint64_t> number;  // Ref bits -> BFS number (from 1)
  std::deque<Ref> queue;
  // A reference: null, i31 value, func address, host payload, or the BFS
  // number of an object (numbered and queued on first sight).
  auto addRef = [&](Ref r) {
    if (r.isNull()) return h.add(kNull, 0);
    if (r.isI31()) return h.add(kI31, r.i31Unsigned());
    if (r.isFunc()) return h.add(kFunc, r.funcAddr());
    if (r.isHost()) return h.add(kHost, r.hostPayload());
    auto [it, fresh] = number.try_emplace(r.bits(), number.size() + 1);
    if (fresh) queue.push_back(r);
    h.add(kObjectRef, it->second);
  };
  for (Ref r : roots) {
    h.add(static_cast<uint64_t>(kRoot));
    addRef(r);
  }
  while (!queue.empty()) {
    Ref r = queue.front();
    queue.pop_front();
    CanonTypeId t = typeOf(r);
    // A heap that found a violation answers with harmless values; stop
    // there rather than read a made-up type's fields.
    if (broke() || t >= types_.size() || types_.kind(t) == CompositeKind::Func) {
      h.add(kBadType, t);
      break;
    }
    bool array = types_.kind(t) == CompositeKind::Array;
    h.add(kObjectHeader, t);
    std::span<const FieldType> fields = types_.fields(t);
    if (array) {
      uint32_t n = arrayLength(r);
      h.add(kArray, n);
      ValType et = fields[0].type;
      for (uint32_t i = 0; i < n && !broke(); ++i) {
        Value v = arrayGet(r, i);
        if (et.isRef())
          addRef(v.ref());
        else
          h.add(kNumber, v.bits() & packedMask(et));
      }
    } else {
      h.add(kStruct, fields.size());
      for (uint32_t i = 0; i < fields.size() && !broke(); ++i) {
        Value v = structGet(r, i);
        if (fields[i].type.isRef())
          addRef(v.ref());
        else
          h.add(kNumber, v.bits() & packedMask(fields[i].type));
      }
    }
  }
  return h.finish();
}

}  // namespace slabfuzz
