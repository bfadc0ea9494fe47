// Child processes of `slabfuzz campaign`: fuzzers that run for the whole
// campaign while it watches their logs, and one-shot steps (the build,
// triage, reduction, gnuplot) that it waits for.
// Owns: spawning with output appended to a log file, the SLABFUZZ_FAULT
// environment variable of the child, and waiting with a deadline. Does not
// own: what the children print (fuzzer_output.h) or process/subprocess.h's
// pipe-based runs, which keep output in memory (a fuzzer's log must
// survive the campaign, so it goes to a file).
// Contract: a child shares the campaign's process group, so a Ctrl-C on the
// terminal reaches it too; a child that outlives its deadline is sent
// SIGTERM, then SIGKILL, and is always reaped.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace slabfuzz::cli::campaign {

struct SpawnSpec {
  std::vector<std::string> argv;  // argv[0] looked up in $PATH when it has no '/'
  std::string cwd;                // "" = the campaign's
  std::string log;                // stdout and stderr appended here ("" = /dev/null)
  // SLABFUZZ_FAULT for the child: a name, or nothing to remove it (so that a
  // fault in the campaign's environment does not leak into a run without one).
  std::optional<std::string> fault;
};

// More environment for a child: (name, value) pairs.
using ExtraEnv = std::vector<std::pair<std::string, std::string>>;

// Starts the child; -1 and *error on failure.
pid_t spawnChild(const SpawnSpec& spec, std::string* error, const ExtraEnv& env = {});

struct ChildEnd {
  bool exited = false;     // else killed by a signal
  int code = 0;            // exit code or signal number
  bool timed_out = false;  // we killed it at its deadline
  std::string describe() const;
};

// Non-blocking: the child's end if it has ended (and is now reaped).
std::optional<ChildEnd> pollChild(pid_t pid);

// Waits for the child, killing it `timeout_s` seconds after the call.
ChildEnd waitChild(pid_t pid, double timeout_s);

// Runs a one-shot step to its end (spawnChild + waitChild); a spawn
// failure is reported as exit code 127 with the reason in *error.
ChildEnd runStep(const SpawnSpec& spec, double timeout_s, std::string* error);

// Sends `sig` to the children of `pid` (read from /proc): libFuzzer's -fork
// parent does not pass a SIGINT on to its jobs.
void signalChildrenOf(pid_t pid, int sig);

// Stops a child: SIGTERM, then SIGKILL after `grace_s`; always reaped.
ChildEnd stopChild(pid_t pid, double grace_s);

}  // namespace slabfuzz::cli::campaign
