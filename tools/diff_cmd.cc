// `slabfuzz diff FILE.wasm --engines ref,slab-zeal,...`: one module under a
// set of engines by hand, as the differential fuzz targets run it.
// Owns: the command's options, its output (the verdict, then for a finding
// the differing lines as a unified diff of the two logs compared) and its
// exit status. Does not own: running, comparing or the engines (oracle/).
// Contract: exit 0 agree, 1 the module was rejected by every engine, 2 usage
// (including an engine this build cannot run), 3 inconclusive, 4 finding;
// the same file and options always print the same output.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "oracle/engine.h"
#include "oracle/external_engine.h"
#include "runtime/decode.h"
#include "tools/commands.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

constexpr int kExitInconclusive = 3;
constexpr int kExitFinding = 4;

struct DiffOptions {
  std::string file;
  std::string engines = "ref,slab-zeal";
  uint64_t fuel = OracleLimits{}.fuel;
  uint32_t max_depth = OracleLimits{}.max_call_depth;
  uint64_t max_heap = OracleLimits{}.max_heap;
  bool no_verify = false;
  bool show_logs = false;
};

int diff(const DiffOptions& opts) {
  OracleLimits limits;
  limits.fuel = opts.fuel;
  limits.max_call_depth = opts.max_depth;
  limits.max_heap = opts.max_heap;
  limits.verify_after_call = !opts.no_verify;
  auto engines = makeEngines(opts.engines, limits, externalEngineFactory());
  if (!engines.ok()) {
    fmt::print(stderr, "error: {}\n", engines.error());
    return kExitUsage;
  }
  auto read = readModuleFile(opts.file, kMaxModuleSize);
  if (auto* fe = std::get_if<FileError>(&read)) {
    fmt::print(stderr, "{}: error: {}\n", opts.file, fe->message);
    return kExitUsage;
  }
  if (auto* text_error = std::get_if<Error>(&read)) {
    fmt::print(stderr, "{}: {}: {}\n", opts.file, categoryName(text_error->category()),
               text_error->toString());
    return kExitRejected;
  }
  const std::vector<uint8_t>& bytes = std::get<std::vector<uint8_t>>(read);
  auto input = decodeInput(bytes);
  if (!input.ok()) {
    fmt::print(stderr, "{}: {}\n", opts.file, input.error());
    return kExitRejected;
  }
  DiffOutcome out = runDifferential(engines.value(), input.value());
  const Verdict& v = out.verdict;
  if (opts.show_logs) {
    for (const ExecutionLog& l : out.logs) {
      fmt::print("=== {} ({})\n", l.engine, logStatusName(l.status));
      for (const std::string& line : l.lines) fmt::print("{}\n", line);
    }
  }
  fmt::print("{}", v.report());
  switch (v.kind) {
    case Verdict::Kind::Agree: return kExitOk;
    case Verdict::Kind::Inconclusive: return kExitInconclusive;
    case Verdict::Kind::Rejected: return kExitRejected;
    case Verdict::Kind::Finding: break;
  }
  const ExecutionLog* a = nullptr;
  const ExecutionLog* b = nullptr;
  for (const ExecutionLog& l : out.logs) {
    if (l.engine == v.engine_a) a = &l;
    if (l.engine == v.engine_b) b = &l;
  }
  if (a && b) fmt::print("{}", unifiedDiff(*a, *b));
  return kExitFinding;
}

}  // namespace

void addDiffCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<DiffOptions>();
  CLI::App* cmd = app.add_subcommand(
      "diff",
      "Run a module under several engines, as the differential fuzz targets do, and\n"
      "compare their logs (Binaryen --fuzz-exec format, plus our heap digest and\n"
      "verifier after every call between our own configurations).\n"
      "Prints the verdict; for a finding, its signature and a unified diff of the logs.\n"
      "Exit status: 0 agree; 1 every engine rejected the module (malformed, invalid,\n"
      "unlinkable); 2 usage error, unreadable file, or an engine this build cannot run;\n"
      "3 inconclusive: a limit of ours (fuel, call depth, heap) ended a run;\n"
      "4 finding: a heap violation or a difference between engines.");
  cmd->add_option("file", opts->file, "module file (.wasm, or .wat text)")->required();
  std::string configs;
  for (const EngineConfigName& n : engineConfigNames()) configs += fmt::format(" {}", n.name);
  cmd->add_option("--engines", opts->engines,
                  "comma-separated engines, the first the baseline; ours:" + configs +
                      " (slab-random:SEED, slab-alloc:N); external: v8 (the pinned node) and "
                      "binaryen (its interpreter; slabfuzz's gc import stubbed)")
      ->capture_default_str();
  cmd->add_option("--fuel", opts->fuel, "steps per run before it is out of fuel (inconclusive)")
      ->capture_default_str();
  cmd->add_option("--max-depth", opts->max_depth, "wasm call depth that traps as exhausted")
      ->capture_default_str();
  cmd->add_option("--max-heap", opts->max_heap, "bytes of live GC objects before heap exhaustion")
      ->capture_default_str();
  cmd->add_flag("--no-verify", opts->no_verify, "do not run the heap verifier after every call");
  cmd->add_flag("--show-logs", opts->show_logs, "print every engine's log before the verdict");
  cmd->callback([opts, exit_code] { *exit_code = diff(*opts); });
}

}  // namespace slabfuzz::cli
