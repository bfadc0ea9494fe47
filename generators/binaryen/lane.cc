#include "generators/binaryen/lane.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "process/base64.h"
#include "process/shares.h"

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
  for (int i = 0; i < lane->options_.workers; ++i) {
    auto w = lane->startWorker();
    if (!w.ok()) return w.takeError();
    lane->workers_.push_back(std::move(w).value());
  }
  // A worker's start-up (node, the wasm-opt script, its --help) may take
  // longer than a request is allowed, above all on a loaded machine.
  constexpr int kStartupTimeoutMs = 30'000;
  for (size_t i = 0; i < lane->workers_.size(); ++i) {
    lane->workers_[i]->setTimeout(std::max(kStartupTimeoutMs, lane->options_.timeout_ms));
    auto hello = lane->workers_[i]->call(json{{"op", "hello"}});
    lane->workers_[i]->setTimeout(lane->options_.timeout_ms);
    if (!hello.ok() || !hello.value().value("ok", false)) {
      std::string why = hello.ok() ? hello.value().dump() : hello.error().message;
      return LaneError{LaneError::Kind::StartFailed,
                       "the Binaryen worker (" + lane->options_.node + " " + lane->options_.script +
                           ") did not answer hello: " + why};
    }
    if (i == 0) lane->hello_ = std::move(hello).value();
  }
  return lane;
}

BinaryenLane::~BinaryenLane() = default;

pid_t BinaryenLane::workerPid(int i) const {
  return i >= 0 && static_cast<size_t>(i) < workers_.size() && workers_[i] ? workers_[i]->pid()
                                                                           : -1;
}

bool BinaryenLane::restart(int worker, const std::string& reason,
                           std::vector<WorkerRestart>& restarts, std::string* start_error) {
  restarts.push_back({worker, reason});
  workers_[worker].reset();  // reaps it (killing it if it lingers)
  auto w = startWorker();
  if (!w.ok()) {
    *start_error = w.error().message;
    return false;
  }
  workers_[worker] = std::move(w).value();
  return true;
}

// One worker's share of a batch. All of it goes in one callMany (pipelined);
// if the worker fails, it is restarted and the share is retried one request
// at a time, so that the request that kills it is told apart from the rest.
void BinaryenLane::runChunk(int worker, std::span<json> requests, std::span<LaneResult> results,
                            std::vector<WorkerRestart>& restarts) {
  if (requests.empty()) return;
  std::string start_error;
  if (!workers_[worker] || !workers_[worker]->alive()) {
    if (!restart(worker, "found not running at the start of a batch", restarts, &start_error)) {
      for (LaneResult& r : results) r = LaneError{LaneError::Kind::StartFailed, start_error};
      return;
    }
  }
  auto all = workers_[worker]->callMany({requests.begin(), requests.end()});
  if (all.ok()) {
    for (size_t i = 0; i < requests.size(); ++i) results[i] = fromResponse(all.value()[i]);
    return;
  }
  if (!restart(worker, all.error().message, restarts, &start_error)) {
    for (LaneResult& r : results) r = LaneError{LaneError::Kind::StartFailed, start_error};
    return;
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (!start_error.empty()) {
      results[i] = LaneError{LaneError::Kind::StartFailed, start_error};
      continue;
    }
    auto one = workers_[worker]->call(requests[i]);
    if (one.ok()) {
      results[i] = fromResponse(one.value());
      continue;
    }
    LaneError e = fromWorkerError(one.error());
    e.message = "the worker failed on this request twice; last time: " + e.message;
    results[i] = std::move(e);
    restart(worker, one.error().message, restarts, &start_error);
  }
}

LaneBatch BinaryenLane::run(std::vector<json> requests) {
  LaneBatch batch;
  const size_t n = requests.size(), k = workers_.size();
  batch.results.assign(n, LaneError{LaneError::Kind::StartFailed, "not run"});
  std::vector<std::vector<WorkerRestart>> restarts(k);
  // Contiguous shares; which worker answers does not change the answer.
  runShares(n, k, [&](size_t w, size_t begin, size_t end) {
    runChunk(static_cast<int>(w), std::span(requests).subspan(begin, end - begin),
             std::span(batch.results).subspan(begin, end - begin), restarts[w]);
  });
  for (auto& r : restarts) {
    restart_count_ += r.size();
    batch.restarts.insert(batch.restarts.end(), r.begin(), r.end());
  }
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
