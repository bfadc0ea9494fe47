// `slabfuzz xrun FILE... --engine v8|binaryen`: the same modules on an
// external reference engine (oracle/external.h), printed as `slabfuzz run`
// prints its own log, so that the two diff as text.
// Owns: the command line of the external engines. Does not own: the engines
// (oracle/external.h) or comparing (scripts/xcheck, the oracle).
// Contract: with one file, stdout is exactly the engine's log; with several,
// each log follows a "=== FILE" line. Statuses, reasons and worker restarts
// go to stderr (or into --json). Exit codes as `run`: 0 every module
// completed, 1 the engine refused a module (or a file is not a module),
// 2 usage, unreadable file or an engine that cannot start, 3 some run was
// inconclusive (a limit, a timeout).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "oracle/external.h"
#include "runtime/decode.h"
#include "tools/commands.h"
#include "tools/read_file.h"

namespace slabfuzz::cli {
namespace {

constexpr int kExitInconclusive = 3;

struct XrunOptions {
  std::vector<std::string> files;
  std::string engine = "v8";
  bool json = false;
  int workers = 1;
  int timeout_ms = ExternalOptions{}.timeout_ms;
  std::string node = ExternalOptions::defaultNode();
  std::string script;
  std::string v8_gc = ExternalOptions{}.v8_gc;
  std::string route = "reuse";
};

int xrun(const XrunOptions& opts) {
  std::vector<std::vector<uint8_t>> modules;
  for (const std::string& file : opts.files) {
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
    modules.push_back(std::move(std::get<std::vector<uint8_t>>(read)));
  }
  ExternalOptions eo;
  eo.node = opts.node;
  eo.script = opts.script;
  eo.workers = opts.workers;
  eo.timeout_ms = opts.timeout_ms;
  eo.v8_gc = opts.v8_gc;
  eo.route = opts.route;
  auto engine = makeExternalEngine(opts.engine, eo);
  if (!engine.ok()) {
    fmt::print(stderr, "xrun: {}\n", engine.error().message);
    return kExitUsage;
  }
  auto batch = engine.value()->run(modules);
  if (!batch.ok()) {
    fmt::print(stderr, "xrun: {}\n", batch.error().message);
    return kExitUsage;
  }
  int code = kExitOk;
  nlohmann::json out = nlohmann::json::object();
  out["engine"] = opts.engine;
  out["hello"] = engine.value()->hello();
  out["runs"] = nlohmann::json::array();
  for (size_t i = 0; i < modules.size(); ++i) {
    const EngineRun& run = batch.value().runs[i];
    if (run.status == EngineRun::Status::EngineError) code = kExitRejected;
    if (run.status == EngineRun::Status::Inconclusive && code == kExitOk) code = kExitInconclusive;
    if (opts.json) {
      out["runs"].push_back({{"file", opts.files[i]},
                             {"status", statusName(run.status)},
                             {"reason", run.reason},
                             {"lines", run.lines}});
      continue;
    }
    if (opts.files.size() > 1) fmt::print("=== {}\n", opts.files[i]);
    for (const std::string& line : run.lines) fmt::print("{}\n", line);
    if (run.status != EngineRun::Status::Completed) {
      fmt::print(stderr, "{}: {} on {}: {}\n", opts.files[i], statusName(run.status), opts.engine,
                 run.reason);
    }
  }
  out["restarts"] = nlohmann::json::array();
  for (const EngineRestart& r : batch.value().restarts) {
    if (opts.json) {
      out["restarts"].push_back({{"worker", r.worker}, {"reason", r.reason}});
    } else {
      fmt::print(stderr, "xrun: {} worker {} restarted: {}\n", opts.engine, r.worker, r.reason);
    }
  }
  if (opts.json) fmt::print("{}\n", out.dump(2));
  return code;
}

}  // namespace

void addXrunCommand(CLI::App& app, int* exit_code) {
  auto opts = std::make_shared<XrunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "xrun",
      "Run modules on an external reference engine, through long-lived workers, and print\n"
      "each log in Binaryen's --fuzz-exec format (as `slabfuzz run` prints ours):\n"
      "  v8        the pinned node (V8) running scripts/js/v8_worker.mjs, slabfuzz's own\n"
      "            fuzzing-support harness (gc(): see --v8-gc)\n"
      "  binaryen  Binaryen's interpreter, wasm-opt --fuzz-exec-before, in\n"
      "            scripts/js/binaryen_worker.mjs\n"
      "Trap lines are worded by each engine; compare them as \"[trap]\" (scripts/xcheck).\n"
      "Exit status: 0 every module completed; 1 the engine refused a module or an input is\n"
      "not a module; 2 usage, unreadable input, or the engine cannot start; 3 some run\n"
      "was inconclusive (a resource limit, the log cap or the time limit).");
  cmd->add_option("files", opts->files, "module files (.wasm, or .wat text)")->required();
  cmd->add_option("--engine", opts->engine, "v8 or binaryen")
      ->check(CLI::IsMember({"v8", "binaryen"}))
      ->capture_default_str();
  cmd->add_flag("--json", opts->json,
                "print one JSON object: runs (file, status, reason, lines), restarts");
  cmd->add_option("--workers", opts->workers, "worker processes")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--timeout-ms", opts->timeout_ms, "longest run of one module")
      ->check(CLI::Range(1, 3'600'000))
      ->capture_default_str();
  cmd->add_option("--node", opts->node, "node binary")->capture_default_str();
  cmd->add_option("--script", opts->script, "worker script (default: the engine's own)");
  cmd->add_option(
         "--v8-gc", opts->v8_gc,
         "v8: what the gc import does: minor (a scavenge), full (a full collection, slow), "
         "none (node without --expose-gc: a no-op)")
      ->check(CLI::IsMember({"minor", "full", "none"}))
      ->capture_default_str();
  cmd->add_option("--route", opts->route, "binaryen: reuse, fresh or spawn (how wasm-opt runs)")
      ->check(CLI::IsMember({"reuse", "fresh", "spawn"}))
      ->capture_default_str();
  cmd->callback([opts, exit_code] { *exit_code = xrun(*opts); });
}

}  // namespace slabfuzz::cli
