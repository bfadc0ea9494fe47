// Engine configurations: the named ways slabfuzz runs a module on its own
// runtime (DESIGN.md "Oracle": reference heap, slab heap with zeal at every
// safepoint, random GC points, conservative roots, small slabs).
// Owns: the names, what each one sets, and turning one into a heap factory
// and run settings. Does not own: the heaps (heap/) or running (runtime/).
// Contract: a configuration is plain data; the same name (and seed) always
// gives the same configuration, so a finding's command line reproduces it.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "heap/heap.h"
#include "heap/slab_heap.h"
#include "runtime/error.h"
#include "runtime/exec.h"
#include "runtime/stack_map_mode.h"
#include "runtime/store.h"

namespace slabfuzz {

struct EngineConfig {
  enum class HeapKind : uint8_t { Reference, Slab };

  std::string name;  // as parsed, e.g. "slab-random:7"
  HeapKind heap = HeapKind::Reference;
  SlabHeapConfig slab;  // HeapKind::Slab only
  // The frame scan's stack maps (RunLimits::stack_maps).
  StackMapMode stack_maps = StackMapMode::Precise;
};

// The configuration names with one line each, for --help and reports.
struct EngineConfigName {
  std::string_view name;
  std::string_view meaning;
};
std::span<const EngineConfigName> engineConfigNames();

// Parses "ref", "slab", "slab-zeal", "slab-random[:SEED]", "slab-alloc[:N]",
// "slab-conservative" or "slab-small". The error lists the names.
Result<EngineConfig, std::string> parseEngineConfig(std::string_view spec);

// The heap factory of a configuration, with `limits` for either heap.
HeapFactory makeHeapFactory(const EngineConfig& config, HeapLimits limits = {});

// Applies the configuration's run settings to `limits`.
inline RunLimits withConfig(RunLimits limits, const EngineConfig& config) {
  limits.stack_maps = config.stack_maps;
  return limits;
}

}  // namespace slabfuzz
