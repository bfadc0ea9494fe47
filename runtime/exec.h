// Execution: calling functions and the outcome of a call.
// Owns: `RunLimits`, `Outcome`, and `Executor`, which runs compiled code
// (runtime/compile.h) against a Store. Does not own: instantiation
// (instantiate.h) or host modules (runtime/host/).
// Contract: every call ends in one of three outcomes (returned values, a
// trap with its TrapKind, or out of fuel); no input makes it crash, recurse
// natively without bound, or allocate past the limits. An Executor is
// re-entrant: host functions may call back into it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "runtime/store.h"
#include "runtime/trap.h"
#include "runtime/value.h"

namespace slabfuzz {

// Every limit of one execution (CONVENTIONS.md rule 7).
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
};

struct Outcome {
  enum class Kind : uint8_t { Returned, Trapped, OutOfFuel };
  Kind kind = Kind::Returned;
  std::vector<Value> results;  // Returned
  TrapKind trap = TrapKind::Unreachable;  // Trapped
  std::string detail;          // optional extra words (host traps)

  static Outcome returned(std::vector<Value> values) { return {Kind::Returned, std::move(values), {}, {}}; }
  static Outcome trapped(TrapKind t, std::string detail = {}) { return {Kind::Trapped, {}, t, std::move(detail)}; }
  static Outcome outOfFuel() { return {Kind::OutOfFuel, {}, {}, {}}; }
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

 private:
  struct Impl;
  Store& store_;
  RunLimits limits_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace slabfuzz
