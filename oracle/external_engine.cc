#include "oracle/external_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <initializer_list>
#include <utility>
#include <vector>

#include "generators/encode.h"
#include "oracle/stub_import.h"
#include "runtime/leb128.h"

namespace slabfuzz {
namespace {

bool importsFunction(const Module& m, std::string_view module, std::string_view name) {
  for (const Import& i : m.imports) {
    if (i.kind == ExternKind::Func && i.module == module && i.name == name) return true;
  }
  return false;
}

}  // namespace

Rejection externalRejection(std::string_view reason) {
  auto says = [reason](std::initializer_list<std::string_view> words) {
    return std::ranges::any_of(words, [reason](std::string_view w) { return reason.find(w) != reason.npos; });
  };
  // The harness could not ask the engine, or the engine lacks a host
  // import we have (Binaryen's interpreter and slabfuzz's own imports).
  if (says({"not available", "harness failure", "worker died", "the worker answered",
            "does not provide an import", "not run"}))
    return Rejection::Harness;
  // Binaryen's wasm-opt threw out of its main while it ran the module
  // (binaryen_worker.mjs): what it threw comes first, then what it had
  // printed, which is the module's log and must not be read for words.
  constexpr std::string_view kAborted = "wasm-opt aborted: ";
  if (size_t at = reason.find(kAborted); at != std::string_view::npos) {
    std::string_view thrown = reason.substr(at + kAborted.size());
    thrown = thrown.substr(0, thrown.find("; it printed:"));
    if (externalRejection(thrown) == Rejection::Limit) return Rejection::Limit;
    return Rejection::Aborted;
  }
  if (says({"too large", "too many", "maximum", "exceeds", "greater than allowed", "limit",
            "out of memory"}))
    return Rejection::Limit;
  if (says({"--experimental", "feature", "not enabled"})) return Rejection::Unsupported;
  if (says({"could not link", "LinkError", "import"})) return Rejection::Unlinkable;
  return Rejection::Module;
}

// The module without its custom sections, or the bytes as they are when
// their sections do not parse. Custom sections never change what a module
// does, and Binaryen's reader refuses a module whose name section is
// malformed, which the spec says to ignore (and V8 and ours do): a fuzzer
// that mutates bytes makes many such modules.
std::vector<uint8_t> withoutCustomSections(std::span<const uint8_t> wasm) {
  const uint8_t* p = wasm.data() + std::min<size_t>(8, wasm.size());
  const uint8_t* const end = wasm.data() + wasm.size();
  std::vector<uint8_t> out(wasm.data(), p);
  while (p != end) {
    const uint8_t* section = p++;
    uint64_t size = 0;
    if (leb::readUnsigned<32>(p, end, size) != leb::Status::Ok ||
        size > static_cast<uint64_t>(end - p))
      return {wasm.begin(), wasm.end()};
    p += size;
    if (*section != 0) out.insert(out.end(), section, p);
  }
  return out;
}

std::vector<uint8_t> externalInputBytes(std::string_view engine, const ModuleInput& input) {
  if (engine == "binaryen" && input.module &&
      importsFunction(*input.module, "fuzzing-support", "gc"))
    return withoutCustomSections(encodeModule(stubFunctionImports(*input.module, "fuzzing-support", "gc")));
  if (input.wasm.empty() && input.module) return encodeModule(*input.module);
  if (engine == "binaryen") return withoutCustomSections(input.wasm);
  return {input.wasm.begin(), input.wasm.end()};
}

namespace {

class ExternalOracleEngine final : public Engine {
 public:
  ExternalOracleEngine(std::string name, std::unique_ptr<ExternalEngine> engine)
      : name_(std::move(name)), engine_(std::move(engine)) {}

  const std::string& name() const override { return name_; }

  ExecutionLog run(const ModuleInput& input) override {
    ExecutionLog log;
    log.engine = name_;
    log.ours = false;
    std::vector<std::vector<uint8_t>> batch;
    batch.push_back(externalInputBytes(name_, input));
    auto result = engine_->run(batch);
    if (!result.ok()) {
      log.status = ExecutionLog::Status::Rejected;
      log.rejection = Rejection::Harness;
      log.message = fmt::format("{} is not available: {}", name_, result.error().message);
      return log;
    }
    EngineBatch& b = result.value();
    EngineRun& r = b.runs.at(0);
    log.lines = std::move(r.lines);
    switch (r.status) {
      case EngineRun::Status::Completed: log.status = ExecutionLog::Status::Ran; break;
      case EngineRun::Status::Inconclusive: log.status = ExecutionLog::Status::Inconclusive; break;
      case EngineRun::Status::EngineError: log.status = ExecutionLog::Status::Rejected; break;
    }
    log.message = r.reason;
    if (log.status == ExecutionLog::Status::Rejected) log.rejection = externalRejection(r.reason);
    for (const EngineRestart& restart : b.restarts) {
      if (!log.message.empty()) log.message += "; ";
      log.message += fmt::format("worker {} restarted: {}", restart.worker, restart.reason);
    }
    for (const std::string& l : log.lines) {
      if (isExportLine(l)) ++log.exports_called;
    }
    return log;
  }

 private:
  std::string name_;
  std::unique_ptr<ExternalEngine> engine_;
};

}  // namespace

Result<std::unique_ptr<Engine>, std::string> makeExternalOracleEngine(std::string_view name,
                                                                      ExternalOptions options) {
  auto engine = makeExternalEngine(name, std::move(options));
  if (!engine.ok()) return fmt::format("cannot start {}: {}", name, engine.error().message);
  return std::unique_ptr<Engine>(
      new ExternalOracleEngine(std::string(name), std::move(engine).value()));
}

ExternalEngineFactory externalEngineFactory(ExternalOptions options) {
  return [options](std::string_view name) { return makeExternalOracleEngine(name, options); };
}

}  // namespace slabfuzz
