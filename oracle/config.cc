// Engine configurations; see config.h.
#include "oracle/config.h"

#include <fmt/format.h>

#include <array>
#include <charconv>
#include <memory>

#include "heap/reference_heap.h"

namespace slabfuzz {

namespace {

constexpr std::array<EngineConfigName, 7> kNames = {{
    {"ref", "the reference heap: never frees, ids never reused (the baseline)"},
    {"slab", "the slab heap with its normal triggers (allocation budget), precise stack maps"},
    {"slab-zeal", "the slab heap collecting at every safepoint, precise stack maps"},
    {"slab-random", "the slab heap collecting at 1 in 4 safepoints drawn from a seeded schedule "
                    "(slab-random:SEED, default seed 1), precise stack maps"},
    {"slab-alloc", "the slab heap collecting at the first safepoint after every N allocations "
                   "(slab-alloc:N, default 16), precise stack maps"},
    {"slab-conservative", "the slab heap collecting at every safepoint, every reference slot "
                          "a root (conservative stack maps)"},
    {"slab-small", "256-byte slabs collecting at every safepoint: many slab ids, slab "
                   "indices released and reused all the time"},
}};

// One in this many safepoints collects under slab-random: often enough that
// a missed root is freed within a few safepoints, rarely enough that the
// schedule differs from zeal's.
constexpr uint32_t kRandomOneIn = 4;

}  // namespace

std::span<const EngineConfigName> engineConfigNames() { return kNames; }

Result<EngineConfig, std::string> parseEngineConfig(std::string_view spec) {
  EngineConfig c;
  c.name = std::string(spec);
  std::string_view base = spec.substr(0, spec.find(':'));
  const bool has_arg = base.size() < spec.size();
  std::string_view arg = has_arg ? spec.substr(base.size() + 1) : "";
  if (has_arg && arg.empty()) return fmt::format("\"{}\": an empty argument after ':'", spec);
  if (has_arg && base != "slab-random" && base != "slab-alloc") {
    return fmt::format("engine configuration \"{}\" takes no argument", base);
  }
  if (base == "ref") return c;
  c.heap = EngineConfig::HeapKind::Slab;
  if (base == "slab") return c;
  c.slab.zeal = Zeal::everySafepoint();
  if (base == "slab-zeal") return c;
  if (base == "slab-conservative") {
    c.stack_maps = StackMapMode::Conservative;
    return c;
  }
  if (base == "slab-small") {
    c.slab.slab_bytes = SlabHeapConfig::smallSlabs().slab_bytes;
    return c;
  }
  if (base == "slab-random" || base == "slab-alloc") {
    uint64_t n = base == "slab-random" ? 1 : 16;
    if (!arg.empty()) {
      auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
      if (ec != std::errc() || end != arg.data() + arg.size() || (base == "slab-alloc" && n == 0)) {
        return fmt::format("{} wants a decimal {}, not \"{}\"", base,
                           base == "slab-random" ? "seed" : "allocation count above 0", arg);
      }
    }
    c.slab.zeal = base == "slab-random" ? Zeal::random(n, kRandomOneIn) : Zeal::everyNAllocations(n);
    return c;
  }
  std::string names;
  for (const EngineConfigName& n : kNames) names += fmt::format("{}{}", names.empty() ? "" : ", ", n.name);
  return fmt::format("unknown engine configuration \"{}\" (known: {})", spec, names);
}

HeapFactory makeHeapFactory(const EngineConfig& config, HeapLimits limits) {
  if (config.heap == EngineConfig::HeapKind::Reference) {
    return [limits](const TypeStore& types) -> std::unique_ptr<Heap> {
      return std::make_unique<ReferenceHeap>(types, limits);
    };
  }
  SlabHeapConfig slab = config.slab;
  return [limits, slab](const TypeStore& types) -> std::unique_ptr<Heap> {
    return std::make_unique<SlabHeap>(types, limits, slab);
  };
}

}  // namespace slabfuzz
