// gcgen: the targeted WasmGC generator (issue 5). Bytes in, a valid `Module`
// out. Owns: the public entry point, its limits (GenParams) and what it
// reports about a module (GenStats). Does not own: the binary encoding
// (generators/encode) or judging validity (runtime/validate.h).
// Contract: for every input, generateModule returns a module that
// validateModule accepts, the same bytes always give the same module, and
// every function terminates by construction (loop counters and a budget
// global), so the interpreter's fuel is a backstop only.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "runtime/module.h"

namespace slabfuzz::gcgen {

// Every limit of the generator in one place (CONVENTIONS.md rule 7).
struct GenParams {
  // Random rec groups (before the fixed import/export signatures and the
  // fallback types). Defaults to 6.
  uint32_t max_rec_groups = 6;
  // Types in one rec group. Defaults to 4.
  uint32_t max_rec_group_size = 4;
  // Fields of one struct type (including inherited ones). Defaults to 6.
  uint32_t max_struct_fields = 6;
  // Parameters and results of a generated function type. Defaults to 3 / 2.
  uint32_t max_params = 3;
  uint32_t max_results = 2;
  // Defined functions besides the one-per-function-type minimum. Defaults to 4.
  uint32_t max_extra_functions = 4;
  // Exported entry functions (each called by --fuzz-exec). Defaults to 3.
  uint32_t max_exports = 3;
  // Mutable globals besides the budget global. Defaults to 4.
  uint32_t max_globals = 4;
  // Statements (rows) per block body. Defaults to 12.
  uint32_t max_block_statements = 12;
  // Instructions in one function body: past it rows stop and blocks close.
  // Defaults to 600.
  uint32_t max_body_instrs = 600;
  // Nesting of blocks, loops and ifs. Defaults to 4.
  uint32_t max_nesting = 4;
  // Depth of the "make a value of type T" recursion. Defaults to 3.
  uint32_t max_value_depth = 3;
  // Declared locals per function (counters and temporaries included).
  // Defaults to 40.
  uint32_t max_locals = 40;
  // Iterations of one loop (its counter's bound is drawn in [1, this]).
  // Defaults to 8.
  uint32_t max_loop_iterations = 8;
  // Loop iterations plus function entries per export call, shared by every
  // loop and call (Binaryen's hang limit): when it runs out loops exit and
  // calls return at once. Defaults to 50: over seeds 0..999, stack maps that
  // miss back-edge liveness are caught as often as at 100 (376 against 380
  // runs collecting at every safepoint) in 60% of the time
  // (`bench/detect-rate`).
  uint32_t budget = 50;
  // Length of arrays the templates allocate (>= max_loop_iterations so the
  // inner loop's indices are in bounds). Defaults to 16.
  uint32_t template_array_length = 16;
  // Swarm testing: each row is disabled with probability 1/this (0: never),
  // drawn from the input once per module. Defaults to 5.
  uint32_t swarm_disable_one_in = 5;
  // One module in this many gets a twin type: a random struct or array
  // type copied into a rec group of another shape (WAMR 3292's class: a
  // cast that ignores rec groups); 0: never. Defaults to 2.
  uint32_t twin_one_in = 2;
  // One module in this many allocates arrays whose byte size overflows 32
  // bits (WAMR 4942's class): one at the end of its last entry function,
  // and the array.huge row may fire in its entry functions. Correct engines
  // trap with a resource limit ("array too large"), which leaves the whole
  // run inconclusive, hence rare (the unit tests allow 2% of runs
  // inconclusive); 0: never. Defaults to 64.
  uint32_t huge_array_one_in = 64;
};

// What one module contains, for tests and `slabfuzz gen --stats`.
struct GenStats {
  std::map<std::string, uint32_t> rows;       // row name -> times emitted
  std::map<std::string, uint32_t> templates;  // template name -> times emitted
  uint32_t instructions = 0;                  // in all function bodies
  uint32_t functions = 0;                     // defined
  uint32_t types = 0;
  // The seed-bug shape (DESIGN.md, wasmtime 10397): a cast in an inner loop,
  // and a call or allocation in the outer loop while a loop-carried
  // reference local is live across it.
  bool seed_shape = false;
  // Favoured shape -> occurrences in this module (names: favouredShapes()).
  std::map<std::string, uint32_t> shapes;
};

// A favoured shape's name (a GenStats::shapes key) and what it is.
struct ShapeInfo {
  std::string_view name;
  std::string_view what;
};
// Every favoured shape, in report order (generators/gcgen/shape.cc).
std::span<const ShapeInfo> favouredShapes();

// Bytes in, a valid module out (see the contract above). With stats, also
// what the module contains (the shape detectors run only then).
Module generateModule(std::span<const uint8_t> input, const GenParams& params = {},
                      GenStats* stats = nullptr);

}  // namespace slabfuzz::gcgen
