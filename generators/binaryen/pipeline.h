// Random optimisation pipelines for the Binaryen lane's metamorphic check: a
// module and its optimised variant must behave the same (DESIGN.md "Oracle").
// Owns: the table of GC-relevant passes a pipeline is drawn from, and the
// drawing. Does not own: running the passes (lane.h) or comparing runs
// (metamorphic.h).
// Contract: drawPipeline is a pure function of its bytes (same bytes, same
// pipeline; bytes that run out give the simplest choices: one pass, the first
// row); every pass is one wasm-opt 132 lists, and none changes semantics: no
// --ignore-implicit-traps, --traps-never-happen or --fast-math, and no -O4
// (its flatten refuses GC code: "Unsupported instruction for Flatten: BrOn").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace slabfuzz::binaryen {

// One row of the pass table.
struct PassRow {
  std::string_view flag;  // as wasm-opt takes it: "--gufa", "-O2"
  // The pass refuses to run without --closed-world ("GTO requires
  // --closed-world"): a pipeline holding it is run in a closed world.
  bool needs_closed_world = false;
};

// The rows, in a fixed order (the drawing indexes it).
std::span<const PassRow> pipelinePasses();

struct Pipeline {
  // Binaryen's closed-world assumption (no types escape but through exports
  // and imports), which the type-rewriting passes need.
  bool closed_world = false;
  std::vector<std::string> passes;

  // The wasm-opt arguments: "--closed-world" first when set, then the passes.
  std::vector<std::string> args() const;
  // The arguments joined by spaces, as a reproducer's command line reads.
  std::string toString() const;
};

// Defaults to pipelines of at most this many passes.
inline constexpr size_t kDefaultMaxPasses = 4;

// Draws 1..max_passes rows (repeats allowed: a pass run twice is a pipeline
// too); closed_world is set when a drawn pass needs it and otherwise drawn
// from the bytes, so the open-world passes are run both ways.
Pipeline drawPipeline(std::span<const uint8_t> bytes, size_t max_passes = kDefaultMaxPasses);

}  // namespace slabfuzz::binaryen
