// A pool of long-lived NodeWorkers that serves batches of JSON requests, and
// the one policy for a worker that dies or hangs during a batch. Used by the
// Binaryen lane (generators/binaryen/lane.cc) and the external engines
// (oracle/external.cc).
// Owns: the workers once started, spreading a batch over them (shares.h),
// restarting a worker, retrying a failed share one request at a time, and
// recording every restart. Does not own: starting and greeting the first
// workers or a replacement (the caller's WorkerStarter), building requests or
// reading answers (the caller's PoolHandlers), or what a failure means to
// the caller (its error types and wording).
// Contract: every request i of a batch ends in exactly one of: `answered(i)`,
// `failed(i)` (it failed on a freshly restarted worker too), or a
// `PoolBatch::lost` range (its worker could not be started again before i
// was answered). Every restart, whether the new worker started or not, is in
// the batch's `restarts` and in restartCount(); none is silent.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "process/node_worker.h"
#include "runtime/error.h"

namespace slabfuzz {

// A worker replaced during a batch (or a part of one, such as V8's run
// thread, as the caller's `answered` reports it), and why.
struct WorkerRestart {
  int worker = 0;
  std::string reason;
};

// Starts one worker ready for requests (greeted, its request timeout set, as
// the caller wants), or says why it could not.
using WorkerStarter = std::function<Result<std::unique_ptr<NodeWorker>, std::string>()>;

// A WorkerStarter from a caller's own start function, whose error has a
// `message` (LaneError, ExternalError): the pool keeps only the message.
template <typename Start>
WorkerStarter starterFrom(Start start) {
  return [start = std::move(start)]() -> Result<std::unique_ptr<NodeWorker>, std::string> {
    auto w = start();
    if (!w.ok()) return w.error().message;
    return std::move(w).value();
  };
}

// What the caller does with each request's outcome; both are required.
// Called from the thread running the request's share: shares of different
// workers run at once, so a handler touches only what belongs to request i
// (or locks).
struct PoolHandlers {
  // Request i was answered. A returned reason is a restart inside the worker
  // that the answer reports (V8 replacing its run thread); it is recorded
  // with the batch's restarts at this point.
  std::function<std::optional<std::string>(size_t i, const nlohmann::json& response)> answered;
  // Request i failed again when sent alone to a restarted worker; the worker
  // is restarted once more after this call.
  std::function<void(size_t i, const WorkerError& error)> failed;
};

// Requests [begin, end) of a batch got no answer: `worker` could not be
// started again (`error` is the WorkerStarter's message). The range is empty
// when the restart after the share's last request failed.
struct LostShare {
  int worker = 0;
  size_t begin = 0;
  size_t end = 0;
  std::string error;
};

struct PoolBatch {
  // Worker by worker, each worker's in the order they happened.
  std::vector<WorkerRestart> restarts;
  // Worker by worker; empty when every worker could be (re)started.
  std::vector<LostShare> lost;
};

class WorkerPool {
 public:
  WorkerPool() = default;
  // `workers` already started (and greeted); `restart` starts a replacement.
  WorkerPool(std::vector<std::unique_ptr<NodeWorker>> workers, WorkerStarter restart);

  // Spreads `requests` over the workers in contiguous shares (shares.h), one
  // thread per worker. Each share:
  //  1. a worker found not running is restarted ("found not running at the
  //     start of a batch");
  //  2. the whole share goes in one pipelined callMany; if that fails, the
  //     worker is restarted (the reason: the error) and the share is sent
  //     again one request at a time, so that the request that kills or hangs
  //     the worker is told apart from the rest;
  //  3. a request that fails alone is `failed`, and the worker restarted;
  //  4. a restart that cannot start a worker ends the share: what is left of
  //     it is a LostShare, and that worker stays down until the next batch.
  // Timeouts are the workers' own (WorkerOptions::timeout_ms).
  PoolBatch run(std::span<const nlohmann::json> requests, const PoolHandlers& handlers);

  int size() const { return static_cast<int>(workers_.size()); }
  // The process id of worker `i`, or -1 (no such worker, or it is down).
  pid_t pid(int i) const;
  // Restarts recorded since the pool was made, those `answered` reported
  // included.
  uint64_t restartCount() const { return restart_count_; }

 private:
  std::optional<LostShare> runShare(int worker, std::span<const nlohmann::json> requests,
                                    size_t begin, size_t end, const PoolHandlers& handlers,
                                    std::vector<WorkerRestart>& restarts);
  bool restart(int worker, std::string reason, std::vector<WorkerRestart>& restarts,
               std::string* start_error);

  std::vector<std::unique_ptr<NodeWorker>> workers_;
  WorkerStarter start_;
  uint64_t restart_count_ = 0;
};

}  // namespace slabfuzz
