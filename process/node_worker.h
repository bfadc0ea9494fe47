// Client for a long-lived worker process that speaks JSON lines (one request
// object per line on its stdin, one response per line on its stdout), such as
// scripts/js/spec_worker.mjs run by the pinned node.
// Owns: spawning the process with pipes, framing, pipelining many requests
// without deadlock, timeouts, reaping the process. Does not own: what the
// requests mean (callers build them) or caching (tests/spec/cached_worker.h).
// Contract: every failure (program missing, spawn failed, worker exited or
// answered garbage, timeout) comes back as a WorkerError value whose message
// says what happened; after one, the worker is closed and every later call
// fails at once. A worker that dies while we write to it is an error value,
// not a SIGPIPE: the signal is held off around our writes only, and the
// process's signal dispositions are not changed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace slabfuzz {

struct WorkerError {
  enum class Kind : uint8_t {
    ProgramMissing,  // argv[0] does not exist or is not executable
    SpawnFailed,     // the OS refused to start it
    Exited,          // it ended (or closed stdout) while answers were due
    Protocol,        // it answered something that is not a JSON object with our id
    Timeout,         // no answer within WorkerOptions::timeout_ms
  };
  Kind kind = Kind::SpawnFailed;
  std::string message;
};

struct WorkerOptions {
  // Program and arguments, e.g. {node, "scripts/js/spec_worker.mjs"}.
  std::vector<std::string> argv;
  // File that receives the worker's stderr (truncated at start); its tail is
  // quoted in Exited errors. Empty: the worker shares our stderr.
  // Defaults to empty.
  std::string stderr_path;
  // Longest wait for the next response while answers are due; the worker
  // is then killed. Defaults to 120 s.
  int timeout_ms = 120'000;
};

class NodeWorker {
 public:
  using json = nlohmann::json;

  static Result<std::unique_ptr<NodeWorker>, WorkerError> start(WorkerOptions options);

  NodeWorker(const NodeWorker&) = delete;
  NodeWorker& operator=(const NodeWorker&) = delete;
  // Closes the worker's stdin (it exits on end of input) and reaps it,
  // killing it if it does not exit within a second.
  ~NodeWorker();

  // One request, one response. The request's "id" is set by the client.
  Result<json, WorkerError> call(json request);

  // Sends every request and collects every response, writing and reading
  // concurrently so that neither side's pipe buffer can fill up and stall
  // the other. Responses are returned in request order, matched by "id".
  Result<std::vector<json>, WorkerError> callMany(std::vector<json> requests);

  // Changes WorkerOptions::timeout_ms for the calls that follow (a client
  // may allow a slow start-up more time than a request).
  void setTimeout(int timeout_ms) { options_.timeout_ms = timeout_ms; }

  bool alive() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }

 private:
  NodeWorker() = default;
  WorkerError broken(WorkerError::Kind kind, std::string message);
  std::string stderrTail() const;
  void shutdown(bool kill_now);

  WorkerOptions options_;
  pid_t pid_ = -1;
  int to_child_ = -1;    // the worker's stdin
  int from_child_ = -1;  // the worker's stdout
  uint64_t next_id_ = 1;
  std::string pending_;   // bytes read past the last complete line
  int exit_status_ = -1;  // from waitpid, once reaped
};

}  // namespace slabfuzz
