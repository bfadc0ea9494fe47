// `slabfuzz run FILE.wasm`: decode, validate, instantiate with the
// fuzzing-support and spectest host modules over the heap of an engine
// configuration (oracle/config.h; the reference heap by default), then do
// what `wasm-opt --fuzz-exec-before` does: call every exported function in
// order with default arguments and log as Binaryen logs, line for line
// (runtime/host/fuzzing_support.h). `--invoke NAME ARGS...` calls one export.
#include <fmt/format.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "oracle/config.h"
#include "runtime/compile.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/host/fuzzing_support.h"
#include "runtime/host/spectest.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"
#include "runtime/validate.h"
#include "tools/commands.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

// A run that a resource limit of ours (fuel, call depth, heap, memory) cut
// short: it ran, but proves nothing about the module.
constexpr int kExitInconclusive = 3;
// The heap found a reference gone wrong (heap/violation.h): a finding.
constexpr int kExitViolation = 4;

// Reports a heap violation (its readable form on stderr) and gives the exit
// status that says "finding".
int reportViolation(const std::string& file, const HeapViolation& v) {
  fmt::print(stderr, "{}: heap violation\n{}\n", file, v.describe());
  return kExitViolation;
}

struct RunOptions {
  std::string file;
  std::string invoke;
  std::vector<std::string> args;
  uint64_t fuel = 0;
  uint32_t max_depth = RunLimits{}.max_call_depth;
  uint64_t max_heap = HeapLimits{}.max_bytes;
  bool dump_ir = false;
  bool verify = false;
  std::string config = "ref";
};

// An argument literal for a parameter of type `t`: integers in decimal or
// 0x hex (negative allowed; i32 also accepts 0..2^32-1), floats as strtod
// reads them (including nan, inf and hex floats), references only as null.
std::optional<Value> parseArg(const std::string& text, ValType t) {
  const char* s = text.c_str();
  char* end = nullptr;
  errno = 0;
  switch (t.kind()) {
    case ValKind::I32:
    case ValKind::I64: {
      bool neg = text.size() > 0 && text[0] == '-';
      unsigned long long mag = std::strtoull(neg ? s + 1 : s, &end, 0);
      if (errno || end == s || *end || text.empty() || (neg && text.size() == 1))
        return std::nullopt;
      if (t.kind() == ValKind::I32) {
        if (neg ? mag > 0x80000000ull : mag > 0xFFFFFFFFull) return std::nullopt;
        uint32_t bits = static_cast<uint32_t>(neg ? 0 - mag : mag);
        return Value::i32(static_cast<int32_t>(bits));
      }
      if (neg && mag > 0x8000000000000000ull) return std::nullopt;
      return Value::i64(static_cast<int64_t>(neg ? 0 - mag : mag));
    }
    case ValKind::F32: {
      float f = std::strtof(s, &end);
      if (end == s || *end) return std::nullopt;
      return Value::f32(f);
    }
    case ValKind::F64: {
      double d = std::strtod(s, &end);
      if (end == s || *end) return std::nullopt;
      return Value::f64(d);
    }
    case ValKind::Ref:
      if (text == "null" && t.nullable()) return Value::ref(Ref::null());
      return std::nullopt;
    default: return std::nullopt;
  }
}

void printLine(std::string_view line) {
  fmt::print("{}\n", line);
}

int run(const RunOptions& opts) {
  const std::string& file = opts.file;
  Result<EngineConfig, std::string> config = parseEngineConfig(opts.config);
  if (!config.ok()) {
    fmt::print(stderr, "{}\n", config.error());
    return kExitUsage;
  }
  auto read = readModuleFile(file, kMaxModuleSize);
  if (auto* fe = std::get_if<FileError>(&read)) {
    fmt::print(stderr, "{}: error: {}\n", file, fe->message);
    return kExitUsage;
  }
  if (auto* text_error = std::get_if<Error>(&read)) {
    fmt::print(stderr, "{}: {}: {}\n", file, categoryName(text_error->category()),
               text_error->toString());
    return kExitRejected;
  }
  auto decoded = decodeModule(std::get<std::vector<uint8_t>>(read));
  if (!decoded.ok()) {
    fmt::print(stderr, "{}: {}: {}\n", file, categoryName(decoded.error().category()),
               decoded.error().toString());
    return kExitRejected;
  }
  auto module = std::make_shared<const Module>(std::move(decoded).value());

  HeapLimits heap_limits;
  heap_limits.max_bytes = opts.max_heap;
  Store store(makeHeapFactory(config.value(), heap_limits));
  auto types = validateModule(*module, store.types);
  if (!types.ok()) {
    fmt::print(stderr, "{}: {}: {}\n", file, categoryName(types.error().category()),
               types.error().toString());
    return kExitRejected;
  }

  RunLimits limits;
  limits.fuel = opts.fuel;
  limits.max_call_depth = opts.max_depth;
  limits = withConfig(limits, config.value());
  Executor exec(store, limits);
  FuzzingSupport fuzzing(store, printLine);
  SpecTest spectest(store, printLine);
  ImportResolver resolver = [&](std::string_view m, std::string_view n) {
    return m == "spectest" ? spectest.resolve(m, n) : fuzzing.resolve(m, n);
  };

  auto inst = instantiate(exec, module, std::move(types).value(), resolver);
  if (!inst.ok()) {
    const InstantiationFailure& f = inst.error();
    switch (f.kind) {
      case InstantiationFailure::Kind::Unlinkable:
        fmt::print(stderr, "{}: unlinkable: {}\n", file, f.message);
        return kExitRejected;
      case InstantiationFailure::Kind::Trapped:
        // Binaryen prints the trap of a failed instantiation and calls nothing.
        printLine(FuzzingSupport::describeInstantiationTrap(f.trap, f.detail));
        fmt::print(stderr, "{}: instantiation trapped: {}\n", file, f.message);
        return isResourceTrap(f.trap) ? kExitInconclusive : kExitRejected;
      case InstantiationFailure::Kind::OutOfFuel:
        printLine("[out of fuel]");
        return kExitInconclusive;
      case InstantiationFailure::Kind::Violation:
        printLine(FuzzingSupport::describeFailure(Outcome{Outcome::Kind::Violation, {}, {}, {}, f.violation}));
        std::fflush(stdout);
        return reportViolation(file, *f.violation);
    }
  }
  Instance* instance = inst.value();
  fuzzing.setInstance(instance);
  fuzzing.setVerifyAfterCall(opts.verify);

  if (opts.dump_ir && instance->code) {
    for (uint32_t i = 0; i < module->functions.size(); ++i)
      fmt::print("{}\n", dumpIR(*instance->code, module->num_imported_funcs + i, *module));
  }

  if (opts.invoke.empty()) {
    FuzzExecSummary summary = fuzzing.runExports(exec);
    std::fflush(stdout);
    if (summary.violation) return reportViolation(file, *summary.violation);
    return summary.inconclusive ? kExitInconclusive : kExitOk;
  }

  const ExternVal* ext = instance->findExport(opts.invoke);
  if (!ext || ext->kind != ExternKind::Func) {
    fmt::print(stderr, "{}: no exported function named \"{}\"\n", file, opts.invoke);
    return kExitUsage;
  }
  std::span<const ValType> params = store.types.params(store.funcs[ext->func].type);
  if (params.size() != opts.args.size()) {
    fmt::print(stderr, "{}: \"{}\" takes {} argument(s), {} given\n", file, opts.invoke,
               params.size(), opts.args.size());
    return kExitUsage;
  }
  std::vector<Value> args;
  for (size_t i = 0; i < params.size(); ++i) {
    std::optional<Value> v = parseArg(opts.args[i], params[i]);
    if (!v) {
      fmt::print(stderr, "{}: argument {} (\"{}\") is not a valid {}\n", file, i + 1, opts.args[i],
                 params[i].toString());
      return kExitUsage;
    }
    args.push_back(*v);
  }
  printLine(fmt::format("[fuzz-exec] export {}", opts.invoke));
  Outcome o = exec.invoke(ext->func, args);
  if (opts.verify && o.kind != Outcome::Kind::Violation && !exec.verifyHeap()) {
    HeapViolation v = *store.heap->violation();
    if (v.site.empty()) v.site = fmt::format("after the call of export {}", opts.invoke);
    o = Outcome::violated(std::move(v));
  }
  if (!o.ok()) {
    printLine(FuzzingSupport::describeFailure(o));
    if (o.kind == Outcome::Kind::Violation) {
      std::fflush(stdout);
      return reportViolation(file, *o.violation);
    }
    bool resource =
        o.kind == Outcome::Kind::OutOfFuel || (isResourceTrap(o.trap) && !isJsException(o));
    return resource ? kExitInconclusive : kExitOk;
  }
  std::span<const ValType> results = store.types.results(store.funcs[ext->func].type);
  for (size_t i = 0; i < o.results.size(); ++i) {
    std::string v = formatBinaryenValue(o.results[i], results[i]);
    printLine(i == 0 ? fmt::format("[fuzz-exec] note result: {} => {}", opts.invoke, v) : v);
  }
  return kExitOk;
}

}  // namespace

void addRunCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Run a module as `wasm-opt --fuzz-exec-before` does: instantiate it with the\n"
      "fuzzing-support and spectest imports (reference heap) and call every exported\n"
      "function in order with default arguments, logging in Binaryen's format.\n"
      "Exit status: 0 ran (traps are results); 1 module malformed, invalid,\n"
      "unsupported or failed to instantiate (unlinkable, or a trap in initialisation);\n"
      "2 usage error, unreadable file, unknown export or bad argument;\n"
      "3 inconclusive: a limit of ours (--fuel, --max-depth, --max-heap, memory)\n"
      "ended a call, so the run says nothing about the module;\n"
      "4 finding: the heap found a reference gone wrong (a slab id that does not\n"
      "resolve, a broken heap invariant), described on stderr.");
  cmd->add_option("file", opts->file, "module file (.wasm, or .wat text)")->required();
  cmd->add_option("--invoke", opts->invoke,
                  "call only this export, with the positional ARGS as arguments");
  cmd->add_option("args", opts->args,
                  "arguments for --invoke: i32/i64 (decimal or 0x hex), f32/f64 (as strtod "
                  "reads them: 1.5, -0, nan, inf, 0x1p-3), null for references");
  cmd->add_option("--fuel", opts->fuel, "steps before the run ends as out of fuel (0: no limit)")
      ->capture_default_str();
  cmd->add_option("--max-depth", opts->max_depth, "wasm call depth that traps as exhausted")
      ->capture_default_str();
  cmd->add_option("--max-heap", opts->max_heap, "bytes of live GC objects before heap exhaustion")
      ->capture_default_str();
  cmd->add_flag("--dump-ir", opts->dump_ir, "print the compiled IR of every function first");
  cmd->add_flag("--verify", opts->verify,
                "run the heap verifier after every export call (a broken invariant is a finding)");
  std::string configs;
  for (const EngineConfigName& n : engineConfigNames())
    configs += fmt::format("\n  {:<18} {}", n.name, n.meaning);
  cmd->add_option("--config", opts->config, "engine configuration:" + configs)
      ->capture_default_str();
  cmd->positionals_at_end(false);
  cmd->callback([opts, exit_code] { *exit_code = run(*opts); });
}

}  // namespace slabfuzz::cli
