// Comparing execution logs: the verdict of the oracle (DESIGN.md "Oracle").
// Owns: the verdict (agree, inconclusive, rejected, finding with a
// signature), which lines of two logs are compared (normalise.h), how a
// first difference is classified (diff:result, diff:trap, diff:log,
// diff:heap-digest), and the unified-style diff that shows it. Does not own:
// running engines (run.h, engine.h) or aborting on a finding (finding.h).
// Contract: a verdict is a pure function of the logs. Resource exhaustion
// is never a finding: an inconclusive log is left out of the comparison and
// counted. A heap violation in any run is a finding whatever the others say.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/execution_log.h"
#include "oracle/finding.h"

namespace slabfuzz {

struct CompareOptions {
  // Traps-never-happen comparison (Binaryen's fuzz_opt.py for engines that
  // may legitimately trap elsewhere): when one run traps where the other
  // does not, the logs are compared only up to the trap and agree if they
  // agree that far. Off between our own configurations, where a one-sided
  // trap is a diff:trap finding. Defaults to false.
  bool stop_at_one_sided_trap = false;
};

struct Verdict {
  enum class Kind : uint8_t {
    Agree,         // every conclusive log equal to the first, after normalisation
    Inconclusive,  // no finding, but a limit of ours cut a run short
    Rejected,      // every engine refused the module (not a finding)
    Finding,       // see signature
  };
  Kind kind = Kind::Agree;
  Signature signature;  // Finding only
  // Finding: the engines compared (engine_b empty for a heap violation,
  // which needs no second run).
  std::string engine_a, engine_b;
  // Finding by difference: the first differing line (1-based, in the
  // normalised logs) and both lines ("<end>" past a log's end).
  size_t line = 0;
  std::string line_a, line_b;
  std::string detail;  // one readable sentence
  // Inconclusive: "ENGINE: LINE" for each run a limit ended.
  std::vector<std::string> inconclusive;
  // Agree: compared up to a one-sided trap (stop_at_one_sided_trap).
  bool up_to_trap = false;

  // The signature line, then the detail and the differing lines.
  std::string report() const;
};

std::string_view verdictKindName(Verdict::Kind kind);  // "agree", "finding", ...

// Two logs of the same module. Lines written by our runtime alone
// (kSlabfuzzLinePrefix) and trap wording are compared only when both logs
// are ours.
Verdict compareLogs(const ExecutionLog& a, const ExecutionLog& b, const CompareOptions& options = {});

// Several logs of the same module: the first conclusive one against each of
// the others, after a check for heap violations and rejections.
Verdict judge(std::span<const ExecutionLog> logs, const CompareOptions& options = {});

// The two logs' normalised lines as the comparison sees them, diffed in a
// unified style ("--- a", "+++ b", "@@ ... @@", " ", "-", "+" lines) with
// `context` lines around each change. Empty when they are equal.
std::string unifiedDiff(const ExecutionLog& a, const ExecutionLog& b, size_t context = 3);

}  // namespace slabfuzz
