// Triage (DESIGN.md "Oracle": crashes are grouped by signature, not by stack
// frames): many findings in, a few groups out, each with the one reproducer
// a human should look at first.
// Owns: the plain-data form of a finding as triage sees it, grouping by
// Signature::bucket(), choosing each group's smallest reproducer, the
// differing lines worth quoting, the slab-id diagnostic in words, and the
// Markdown report. Does not own: finding, replaying or reading inputs and
// bundles (tools/triage_cmd.cc, tools/bundle.h) or writing files.
// Contract: pure functions of their arguments: the same findings in any
// order give the same groups, members and report.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "heap/violation.h"

namespace slabfuzz {

// A slab-id (or heap-verify) violation as a report shows it: the id taken
// apart (heap/heap_id.h) and what the heap found at that place.
struct SlabIdNote {
  std::string engine;     // the run that saw it ("slab-zeal")
  DecodedId id;           // tag, slab, identity, slot, generation
  std::string now_holds;  // what the slab and slot hold now
  std::string expected;   // what the access expected
  std::string operation;  // the heap operation ("structGet", "mark")
  uint64_t gc_cycle = 0;  // completed collections when it was seen
};

// The note of a violation seen by `engine`; the id is decoded again from
// its raw bits, so the parts always agree with heap_id.h's layout.
SlabIdNote slabIdNoteOf(const HeapViolation& violation, std::string engine);
// "heap tag 3, slab 12 (identity 5), slot 7, generation 2 (id 0x...)".
std::string describeId(const DecodedId& id);

// One finding: a bundle written by `slabfuzz diff --findings` or by triage
// itself from a fuzz target's input.
struct TriageFinding {
  std::string bundle;     // the bundle's directory; also how it is named
  std::string signature;  // Signature::toString()
  std::string bucket;     // Signature::bucket(): the grouping key
  std::string kind;       // Signature::kindText()
  std::string found_at;   // UTC ISO-8601, when it was first seen
  uint64_t module_bytes = 0;
  std::optional<uint64_t> instructions;  // in every function body
  std::string fault;                     // the active fault's name, "" for none
  std::string source;                    // the file it came from
  std::string target;                    // "gcgen_diff", "wasm_diff" or ""
  std::string repro;                     // the command that reproduces it
  std::optional<SlabIdNote> slab_id;
  std::vector<std::string> differing;  // the log lines that differ (or the verdict)
  std::string wat_path;                // module.wat, or "" when there is none
  std::string wat_missing;             // why there is no .wat
  std::vector<std::string> wat_head;   // its first lines
  uint64_t wat_lines = 0;              // how many lines it has
  std::string note;                    // e.g. "reproduced on --rerun"
};

// An input that gave no finding, or could not be used.
struct TriageNote {
  std::string input;  // the path
  std::string what;   // one line: why
};

// Everything one triage saw.
struct TriageInputs {
  std::vector<std::string> dirs;  // what was asked for
  std::vector<TriageFinding> findings;
  std::vector<TriageNote> not_reproduced;  // raw inputs (or bundles re-run) with no finding
  std::vector<TriageNote> resource;        // timeout-/oom- inputs and AFL++ hangs
  std::vector<TriageNote> errors;          // unreadable inputs, malformed bundles
};

struct TriageGroup {
  std::string bucket;
  std::vector<size_t> members;  // indices into the findings, by bundle name
  size_t smallest = 0;          // fewest module bytes, ties by bundle name
  std::string first_seen;       // the earliest found_at
};

// The findings grouped by bucket: the largest group first, ties by bucket.
std::vector<TriageGroup> groupFindings(std::span<const TriageFinding> findings);

// The lines of a verdict.txt worth quoting: the '-' and '+' lines of its
// unified diff, or, for a finding with no diff (a heap violation), the
// verdict's own lines after the signature. At most `max` lines; a last line
// says how many were left out.
std::vector<std::string> differingLines(std::string_view verdict_text, size_t max = 24);

// The report a human reads first: a summary table, then one section per
// group (largest first), then the inputs that did not reproduce, the
// resource-limited ones and the errors.
std::string triageMarkdown(const TriageInputs& inputs, std::span<const TriageGroup> groups);

}  // namespace slabfuzz
