// Engines and differential runs; see engine.h.
#include "oracle/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "oracle/comparable.h"

namespace slabfuzz {

bool isExternalEngineName(std::string_view name) {
  return std::ranges::find(kExternalEngineNames, name) != std::end(kExternalEngineNames);
}

Result<std::vector<std::unique_ptr<Engine>>, std::string> makeEngines(
    std::string_view list, const OracleLimits& limits, const ExternalEngineFactory& external,
    const CompileOptions& compile) {
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::string> seen;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string_view name =
        list.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    pos = comma == std::string_view::npos ? list.size() + 1 : comma + 1;
    if (name.empty()) return fmt::format("engine list \"{}\": an empty name", list);
    if (std::ranges::find(seen, name) != seen.end())
      return fmt::format("engine \"{}\" named twice", name);
    seen.emplace_back(name);
    if (isExternalEngineName(name)) {
      if (!external) {
        return fmt::format(
            "engine \"{}\" is an external engine, which this build cannot run yet "
            "(our configurations work: ref, slab, slab-zeal, ...)",
            name);
      }
      auto e = external(name);
      if (!e.ok()) return fmt::format("engine \"{}\": {}", name, e.error());
      engines.push_back(std::move(e).value());
      continue;
    }
    auto config = parseEngineConfig(name);
    if (!config.ok()) return config.error() + " (external engines: v8, binaryen)";
    OurRunOptions o;
    o.config = std::move(config).value();
    o.limits = limits;
    o.compile = compile;
    engines.push_back(std::make_unique<OurEngine>(std::move(o)));
  }
  if (engines.size() < 2) return fmt::format("engine list \"{}\": a comparison needs two engines", list);
  return engines;
}

std::vector<std::string> defaultComparison(uint32_t choice) {
  // Weights in 32nds, from what each configuration costs per input and how
  // often it catches stack maps that miss back-edge liveness (the seed
  // bug's class; bench/detect-rate): seeded random collections and
  // collections every few allocations catch nearly what zeal catches at
  // half its cost, so they take two thirds of the draws. Zeal and small
  // slabs stay for faults that need a collection at one exact safepoint or
  // slab-index reuse; the normal triggers and conservative maps (which no
  // liveness fault changes: they check the maps' typing, at twice zeal's
  // cost) are the rarest picks.
  constexpr std::array<std::string_view, 32> kSlab = {
      "slab-random", "slab-alloc", "slab-random", "slab-zeal",  "slab-alloc", "slab-random",
      "slab-small",  "slab-alloc", "slab-random", "slab-alloc", "slab",       "slab-random",
      "slab-zeal",   "slab-alloc", "slab-random", "slab-small", "slab-alloc", "slab-random",
      "slab-conservative", "slab-alloc", "slab-random", "slab-zeal", "slab-alloc", "slab-random",
      "slab-small",  "slab-alloc", "slab-random", "slab",       "slab-alloc", "slab-random",
      "slab-conservative", "slab-alloc"};
  auto named = [choice](std::string_view base) {
    if (base == "slab-random") return fmt::format("{}:{}", base, ((choice >> 8) & 0x7FFF) + 1);
    if (base == "slab-alloc") return fmt::format("{}:{}", base, ((choice >> 24) & 7) + 1);
    return std::string(base);
  };
  // Bits: 0-4 the configuration, 5-7 and 23 the second one's draw, 8-22
  // slab-random's seed, 24-26 slab-alloc's N, 27-31 the second one.
  std::vector<std::string> names = {"ref", named(kSlab[choice & 31])};
  // One input in sixteen gets a second, different configuration.
  if (((choice >> 5) & 7) == 0 && ((choice >> 23) & 1) == 0) {
    std::string second = named(kSlab[(choice >> 27) & 31]);
    if (second.substr(0, second.find(':')) != names[1].substr(0, names[1].find(':')))
      names.push_back(std::move(second));
  }
  return names;
}

DiffOutcome runDifferential(std::span<const std::unique_ptr<Engine>> engines,
                            const ModuleInput& input) {
  DiffOutcome out;
  out.logs.reserve(engines.size());
  // External engines are given only modules in their comparable set
  // (comparable.h); a module that does not decode is refused by all alike.
  std::shared_ptr<const Module> module = input.module;
  if (!module && std::ranges::any_of(engines, [](const auto& e) { return isExternalEngineName(e->name()); })) {
    auto decoded = decodeInput(input.wasm);
    if (decoded.ok()) module = decoded.value().module;
  }
  for (const std::unique_ptr<Engine>& e : engines) {
    if (module) {
      if (auto why = notComparableWith(e->name(), *module)) {
        out.not_comparable.push_back(fmt::format("{}: {}", e->name(), *why));
        continue;
      }
    }
    out.logs.push_back(e->run(input));
  }
  if (out.logs.size() < 2 && !out.not_comparable.empty()) {
    out.verdict.kind = Verdict::Kind::NotComparable;
    out.verdict.detail = fmt::format("not comparable with {}", out.not_comparable.front());
    return out;
  }
  out.verdict = judge(out.logs);
  return out;
}

}  // namespace slabfuzz
