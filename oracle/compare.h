// Comparing execution logs: the verdict of the oracle (DESIGN.md "Oracle").
// Owns: the verdict (agree, agree up to a resource limit, rejected, not
// comparable, finding with a signature), which lines of two logs are
// compared (normalise.h), how far (up to a resource limit), how a first
// difference is classified (diff:result, diff:trap, diff:log,
// diff:heap-digest, diff:status), and the unified-style diff that shows it.
// Does not own: running engines (run.h, engine.h), the comparable set
// (comparable.h), trap classes (trap_class.h) or aborting on a finding
// (finding.h).
// Contract: a verdict is a pure function of the logs. Resource exhaustion
// is never a finding, but the lines before it are compared. A heap
// violation in any run is a finding whatever the others say. No difference
// in the compared part is ever counted as agreement.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "oracle/execution_log.h"
#include "oracle/finding.h"

namespace slabfuzz {

struct Verdict {
  enum class Kind : uint8_t {
    Agree,           // every log equal to the first, after normalisation
    AgreeUpToLimit,  // equal as far as the runs went: a resource limit ended one
    Rejected,        // every engine refused the module (not a finding)
    NotComparable,   // an engine cannot run the module on equal terms (comparable.h)
    Finding,         // see signature
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
  // AgreeUpToLimit: "ENGINE: LINE" for each run a limit ended, and where.
  std::vector<std::string> inconclusive;

  // The signature line, then the detail and the differing lines.
  std::string report() const;
};

std::string_view verdictKindName(Verdict::Kind kind);  // "agree", "finding", ...

// Two logs of the same module (DESIGN.md "Oracle"):
// - a heap violation in either is a finding;
// - a refusal is compared only when it is the module's (comparableRejection):
//   one side refusing a module the other runs is a diff:status finding whose
//   kind names the side and what it refused; a refusal for a limit or a
//   missing feature makes the pair NotComparable;
// - the lines are compared up to the first resource line ("[host limit",
//   "[out of fuel]") or the end of an inconclusive log, on either side;
// - between our own configurations every line counts as written; against an
//   external engine our own lines are dropped and a trap line is compared
//   by its class (trap_class.h): a trap on one side only, or of another
//   class, is a diff:trap finding.
Verdict compareLogs(const ExecutionLog& a, const ExecutionLog& b);

// Several logs of the same module: a conclusive one (the first that ran to
// the end, or else the first) against each of the others, after a check
// for heap violations and refusals. Logs refused for a limit or a feature
// are left out (NotComparable when fewer than two remain).
Verdict judge(std::span<const ExecutionLog> logs);

// The two logs' normalised lines as the comparison sees them, diffed in a
// unified style ("--- a", "+++ b", "@@ ... @@", " ", "-", "+" lines) with
// `context` lines around each change. Empty when they are equal.
std::string unifiedDiff(const ExecutionLog& a, const ExecutionLog& b, size_t context = 3);

}  // namespace slabfuzz
