#include "generators/binaryen/lane.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

#include "process/base64.h"

namespace slabfuzz::binaryen {
namespace {

using json = nlohmann::json;

constexpr std::array<std::string_view, 9> kFeatureFlags{
    "--mvp-features",
    "--enable-gc",
    "--enable-reference-types",
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-multivalue",
    "--enable-tail-call",
    "--enable-mutable-globals",
};

json featureList() {
  json f = json::array();
  for (std::string_view s : kFeatureFlags) f.push_back(std::string(s));
  return f;
}

LaneError fromWorkerError(const WorkerError& e) {
  auto kind = e.kind == WorkerError::Kind::Timeout ? LaneError::Kind::Timeout
                                                   : LaneError::Kind::WorkerDied;
  return {kind, e.message};
}

// A worker's answer as bytes or as Binaryen's refusal.
LaneResult fromResponse(const json& r) {
  if (r.value("ok", false)) {
    const json& wasm = r.contains("wasm") ? r["wasm"] : json();
    if (wasm.is_string()) {
      if (auto bytes = base64Decode(wasm.get_ref<const std::string&>())) return std::move(*bytes);
    }
    return LaneError{LaneError::Kind::WorkerDied, "the worker answered without a valid \"wasm\""};
  }
  std::string why = r.contains("error") && r["error"].is_string() ? r["error"].get<std::string>()
                                                                   : r.dump();
  return LaneError{LaneError::Kind::Refused, why};
}

}  // namespace

std::span<const std::string_view> runtimeFeatureFlags() {
  return kFeatureFlags;
}

std::string LaneOptions::defaultNode() {
  return SLABFUZZ_NODE_PATH;
}

std::string LaneOptions::defaultScript() {
  return SLABFUZZ_BINARYEN_WORKER;
}

Result<std::unique_ptr<NodeWorker>, LaneError> BinaryenLane::startWorker() const {
  WorkerOptions wo;
  wo.argv = {options_.node, options_.script};
  wo.timeout_ms = options_.timeout_ms;
  auto w = NodeWorker::start(std::move(wo));
  if (!w.ok()) {
    auto kind = w.error().kind == WorkerError::Kind::ProgramMissing ? LaneError::Kind::NodeMissing
                                                                    : LaneError::Kind::StartFailed;
    std::string hint = kind == LaneError::Kind::NodeMissing
                           ? " (run scripts/setup to install the pinned node, or pass --node)"
                           : "";
    return LaneError{kind, "cannot start the Binaryen worker: " + w.error().message + hint};
  }
  return std::move(w).value();
}

Result<std::unique_ptr<BinaryenLane>, LaneError> BinaryenLane::start(LaneOptions options) {
  if (options.workers < 1) return LaneError{LaneError::Kind::StartFailed, "workers must be >= 1"};
  if (access(options.node.c_str(), X_OK) != 0) {
    return LaneError{LaneError::Kind::NodeMissing,
                     "no executable node at " + options.node + " (" + std::strerror(errno) +
                         "; run scripts/setup to install the pinned node, or pass --node)"};
  }
  if (access(options.script.c_str(), R_OK) != 0) {
    return LaneError{LaneError::Kind::ScriptMissing,
                     "no Binaryen worker script at " + options.script + " (" +
                         std::strerror(errno) + ")"};
  }
  std::unique_ptr<BinaryenLane> lane(new BinaryenLane());
  lane->options_ = std::move(options);
  // Spawn every worker first, then greet them: their start-ups overlap.
  std::vector<std::unique_ptr<NodeWorker>> workers;
  for (int i = 0; i < lane->options_.workers; ++i) {
    auto w = lane->startWorker();
    if (!w.ok()) return w.takeError();
    workers.push_back(std::move(w).value());
  }
  // A worker's start-up (node, the wasm-opt script, its --help) may take
  // longer than a request is allowed, above all on a loaded machine.
  constexpr int kStartupTimeoutMs = 30'000;
  for (size_t i = 0; i < workers.size(); ++i) {
    workers[i]->setTimeout(std::max(kStartupTimeoutMs, lane->options_.timeout_ms));
    auto hello = workers[i]->call(json{{"op", "hello"}});
    workers[i]->setTimeout(lane->options_.timeout_ms);
    if (!hello.ok() || !hello.value().value("ok", false)) {
      std::string why = hello.ok() ? hello.value().dump() : hello.error().message;
      return LaneError{LaneError::Kind::StartFailed,
                       "the Binaryen worker (" + lane->options_.node + " " + lane->options_.script +
                           ") did not answer hello: " + why};
    }
    if (i == 0) lane->hello_ = std::move(hello).value();
  }
  // A replacement is not greeted: its first request waits out its start-up.
  // The lane is never moved (start() hands out a unique_ptr), so `self`
  // stays valid as long as the pool.
  lane->pool_ = WorkerPool(std::move(workers),
                           starterFrom([self = lane.get()] { return self->startWorker(); }));
  return lane;
}

BinaryenLane::~BinaryenLane() = default;

pid_t BinaryenLane::workerPid(int i) const {
  return pool_.pid(i);
}

LaneBatch BinaryenLane::run(const std::vector<json>& requests) {
  LaneBatch batch;
  batch.results.assign(requests.size(), LaneError{LaneError::Kind::StartFailed, "not run"});
  // Contiguous shares; which worker answers does not change the answer.
  PoolHandlers handlers;
  handlers.answered = [&](size_t i, const json& response) -> std::optional<std::string> {
    batch.results[i] = fromResponse(response);
    return std::nullopt;
  };
  handlers.failed = [&](size_t i, const WorkerError& error) {
    LaneError e = fromWorkerError(error);
    e.message = "the worker failed on this request twice; last time: " + e.message;
    batch.results[i] = std::move(e);
  };
  PoolBatch pool = pool_.run(requests, handlers);
  for (const LostShare& lost : pool.lost) {
    for (size_t i = lost.begin; i < lost.end; ++i) {
      batch.results[i] = LaneError{LaneError::Kind::StartFailed, lost.error};
    }
  }
  batch.restarts = std::move(pool.restarts);
  return batch;
}

LaneBatch BinaryenLane::translateToFuzz(std::span<const TtfJob> jobs) {
  std::vector<json> requests;
  requests.reserve(jobs.size());
  for (const TtfJob& job : jobs) {
    requests.push_back({{"op", "ttf"},
                        {"input", base64Encode(job.input)},
                        {"features", featureList()},
                        {"closed_world", job.closed_world},
                        {"denan", job.denan},
                        {"route", options_.route}});
  }
  return run(std::move(requests));
}

LaneBatch BinaryenLane::translateToFuzz(std::span<const std::vector<uint8_t>> inputs) {
  std::vector<TtfJob> jobs;
  jobs.reserve(inputs.size());
  for (const auto& in : inputs) jobs.push_back({in, false, false});
  return translateToFuzz(std::span<const TtfJob>(jobs));
}

LaneBatch BinaryenLane::optimize(std::span<const OptimizeJob> jobs) {
  std::vector<json> requests;
  requests.reserve(jobs.size());
  for (const OptimizeJob& job : jobs) {
    requests.push_back({{"op", "optimize"},
                        {"wasm", base64Encode(job.module)},
                        {"passes", job.pipeline.args()},
                        {"features", featureList()},
                        {"route", options_.optimize_route.empty() ? options_.route
                                                                  : options_.optimize_route}});
  }
  return run(std::move(requests));
}

}  // namespace slabfuzz::binaryen
