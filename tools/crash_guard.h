// Running the runtime under test where its crash cannot end the tool: a
// sanitizer report or a signal in the child is a finding to report (kind
// `sanitizer:<what>`), not the end of triage or of a hunt.
// Owns: forking, capturing the child's stderr, and naming the crash from
// the sanitizer's SUMMARY line or the signal. Does not own: what the child
// runs, or the verdict made of a crash (oracle/findings.def "sanitizer").
// Contract: the callback runs in a forked child whose stderr is captured
// (the tail comes back in the report); the parent's state is never touched
// by it. Only for a process with no threads of its own at the call
// (fork's rule: a lock another thread holds would stay held in the child).
#pragma once

#include <functional>
#include <string>

namespace slabfuzz::cli {

struct CrashReport {
  bool crashed = false;
  std::string kind;    // "heap-buffer-overflow", "SEGV", "signal-6", "exit-1"
  std::string report;  // the tail of the child's stderr
};

// Runs `f` in a child process; `crashed` when the child did not exit 0.
CrashReport runGuarded(const std::function<void()>& f);

// The crash's name from a sanitizer report's SUMMARY line ("AddressSanitizer:
// heap-buffer-overflow ..." gives "heap-buffer-overflow"), else the signal or
// exit status from waitpid's `status`.
std::string crashKind(const std::string& stderr_text, int status);

}  // namespace slabfuzz::cli
