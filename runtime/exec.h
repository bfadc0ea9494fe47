// Execution: calling functions and the outcome of a call.
// Owns: `RunLimits`, `Outcome`, and `Executor`, which runs compiled code
// (runtime/compile.h) against a Store. Does not own: instantiation
// (instantiate.h) or host modules (runtime/host/).
// Contract: every call ends in one of four outcomes (returned values, a
// trap with its TrapKind, out of fuel, or a heap violation: a finding, see
// heap/violation.h); no input makes it crash, recurse natively without
// bound, or allocate past the limits. An Executor is re-entrant: host
// functions may call back into it. It is also the collector's RootSource:
// every frame's stack-map slots, a host call's arguments, and the store's
// roots (Store::forEachRoot).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/stack_map_mode.h"
#include "runtime/store.h"
#include "runtime/trap.h"
#include "runtime/value.h"

namespace slabfuzz {

// Every limit and setting of one execution (CONVENTIONS.md rule 7).
struct RunLimits {
  // Steps (instructions, roughly) before the run ends as out of fuel; 0 means
  // no limit. Defaults to 0.
  uint64_t fuel = 0;
  // Wasm call depth at which a call traps with CallStackExhausted; never a
  // native stack overflow, whatever the depth. Defaults to 10000.
  uint32_t max_call_depth = 10000;
  // Memory pages a memory may grow to (memory.grow returns -1 beyond it).
  // Defaults to 16384 (1 GiB).
  uint64_t max_memory_pages = 16384;
  // Table elements a table may grow to (table.grow returns -1 beyond it).
  // Defaults to 10,000,000.
  uint64_t max_table_elems = 10000000;
  // Which stack maps the collector's frame scan uses: the live reference
  // slots (what a compiling engine keeps) or every reference slot.
  // Defaults to Precise.
  StackMapMode stack_maps = StackMapMode::Precise;
};

struct Outcome {
  // Violation: the heap found a reference gone wrong (a slab id that does
  // not resolve, a broken invariant). Not a wasm outcome but a finding: the
  // run stops at once and nothing after it means anything.
  enum class Kind : uint8_t { Returned, Trapped, OutOfFuel, Violation };
  Kind kind = Kind::Returned;
  std::vector<Value> results;  // Returned
  TrapKind trap = TrapKind::Unreachable;  // Trapped
  std::string detail;          // optional extra words (host traps)
  std::shared_ptr<const HeapViolation> violation;  // Violation

  static Outcome returned(std::vector<Value> values) { return {Kind::Returned, std::move(values), {}, {}, {}}; }
  static Outcome trapped(TrapKind t, std::string detail = {}) { return {Kind::Trapped, {}, t, std::move(detail), {}}; }
  static Outcome outOfFuel() { return {Kind::OutOfFuel, {}, {}, {}, {}}; }
  static Outcome violated(HeapViolation v) {
    return {Kind::Violation, {}, {}, {}, std::make_shared<const HeapViolation>(std::move(v))};
  }
  bool ok() const { return kind == Kind::Returned; }
};

class Executor {
 public:
  Executor(Store& store, RunLimits limits);
  ~Executor();
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  Store& store() { return store_; }
  const RunLimits& limits() const { return limits_; }

  // Calls the function at `addr` with `args` (which must match its type).
  Outcome invoke(FuncAddr addr, std::span<const Value> args);

  // Fuel used so far by this executor, across calls.
  uint64_t fuelUsed() const;

  // The collector's roots as this executor sees them now: every active
  // frame's stack-map slots (RunLimits::stack_maps), the arguments of a host
  // call being entered, and the store's roots.
  RootSource& roots();
  // A collection now (the fuzzing host's `gc` import, the oracle). Returns
  // false when the heap reported a violation.
  bool collectGarbage();
  // Heap::verify over roots(). Returns false when an invariant is broken
  // (the heap then holds the violation).
  bool verifyHeap();

 private:
  struct Impl;
  Store& store_;
  RunLimits limits_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slabfuzz
