// The execution log: what one engine observed running one module, as plain
// data handed from the runners to the comparison (DESIGN.md "Oracle").
// Owns: the log's shape (status, lines in Binaryen's --fuzz-exec format, our
// own extra lines) and the small facts about lines that every consumer
// needs. Does not own: writing the lines (runtime/host/fuzzing_support.h),
// running (oracle/run.h), normalising or comparing them (normalise.h,
// compare.h).
// Contract: `lines` is what `slabfuzz run` would print, one entry per line
// without its newline; lines that start with kSlabfuzzLinePrefix exist only
// in logs of our own runtime and are compared only between our own
// configurations.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "heap/violation.h"
#include "runtime/host/fuzzing_support.h"

namespace slabfuzz {

// Why an engine refused a module (ExecutionLog::Status::Rejected). Only a
// refusal of the module itself (Module, Unlinkable) can be compared with
// another engine's verdict: the others say that the engine cannot run it
// on equal terms, which is no statement about the module (DESIGN.md
// "Oracle", "Comparable set").
enum class Rejection : uint8_t {
  None,         // not rejected
  Module,       // malformed or invalid: the spec's verdict on the bytes
  Unlinkable,   // valid, but an import could not be linked
  Unsupported,  // a feature the engine does not have (ours: DESIGN.md "Scope")
  Limit,        // an implementation limit of the engine (too many locals, ...)
  Harness,      // the engine could not be asked: its worker is gone, or died on it
  Aborted,      // the engine threw out of its own run part-way (Binaryen's interpreter
                // ending in an uncaught C++ exception): a crash of that engine, which
                // is no verdict on the module but is a difference from one that ran it
};
std::string_view rejectionName(Rejection r);
// Whether a refusal of this kind says something about the module (a
// refusal nobody classified counts as the module's).
constexpr bool comparableRejection(Rejection r) {
  return r != Rejection::Unsupported && r != Rejection::Limit && r != Rejection::Harness;
}

struct ExecutionLog {
  enum class Status : uint8_t {
    Ran,           // every export called (traps are results)
    Inconclusive,  // a limit of ours (fuel, call depth, heap, memory) ended a call
    Rejected,      // malformed, invalid, unsupported or unlinkable (see message)
    Violation,     // the heap found a reference gone wrong: a finding
  };
  std::string engine;  // the engine or configuration name, e.g. "slab-random:7"
  Status status = Status::Ran;
  std::vector<std::string> lines;
  // Rejected: why; Inconclusive: the line that said so; Violation: describe().
  std::string message;
  // Rejected: what kind of refusal, and (ours) the error's slug
  // ("type-mismatch"; runtime/errors.def).
  Rejection rejection = Rejection::None;
  std::string rejection_code;
  std::shared_ptr<const HeapViolation> violation;  // Violation only
  uint32_t exports_called = 0;
  // Written by our own runtime: has kSlabfuzzLinePrefix lines and our trap
  // wording. External engines leave it false.
  bool ours = false;
};

constexpr std::string_view logStatusName(ExecutionLog::Status s) {
  switch (s) {
    case ExecutionLog::Status::Ran: return "ran";
    case ExecutionLog::Status::Inconclusive: return "inconclusive";
    case ExecutionLog::Status::Rejected: return "rejected";
    case ExecutionLog::Status::Violation: return "violation";
  }
  return "?";
}

// Lines of the log format, by their fixed openings.
inline bool isSlabfuzzLine(std::string_view l) { return l.starts_with(kSlabfuzzLinePrefix); }
inline bool isExportLine(std::string_view l) { return l.starts_with("[fuzz-exec] export "); }
inline bool isResultLine(std::string_view l) { return l.starts_with("[fuzz-exec] note result: "); }
// A call that did not return: a trap, an uncaught exception, or (ours) a
// resource limit.
inline bool isTrapLine(std::string_view l) {
  return l.starts_with("[trap") || l.starts_with("[exception thrown") ||
         l.starts_with("[host limit") || l == "[out of fuel]";
}
// The line our heap digest is printed on: "[slabfuzz] heap digest HEX ...".
inline constexpr std::string_view kDigestLineOpening = "[slabfuzz] heap digest ";

}  // namespace slabfuzz
