// AFL++ under `slabfuzz campaign --engine afl`: one main instance (-M) and
// secondaries (-S) per target, all in one sync directory,
// DIR/afl/<target>/.
// Owns: the afl-fuzz command line and environment, reading the instances'
// fuzzer_stats, and carrying AFL's files into the campaign's own layout:
// crashes/ and hangs/ into DIR/crashes/<target>/ (as crash-afl-<hash>,
// timeout-afl-<hash>, where triage and the live namer find libFuzzer's), and
// the queue into DIR/corpus/<target>/ at the end, so that either engine
// resumes from what the other found. Does not own: the campaign's loop
// (campaign_cmd.cc) or spawning (process.h).
// Contract: files are copied by content hash and never replace one; a
// missing or half-written stats file reads as "no stats yet".
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/campaign/fuzzer_output.h"

namespace slabfuzz::cli::campaign {

struct AflCommand {
  std::string binary;        // the AFL++-instrumented fuzz target
  std::filesystem::path in;  // -i: the seed corpus (must hold one input at least)
  std::filesystem::path sync;  // -o: DIR/afl/<target>
  std::string instance;      // "main" (-M) or "sN" (-S)
  uint64_t seconds = 0;      // -V
  unsigned timeout_s = 20;   // -t, in seconds
  std::string dict;          // -x, or ""
  uint64_t seed = 0;         // -s, or 0 for AFL's own
};
std::vector<std::string> aflArgv(const AflCommand& c);

// The environment every instance runs with: no UI, no CPU checks, resume
// from an existing sync directory, no core binding (the campaign, its lanes
// or taskset decide), and a long fork-server start (ASan, warm-ups).
std::vector<std::pair<std::string, std::string>> aflEnvironment();

// The instances' stats summed (executions, rates, crashes, hangs) or
// maximised (corpus, edges) over DIR/afl/<target>/*/fuzzer_stats.
AflStats readAflSync(const std::filesystem::path& sync);

// Copies each instance's `sub` ("crashes" or "hangs") files not yet in
// `dest` there as <prefix>-afl-<16 hex of FNV-1a>; returns how many it copied.
size_t collectAflFiles(const std::filesystem::path& sync, const char* sub,
                       const std::filesystem::path& dest, const char* prefix);

// Copies queue entries of every instance whose content is not in `corpus`
// yet into it as afl-<16 hex>; returns how many.
size_t syncAflQueue(const std::filesystem::path& sync, const std::filesystem::path& corpus);

}  // namespace slabfuzz::cli::campaign
