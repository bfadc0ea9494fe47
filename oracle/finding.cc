// Findings and their abort functions; see finding.h.
#include "oracle/finding.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>

namespace slabfuzz {
namespace {

// One function per kind, each printing its own kind literal before
// aborting, so that no two have the same body (identical-code folding
// could otherwise merge them) and none is inlined into its caller.
#define FINDING(Name, Kind, Meaning)                                        \
  [[noreturn]] __attribute__((noinline)) void abortOn##Name(std::string_view report) { \
    fmt::print(stderr, "{}\nslabfuzz: finding " Kind ", aborting\n", report);          \
    std::fflush(stderr);                                                                \
    std::abort();                                                                       \
  }
#include "oracle/findings.def"

}  // namespace

std::string_view findingKindName(FindingKind kind) {
  switch (kind) {
#define FINDING(Name, Kind, Meaning) \
  case FindingKind::Name: return Kind;
#include "oracle/findings.def"
  }
  return "?";
}

std::string_view findingKindMeaning(FindingKind kind) {
  switch (kind) {
#define FINDING(Name, Kind, Meaning) \
  case FindingKind::Name: return Meaning;
#include "oracle/findings.def"
  }
  return "?";
}

FindingKind findingKindOf(HeapViolationKind kind) {
  switch (kind) {
    case HeapViolationKind::ForeignHeap: return FindingKind::SlabIdForeignHeap;
    case HeapViolationKind::SlabOutOfRange: return FindingKind::SlabIdSlabOutOfRange;
    case HeapViolationKind::DifferentSlab: return FindingKind::SlabIdDifferentSlab;
    case HeapViolationKind::FreeSlot: return FindingKind::SlabIdFreeSlot;
    case HeapViolationKind::StaleGeneration: return FindingKind::SlabIdStaleGeneration;
    case HeapViolationKind::TypeConfusion: return FindingKind::SlabIdTypeConfusion;
    case HeapViolationKind::Verify: return FindingKind::HeapVerify;
  }
  return FindingKind::HeapVerify;
}

std::string Signature::kindText() const {
  std::string k(findingKindName(kind));
  if (!detail.empty()) k += ":" + detail;
  return k;
}

std::string Signature::toString() const {
  return fmt::format("{} at {} [{}]", kindText(), site.empty() ? "?" : site, phase);
}

std::string Signature::siteInstruction() const {
  size_t ir = site.find(", IR ");
  if (ir == std::string::npos) return "";
  size_t space = site.find(' ', ir + 5);
  return space == std::string::npos ? "" : site.substr(space + 1);
}

std::string Signature::bucket() const {
  std::string op = siteInstruction();
  return op.empty() ? fmt::format("{} [{}]", kindText(), phase)
                    : fmt::format("{} at {} [{}]", kindText(), op, phase);
}

Signature signatureOf(const HeapViolation& violation) {
  Signature s;
  s.kind = findingKindOf(violation.kind);
  if (violation.kind == HeapViolationKind::Verify) s.detail = violation.invariant;
  s.site = violation.site;
  s.phase = std::string(heapPhaseName(violation.phase));
  return s;
}

FindingAbortFn findingAbortFunction(FindingKind kind) {
  switch (kind) {
#define FINDING(Name, Kind, Meaning) \
  case FindingKind::Name: return &abortOn##Name;
#include "oracle/findings.def"
  }
  return nullptr;
}

void abortOnFinding(const Signature& signature, std::string_view report) {
  FindingAbortFn fn = findingAbortFunction(signature.kind);
  if (fn) fn(report);
  std::abort();
}

}  // namespace slabfuzz
