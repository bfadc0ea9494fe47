#include "generators/binaryen/metamorphic.h"

#include "oracle/normalise.h"
#include "oracle/run.h"

namespace slabfuzz::binaryen {
namespace {
using Status = FuzzExecRun::Status;
}  // namespace

// One run is the oracle's (oracle/run.h) without its own per-call lines:
// the two modules' heaps differ by construction after optimisation, so
// digests would not compare.
FuzzExecRun runFuzzExec(std::span<const uint8_t> wasm, const EngineConfig& config,
                        const FuzzExecLimits& limits) {
  OurRunOptions options;
  options.config = config;
  options.limits.fuel = limits.fuel;
  options.limits.max_call_depth = limits.max_call_depth;
  options.limits.max_heap = limits.max_heap;
  options.limits.max_memory_pages = RunLimits{}.max_memory_pages;
  options.limits.max_table_elems = RunLimits{}.max_table_elems;
  options.limits.verify_after_call = false;
  options.limits.digest_after_call = false;
  ExecutionLog log = runOurs(ModuleInput{wasm, nullptr}, options);
  FuzzExecRun run;
  run.log = std::move(log.lines);
  switch (log.status) {
    case ExecutionLog::Status::Ran: run.status = FuzzExecRun::Status::Ran; break;
    case ExecutionLog::Status::Inconclusive: run.status = FuzzExecRun::Status::Inconclusive; break;
    case ExecutionLog::Status::Rejected:
      run.status = FuzzExecRun::Status::Rejected;
      run.message = std::move(log.message);
      break;
    case ExecutionLog::Status::Violation:
      run.status = FuzzExecRun::Status::Violation;
      run.message = std::move(log.message);
      break;
  }
  return run;
}

std::vector<std::string> normaliseLog(std::span<const std::string> log) {
  NormaliseOptions options;
  options.keep_trap_messages = false;
  return slabfuzz::normaliseLog(log, options);
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
