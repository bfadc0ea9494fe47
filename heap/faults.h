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

// Does signature kind `kind` ("slab-id:different-slab") name the class a
// fault expects (FaultInfo::expect)?
inline bool faultExpects(const FaultInfo& info, std::string_view kind) {
  std::string_view list = info.expect;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view e = list.substr(0, comma);
    if (!e.empty() && (e.back() == ':' ? kind.starts_with(e) : kind == e)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Whether a finding is of the fault's class: its kind is one the fault
// expects, and the fault's canary triggered in the run that produced it
// (`triggered`; empty when that run could not say, which is not proof). A
// finding the fault did not cause, or of another kind, fails.
inline bool findingOfFault(const FaultInfo& info, std::string_view kind,
                           std::optional<bool> triggered) {
  return faultExpects(info, kind) && triggered.value_or(false);
}

}  // namespace slabfuzz
