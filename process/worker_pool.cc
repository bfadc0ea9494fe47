#include "process/worker_pool.h"

#include "process/shares.h"

namespace slabfuzz {

using json = nlohmann::json;

WorkerPool::WorkerPool(std::vector<std::unique_ptr<NodeWorker>> workers, WorkerStarter restart)
    : workers_(std::move(workers)), start_(std::move(restart)) {}

pid_t WorkerPool::pid(int i) const {
  return i >= 0 && static_cast<size_t>(i) < workers_.size() && workers_[i] ? workers_[i]->pid()
                                                                           : -1;
}

// The restart is recorded before the replacement starts: a worker that
// cannot be started again was still replaced, and the batch says so.
bool WorkerPool::restart(int worker, std::string reason, std::vector<WorkerRestart>& restarts,
                         std::string* start_error) {
  restarts.push_back({worker, std::move(reason)});
  workers_[worker].reset();  // reaps it, killing it if it lingers
  auto w = start_();
  if (!w.ok()) {
    *start_error = w.error();
    return false;
  }
  workers_[worker] = std::move(w).value();
  return true;
}

std::optional<LostShare> WorkerPool::runShare(int worker, std::span<const json> requests,
                                              size_t begin, size_t end,
                                              const PoolHandlers& handlers,
                                              std::vector<WorkerRestart>& restarts) {
  if (begin == end) return std::nullopt;
  std::string start_error;
  auto lost = [&](size_t from) { return LostShare{worker, from, end, std::move(start_error)}; };
  auto answered = [&](size_t i, const json& response) {
    if (auto reason = handlers.answered(i, response)) restarts.push_back({worker, *reason});
  };
  if (!workers_[worker] || !workers_[worker]->alive()) {
    if (!restart(worker, "found not running at the start of a batch", restarts, &start_error))
      return lost(begin);
  }
  auto all = workers_[worker]->callMany(
      std::vector<json>(requests.begin() + begin, requests.begin() + end));
  if (all.ok()) {
    for (size_t i = begin; i < end; ++i) answered(i, all.value()[i - begin]);
    return std::nullopt;
  }
  if (!restart(worker, all.error().message, restarts, &start_error)) return lost(begin);
  for (size_t i = begin; i < end; ++i) {
    auto one = workers_[worker]->call(requests[i]);
    if (one.ok()) {
      answered(i, one.value());
      continue;
    }
    handlers.failed(i, one.error());
    if (!restart(worker, one.error().message, restarts, &start_error)) return lost(i + 1);
  }
  return std::nullopt;
}

PoolBatch WorkerPool::run(std::span<const json> requests, const PoolHandlers& handlers) {
  const size_t k = workers_.size();
  std::vector<std::vector<WorkerRestart>> restarts(k);
  std::vector<std::optional<LostShare>> lost(k);
  runShares(requests.size(), k, [&](size_t w, size_t begin, size_t end) {
    lost[w] = runShare(static_cast<int>(w), requests, begin, end, handlers, restarts[w]);
  });
  PoolBatch batch;
  for (auto& r : restarts) {
    restart_count_ += r.size();
    batch.restarts.insert(batch.restarts.end(), r.begin(), r.end());
  }
  for (auto& l : lost) {
    if (l) batch.lost.push_back(std::move(*l));
  }
  return batch;
}

}  // namespace slabfuzz
