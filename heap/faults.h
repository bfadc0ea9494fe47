// The fault zoo's switchboard (DESIGN.md "Heap": faults; the table is
// faults.def): which injectable bug is active in this process, and the
// canaries that say whether its code ran ("reached") and changed what the
// engine did ("triggered"), as Magma counts them.
// Owns: the Fault enum, names, selection (`--fault NAME`, SLABFUZZ_FAULT)
// and the canaries. Does not own: the faults themselves, which live beside
// the code they break, each behind SLABFUZZ_FAULT(Name).
// Contract: in a build without SLABFUZZ_FAULTS, SLABFUZZ_FAULT(...) is the
// constant false, so no faulty code is compiled, and selecting a fault is
// an error. In a build with it, no fault is active until one is selected;
// the choice is made once, before any module runs, and holds for the whole
// process (fuzz targets read SLABFUZZ_FAULT in LLVMFuzzerInitialize). The
// canaries never change what a run does. Header-only, so that every
// component can break its own code without a link dependency.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace slabfuzz {

enum class Fault : uint8_t {
  None,
#define FAULT(Name, Id, Where, Models, Expect, What) Name,
#include "heap/faults.def"
};

struct FaultInfo {
  Fault fault;
  std::string_view name;    // "loop-back-edge-liveness"
  std::string_view where;   // compile, exec, types, heap
  std::string_view models;  // the real bug
  std::string_view expect;  // signature kinds that name the right class
  std::string_view what;    // what goes wrong
};

inline constexpr FaultInfo kFaults[] = {
#define FAULT(Name, Id, Where, Models, Expect, What) {Fault::Name, Id, Where, Models, Expect, What},
#include "heap/faults.def"
};
inline constexpr size_t kFaultCount = sizeof(kFaults) / sizeof(kFaults[0]);

#if defined(SLABFUZZ_FAULTS) && SLABFUZZ_FAULTS
inline constexpr bool kFaultsBuilt = true;
#else
inline constexpr bool kFaultsBuilt = false;
#endif

namespace faults {

// The active fault (Fault::None until one is selected).
inline Fault g_active = Fault::None;

// Magma-style canaries, per fault (index = enumerator).
struct Canary {
  std::atomic<uint64_t> reached{0};
  std::atomic<uint64_t> triggered{0};
};
inline std::array<Canary, kFaultCount + 1> g_canaries;

inline void noteReached(Fault f) {
  g_canaries[static_cast<size_t>(f)].reached.fetch_add(1, std::memory_order_relaxed);
}
inline void noteTriggered(Fault f) {
  g_canaries[static_cast<size_t>(f)].triggered.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace faults

// Is fault `f` active? Constant false without SLABFUZZ_FAULTS.
inline bool faultActive(Fault f) {
  if constexpr (kFaultsBuilt) {
    return faults::g_active == f;
  } else {
    return false;
  }
}

// The site of one fault: true when it is active (and counted as reached).
#define SLABFUZZ_FAULT(Name)                                        \
  (::slabfuzz::faultActive(::slabfuzz::Fault::Name) &&              \
   (::slabfuzz::faults::noteReached(::slabfuzz::Fault::Name), true))
// Where the faulty code changed behaviour.
#define SLABFUZZ_FAULT_TRIGGERED(Name) ::slabfuzz::faults::noteTriggered(::slabfuzz::Fault::Name)

inline Fault activeFault() { return faults::g_active; }

inline const FaultInfo* faultInfo(Fault f) {
  for (const FaultInfo& i : kFaults)
    if (i.fault == f) return &i;
  return nullptr;
}
inline const FaultInfo* faultByName(std::string_view name) {
  for (const FaultInfo& i : kFaults)
    if (i.name == name) return &i;
  return nullptr;
}
inline std::string_view faultName(Fault f) {
  const FaultInfo* i = faultInfo(f);
  return i ? i->name : std::string_view("none");
}

// Every fault name, one per line with what it models (for --help and errors).
inline std::string faultList() {
  std::string s;
  for (const FaultInfo& i : kFaults) {
    s += "  ";
    s += i.name;
    s += std::string(i.name.size() < 28 ? 28 - i.name.size() : 1, ' ');
    s += i.models;
    s += '\n';
  }
  return s;
}

// Makes `name` the active fault ("none" or "" clears it). Returns the error
// to show the user: an unknown name, or a build without the zoo.
inline std::optional<std::string> selectFault(std::string_view name) {
  if (name.empty() || name == "none") {
    faults::g_active = Fault::None;
    return std::nullopt;
  }
  const FaultInfo* info = faultByName(name);
  if (!info) {
    return "unknown fault '" + std::string(name) + "'; the faults are:\n" + faultList();
  }
  if (!kFaultsBuilt) {
    return "fault '" + std::string(name) +
           "' needs a build with the fault zoo (cmake -DSLABFUZZ_FAULTS=ON; presets dev and "
           "fuzz-faults have it)";
  }
  faults::g_active = info->fault;
  return std::nullopt;
}

// Selects the fault named by the environment variable SLABFUZZ_FAULT, if set.
inline std::optional<std::string> selectFaultFromEnvironment() {
  const char* v = std::getenv("SLABFUZZ_FAULT");
  if (!v) return std::nullopt;
  if (auto err = selectFault(v)) return "SLABFUZZ_FAULT: " + *err;
  return std::nullopt;
}

inline uint64_t faultReached(Fault f) {
  return faults::g_canaries[static_cast<size_t>(f)].reached.load(std::memory_order_relaxed);
}
inline uint64_t faultTriggered(Fault f) {
  return faults::g_canaries[static_cast<size_t>(f)].triggered.load(std::memory_order_relaxed);
}
inline void resetFaultCanaries() {
  for (auto& c : faults::g_canaries) {
    c.reached.store(0, std::memory_order_relaxed);
    c.triggered.store(0, std::memory_order_relaxed);
  }
}

// A finding's bucket taken apart: "<kind>[ at <instruction>] [<phase>]"
// (oracle/finding.h, Signature::bucket). A kind may hold spaces
// (heap-verify's invariant), so the parts are read from the end. A bare
// kind ("diff:trap") has neither instruction nor phase.
struct BucketParts {
  std::string_view kind, instruction, phase;
};
inline BucketParts splitBucket(std::string_view bucket) {
  BucketParts p;
  if (bucket.ends_with(']')) {
    if (size_t open = bucket.rfind(" ["); open != std::string_view::npos) {
      p.phase = bucket.substr(open + 2, bucket.size() - open - 3);
      bucket = bucket.substr(0, open);
    }
  }
  if (size_t at = bucket.rfind(" at ");
      at != std::string_view::npos && bucket.find(' ', at + 4) == std::string_view::npos) {
    p.instruction = bucket.substr(at + 4);
    bucket = bucket.substr(0, at);
  }
  p.kind = bucket;
  return p;
}

namespace faults {
// Is `value` one of the '|'-separated `alternatives`?
inline bool oneOf(std::string_view alternatives, std::string_view value) {
  while (true) {
    size_t bar = alternatives.find('|');
    if (alternatives.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) return false;
    alternatives.remove_prefix(bar + 1);
  }
}
// One entry of FaultInfo::expect against a bucket's parts:
// "KIND[ at OP|OP...][ in PHASE|PHASE...]". KIND ending in ':' matches every
// kind it prefixes; an `at` or `in` clause needs the bucket to name one of
// its instructions or phases (a bucket that names none fails it).
inline bool entryMatches(std::string_view entry, const BucketParts& b) {
  std::string_view ops, phases;
  if (size_t in = entry.find(" in "); in != std::string_view::npos) {
    phases = entry.substr(in + 4);
    entry = entry.substr(0, in);
  }
  if (size_t at = entry.find(" at "); at != std::string_view::npos) {
    ops = entry.substr(at + 4);
    entry = entry.substr(0, at);
  }
  if (entry.empty()) return false;
  if (entry.back() == ':' ? !b.kind.starts_with(entry) : b.kind != entry) return false;
  if (!ops.empty() && !oneOf(ops, b.instruction)) return false;
  if (!phases.empty() && !oneOf(phases, b.phase)) return false;
  return true;
}
}  // namespace faults

// Does a finding's bucket ("slab-id:stale-generation at struct.get
// [mutator]", or a bare kind) name the class a fault expects
// (FaultInfo::expect: comma-separated entries, see faults::entryMatches)?
inline bool faultExpects(const FaultInfo& info, std::string_view bucket) {
  const BucketParts b = splitBucket(bucket);
  std::string_view list = info.expect;
  while (!list.empty()) {
    size_t comma = list.find(',');
    if (faults::entryMatches(list.substr(0, comma), b)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Whether a finding is the fault's: its bucket is one the fault expects,
// the fault's canary triggered in the run that produced it (`triggered`),
// and the same input gives no finding with the fault off
// (`without_fault_vanishes`). Empty means the run could not say, which is
// not proof: a finding the fault did not cause, or of another class, fails.
inline bool findingOfFault(const FaultInfo& info, std::string_view bucket,
                           std::optional<bool> triggered,
                           std::optional<bool> without_fault_vanishes) {
  return faultExpects(info, bucket) && triggered.value_or(false) &&
         without_fault_vanishes.value_or(false);
}

}  // namespace slabfuzz
