#include "generators/binaryen/metamorphic.h"

#include <regex>

#include "runtime/decode.h"
#include "runtime/host/fuzzing_support.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"
#include "runtime/validate.h"

namespace slabfuzz::binaryen {
namespace {

using Status = FuzzExecRun::Status;

FuzzExecRun rejected(std::string why) {
  FuzzExecRun r;
  r.status = Status::Rejected;
  r.message = std::move(why);
  return r;
}

}  // namespace

FuzzExecRun runFuzzExec(std::span<const uint8_t> wasm, const EngineConfig& config,
                        const FuzzExecLimits& limits) {
  auto decoded = decodeModule(wasm);
  if (!decoded.ok()) {
    return rejected(std::string(categoryName(decoded.error().category())) + ": " +
                    decoded.error().toString());
  }
  auto module = std::make_shared<const Module>(std::move(decoded).value());
  HeapLimits heap_limits;
  heap_limits.max_bytes = limits.max_heap;
  Store store(makeHeapFactory(config, heap_limits));
  auto types = validateModule(*module, store.types);
  if (!types.ok()) {
    return rejected(std::string(categoryName(types.error().category())) + ": " +
                    types.error().toString());
  }
  RunLimits run_limits;
  run_limits.fuel = limits.fuel;
  run_limits.max_call_depth = limits.max_call_depth;
  run_limits = withConfig(run_limits, config);
  Executor exec(store, run_limits);

  FuzzExecRun run;
  FuzzingSupport fuzzing(store, [&run](std::string_view line) { run.log.emplace_back(line); });
  auto inst = instantiate(exec, module, std::move(types).value(), fuzzing.resolver());
  if (!inst.ok()) {
    const InstantiationFailure& f = inst.error();
    switch (f.kind) {
      case InstantiationFailure::Kind::Unlinkable:
        return rejected("unlinkable: " + f.message);
      case InstantiationFailure::Kind::Trapped:
        // As `slabfuzz run`: Binaryen logs the trap and calls nothing.
        run.log.push_back(FuzzingSupport::describeFailure(Outcome::trapped(f.trap)));
        run.status = isResourceTrap(f.trap) ? Status::Inconclusive : Status::Ran;
        return run;
      case InstantiationFailure::Kind::OutOfFuel:
        run.log.emplace_back("[out of fuel]");
        run.status = Status::Inconclusive;
        return run;
      case InstantiationFailure::Kind::Violation:
        run.status = Status::Violation;
        run.message = f.violation ? f.violation->describe() : f.message;
        return run;
    }
  }
  fuzzing.setInstance(inst.value());
  FuzzExecSummary summary = fuzzing.runExports(exec);
  if (summary.violation) {
    run.status = Status::Violation;
    run.message = summary.violation->describe();
  } else if (summary.inconclusive) {
    run.status = Status::Inconclusive;
  }
  return run;
}

std::vector<std::string> normaliseLog(std::span<const std::string> log) {
  static const std::regex nan(R"(-?nan(:0x[0-9a-f]+)?)");
  std::vector<std::string> out;
  out.reserve(log.size());
  for (const std::string& line : log) {
    if (line.starts_with("[trap ") && line.ends_with("]")) {
      out.emplace_back("[trap]");
      continue;
    }
    out.push_back(line.find("nan") == std::string::npos ? line
                                                         : std::regex_replace(line, nan, "nan"));
  }
  return out;
}

const char* verdictName(MetamorphicVerdict::Kind kind) {
  using K = MetamorphicVerdict::Kind;
  switch (kind) {
    case K::Agree: return "agree";
    case K::Inconclusive: return "inconclusive";
    case K::Differ: return "differ";
    case K::InvalidA: return "invalid-a";
    case K::InvalidB: return "invalid-b";
    case K::Violation: return "violation";
  }
  return "?";
}

MetamorphicVerdict compareVariants(std::span<const uint8_t> a, std::span<const uint8_t> b,
                                   const EngineConfig& config, const FuzzExecLimits& limits) {
  using K = MetamorphicVerdict::Kind;
  MetamorphicVerdict v;
  v.a = runFuzzExec(a, config, limits);
  if (v.a.status == Status::Rejected) {
    v.kind = K::InvalidA;
    v.detail = v.a.message;
    return v;
  }
  v.b = runFuzzExec(b, config, limits);
  if (v.a.status == Status::Violation || v.b.status == Status::Violation) {
    v.kind = K::Violation;
    v.detail = v.a.status == Status::Violation ? "A: " + v.a.message : "B: " + v.b.message;
    return v;
  }
  if (v.b.status == Status::Rejected) {
    v.kind = K::InvalidB;
    v.detail = v.b.message;
    return v;
  }
  if (v.a.status == Status::Inconclusive || v.b.status == Status::Inconclusive) {
    v.kind = K::Inconclusive;
    return v;
  }
  std::vector<std::string> na = normaliseLog(v.a.log), nb = normaliseLog(v.b.log);
  if (na == nb) return v;
  v.kind = K::Differ;
  size_t i = 0;
  while (i < na.size() && i < nb.size() && na[i] == nb[i]) ++i;
  v.detail = "line " + std::to_string(i + 1) + ": A \"" + (i < na.size() ? na[i] : "<end>") +
             "\", B \"" + (i < nb.size() ? nb[i] : "<end>") + "\"";
  return v;
}

}  // namespace slabfuzz::binaryen
