// Running a module on our runtime for the oracle; see run.h.
#include "oracle/run.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"
#include "runtime/validate.h"

namespace slabfuzz {
namespace {

using LogStatus = ExecutionLog::Status;

// The digest's roots after a call: what the call returned, then the store's
// roots (globals, non-function tables, element segments), in that order.
std::vector<Ref> digestRoots(Store& store, std::span<const Value> results,
                             std::span<const ValType> types) {
  struct Collect : RootVisitor {
    std::vector<Ref> refs;
    void visit(Ref& r) override { refs.push_back(r); }
  } collect;
  for (size_t i = 0; i < results.size() && i < types.size(); ++i)
    if (types[i].isRef()) collect.refs.push_back(results[i].ref());
  store.forEachRoot(collect);
  return std::move(collect.refs);
}

}  // namespace

Result<ModuleInput, std::string> decodeInput(std::span<const uint8_t> wasm) {
  auto decoded = decodeModule(wasm);
  if (!decoded.ok()) {
    return std::string(categoryName(decoded.error().category())) + ": " +
           decoded.error().toString();
  }
  ModuleInput in;
  in.wasm = wasm;
  in.module = std::make_shared<const Module>(std::move(decoded).value());
  return in;
}

ExecutionLog runOurs(const ModuleInput& input, const OurRunOptions& options) {
  ExecutionLog run;
  run.engine = options.config.name;
  run.ours = true;
  auto rejected = [&run](Rejection kind, std::string why, std::string_view code = {}) {
    run.status = LogStatus::Rejected;
    run.rejection = kind;
    run.rejection_code = code;
    run.message = std::move(why);
    return std::move(run);
  };
  // A decoding or validation error: the module's fault, unless it names a
  // feature we leave out or a limit of ours (errors.def: too-many).
  auto refused = [&rejected](const Error& e) {
    Rejection kind = e.category() == ErrorCategory::Unsupported ? Rejection::Unsupported
                     : e.code == ErrorCode::TooMany               ? Rejection::Limit
                                                                  : Rejection::Module;
    return rejected(kind, std::string(categoryName(e.category())) + ": " + e.toString(),
                    slugOf(e.code));
  };
  std::shared_ptr<const Module> module = input.module;
  if (!module) {
    auto decoded = decodeModule(input.wasm);
    if (!decoded.ok()) return refused(decoded.error());
    module = std::make_shared<const Module>(std::move(decoded).value());
  }
  const OracleLimits& limits = options.limits;
  HeapLimits heap_limits;
  heap_limits.max_bytes = limits.max_heap;
  Store store(options.heap ? options.heap : makeHeapFactory(options.config, heap_limits));
  // One validation per comparison (run.h): a module another run validated
  // needs only its types interned here, and only if they come out the same.
  SharedCode* shared = options.shared_code;
  const bool cached = shared && shared->code && shared->module == module;
  Result<ModuleTypes> types =
      cached ? canonicalizeTypes(*module, store.types) : validateModule(*module, store.types);
  const bool validated_before =
      cached && types.ok() && std::ranges::equal(types.value().canonIds(), shared->canon);
  if (cached && !validated_before) types = validateModule(*module, store.types);
  if (!types.ok()) return refused(types.error());
  RunLimits run_limits;
  run_limits.fuel = limits.fuel;
  run_limits.max_call_depth = limits.max_call_depth;
  run_limits.max_memory_pages = limits.max_memory_pages;
  run_limits.max_table_elems = limits.max_table_elems;
  run_limits = withConfig(run_limits, options.config);
  Executor exec(store, run_limits);

  FuzzingSupport fuzzing(store, [&run](std::string_view line) { run.lines.emplace_back(line); });
  // One compilation for every configuration of a comparison (run.h).
  std::shared_ptr<const CompiledModule> code;
  if (validated_before && shared->options == options.compile) code = shared->code;
  auto inst = instantiate(exec, module, std::move(types).value(), fuzzing.resolver(),
                          options.compile, code);
  if (shared && !shared->code && !store.instances.empty()) {
    const Instance& made = *store.instances.back();
    if (made.module == module && made.code && made.code->error.empty()) {
      shared->module = module;
      shared->code = made.code;
      shared->canon.assign(made.types.canonIds().begin(), made.types.canonIds().end());
      shared->options = options.compile;
    }
  }
  if (!inst.ok()) {
    const InstantiationFailure& f = inst.error();
    switch (f.kind) {
      case InstantiationFailure::Kind::Unlinkable:
        return rejected(Rejection::Unlinkable, "unlinkable: " + f.message, "unlinkable");
      case InstantiationFailure::Kind::Trapped:
        // As `slabfuzz run`: Binaryen logs the trap and calls nothing.
        run.lines.push_back(FuzzingSupport::describeInstantiationTrap(f.trap, f.detail));
        if (isResourceTrap(f.trap)) {
          run.status = LogStatus::Inconclusive;
          run.message = run.lines.back();
        }
        return run;
      case InstantiationFailure::Kind::OutOfFuel:
        run.lines.emplace_back("[out of fuel]");
        run.status = LogStatus::Inconclusive;
        run.message = run.lines.back();
        return run;
      case InstantiationFailure::Kind::Violation: {
        Outcome o{Outcome::Kind::Violation, {}, {}, {}, f.violation};
        run.lines.push_back(FuzzingSupport::describeFailure(o));
        run.status = LogStatus::Violation;
        run.violation = f.violation;
        run.message = f.violation ? f.violation->describe() : f.message;
        return run;
      }
    }
  }
  fuzzing.setInstance(inst.value());
  fuzzing.setVerifyAfterCall(limits.verify_after_call);
  if (limits.digest_after_call) {
    const char* verified = limits.verify_after_call ? " verified" : "";
    fuzzing.setAfterCall([&run, verified](Executor& e, std::span<const Value> results,
                                std::span<const ValType> types) {
      std::vector<Ref> roots = digestRoots(e.store(), results, types);
      uint64_t digest = e.store().heap->digest(roots);
      // Reading the graph resolves every reachable id: a dangling root is
      // a violation here even when no instruction touched it.
      if (e.store().heap->violation()) return false;
      run.lines.push_back(fmt::format("{}{:016x}{}", kDigestLineOpening, digest, verified));
      return true;
    });
  }
  FuzzExecSummary summary = fuzzing.runExports(exec);
  run.exports_called = summary.exports_called;
  if (summary.violation) {
    run.status = LogStatus::Violation;
    run.violation = summary.violation;
    run.message = summary.violation->describe();
  } else if (summary.inconclusive) {
    run.status = LogStatus::Inconclusive;
    for (const std::string& l : run.lines)
      if (l == "[out of fuel]" || l.starts_with("[host limit")) {
        run.message = l;
        break;
      }
  }
  return run;
}

}  // namespace slabfuzz
