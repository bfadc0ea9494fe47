// What `slabfuzz campaign` reads out of a fuzz target's output: libFuzzer's
// progress lines, the oracle's verdict counts, and the finding a replayed
// crash input names.
// Owns: parsing those lines into plain values. Does not own: running the
// fuzzers (campaign_cmd.cc) or the lines' formats (libFuzzer's FuzzerLoop
// and FuzzerFork; oracle/fuzz_check.cc and oracle/finding.cc).
// Contract: pure functions over text; a line that does not match gives
// nothing, never a guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slabfuzz::cli::campaign {

// One libFuzzer progress line. Plain mode prints
//   "#4096\tpulse  cov: 812 ft: 2710 corp: 97/11Kb exec/s: 1365 rss: 301Mb"
// and -fork mode's parent prints
//   "#52310: cov: 1290 ft: 5120 corp: 410 exec/s 871 oom/timeout/crash: 0/1/7 time: 61s job: 12 dft_time: 0"
struct FuzzerProgress {
  uint64_t execs = 0;      // #N: executions so far (all jobs, in fork mode)
  uint64_t cov = 0;        // edges ("cov:")
  uint64_t ft = 0;         // features ("ft:")
  uint64_t corpus = 0;     // inputs in the corpus ("corp:")
  uint64_t exec_per_s = 0; // libFuzzer's own rate (fork mode: the last job's average)
  // Fork mode only: jobs that ended in an OOM, a timeout, a crash.
  std::optional<uint64_t> ooms, timeouts, crashes;
};
std::optional<FuzzerProgress> parseProgressLine(std::string_view line);

// "slabfuzz oracle: N run(s): A agree, I inconclusive, R rejected"
struct OracleCounts {
  uint64_t runs = 0, agree = 0, inconclusive = 0, rejected = 0;
};
std::optional<OracleCounts> parseOracleCounts(std::string_view line);

// The finding a target's output reports: the report's first line
// "finding: KIND at SITE [PHASE]" (oracle/compare.cc), else the abort line
// "slabfuzz: finding KIND, aborting", else a sanitizer's "ERROR:
// AddressSanitizer: KIND" or "runtime error:" (UBSan). Empty when the
// output shows none of them.
struct NamedFinding {
  std::string signature;  // as printed: "slab-id:different-slab at func 3, IR 17 struct.get [mutator]"
  std::string bucket;     // what triage groups by: "slab-id:different-slab at struct.get [mutator]"
};
std::optional<NamedFinding> findingInOutput(std::string_view output);

// Whether the active fault's canary triggered, from the last line
// "slabfuzz fault NAME: reached R, triggered T" of a target's output
// (oracle/fuzz_check.cc prints it at exit, with a finding's report, and when
// a sanitizer ends the process). Empty when no such line is there.
std::optional<bool> faultTriggeredInOutput(std::string_view output);

// Signature::bucket() recomputed from Signature::toString()'s text: the
// function and IR index dropped from the site, the instruction kept.
std::string bucketOfSignature(std::string_view signature);

// One AFL++ instance's fuzzer_stats file ("key : value" per line). Fields
// that are missing read as zero; `valid` is false when the text has no
// execs_done line (not a stats file, or one being written).
struct AflStats {
  bool valid = false;
  uint64_t execs = 0;        // execs_done
  double execs_per_sec = 0;  // execs_per_sec (AFL's average over the run)
  uint64_t corpus = 0;       // corpus_count
  uint64_t edges = 0;        // edges_found
  uint64_t crashes = 0;      // saved_crashes (unique_crashes before AFL++ 4)
  uint64_t hangs = 0;        // saved_hangs (unique_hangs)
  double stability = 0;      // stability, in percent
  std::string target_mode;
};
AflStats parseAflStats(std::string_view text);

// "90s", "10m", "1h", "2h30m" or plain seconds ("45"); nothing when the
// text is not a positive duration.
std::optional<uint64_t> parseDuration(std::string_view text);

}  // namespace slabfuzz::cli::campaign
