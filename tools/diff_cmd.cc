// `slabfuzz diff FILE.wasm --engines ref,slab-zeal,...`: one module under a
// set of engines by hand, as the differential fuzz targets run it; or many
// (files and directories) with the engines started once, as the campaign's
// cross-check lane runs them.
// Owns: the command's options, its output (the verdict, then for a finding
// the differing lines as a unified diff of the two logs compared; in batch
// mode one line per module and a summary) and its exit status, and which
// findings become reproducer bundles (--findings). Does not own: running,
// comparing or the engines (oracle/), or what a bundle holds (bundle.h).
// Contract: one file: exit 0 agree, 1 the module was rejected by every
// engine, 2 usage (including an engine this build cannot run), 3
// inconclusive, 4 finding. Several: 4 when any module gave a finding, 2 on
// usage, else 0. The same files and options always print the same output.
// A bundle is written whole or not at all and never replaces another.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "heap/faults.h"
#include "oracle/engine.h"
#include "oracle/external_engine.h"
#include "runtime/decode.h"
#include "tools/bundle.h"
#include "tools/commands.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

constexpr int kExitInconclusive = 3;

struct DiffOptions {
  std::vector<std::string> paths;
  std::string engines = "ref,slab-zeal";
  uint64_t fuel = OracleLimits{}.fuel;
  uint32_t max_depth = OracleLimits{}.max_call_depth;
  uint64_t max_heap = OracleLimits{}.max_heap;
  bool no_verify = false;
  bool show_logs = false;
  bool broken_stack_maps = false;
  std::string findings;  // directory for reproducer bundles; none by default
};

// One module read and run: the verdict and the logs, or why it did not run.
struct ModuleRun {
  enum class Status : uint8_t { Ran, Unreadable, Rejected };
  Status status = Status::Ran;
  std::string message;  // Unreadable, Rejected
  std::vector<uint8_t> bytes;
  DiffOutcome out;
};

ModuleRun runModule(std::span<const std::unique_ptr<Engine>> engines, const std::string& path) {
  ModuleRun r;
  auto read = readModuleFile(path, kMaxModuleSize);
  if (auto* fe = std::get_if<FileError>(&read)) {
    r.status = ModuleRun::Status::Unreadable;
    r.message = fe->message;
    return r;
  }
  if (auto* text_error = std::get_if<Error>(&read)) {
    r.status = ModuleRun::Status::Rejected;
    r.message = fmt::format("{}: {}", categoryName(text_error->category()), text_error->toString());
    return r;
  }
  r.bytes = std::move(std::get<std::vector<uint8_t>>(read));
  auto input = decodeInput(r.bytes);
  if (!input.ok()) {
    r.status = ModuleRun::Status::Rejected;
    r.message = input.error();
    return r;
  }
  r.out = runDifferential(engines, input.value());
  return r;
}

// The finding's report: the verdict, then the two logs compared as a diff.
std::string findingText(const DiffOutcome& out) {
  return verdictText(out.verdict, out.logs);
}

// A reproducer bundle (tools/bundle.h), plus ENGINE.input.wasm for an
// external engine given other bytes (Binaryen: `gc` stubbed).
std::optional<std::string> writeFinding(const DiffOptions& opts, const std::string& source,
                                        const ModuleRun& r, std::string* dir) {
  BundleSpec spec;
  spec.module = r.bytes;
  spec.verdict = r.out.verdict;
  spec.logs = r.out.logs;
  spec.source = source;
  spec.fault = activeFault() == Fault::None ? "" : std::string(faultName(activeFault()));
  spec.limits.fuel = opts.fuel;
  spec.limits.max_call_depth = opts.max_depth;
  spec.limits.max_heap = opts.max_heap;
  spec.limits.verify_after_call = !opts.no_verify;
  spec.broken_stack_maps = opts.broken_stack_maps;
  // What an external engine was given, where that is not module.wasm.
  if (auto input = decodeInput(r.bytes); input.ok()) {
    for (const ExecutionLog& l : r.out.logs) {
      if (l.ours) continue;
      std::vector<uint8_t> given = externalInputBytes(l.engine, input.value());
      if (given != r.bytes)
        spec.extra_files.emplace_back(l.engine + ".input.wasm", std::move(given));
    }
  }
  return writeBundle(opts.findings, spec, dir);
}

// The modules named by `paths`: files as given, directories' *.wasm and
// *.wat (not recursive), sorted by name.
std::optional<std::string> expandPaths(const std::vector<std::string>& paths,
                                       std::vector<std::string>& files) {
  for (const std::string& p : paths) {
    std::error_code ec;
    if (!std::filesystem::is_directory(p, ec)) {
      files.push_back(p);
      continue;
    }
    std::vector<std::string> found;
    for (const auto& entry : std::filesystem::directory_iterator(p, ec)) {
      std::string ext = entry.path().extension().string();
      if (entry.is_regular_file(ec) && (ext == ".wasm" || ext == ".wat"))
        found.push_back(entry.path().string());
    }
    if (ec) return fmt::format("{}: {}", p, ec.message());
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return std::nullopt;
}

int diffOne(const DiffOptions& opts, std::span<const std::unique_ptr<Engine>> engines,
            const std::string& file) {
  ModuleRun r = runModule(engines, file);
  if (r.status == ModuleRun::Status::Unreadable) {
    fmt::print(stderr, "{}: error: {}\n", file, r.message);
    return kExitUsage;
  }
  if (r.status == ModuleRun::Status::Rejected) {
    fmt::print(stderr, "{}: {}\n", file, r.message);
    return kExitRejected;
  }
  const Verdict& v = r.out.verdict;
  if (opts.show_logs) {
    for (const ExecutionLog& l : r.out.logs) {
      fmt::print("=== {} ({})\n", l.engine, logStatusName(l.status));
      for (const std::string& line : l.lines) fmt::print("{}\n", line);
    }
  }
  switch (v.kind) {
    case Verdict::Kind::Agree: fmt::print("{}", v.report()); return kExitOk;
    case Verdict::Kind::AgreeUpToLimit:
    case Verdict::Kind::NotComparable: fmt::print("{}", v.report()); return kExitInconclusive;
    case Verdict::Kind::Rejected: fmt::print("{}", v.report()); return kExitRejected;
    case Verdict::Kind::Finding: break;
  }
  fmt::print("{}", findingText(r.out));
  if (!opts.findings.empty()) {
    std::string dir;
    if (auto err = writeFinding(opts, file, r, &dir))
      fmt::print(stderr, "error: the finding's bundle was not written: {}\n", *err);
    else
      fmt::print("bundle: {}\n", dir);
  }
  return kExitFinding;
}

int diffMany(const DiffOptions& opts, std::span<const std::unique_ptr<Engine>> engines,
             const std::vector<std::string>& files) {
  uint64_t agree = 0, inconclusive = 0, not_comparable = 0, rejected = 0, findings = 0, unreadable = 0;
  for (const std::string& file : files) {
    ModuleRun r = runModule(engines, file);
    if (r.status == ModuleRun::Status::Unreadable) {
      ++unreadable;
      fmt::print("{}: unreadable: {}\n", file, r.message);
      continue;
    }
    if (r.status == ModuleRun::Status::Rejected) {
      ++rejected;
      fmt::print("{}: rejected: {}\n", file, r.message);
      continue;
    }
    const Verdict& v = r.out.verdict;
    switch (v.kind) {
      case Verdict::Kind::Agree:
        ++agree;
        fmt::print("{}: agree\n", file);
        break;
      case Verdict::Kind::AgreeUpToLimit: {
        ++inconclusive;
        std::string why;
        for (const std::string& w : v.inconclusive) why += (why.empty() ? "" : "; ") + w;
        fmt::print("{}: agree up to a resource limit: {}\n", file, why);
        break;
      }
      case Verdict::Kind::NotComparable:
        ++not_comparable;
        fmt::print("{}: not comparable: {}\n", file, v.detail);
        break;
      case Verdict::Kind::Rejected:
        ++rejected;
        fmt::print("{}: rejected: {}\n", file, v.detail);
        break;
      case Verdict::Kind::Finding: {
        ++findings;
        fmt::print("{}: finding: {}\n", file, v.signature.toString());
        if (opts.findings.empty()) {
          // Without a bundle directory the report is the only record.
          fmt::print("{}", findingText(r.out));
          break;
        }
        std::string dir;
        if (auto err = writeFinding(opts, file, r, &dir))
          fmt::print(stderr, "error: {}: the finding's bundle was not written: {}\n", file, *err);
        else
          fmt::print("  bundle: {}\n", dir);
        break;
      }
    }
    std::fflush(stdout);
  }
  uint64_t ran = agree + inconclusive + findings;
  fmt::print("{} module(s): {} agree, {} agree up to a resource limit ({:.1f}% of those run), {} not "
             "comparable, {} rejected, {} finding(s){}\n",
             files.size(), agree, inconclusive,
             ran ? 100.0 * static_cast<double>(inconclusive) / static_cast<double>(ran) : 0.0,
             not_comparable, rejected, findings, unreadable ? fmt::format(", {} unreadable", unreadable) : "");
  if (findings) return kExitFinding;
  return unreadable ? kExitUsage : kExitOk;
}

int diff(const DiffOptions& opts) {
  OracleLimits limits;
  limits.fuel = opts.fuel;
  limits.max_call_depth = opts.max_depth;
  limits.max_heap = opts.max_heap;
  limits.verify_after_call = !opts.no_verify;
  std::vector<std::string> files;
  if (auto err = expandPaths(opts.paths, files)) {
    fmt::print(stderr, "error: {}\n", *err);
    return kExitUsage;
  }
  if (files.empty()) {
    fmt::print(stderr, "error: no modules (*.wasm, *.wat) in {}\n", fmt::join(opts.paths, ", "));
    return kExitUsage;
  }
  CompileOptions compile;
  compile.liveness_ignores_back_edges = opts.broken_stack_maps;
  auto engines = makeEngines(opts.engines, limits, externalEngineFactory(), compile);
  if (!engines.ok()) {
    fmt::print(stderr, "error: {}\n", engines.error());
    return kExitUsage;
  }
  std::error_code ec;
  if (!opts.findings.empty() && !std::filesystem::is_directory(opts.findings, ec) &&
      !std::filesystem::create_directories(opts.findings, ec)) {
    fmt::print(stderr, "error: --findings {}: {}\n", opts.findings,
               ec ? ec.message() : "not a directory");
    return kExitUsage;
  }
  bool single = opts.paths.size() == 1 && files.size() == 1 && files[0] == opts.paths[0];
  return single ? diffOne(opts, engines.value(), files[0]) : diffMany(opts, engines.value(), files);
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
      "4 finding: a heap violation or a difference between engines.\n"
      "Several files or a directory: the engines start once, each module gets one line\n"
      "(agree, inconclusive, rejected, finding), then a summary with the inconclusive\n"
      "rate; exit 4 if any module gave a finding, else 0 (2 if a file was unreadable).");
  cmd->add_option("paths", opts->paths, "module files (.wasm, or .wat text) or directories of them")
      ->required();
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
  cmd->add_flag("--show-logs", opts->show_logs, "one file: print every engine's log before the verdict");
  cmd->add_flag("--broken-stack-maps", opts->broken_stack_maps,
                "self-test: our configurations compile with liveness that ignores loop back "
                "edges (the seed bug's class), which the slab configurations must catch");
  cmd->add_option("--findings", opts->findings,
                  "write each finding as a reproducer bundle DIR/<kind>-<hash>/ (module.wasm and "
                  ".wat, every engine's log, verdict.txt, signature.txt, finding.json, "
                  "repro.sh); never replaces one");
  cmd->callback([opts, exit_code] { *exit_code = diff(*opts); });
}

}  // namespace slabfuzz::cli
