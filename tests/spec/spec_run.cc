// spec.run and spec.validate: the WebAssembly spec test suite judged by
// slabfuzz, in one of two modes.
//   default          every module instantiated in one Store per script (with
//                    `spectest` registered), every invoke/get run on the
//                    reference heap, and every assertion checked:
//                    assert_return (NaN and reference patterns, `either`),
//                    assert_trap (actions and instantiation),
//                    assert_exhaustion, assert_unlinkable,
//                    assert_uninstantiable, assert_invalid, assert_malformed.
//   --validate-only  every module-bearing command decoded and validated and
//                    judged against what it expects (valid, invalid,
//                    malformed); nothing instantiated or run.
// Owns: the script semantics (current and named modules, register, the
// import resolver over registered instances) and the verdict of each
// executed command. Does not own: what both modes share, from the options
// to the judgement of a module and the report (spec_common.h), reading
// scripts (wast.h), text conversion (text/wat.h by default; with
// --converter binaryen, cached_worker.h and wabt_converter.h), constants and
// result patterns (spec_values.h), or the runtime.
//
// Skips, default route: a command is skipped only when its module uses a
// feature out of scope (our assembler or decoder says "unsupported"), when
// it needs a module that was skipped for that reason, or when it is listed
// in tests/spec/skip-list.txt; any other skip is a failure, and so is a
// listed entry that no longer applies (its command passes, or no command
// sits on its line). Binaryen route: also when no converter can convert a
// text, a conversion provably lost or broke it (V8 agrees), or it is a
// text-form assert_malformed.
//
// Exit status: 0 no failures, 1 failures (or a broken worker), 77 the suite
// is absent, or (binaryen route) the pinned node is (ctest counts 77 as
// skipped). The last line is always `spec.run: N passed, N failed, N
// skipped`, or `spec.validate: ...` with --validate-only.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "oracle/config.h"
#include "runtime/decode.h"
#include "runtime/exec.h"
#include "runtime/host/spectest.h"
#include "runtime/instantiate.h"
#include "runtime/store.h"
#include "runtime/validate.h"
#include "tests/spec/cached_worker.h"
#include "tests/spec/spec_common.h"
#include "tests/spec/spec_values.h"
#include "tests/spec/wast.h"

namespace slabfuzz {
namespace {

using spec::Expect;
using spec::fail;
using spec::FileResult;
using spec::Judgement;
using spec::ModuleBytes;
using spec::ModuleJudge;
using spec::Options;
using spec::pass;
using spec::skip;
using spec::SkipList;
using spec::Source;
using wast::CommandKind;

using spec::kNeedsSkippedModule;
// Steps before a call counts as hanging; the suite's heaviest loops take a
// few million.
constexpr uint64_t kFuel = 2'000'000'000;

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
    case Outcome::Kind::Violation: return "heap violation:\n" + o.violation->describe();
  }
  return "?";
}

// --- running one script ------------------------------------------------------

class ScriptRunner {
 public:
  // `prefer_wabt`: this script's texts go to wabt first (prefer-wabt.txt).
  // `used`: collects the skip-list lines that matched a command.
  ScriptRunner(const Options& options, const EngineConfig& config, FileResult& file,
               ModuleJudge& judge, const SkipList& skips, bool prefer_wabt,
               std::set<std::pair<std::string, uint32_t>>& used)
      : options_(options),
        file_(file),
        judge_(judge),
        skips_(skips),
        used_(used),
        prefer_wabt_(prefer_wabt),
        store_(makeHeapFactory(config)),
        exec_(store_, withConfig(limits(), config)),
        spectest_(store_, [](std::string_view) {}) {}

  // Runs every command; a broken worker ends the run (returned).
  std::optional<WorkerError> run() {
    const auto& commands = file_.script->commands;
    for (size_t i = 0; i < commands.size(); ++i) {
      const wast::Command& cmd = commands[i];
      Judgement j;
      auto listed = skips_.lines.find({file_.path, cmd.line});
      if (listed != skips_.lines.end() && options_.converter == spec::Converter::Binaryen) {
        j = skip(spec::kSkipListPrefix + listed->second);
        if (cmd.kind == CommandKind::Module) markSkipped(cmd);
      } else {
        auto r = runCommand(cmd, file_.conversions[i]);
        if (!r.ok()) return r.error();
        j = std::move(r.value());
        if (listed != skips_.lines.end()) {
          // Default route: a listed command still runs, so that an entry
          // that no longer applies is caught as stale.
          used_.insert(listed->first);
          if (j.verdict == spec::Verdict::Pass) {
            j = fail("stale skip-list entry (the command passes now): {}", listed->second);
          } else {
            j = skip(spec::kSkipListPrefix + listed->second, j.detail);
            if (cmd.kind == CommandKind::Module) markSkipped(cmd);
          }
        }
        j = spec::enforceSkipPolicy(options_, std::move(j));
      }
      file_.record(spec::whereOf(cmd), j);
    }
    return std::nullopt;
  }

 private:
  static RunLimits limits() {
    RunLimits l;
    l.fuel = kFuel;
    return l;
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

  // A module meant to instantiate: as written, or converted.
  ModuleBytes bytesOf(const wast::ModuleDef& module, size_t conversion) {
    return judge_.bytesOf(module, Expect::Valid, conversion, prefer_wabt_);
  }

  // Our decoder and validator said no to a module meant to be valid: a
  // failure, a skip when out of scope, or when V8 rejects the converted
  // binary too (as spec.validate judges it).
  Result<Judgement, WorkerError> rejected(const wast::Command& cmd, const Error& error,
                                          const ModuleBytes& bytes) {
    return judge_.judgeAnswer(cmd, Expect::Valid, error, bytes);
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

  // Decode, validate, instantiate. Returns the instance, the instantiation
  // failure, or the decoder's or validator's error.
  struct Instantiated {
    Instance* instance = nullptr;
    std::optional<InstantiationFailure> failure;
    std::optional<Error> rejected;  // decode/validate did not accept it
  };
  Instantiated instantiateBytes(const std::vector<uint8_t>& bytes) {
    Instantiated out;
    auto decoded = decodeModule(bytes);
    if (!decoded.ok()) {
      out.rejected = decoded.error();
      return out;
    }
    auto module = std::make_shared<const Module>(std::move(decoded).value());
    auto types = validateModule(*module, store_.types);
    if (!types.ok()) {
      out.rejected = types.error();
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
    ModuleBytes bytes = bytesOf(*cmd.module, conversion);
    if (cmd.module->definition) {
      // Kept for `module instance`; judged then. An anonymous definition is
      // only checked to decode and validate.
      definitions_.erase(cmd.module->id);
      if (bytes.skip) return *bytes.skip;
      std::optional<Error> err = spec::decodeAndValidate(bytes.bytes);
      if (err) return rejected(cmd, *err, bytes);
      if (!cmd.module->id.empty()) definitions_[cmd.module->id] = std::move(bytes);
      return pass();
    }
    if (bytes.skip) {
      markSkipped(cmd);
      return *bytes.skip;
    }
    if (importsSkippedRegistration(bytes.bytes)) {
      markSkipped(cmd);
      return skip(kNeedsSkippedModule);
    }
    Instantiated r = instantiateBytes(bytes.bytes);
    if (r.rejected) {
      markSkipped(cmd);
      return rejected(cmd, *r.rejected, bytes);
    }
    if (!r.instance) {
      markSkipped(cmd);
      current_skipped_ = false;  // a real failure, not a skip: later commands fail
      return fail("instantiation failed: {}", r.failure->message);
    }
    current_ = r.instance;
    current_skipped_ = false;
    if (bytes.source == Source::Binaryen) by_binaryen_.insert(r.instance);
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
    if (r.rejected) return rejected(cmd, *r.rejected, it->second);
    if (!r.instance) return fail("instantiation failed: {}", r.failure->message);
    current_ = r.instance;
    current_skipped_ = false;
    if (it->second.source == Source::Binaryen) by_binaryen_.insert(r.instance);
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
    ModuleBytes bytes = bytesOf(*cmd.module, conversion);
    if (bytes.skip) return *bytes.skip;
    if (importsSkippedRegistration(bytes.bytes)) return skip(kNeedsSkippedModule);
    Instantiated r = instantiateBytes(bytes.bytes);
    if (r.rejected) return rejected(cmd, *r.rejected, bytes);
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

  // assert_invalid / assert_malformed: judged exactly as --validate-only
  // judges them.
  Result<Judgement, WorkerError> assertRejected(const wast::Command& cmd, size_t conversion) {
    const Expect expect =
        cmd.kind == CommandKind::AssertMalformed ? Expect::Malformed : Expect::Invalid;
    return judge_.judge(cmd, expect, conversion, prefer_wabt_);
  }

  const Options& options_;
  FileResult& file_;
  ModuleJudge& judge_;
  const SkipList& skips_;
  std::set<std::pair<std::string, uint32_t>>& used_;
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

// --validate-only: every module-bearing command of one script judged
// without instantiating it. A broken worker ends the run (returned).
std::optional<WorkerError> validateScript(const Options& options, FileResult& file,
                                          ModuleJudge& judge, const SkipList& skips,
                                          std::set<std::pair<std::string, uint32_t>>& used) {
  const auto& commands = file.script->commands;
  for (size_t i = 0; i < commands.size(); ++i) {
    const wast::Command& cmd = commands[i];
    std::optional<Expect> expect = spec::expectationOf(cmd);
    if (!expect) continue;
    auto r = judge.judge(cmd, *expect, file.conversions[i], /*prefer_wabt=*/false);
    if (!r.ok()) return r.error();
    Judgement j = std::move(r.value());
    // Skip-list entries name execution problems; a module's validity is
    // judged whatever they say, but an entry on a module command that fails
    // validation here too still explains it.
    auto listed = skips.lines.find({file.path, cmd.line});
    if (listed != skips.lines.end() && j.verdict != spec::Verdict::Pass) {
      used.insert(listed->first);
      j = skip(spec::kSkipListPrefix + listed->second, j.detail);
    }
    file.record(spec::whereOf(cmd), spec::enforceSkipPolicy(options, std::move(j)));
  }
  return std::nullopt;
}

int run(const Options& options) {
  auto started = std::chrono::steady_clock::now();
  spec::fs::path spec_dir = spec::suiteDir(options);
  std::vector<spec::fs::path> all = spec::findScripts(spec_dir);
  if (all.empty()) {
    fmt::print("skipped: spec suite not found at {} (set SLABFUZZ_SPEC_DIR)\n", spec_dir.string());
    spec::printTotalLine(options, 0, 0, 0);
    return spec::kExitSkip;
  }
  // The binaryen route reads both lists when executing only (they name
  // execution and conversion problems); the default route reads the skip
  // list in both modes, as the one source of skips, and no prefer-wabt list.
  const bool binaryen = options.converter == spec::Converter::Binaryen;
  SkipList skips, prefer_wabt;
  if (!binaryen || !options.validate_only) {
    skips = SkipList::load(options.skip_list, binaryen);
    if (binaryen) prefer_wabt = SkipList::load(options.prefer_wabt, true);
    if (skips.error.empty()) skips.error = prefer_wabt.error;
    if (!skips.error.empty()) {
      fmt::print("{}: FAILED: {}\n", options.name(), skips.error);
      spec::printTotalLine(options, 0, 1, 0);
      return 1;
    }
  }

  Result<EngineConfig, std::string> config = parseEngineConfig(options.config);
  if (!config.ok()) {
    fmt::print("{}: FAILED: {}\n", options.name(), config.error());
    spec::printTotalLine(options, 0, 1, 0);
    return 1;
  }

  std::vector<std::string> texts;
  std::vector<FileResult> files = spec::loadScripts(spec_dir, all, options, &skips, &texts);
  if (files.empty()) {
    fmt::print("{}: no script under {} matches --filter \"{}\"\n", options.name(),
               spec_dir.string(), options.filter);
    spec::printTotalLine(options, 0, 1, 0);
    return 1;
  }
  auto converters = spec::startConverters(options, texts);
  if (!converters.ok()) return converters.error();
  ModuleJudge judge(converters->worker.get(), converters->binaryen, converters->wabt.get());
  std::set<std::pair<std::string, uint32_t>> used;  // skip-list lines that matched a command

  spec::Totals totals;
  for (FileResult& file : files) {
    if (auto it = skips.files.find(file.path); it != skips.files.end()) {
      // A whole script out of scope counts as one skip.
      ++file.skipped;
      ++file.skip_reasons[spec::kSkipListPrefix + it->second];
    } else if (!file.parse_error.empty()) {
      ++file.failed;
      file.failures.push_back({"cannot read the script: " + file.parse_error, {}});
    } else {
      std::optional<WorkerError> broken;
      if (options.validate_only) {
        broken = validateScript(options, file, judge, skips, used);
      } else {
        ScriptRunner runner(options, config.value(), file, judge, skips,
                            prefer_wabt.files.count(file.path) != 0, used);
        broken = runner.run();
      }
      if (broken) {
        fmt::print("{}: FAILED: the spec worker broke in {}: {}\n", options.name(), file.path,
                   broken->message);
        spec::printTotalLine(options, totals.passed, totals.failed + 1, totals.skipped);
        return 1;
      }
    }
    spec::printFile(file, options.verbose);
    totals.add(file);
  }
  // Default route: a listed line of a script that ran but matched no
  // command is stale (in --validate-only, only module commands can match).
  if (!binaryen && !options.validate_only) {
    for (const auto& [where, reason] : skips.lines) {
      if (used.count(where)) continue;
      for (FileResult& file : files) {
        if (file.path != where.first || !file.script) continue;
        ++file.failed;
        ++totals.failed;
        file.failures.push_back(
            {fmt::format("line {}: stale skip-list entry (matches no command): {}", where.second,
                         reason),
             {}});
        spec::printFile(file, options.verbose);
      }
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return spec::printTotals(options, files.size(), seconds, totals, converters.value());
}

}  // namespace
}  // namespace slabfuzz

int main(int argc, char** argv) {
  slabfuzz::spec::Options options;
  CLI::App app{
      "Runs the WebAssembly spec test suite on slabfuzz's runtime (the reference heap, or the "
      "engine configuration --config names), or with --validate-only judges its every module "
      "with the decoder and validator alone."};
  slabfuzz::spec::addOptions(app, options);
  CLI11_PARSE(app, argc, argv);
  return slabfuzz::run(options);
}
