// What spec_run's two modes share: the options and their defaults, finding
// and reading the scripts, the skip list, the converters (by default our own
// assembler, text/wat.h; with `--converter binaryen`, Binaryen in the Node
// worker with wabt as the fallback), the judgement of a module against what
// its command expects (valid, invalid, malformed) with V8 deciding when a
// Binaryen/wabt conversion may be at fault, and the per-file and total report.
// Does not own: executing anything (spec_run.cc), reading scripts
// (wast.h), the converters themselves (text/wat.h, cached_worker.h,
// wabt_converter.h).
// Contract: every skip carries a reason; the last line of a run is always
// `NAME: N passed, N failed, N skipped`.
#pragma once

#include <fmt/core.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/error.h"
#include "tests/spec/cached_worker.h"
#include "tests/spec/wabt_converter.h"
#include "tests/spec/wast.h"

namespace CLI {
class App;
}

namespace slabfuzz::spec {

namespace fs = std::filesystem;

constexpr int kExitSkip = 77;  // ctest's SKIP_RETURN_CODE: no suite, or no node (binaryen route)

// The skips allowed without a skip-list entry on the default route: a
// feature out of scope, and its consequence.
inline constexpr const char* kOutOfScopePrefix = "out of scope: ";
inline constexpr const char* kNeedsSkippedModule = "needs a module that was skipped";
inline constexpr const char* kSkipListPrefix = "skip list: ";

// Reasons that recur, spelled once so that they aggregate.
inline constexpr const char* kTextMalformed =
    "text-format malformation (slabfuzz reads binary modules only)";
inline constexpr const char* kCannotConvert = "Binaryen cannot convert the text";
inline constexpr const char* kConversionLostError =
    "conversion lost the error (V8 accepts the converted binary too)";
inline constexpr const char* kConversionBrokeModule =
    "conversion broke the module (V8 rejects the converted binary too)";
// The same judgements for modules that wabt converted, kept apart because
// wabt's conversions are the less trustworthy (see wabt_converter.h).
inline constexpr const char* kNeitherCanConvert = "neither Binaryen nor wabt can convert the text";
inline constexpr const char* kWabtLostError =
    "wabt's conversion lost the error (V8 accepts the converted binary too)";
inline constexpr const char* kWabtBrokeModule =
    "wabt's conversion broke the module (V8 rejects the converted binary too)";
inline constexpr const char* kWabtNotWellFormed =
    "wabt's conversion is not a well-formed module (V8 rejects it too)";

// --- options -----------------------------------------------------------------

// Which tool turns text modules into binaries.
enum class Converter : uint8_t {
  Slabfuzz,  // our assembler (text/wat.h): text malformations judged, no Node needed
  Binaryen,  // Binaryen 132 in the Node worker, wabt's wat2wasm as the fallback
};

struct Options {
  Converter converter = Converter::Slabfuzz;
  std::string spec_dir;               // empty: $SLABFUZZ_SPEC_DIR, else the built-in default
  std::string node;                   // Defaults to the pinned node of the source tree.
  std::string worker;                 // Defaults to scripts/js/spec_worker.mjs.
  std::string cache_dir;              // Defaults to BUILD/spec-cache; empty: no cache.
  std::string wat2wasm = "wat2wasm";  // empty: Binaryen only
  std::string skip_list;              // Defaults to tests/spec/skip-list.txt (execution only).
  std::string prefer_wabt;            // Defaults to tests/spec/prefer-wabt.txt (execution only).
  std::string filter;
  bool verbose = false;
  // Decode and validate every module-bearing command, judge assert_invalid
  // and assert_malformed; instantiate and execute nothing (ctest:
  // spec.validate). The prefer-wabt list (binaryen route) is not read; the
  // skip list is read on the default route only.
  bool validate_only = false;
  // The engine configuration modules run under (oracle/config.h): the heap
  // and the stack maps. Defaults to "ref" (the reference heap).
  std::string config = "ref";

  Options();
  // "spec.validate" or "spec.run": the prefix of the report's fixed lines.
  const char* name() const { return validate_only ? "spec.validate" : "spec.run"; }
};

// Registers every option on `app`.
void addOptions(CLI::App& app, Options& options);

fs::path suiteDir(const Options& options);
std::vector<fs::path> findScripts(const fs::path& dir);

// --- the skip list -----------------------------------------------------------

// tests/spec/skip-list.txt: `PATH[:LINE]  reason...`, PATH relative to the
// suite directory; without LINE the whole script is skipped. An entry
// written `[binaryen] PATH[:LINE] reason...` applies to the binaryen route
// only (a conversion problem of Binaryen or wabt). The same
// format lists, in tests/spec/prefer-wabt.txt, the scripts whose texts
// Binaryen converts wrongly (with the reason) and wabt converts first.
struct SkipList {
  std::map<std::string, std::string> files;                       // path -> reason
  std::map<std::pair<std::string, uint32_t>, std::string> lines;  // (path, line) -> reason
  std::string error;

  static SkipList load(const std::string& path, bool binaryen_route);
};

// --- judgements and per-file bookkeeping -------------------------------------

enum class Verdict : uint8_t { Pass, Fail, Skip };

struct Judgement {
  Verdict verdict = Verdict::Pass;
  std::string detail;     // Fail: what was expected and what happened; Skip: the reason
  std::string note;       // Skip: the particulars behind the reason (--verbose prints them)
  std::string converter;  // text modules: the tool that converted it (--verbose prints it)
};

Judgement pass();
Judgement skip(std::string reason, std::string note = {});
template <typename... Args>
Judgement fail(fmt::format_string<Args...> format, Args&&... args) {
  return {Verdict::Fail, fmt::format(format, std::forward<Args>(args)...), {}, {}};
}

// The default route's skip policy: a skip that is neither out of scope, nor
// its consequence, nor from the skip list becomes a failure.
Judgement enforceSkipPolicy(const Options& options, Judgement j);

struct Failure {
  std::string text;  // "line N (...): ..."
  std::string converter;
};

struct FileResult {
  std::string path;  // relative to the suite directory
  std::optional<wast::Script> script;
  std::string parse_error;
  std::vector<size_t> conversions;  // per command: index into the batch, or SIZE_MAX
  size_t passed = 0, failed = 0, skipped = 0;
  std::vector<Failure> failures;
  std::vector<std::string> skip_lines;         // "line N: reason" (for --verbose)
  std::map<std::string, size_t> skip_reasons;  // reason -> count

  // Counts one judgement of the command at `where` ("line N (kind, form)").
  void record(const std::string& where, const Judgement& j);
};

// --- the suite and the converters --------------------------------------------

// The scripts whose relative path contains `filter`, read, with the texts
// to convert gathered into one batch (see `needsConversion`) so that the
// worker sees them pipelined. A script that does not parse is kept, with
// its error, to be reported as a failure; a script `skipped` names whole is
// kept unread.
std::vector<FileResult> loadScripts(const fs::path& spec_dir, const std::vector<fs::path>& paths,
                                    const Options& options, const SkipList* skipped,
                                    std::vector<std::string>* texts);

// The converters, started (none on the default route). Not ok when the run
// must end: the exit status (77 when node is missing), with the report's
// lines printed.
struct Converters {
  std::unique_ptr<CachedWorker> worker;
  std::vector<Conversion> binaryen;  // the batch, in `loadScripts` order
  std::unique_ptr<WabtConverter> wabt;
  std::string wabt_status;  // why wabt is not used
};
Result<Converters, int> startConverters(const Options& options,
                                        const std::vector<std::string>& texts);

// --- judging a module --------------------------------------------------------

enum class Expect : uint8_t { Valid, Invalid, Malformed };

// Where the bytes we judge came from.
enum class Source : uint8_t { Binary, Slabfuzz, Binaryen, Wabt };

// What a command expects of its module, if it has one to judge.
std::optional<Expect> expectationOf(const wast::Command& cmd);

// The bytes of a module: as written, or converted.
struct ModuleBytes {
  std::vector<uint8_t> bytes;
  Source source = Source::Binary;
  std::optional<Judgement> skip;  // set when there are no bytes to judge
};

// Our decoder and validator on one binary: nullopt when accepted.
std::optional<Error> decodeAndValidate(std::span<const uint8_t> bytes);

class ModuleJudge {
 public:
  // `worker` null: our assembler converts every text (the default route).
  // `wabt` may be null: Binaryen is then the only converter.
  ModuleJudge(CachedWorker* worker, const std::vector<Conversion>& binaryen, WabtConverter* wabt)
      : worker_(worker), binaryen_(binaryen), wabt_(wabt) {}

  // The bytes of `module`. Default route: a text or quote is assembled by
  // text/wat.h; when the assembler rejects it, `skip` holds the verdict
  // (a pass for an expected malformation, a skip when out of scope, else a
  // failure). Binaryen route: a text is converted by Binaryen (the batch
  // entry `conversion`), and where Binaryen refuses it, by wabt;
  // `prefer_wabt` asks wabt first; a text-form assert_malformed is never
  // converted.
  ModuleBytes bytesOf(const wast::ModuleDef& module, Expect expect, size_t conversion,
                      bool prefer_wabt);

  // Judges `ours`, our decoder and validator's answer on `bytes` (nullopt:
  // accepted), against `expect`. Where a converter may have changed the
  // module's meaning, V8's verdict on the same bytes decides whether the
  // fault is the conversion's. Errors from the worker end the run.
  Result<Judgement, WorkerError> judgeAnswer(const wast::Command& cmd, Expect expect,
                                             const std::optional<Error>& ours,
                                             const ModuleBytes& bytes);

  // bytesOf, decodeAndValidate and judgeAnswer: the whole judgement of a
  // module-bearing command without instantiating it.
  Result<Judgement, WorkerError> judge(const wast::Command& cmd, Expect expect, size_t conversion,
                                       bool prefer_wabt);

  // "slabfuzz assembler", "Binaryen 132.0.0", "wabt 1.0.32", or empty for a binary.
  std::string converterName(Source source) const;

 private:
  ModuleBytes assembled(const wast::ModuleDef& module, Expect expect);

  CachedWorker* worker_;
  const std::vector<Conversion>& binaryen_;
  WabtConverter* wabt_;
};

// "line N (kind, form)" for a module-bearing command, "line N (kind)" else.
std::string whereOf(const wast::Command& cmd);

// --- the report --------------------------------------------------------------

// One file's line, its failures and its skip reasons.
void printFile(const FileResult& file, bool verbose);

// Totals over the files.
struct Totals {
  size_t passed = 0, failed = 0, skipped = 0;
  std::map<std::string, size_t> reasons;
  void add(const FileResult& file);
};

// The skip reasons (most frequent first), the converters, and the fixed last
// line. Returns the exit status.
int printTotals(const Options& options, size_t scripts, double seconds, const Totals& totals,
                const Converters& converters);

// The fixed last line alone, for runs that end early.
void printTotalLine(const Options& options, size_t passed, size_t failed, size_t skipped);

}  // namespace slabfuzz::spec
