// Runs a short-lived program to completion under a time limit and keeps what
// it printed, for one-shot tools such as WABT's wat2wasm.
// Owns: spawning the child (stdin from /dev/null, stdout and stderr into one
// pipe), the deadline, and reaping. Does not own: long-lived JSON-lines
// workers (node_worker.h) or what the program's output means.
// Contract: never throws and never leaves a child behind: one still running
// at the deadline is killed (SIGKILL) and reaped. Output past `max_output`
// bytes is read and dropped, so a chatty child cannot stall on a full pipe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace slabfuzz {

struct ProgramRun {
  enum class Status : uint8_t {
    Exited,       // ended by itself; `code` is its exit code
    Signaled,     // killed by signal `code` (not by us)
    TimedOut,     // still running at the deadline; we killed it
    Missing,      // argv[0] not found or not executable
    SpawnFailed,  // the OS refused to start it; `output` says why
  };
  Status status = Status::SpawnFailed;
  int code = 0;
  std::string output;  // stdout and stderr as interleaved by the child

  bool succeeded() const { return status == Status::Exited && code == 0; }
  // "exit code 1", "killed by signal 6 (Aborted)", "no answer within 10000 ms", ...
  std::string describe() const;
};

struct ProgramLimits {
  // The child is killed when it has not exited this long after its start.
  // Defaults to 10 s.
  int timeout_ms = 10'000;
  // Output kept; the rest is discarded. Defaults to 64 KiB.
  size_t max_output = 64 * 1024;
};

// Runs argv[0] (looked up in $PATH when it has no '/') with argv as its
// arguments and waits for it.
ProgramRun runProgram(const std::vector<std::string>& argv, const ProgramLimits& limits = {});

// The executable a bare program name resolves to through $PATH, or the name
// itself if it holds a '/' and is executable; empty when there is none.
std::string findProgram(const std::string& name);

}  // namespace slabfuzz
