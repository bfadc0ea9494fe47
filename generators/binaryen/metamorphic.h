// The Binaryen lane's metamorphic check: module A (from translate-to-fuzz)
// and B = A through a random optimiser pipeline must give the same
// Binaryen-format --fuzz-exec log on our runtime (DESIGN.md "Oracle").
// Owns: the verdict of this comparison and the limits it runs under; one
// --fuzz-exec run (oracle/run.h) and log normalisation (oracle/normalise.h)
// are the oracle's, adapted here. Does not own: the log lines
// (runtime/host/fuzzing_support.h), engine configurations (oracle/config.h)
// or producing A and B (lane.h).
// Contract: a verdict is a pure function of the two modules, the
// configuration and the limits. Resource exhaustion (fuel, call depth, heap,
// memory) on either side is Inconclusive, never Differ: optimisation changes
// call depth (inlining) and step counts, and modules call their own exports
// through call-export, as Binaryen's fuzzer notes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "heap/violation.h"
#include "oracle/config.h"
#include "runtime/exec.h"

namespace slabfuzz::binaryen {

struct FuzzExecLimits {
  // Steps per run before it is out of fuel (inconclusive). Translate-to-fuzz
  // bounds its loops with a hang limit, so this is a backstop. Defaults to
  // 50,000,000.
  uint64_t fuel = 50'000'000;
  // Wasm call depth that traps as exhausted. Defaults to RunLimits' 10000.
  uint32_t max_call_depth = RunLimits{}.max_call_depth;
  // Bytes of live GC objects before heap exhaustion. Defaults to HeapLimits'.
  uint64_t max_heap = HeapLimits{}.max_bytes;
};

struct FuzzExecRun {
  enum class Status : uint8_t {
    Ran,           // every export called (traps are results)
    Inconclusive,  // a limit of ours ended a call or the instantiation
    Rejected,      // malformed, invalid, unsupported or unlinkable (message)
    Violation,     // the heap found a reference gone wrong (a finding)
  };
  Status status = Status::Ran;
  std::vector<std::string> log;  // lines as `slabfuzz run` prints them
  std::string message;           // Rejected: why; Violation: the description
};

// What `slabfuzz run --config NAME --fuel F` does with a module's bytes.
FuzzExecRun runFuzzExec(std::span<const uint8_t> wasm, const EngineConfig& config,
                        const FuzzExecLimits& limits = {});

// A log as compared here: NaNs printed as "nan" (payloads and signs are
// nondeterministic in the spec and optimisers fold them), "[trap <message>]"
// as "[trap]" (an optimiser may turn a trap it can prove into `unreachable`,
// which words it differently; where and whether a call traps still counts).
std::vector<std::string> normaliseLog(std::span<const std::string> log);

struct MetamorphicVerdict {
  enum class Kind : uint8_t {
    Agree,         // the normalised logs are equal
    Inconclusive,  // a limit of ours ended either run
    Differ,        // the logs differ: a finding (ours or Binaryen's)
    InvalidA,      // our validator refuses translate-to-fuzz's module
    InvalidB,      // it accepts A but refuses Binaryen's optimised B
    Violation,     // a heap violation in either run: a finding
  };
  Kind kind = Kind::Agree;
  FuzzExecRun a, b;
  // Differ: the first differing line (1-based) and both normalised lines.
  std::string detail;
};

const char* verdictName(MetamorphicVerdict::Kind kind);

MetamorphicVerdict compareVariants(std::span<const uint8_t> a, std::span<const uint8_t> b,
                                   const EngineConfig& config, const FuzzExecLimits& limits = {});

}  // namespace slabfuzz::binaryen
