// The GC heap interface: everything the interpreter and instantiation do
// with GC objects goes through `Heap`, so heaps can be swapped without
// touching the interpreter (DESIGN.md "Heap"). Owns: the contract of
// allocation and field/element access on ids, heap limits as traps, and the
// root-enumeration hooks a collecting heap needs. Does not own: object
// layout (each heap's business), type canonicalisation (runtime/types.h).
// Contract: the interpreter has already done what the validator and the
// spec require of *it* (null checks, bounds checks, casts); a heap checks
// that an id resolves to a live object of a compatible type, and a heap
// that finds otherwise reports it (issue 4's slab-id diagnostics), it never
// returns another object's data silently.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "heap/violation.h"
#include "runtime/error.h"
#include "runtime/trap.h"
#include "runtime/types.h"
#include "runtime/value.h"

namespace slabfuzz {

// Limits a heap enforces. Exceeding one is a resource trap, never an abort.
struct HeapLimits {
  // Total bytes of live objects (headers included). Defaults to 1 GiB.
  uint64_t max_bytes = uint64_t{1} << 30;
  // Elements in one array. Defaults to 2^28 (what V8 allows).
  uint32_t max_array_length = 1u << 28;
};

struct HeapStats {
  uint64_t allocations = 0;   // objects allocated since creation
  uint64_t live_objects = 0;  // objects currently allocated
  uint64_t live_bytes = 0;    // bytes currently allocated
  uint64_t collections = 0;   // completed collections (0 for non-collecting heaps)
  // Units of work the collector and the verifier did so far: one per
  // collection or verification, plus one per object or entry each one
  // traced, freed or checked. The runtime charges fuel for it, so that a
  // loop that collects at every turn over a large heap ends like any other
  // long loop. 0 for heaps that never collect.
  uint64_t gc_work = 0;
};

// A collecting heap asks the runtime for roots through these.
class RootVisitor {
 public:
  virtual ~RootVisitor() = default;
  // `slot` holds a reference that must survive; a moving heap may update it.
  virtual void visit(Ref& slot) = 0;
};
class RootSource {
 public:
  virtual ~RootSource() = default;
  virtual void forEachRoot(RootVisitor& visitor) = 0;
};

class Heap {
 public:
  explicit Heap(const TypeStore& types, HeapLimits limits = {}) : types_(types), limits_(limits) {}
  virtual ~Heap() = default;
  Heap(const Heap&) = delete;
  Heap& operator=(const Heap&) = delete;

  const TypeStore& types() const { return types_; }
  const HeapLimits& limits() const { return limits_; }

  // Allocation. Values are in their operand-stack form (packed fields as
  // i32; the heap keeps the low 8 or 16 bits). Fails with HeapExhausted or
  // ArrayTooLarge, never aborts.
  virtual Result<Ref, TrapKind> newStruct(CanonTypeId type, std::span<const Value> fields) = 0;
  virtual Result<Ref, TrapKind> newArray(CanonTypeId type, uint32_t length, Value fill) = 0;
  virtual Result<Ref, TrapKind> newArrayFrom(CanonTypeId type, std::span<const Value> elems) = 0;

  // The exact (allocated) type of a heap object.
  virtual CanonTypeId typeOf(Ref obj) const = 0;

  // Field and element access. Packed values come back zero-extended; the
  // interpreter sign-extends for the _s forms. Indices are in bounds.
  virtual Value structGet(Ref obj, uint32_t field) const = 0;
  virtual void structSet(Ref obj, uint32_t field, Value v) = 0;
  // The same through the instruction's static type (a supertype of the
  // object's): equal to the above in a correct heap, where a subtype keeps
  // its supertypes' fields where they are. Only the fault zoo's
  // subtype-layout-moves-field tells them apart.
  virtual Value structGetThrough(Ref obj, CanonTypeId static_type, uint32_t field) {
    (void)static_type;
    return structGet(obj, field);
  }
  virtual void structSetThrough(Ref obj, CanonTypeId static_type, uint32_t field, Value v) {
    (void)static_type;
    structSet(obj, field, v);
  }
  virtual uint32_t arrayLength(Ref obj) const = 0;
  virtual Value arrayGet(Ref obj, uint32_t index) const = 0;
  virtual void arraySet(Ref obj, uint32_t index, Value v) = 0;
  // Bulk forms; ranges already bounds-checked. arrayCopy handles overlap.
  virtual void arrayFill(Ref obj, uint32_t offset, Value v, uint32_t count) = 0;
  virtual void arrayCopy(Ref dst, uint32_t dst_offset, Ref src, uint32_t src_offset,
                         uint32_t count) = 0;

  // A safepoint: the runtime is at an instruction that may allocate, call or
  // enter the host, and `roots` can enumerate every live reference. A
  // collecting heap may collect here. Defaults to doing nothing.
  virtual void safepoint(RootSource& roots) {}
  // Whether safepoint() may do anything: a heap that never collects says
  // false, and the runtime may then skip its safepoint calls. Fixed for the
  // heap's lifetime. Defaults to true (the safe answer).
  virtual bool collects() const { return true; }
  // A collection now, whatever the triggers say (the fuzzing host's `gc`
  // import, the oracle). A heap that does not collect does nothing.
  virtual void collect(RootSource& roots) {}

  // Checks every invariant of the heap (heap/verify.cc lists them) over the
  // objects reachable from `roots`; on the first broken one records a
  // Verify violation and returns false. Defaults to true (a heap with no
  // invariants of its own).
  virtual bool verify(RootSource& roots) { return true; }

  // A canonical hash of the object graph reachable from `roots` (in order):
  // objects numbered in breadth-first order, types by canonical id, numbers
  // by bits, functions by address, so that two heaps holding equal graphs
  // give equal digests whatever their ids (heap/digest.cc). Reads through
  // the virtual accessors, so it holds for every heap.
  uint64_t digest(std::span<const Ref> roots) const;

  virtual HeapStats stats() const = 0;

  // The first violation this heap found (a slab id that did not resolve, a
  // broken invariant), or null. Once set, what the heap returns is
  // meaningless (but memory safe): the runtime checks after every heap call
  // and stops the run with Outcome::Kind::Violation.
  const HeapViolation* violation() const { return violation_.get(); }
  // The runtime names the site (function and instruction) of the violation.
  void setViolationSite(std::string site) {
    if (violation_) violation_->site = std::move(site);
  }
  // Forgets the violation (a test, or an oracle that moves to a new module).
  void clearViolation() { violation_.reset(); }

 protected:
  // Records `v` unless a violation is already recorded (the first one is
  // the cause; later ones are its consequences).
  void report(HeapViolation v) {
    if (!violation_) violation_ = std::make_unique<HeapViolation>(std::move(v));
  }

  const TypeStore& types_;
  HeapLimits limits_;
  std::unique_ptr<HeapViolation> violation_;
};

}  // namespace slabfuzz
