// The spec worker (scripts/js/spec_worker.mjs) behind typed calls, with a
// disk cache so that a second run over the same texts costs file reads only.
// Owns: the worker's ops (hello, wat2wasm, validate) on the C++ side and
// their cache keys. Does not own: the process plumbing (node_worker.h) or
// the cache's layout and atomic writes (disk_cache.h).
// Contract: a cache entry is keyed by the op, what produced it (Binaryen's
// version and feature set for wat2wasm, V8's version for validate) and the
// input, so upgrading a tool or changing the worker's features never serves
// stale answers.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tests/spec/disk_cache.h"
#include "runtime/error.h"
#include "process/node_worker.h"

namespace slabfuzz {

// V8's answer for one binary.
struct V8Verdict {
  bool valid = false;
  std::string message;  // V8's CompileError message when !valid
};

struct CachedWorkerOptions {
  std::string node;    // the pinned node executable
  std::string script;  // scripts/js/spec_worker.mjs
  // Directory of cache entries, created if missing. Empty: no cache.
  std::string cache_dir;
  // Where the worker's stderr goes (see WorkerOptions). Defaults to
  // <cache_dir>/worker.stderr when a cache directory is given.
  std::string stderr_path;
};

class CachedWorker {
 public:
  // Starts the worker and asks it for its tool versions (the "hello" op).
  static Result<std::unique_ptr<CachedWorker>, WorkerError> start(CachedWorkerOptions options);

  const std::string& binaryenVersion() const { return binaryen_version_; }
  const std::string& v8Version() const { return v8_version_; }

  // Converts every text with Binaryen; those not in the cache go to the
  // worker as one pipelined batch and their answers are stored. Results are
  // in input order.
  Result<std::vector<Conversion>, WorkerError> wat2wasm(const std::vector<std::string>& texts);

  // V8's verdict on one binary (cached too).
  Result<V8Verdict, WorkerError> validate(std::span<const uint8_t> wasm);

  struct Stats {
    size_t cache_hits = 0;
    size_t worker_requests = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  explicit CachedWorker(std::string cache_dir) : cache_(std::move(cache_dir)) {}

  std::unique_ptr<NodeWorker> worker_;
  DiskCache cache_;
  std::string binaryen_version_;
  std::string conversion_config_;  // Binaryen version and features: part of every wat2wasm key
  std::string v8_version_;
  Stats stats_;
};

}  // namespace slabfuzz
