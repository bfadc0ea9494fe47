// Running a module on our own runtime for the oracle: one engine
// configuration, one ExecutionLog (DESIGN.md "Oracle").
// Owns: the limits of oracle runs (OracleLimits), the per-call observations
// added to the log (heap digest after every call, the verifier), and the
// plain-data form of a run. Does not own: the configurations (config.h), the
// fuzzing-support host and its line format (runtime/host/fuzzing_support.h)
// or judging logs (compare.h).
// Contract: runOurs is a pure function of the module, the options and the
// configuration: no clocks, no global state; the same input gives the same
// log, line for line.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "oracle/config.h"
#include "oracle/execution_log.h"
#include "runtime/compile.h"
#include "runtime/error.h"
#include "runtime/module.h"

namespace slabfuzz {

// Every limit of an oracle run (CONVENTIONS.md rule 7). Hitting one makes the
// run inconclusive, never a finding.
struct OracleLimits {
  // Steps per run (all export calls together) before it is out of fuel.
  // gcgen's modules end by construction; fuzzed bytes may loop forever, and
  // a few hundred microseconds of looping per run keeps fuzzing fast.
  // Defaults to 1,000,000.
  uint64_t fuel = 1'000'000;
  // Wasm call depth that traps as exhausted. Defaults to 1000 (deep enough
  // for every generated module; shallower recursion costs less fuel).
  uint32_t max_call_depth = 1000;
  // Bytes of live GC objects before heap exhaustion. Defaults to 64 MiB.
  uint64_t max_heap = uint64_t{64} << 20;
  // Memory pages a memory may grow to. Defaults to 1024 (64 MiB).
  uint64_t max_memory_pages = 1024;
  // Table elements a table may grow to. Defaults to 100,000.
  uint64_t max_table_elems = 100'000;
  // Run the heap verifier after every export call (a broken invariant is a
  // violation). Defaults to true.
  bool verify_after_call = true;
  // Log the heap digest after every export call (a kDigestLineOpening line).
  // Defaults to true.
  bool digest_after_call = true;
};

// A module to run: its bytes, its decoded form, or both. Engines that need
// bytes (external ones) use `wasm`; ours uses `module` and decodes `wasm`
// when it is absent.
struct ModuleInput {
  std::span<const uint8_t> wasm;
  std::shared_ptr<const Module> module;
};

// Decodes `wasm` once for several runs; the error is why it is malformed.
Result<ModuleInput, std::string> decodeInput(std::span<const uint8_t> wasm);

// Validation and compiled code shared by the runs of one comparison.
// Compiling (stack maps and liveness) is about a fifth of a run, validating
// a tenth, and every configuration runs the same code: the maps hold the
// precise and the conservative kind. A run reuses them only for the same
// module (the same Module object) when its store gave the module the same
// canonical type ids; the code also needs the same compile options.
// Otherwise the run validates and compiles on its own (and fills the cache,
// if it was empty).
struct SharedCode {
  std::shared_ptr<const Module> module;  // what the rest is for
  std::shared_ptr<const CompiledModule> code;
  std::vector<CanonTypeId> canon;  // the ids `module` was validated and `code` compiled against
  CompileOptions options;
};

struct OurRunOptions {
  EngineConfig config;
  OracleLimits limits;
  // Deliberately broken compilation, for detection tests (compile.h).
  CompileOptions compile;
  // A heap other than the configuration's (tests plant faults with one).
  HeapFactory heap;
  // Code to share with the other runs of the same module (not owned; none
  // by default).
  SharedCode* shared_code = nullptr;
};

// Binaryen's --fuzz-exec on our runtime in one configuration, plus our own
// lines: what `slabfuzz run --config NAME --verify` prints.
ExecutionLog runOurs(const ModuleInput& input, const OurRunOptions& options);

}  // namespace slabfuzz
