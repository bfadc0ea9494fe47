// The body the differential fuzz targets share (fuzzers/gcgen_diff.cc,
// fuzzers/wasm_diff.cc): run a module under the input-chosen comparison of
// our configurations and stop the process on a finding.
// Owns: that sequence, the report printed before aborting (signature,
// detail, unified diff of the logs), and the per-process verdict counts
// printed at exit. Does not own: the verdict (compare.h) or the abort
// functions (finding.h).
// Contract: returns only when there is no finding; on one it prints the
// report to stderr and aborts through the finding kind's own function. The
// counts never change what a run does.
#pragma once

#include <cstdint>
#include <vector>

#include "oracle/compare.h"
#include "oracle/run.h"

namespace slabfuzz {

struct FuzzCheckOptions {
  // Every configuration refusing the module is a finding (gcgen's modules
  // are valid by contract) rather than a cheap rejection. Defaults to false.
  bool rejection_is_finding = false;
  OracleLimits limits;
};

// The verdict of defaultComparison(choice) on an input and every log it
// was judged on.
struct FuzzJudgement {
  Verdict verdict;
  std::vector<ExecutionLog> logs;
};

// Runs defaultComparison(choice) (engine.h) on `input` and returns what it
// found, findings included (a rejection is one with
// rejection_is_finding): what triage and the detection loop use to replay
// a fuzz target's input without stopping.
FuzzJudgement fuzzJudge(const ModuleInput& input, uint32_t choice, const FuzzCheckOptions& options);

// Runs defaultComparison(choice) (engine.h) on `input` and returns the
// verdict (agree, inconclusive or rejected); aborts on a finding.
Verdict fuzzCheck(const ModuleInput& input, uint32_t choice, const FuzzCheckOptions& options);

// A small deterministic hash of bytes (FNV-1a, 32 bits), for targets whose
// input cannot spare bytes for the choice.
uint32_t choiceFromBytes(const uint8_t* data, size_t size);

}  // namespace slabfuzz
