// Findings: the signature that names one (DESIGN.md "Oracle": kind, site,
// phase) and the one abort function per kind through which a fuzz target
// stops on it.
// Owns: FindingKind (findings.def), signatures, and the abort functions.
// Does not own: deciding that something is a finding (compare.h) or what a
// heap violation holds (heap/violation.h).
// Contract: each kind has its own noinline function with its own body, so
// its frame names the kind in every stack trace and crash grouping by
// frames cannot merge two kinds; each prints the report to stderr and
// aborts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "heap/violation.h"

namespace slabfuzz {

enum class FindingKind : uint8_t {
#define FINDING(Name, Kind, Meaning) Name,
#include "oracle/findings.def"
};
inline constexpr size_t kFindingKindCount = 0
#define FINDING(Name, Kind, Meaning) +1
#include "oracle/findings.def"
    ;

std::string_view findingKindName(FindingKind kind);  // "slab-id:different-slab"
std::string_view findingKindMeaning(FindingKind kind);
FindingKind findingKindOf(HeapViolationKind kind);

struct Signature {
  FindingKind kind = FindingKind::DiffLog;
  std::string detail;  // heap-verify: the invariant; empty otherwise
  std::string site;    // "func $f (3), IR 17 struct.get", or "export run, log line 4"
  std::string phase = "mutator";  // mutator, mark, sweep, verify

  // "slab-id:stale-generation" or "heap-verify:live + free == capacity".
  std::string kindText() const;
  // "<kind> at <site> [<phase>]": one line that names where a finding was
  // seen.
  std::string toString() const;
  // The grouping key of a finding: the kind, the instruction of the site
  // without its position ("struct.get"), and the phase:
  // "slab-id:stale-generation at struct.get [mutator]". Stable under
  // reduction and across modules, so triage groups one bug once and
  // reduction keeps what makes it that bug (not just "still fails").
  std::string bucket() const;
  // The instruction a heap site names ("struct.get" of "func $f (3), IR 17
  // struct.get"), or empty.
  std::string siteInstruction() const;
};

Signature signatureOf(const HeapViolation& violation);

// Prints `report` (which should start with the signature) to stderr and
// aborts through the kind's own function.
[[noreturn]] void abortOnFinding(const Signature& signature, std::string_view report);

// The abort function of a kind, for tests that check they are distinct.
using FindingAbortFn = void (*)(std::string_view report);
FindingAbortFn findingAbortFunction(FindingKind kind);

}  // namespace slabfuzz
