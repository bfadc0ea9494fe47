// Shrinking a module while a predicate holds (`slabfuzz reduce`): delta
// debugging over the decoded Module rather than over bytes, so that every
// candidate is a well-formed module and most are valid.
// Owns: the reduction passes (exports, start, whole bodies, functions,
// balanced instruction ranges, unwrapping block/loop/if, outside transforms
// such as Binaryen passes), the order they run in, and the instruction count
// the result is measured by. Does not own: what "still interesting" means
// (the caller's predicate: `slabfuzz reduce` keeps a finding's bucket) or
// writing results.
// Contract: the predicate only ever sees bytes that decode and validate with
// the runtime's own decoder and validator, and the result is bytes the
// predicate accepted (the input itself if nothing smaller was). Deterministic
// for a deterministic predicate, except where the deadline cuts it short.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/module.h"

namespace slabfuzz::cli {

// Instructions of a module as the reduction goal counts them: every decoded
// instruction of every defined function's body, each body's final `end`
// included. Constant expressions (globals, segments) are not counted.
size_t countInstructions(const Module& m);
// The same from bytes; nullopt when they do not decode.
std::optional<size_t> countInstructions(std::span<const uint8_t> wasm);

// True when the candidate is still interesting (valid by then).
using ReducePredicate = std::function<bool(const std::vector<uint8_t>& wasm)>;
// A rewrite done elsewhere (Binaryen's optimiser, ...): the rewritten bytes,
// or nullopt when it could not run. Its result is checked like any candidate.
struct ReduceTransform {
  std::string name;
  std::function<std::optional<std::vector<uint8_t>>(const std::vector<uint8_t>& wasm)> run;
};

struct ReduceStats {
  uint64_t candidates = 0;  // candidates built
  uint64_t valid = 0;       // of those, decoded and validated (the predicate ran)
  uint64_t kept = 0;        // of those, accepted
  uint64_t rounds = 0;      // passes over the whole module
  bool timed_out = false;   // the deadline stopped it before a fixed point
  // Accepted candidates per pass name, for reports.
  std::vector<std::pair<std::string, uint64_t>> kept_by_pass;
};

struct ReduceOptions {
  // Stop trying candidates after this instant (the last predicate run may
  // end a little later). Defaults to no deadline.
  std::optional<std::chrono::steady_clock::time_point> deadline;
  // Tried at the start of every round, before our own passes. Defaults to none.
  std::vector<ReduceTransform> transforms;
  // Called after every predicate run with the pass, whether it was kept,
  // the candidate's instruction count and the run's seconds (--verbose).
  // Defaults to none.
  std::function<void(const std::string& pass, bool kept, size_t instructions, double seconds)>
      trace;
};

// Shrinks `wasm` (which must decode, validate and satisfy `keeps`) until no
// pass removes anything or the deadline passes.
std::vector<uint8_t> reduceModule(const std::vector<uint8_t>& wasm, const ReducePredicate& keeps,
                                  const ReduceOptions& options, ReduceStats* stats);

}  // namespace slabfuzz::cli
