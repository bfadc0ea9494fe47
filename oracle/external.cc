#include "oracle/external.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <optional>

#include "generators/binaryen/lane.h"
#include "process/base64.h"
#include "process/node_worker.h"
#include "process/worker_pool.h"

namespace slabfuzz {
namespace {

using json = nlohmann::json;

// Slack on top of the per-module time limit before the client gives up on
// V8's worker: it enforces the limit itself and needs a moment to replace
// its run thread.
constexpr int kV8ClientSlackMs = 15'000;
// Longest wait for a new worker's answer to "hello".
constexpr int kStartTimeoutMs = 60'000;

// What distinguishes the two engines: how to start a worker and what to ask.
struct EngineKind {
  std::string name;
  std::vector<std::string> argv;
  int client_timeout_ms = 0;
  std::function<json(const std::vector<uint8_t>&)> request;
};

EngineRun fromResponse(const json& r, int max_lines) {
  EngineRun run;
  if (!r.value("ok", false)) {
    run.status = EngineRun::Status::EngineError;
    run.reason = r.contains("error") && r["error"].is_string() ? r["error"].get<std::string>()
                                                               : "the worker answered " + r.dump();
    return run;
  }
  if (r.contains("lines") && r["lines"].is_array()) {
    for (const json& l : r["lines"]) {
      if (l.is_string()) run.lines.push_back(l.get<std::string>());
    }
  }
  run.reason = r.value("reason", std::string());
  const std::string status = r.value("status", std::string());
  if (status == "completed") {
    run.status = EngineRun::Status::Completed;
  } else if (status == "limit") {
    run.status = EngineRun::Status::Inconclusive;
  } else {
    run.status = EngineRun::Status::EngineError;
    if (status != "error") run.reason = "the worker answered an unknown status: " + r.dump();
  }
  if (run.status == EngineRun::Status::Completed &&
      run.lines.size() > static_cast<size_t>(max_lines)) {
    run.status = EngineRun::Status::Inconclusive;
    run.reason = fmt::format("the log reached {} lines", max_lines);
    run.lines.resize(max_lines);
  }
  return run;
}

class WorkerPoolEngine final : public ExternalEngine {
 public:
  static Result<std::unique_ptr<ExternalEngine>, ExternalError> start(EngineKind kind,
                                                                      ExternalOptions options);

  std::string_view name() const override { return kind_.name; }
  const json& hello() const override { return hello_; }
  int workers() const override { return pool_.size(); }
  pid_t workerPid(int i) const override { return pool_.pid(i); }
  uint64_t restartCount() const override { return pool_.restartCount(); }
  Result<EngineBatch, ExternalError> run(std::span<const std::vector<uint8_t>> modules) override;

 private:
  // Starts a worker and waits for its answer to "hello" (kept in *hello).
  Result<std::unique_ptr<NodeWorker>, ExternalError> startWorker(json* hello = nullptr) const;

  EngineKind kind_;
  ExternalOptions options_;
  WorkerPool pool_;
  json hello_;
};

Result<std::unique_ptr<NodeWorker>, ExternalError> WorkerPoolEngine::startWorker(
    json* hello_out) const {
  WorkerOptions wo;
  wo.argv = kind_.argv;
  // The greeting waits for the start-up (Binaryen's worker compiles
  // wasm-opt first); requests then get the engine's own limit.
  wo.timeout_ms = std::max(kind_.client_timeout_ms, kStartTimeoutMs);
  auto w = NodeWorker::start(std::move(wo));
  if (!w.ok()) {
    bool missing = w.error().kind == WorkerError::Kind::ProgramMissing;
    return ExternalError{
        missing ? ExternalError::Kind::NodeMissing : ExternalError::Kind::StartFailed,
        fmt::format("cannot start the {} worker: {}{}", kind_.name, w.error().message,
                    missing ? " (run scripts/setup to install the pinned node)" : "")};
  }
  auto hello = w.value()->call(json{{"op", "hello"}});
  if (!hello.ok() || !hello.value().value("ok", false)) {
    return ExternalError{ExternalError::Kind::StartFailed,
                         fmt::format("the {} worker ({}) did not answer hello: {}", kind_.name,
                                     fmt::join(kind_.argv, " "),
                                     hello.ok() ? hello.value().dump() : hello.error().message)};
  }
  w.value()->setTimeout(kind_.client_timeout_ms);
  if (hello_out) *hello_out = std::move(hello).value();
  return std::move(w).value();
}

Result<std::unique_ptr<ExternalEngine>, ExternalError> WorkerPoolEngine::start(
    EngineKind kind, ExternalOptions options) {
  if (options.workers < 1)
    return ExternalError{ExternalError::Kind::StartFailed, "workers must be >= 1"};
  if (access(options.node.c_str(), X_OK) != 0) {
    return ExternalError{ExternalError::Kind::NodeMissing,
                         fmt::format("no executable node at {} ({}; run scripts/setup to install "
                                     "the pinned node, or pass --node)",
                                     options.node, std::strerror(errno))};
  }
  if (access(options.script.c_str(), R_OK) != 0) {
    return ExternalError{ExternalError::Kind::ScriptMissing,
                         fmt::format("no {} worker script at {} ({})", kind.name, options.script,
                                     std::strerror(errno))};
  }
  std::unique_ptr<WorkerPoolEngine> engine(new WorkerPoolEngine());
  engine->kind_ = std::move(kind);
  engine->options_ = std::move(options);
  std::vector<std::unique_ptr<NodeWorker>> workers;
  for (int i = 0; i < engine->options_.workers; ++i) {
    auto w = engine->startWorker(i == 0 ? &engine->hello_ : nullptr);
    if (!w.ok()) return w.takeError();
    workers.push_back(std::move(w).value());
  }
  // A replacement is greeted like the first workers. The engine is never
  // moved (it lives behind a unique_ptr), so `self` stays valid as long as
  // the pool.
  engine->pool_ = WorkerPool(std::move(workers),
                             starterFrom([self = engine.get()] { return self->startWorker(); }));
  return std::unique_ptr<ExternalEngine>(std::move(engine));
}

Result<EngineBatch, ExternalError> WorkerPoolEngine::run(
    std::span<const std::vector<uint8_t>> modules) {
  std::vector<json> requests;
  requests.reserve(modules.size());
  for (const auto& m : modules) requests.push_back(kind_.request(m));
  EngineBatch batch;
  batch.runs.assign(requests.size(), EngineRun{EngineRun::Status::EngineError, {}, "not run"});
  // Contiguous shares; which worker runs a module does not change its log.
  PoolHandlers handlers;
  handlers.answered = [&](size_t i, const json& response) -> std::optional<std::string> {
    batch.runs[i] = fromResponse(response, options_.max_lines);
    // V8's worker replaces the thread running a module that overran its time
    // limit: a restart too, reported with the batch.
    if (!response.value("thread_replaced", false)) return std::nullopt;
    return fmt::format("V8 run thread replaced: {}", batch.runs[i].reason);
  };
  handlers.failed = [&](size_t i, const WorkerError& error) {
    EngineRun& r = batch.runs[i];
    if (error.kind == WorkerError::Kind::Timeout) {
      r.status = EngineRun::Status::Inconclusive;
      r.reason = fmt::format("timed out (the {} worker was killed and restarted): {}", kind_.name,
                             error.message);
    } else {
      r.status = EngineRun::Status::EngineError;
      r.reason = fmt::format("the {} worker died on this module twice; last time: {}", kind_.name,
                             error.message);
    }
  };
  PoolBatch pool = pool_.run(requests, handlers);
  // The first worker (in order) that could not be started again fails the batch.
  if (!pool.lost.empty()) {
    const LostShare& lost = pool.lost.front();
    return ExternalError{ExternalError::Kind::WorkerDead,
                         fmt::format("{} worker {} died and could not be restarted: {}", kind_.name,
                                     lost.worker, lost.error)};
  }
  batch.restarts = std::move(pool.restarts);
  return batch;
}

}  // namespace

std::string_view statusName(EngineRun::Status status) {
  switch (status) {
    case EngineRun::Status::Completed: return "completed";
    case EngineRun::Status::Inconclusive: return "inconclusive";
    case EngineRun::Status::EngineError: return "engine-error";
  }
  return "?";
}

std::string ExternalOptions::defaultNode() {
  return SLABFUZZ_NODE_PATH;
}
std::string ExternalOptions::defaultV8Script() {
  return SLABFUZZ_V8_WORKER;
}
std::string ExternalOptions::defaultBinaryenScript() {
  return SLABFUZZ_BINARYEN_WORKER;
}

Result<std::unique_ptr<ExternalEngine>, ExternalError> makeV8Engine(ExternalOptions options) {
  if (options.v8_gc != "none" && options.v8_gc != "minor" && options.v8_gc != "full") {
    return ExternalError{
        ExternalError::Kind::StartFailed,
        fmt::format("v8_gc must be none, minor or full, not \"{}\"", options.v8_gc)};
  }
  if (options.script.empty()) options.script = ExternalOptions::defaultV8Script();
  EngineKind kind;
  kind.name = "v8";
  kind.argv = {options.node};
  if (options.v8_gc != "none") kind.argv.push_back("--expose-gc");
  kind.argv.push_back(options.script);
  if (options.v8_gc == "full" || options.v8_gc == "minor")
    kind.argv.push_back("--gc=" + options.v8_gc);
  kind.client_timeout_ms = options.timeout_ms + kV8ClientSlackMs;
  kind.request = [timeout = options.timeout_ms,
                  lines = options.max_lines](const std::vector<uint8_t>& m) {
    return json{
        {"op", "run"}, {"wasm", base64Encode(m)}, {"timeout_ms", timeout}, {"max_lines", lines}};
  };
  return WorkerPoolEngine::start(std::move(kind), std::move(options));
}

Result<std::unique_ptr<ExternalEngine>, ExternalError> makeBinaryenEngine(ExternalOptions options) {
  if (options.script.empty()) options.script = ExternalOptions::defaultBinaryenScript();
  EngineKind kind;
  kind.name = "binaryen";
  kind.argv = {options.node};
  // Binaryen's interpreter recurses on the wasm-opt module's own stack and
  // on node's, and overflows node's default (~1 MB) on deeply nested gcgen
  // modules (5 of gcgen seeds 0..199). A 4 MB limit is safe when the main
  // thread's native stack is at least 8 MB, as it is by default on Linux.
  rlimit stack{};
  if (getrlimit(RLIMIT_STACK, &stack) == 0 &&
      (stack.rlim_cur == RLIM_INFINITY || stack.rlim_cur >= (rlim_t{8} << 20))) {
    kind.argv.push_back("--stack-size=4000");
  }
  kind.argv.push_back(options.script);
  // Binaryen's interpreter cannot be interrupted inside the worker: the
  // client's timeout kills the process (and the pool restarts it).
  kind.client_timeout_ms = options.timeout_ms;
  json features = json::array();
  for (std::string_view f : binaryen::runtimeFeatureFlags()) features.push_back(std::string(f));
  kind.request = [features, route = options.route](const std::vector<uint8_t>& m) {
    return json{
        {"op", "fuzz-exec"}, {"wasm", base64Encode(m)}, {"features", features}, {"route", route}};
  };
  return WorkerPoolEngine::start(std::move(kind), std::move(options));
}

Result<std::unique_ptr<ExternalEngine>, ExternalError> makeExternalEngine(std::string_view name,
                                                                          ExternalOptions options) {
  if (name == "v8") return makeV8Engine(std::move(options));
  if (name == "binaryen") return makeBinaryenEngine(std::move(options));
  return ExternalError{ExternalError::Kind::StartFailed,
                       fmt::format("unknown engine \"{}\" (expected v8 or binaryen)", name)};
}

}  // namespace slabfuzz
