// A heap violation: the structured report of a reference gone wrong (a slab
// id that does not resolve, or a heap invariant that does not hold).
// Owns: the report's data and its readable form. Does not own: detecting
// violations (each heap and its verifier) or deciding what a violation means
// for a run (the runtime stops it; the oracle turns it into a finding).
// Contract: a heap that records a violation keeps the first one only; the
// runtime fills in `site` (function and instruction) since the heap cannot
// know it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace slabfuzz {

enum class HeapViolationKind : uint8_t {
#define HEAP_VIOLATION(Name, Kind, Meaning) Name,
#include "heap/violations.def"
};
// Inline (with signatureKind): the runtime names violations too, and it
// does not link the heap library.
constexpr std::string_view heapViolationName(HeapViolationKind kind) {  // "different-slab"
  switch (kind) {
#define HEAP_VIOLATION(Name, Kind, Meaning) \
  case HeapViolationKind::Name: return Kind;
#include "heap/violations.def"
  }
  return "?";
}
constexpr std::string_view heapViolationMeaning(HeapViolationKind kind) {
  switch (kind) {
#define HEAP_VIOLATION(Name, Kind, Meaning) \
  case HeapViolationKind::Name: return Meaning;
#include "heap/violations.def"
  }
  return "?";
}

// What the heap was doing when it found the violation.
enum class HeapPhase : uint8_t { Mutator, Mark, Sweep, Verify };
constexpr std::string_view heapPhaseName(HeapPhase phase) {  // "mutator", "mark", ...
  switch (phase) {
    case HeapPhase::Mutator: return "mutator";
    case HeapPhase::Mark: return "mark";
    case HeapPhase::Sweep: return "sweep";
    case HeapPhase::Verify: return "verify";
  }
  return "?";
}

// An id decoded into its parts (all zero for an id that is not a heap id).
struct DecodedId {
  uint64_t raw = 0;             // Ref::heapId()
  uint32_t heap_tag = 0;        // which heap made it
  uint32_t slab = 0;            // slab index
  uint32_t slab_identity = 0;   // the slab identity the id was made for
  uint32_t slot = 0;            // slot in the slab
  uint32_t generation = 0;      // the slot's generation when the id was made
};

struct HeapViolation {
  HeapViolationKind kind = HeapViolationKind::Verify;
  HeapPhase phase = HeapPhase::Mutator;
  std::string invariant;  // Verify: the invariant as an equation, e.g. "live + free == capacity"
  DecodedId id;           // the id that failed (or the id the invariant is about)
  std::string now_holds;  // what the slab and slot hold now, in words
  std::string expected;   // what the access expected (a type, a side table)
  std::string operation;  // the heap operation: "structGet", "mark", ...
  uint64_t gc_cycle = 0;  // completed collections when it was found
  std::string site;       // filled by the runtime: "func $f (3), IR 17 struct.get"

  // "slab-id:different-slab" or "heap-verify:<invariant>": the signature kind.
  std::string signatureKind() const {
    if (kind == HeapViolationKind::Verify) return "heap-verify:" + invariant;
    return "slab-id:" + std::string(heapViolationName(kind));
  }
  // A readable multi-line report (starts with the kind and the meaning; for
  // different-slab it contains "id from different slab").
  std::string describe() const;
};

}  // namespace slabfuzz
