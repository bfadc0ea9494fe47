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
#include <span>
#include <string>
#include <string>
#include <vector>

#include "oracle/compare.h"
#include "oracle/run.h"

namespace slabfuzz {

struct FuzzCheckOptions {
  // Every configuration refusing the module is a finding (gcgen's modules
  // are valid by contract) rather than a cheap rejection. Defaults to false.
  bool rejection_is_finding = false;
  OracleLimits limits;
  // The target's input bytes, for the record mode (setRecordDir). Defaults
  // to none.
  std::span<const uint8_t> raw_input;
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
// verdict (agree, inconclusive or rejected); aborts on a finding, except
// one outside the kept bucket (setKeepBucket), which it returns.
Verdict fuzzCheck(const ModuleInput& input, uint32_t choice, const FuzzCheckOptions& options);

// When a sanitizer ends the process, print the active fault's canaries
// first ("slabfuzz fault NAME: reached R, triggered T"), so that the replay
// of an input that crashes says whether the fault changed what it did. A
// no-op without sanitizers; fuzzCheck installs it on first use.
void reportFaultCanariesOnDeath();

// Reduction (`slabfuzz reduce` runs libFuzzer's -minimize_crash with
// SLABFUZZ_KEEP_BUCKET, read by fuzzers/targets.h): when `bucket` is not
// empty, fuzzCheck aborts only on a finding whose Signature::bucket() is
// `bucket`, so that a smaller input counts as a crash only if it is the same
// bug; other findings are counted ("other bucket") and returned. Empty (the
// default) restores aborting on every finding. Set once, before fuzzing.
void setKeepBucket(std::string bucket);

// Campaigns with an injected fault (SLABFUZZ_RECORD_DIR, read by
// fuzzers/targets.h): when `dir` is not empty, a finding is recorded instead
// of aborting: the input (FuzzCheckOptions::raw_input) is written to
// DIR/crash-<16 hex of its hash>, as libFuzzer names a crash, unless that
// file exists (never overwritten; written whole or not at all), one line
// naming it goes to stderr, and fuzzCheck returns. Under a fault a third of
// all inputs may find it; aborting would restart the fuzzer each time. Only
// the first 16 inputs of each bucket are written per process (the rest are
// counted, and the count printed at exit).
// Set once, before fuzzing.
void setRecordDir(std::string dir);

// A small deterministic hash of bytes (FNV-1a, 32 bits), for targets whose
// input cannot spare bytes for the choice.
uint32_t choiceFromBytes(const uint8_t* data, size_t size);

}  // namespace slabfuzz
