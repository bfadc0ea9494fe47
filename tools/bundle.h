// Reproducer bundles (DESIGN.md "What users get"): the one definition of
// what a finding's directory holds, for every writer (`slabfuzz diff
// --findings`, `slabfuzz triage`) and reader (triage).
// Owns: the bundle's name, FINDINGS/<kind>-<8 hex of FNV-1a of the module>,
// and its files: module.wasm, module.wat (Binaryen's wasm-dis, when the
// pinned node and Binaryen are there), input.bin (a fuzz target's input),
// ENGINE.log per run, verdict.txt, signature.txt, repro.sh and finding.json;
// reading one back. Does not own: running or judging (oracle/), the
// temporary-then-rename dance (atomic_write.h), grouping (oracle/triage.h).
// Contract: writeBundle writes the whole directory or nothing and never
// replaces one; readBundle never throws: a missing, truncated or malformed
// finding.json is an error message naming the file and what is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "fuzzers/targets.h"
#include "oracle/compare.h"
#include "oracle/execution_log.h"
#include "oracle/run.h"
#include "oracle/triage.h"
#include "tools/atomic_write.h"

namespace slabfuzz::cli {

// What a bundle is made from: one run of one module that gave a finding.
struct BundleSpec {
  std::vector<uint8_t> module;                // module.wasm
  std::optional<std::vector<uint8_t>> input;  // input.bin: the fuzz target's raw input
  Verdict verdict;                            // a Finding
  std::vector<ExecutionLog> logs;             // every engine's log, in engine order
  std::string source;                         // the file it came from
  std::optional<DiffTarget> target;           // the fuzz target whose input it was
  std::optional<uint32_t> choice;             // that target's comparison choice
  std::string fault;                          // the active fault, "" for none
  OracleLimits limits;
  bool broken_stack_maps = false;      // `diff --broken-stack-maps`
  std::string found_at;                // UTC ISO-8601; empty means now
  std::vector<NamedFile> extra_files;  // e.g. ENGINE.input.wasm
};

// The verdict and the unified diff of the two logs it compared: what `diff`
// prints for a finding and verdict.txt holds.
std::string verdictText(const Verdict& verdict, const std::vector<ExecutionLog>& logs);

// "slab-id-stale-generation-1a2b3c4d": the bundle's directory name.
std::string bundleName(const Verdict& verdict, const std::vector<uint8_t>& module);

// Writes FINDINGS/<name>/ (FINDINGS is created if needed; a taken name gets
// .1, .2, ...). *dir receives the directory. Returns the error, if any.
std::optional<std::string> writeBundle(const std::string& findings, const BundleSpec& spec,
                                       std::string* dir);

// What finding.json and the bundle's files say, read back.
struct BundleRecord {
  std::string dir;
  TriageFinding finding;  // everything triage reports
  std::optional<DiffTarget> target;
  std::optional<uint32_t> choice;
  std::vector<std::string> engines;
  OracleLimits limits;
  bool broken_stack_maps = false;
  bool has_input = false;  // input.bin is there
};

// Reads the bundle in `dir`: finding.json, verdict.txt's differing lines and
// the head of module.wat.
std::variant<BundleRecord, std::string> readBundle(const std::string& dir);

// UTC ISO-8601 ("2025-01-31T12:00:00Z") of a Unix time.
std::string isoTime(int64_t unix_seconds);
std::string isoNow();

// Binaryen's wasm-dis of `module` (the pinned node and npm binaryen), or why
// there is none.
struct WatText {
  std::optional<std::string> text;
  std::string why_not;
};
WatText disassemble(const std::vector<uint8_t>& module);

}  // namespace slabfuzz::cli
