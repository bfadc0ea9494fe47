// Trap lines as the comparison with another engine sees them (DESIGN.md
// "Oracle", "Traps"): which lines end a comparison because a resource ran
// out, and which class of semantic trap a "[trap ...]" line reports.
// Owns: the trap classes, the engines' spellings of them
// (trap_spellings.def), and the rule for when two classes match. Does not
// own: the trap kinds of our runtime (runtime/traps.def) or the comparison
// itself (compare.h).
// Contract: pure functions of the line (and, for matching, the engines'
// names). A resource line is never a semantic trap, and the reverse.
#pragma once

#include <cstdint>
#include <string_view>

namespace slabfuzz {

enum class TrapClass : uint8_t {
  Unreachable,   // `unreachable`
  Null,          // a null reference dereferenced
  Cast,          // ref.cast, br_on_cast's cast
  Bounds,        // memory, table, array or segment index out of bounds
  IndirectCall,  // call_indirect: null entry or signature mismatch
  Arithmetic,    // division by zero, integer overflow, bad conversion
  Host,          // the fuzzing-support host could not make the call
  Unknown,       // a message no spelling matches: matches any class
};

std::string_view trapClassName(TrapClass c);

// A line that says a resource ran out: "[host limit ...]" (call stack,
// heap, array size; every engine) or "[out of fuel]" (ours). What follows
// it depends on the engine's limits, so a comparison stops there.
bool isResourceLine(std::string_view line);

// The class of a "[trap ...]" line; Unknown for a message no spelling
// matches. Not for resource lines or exceptions.
TrapClass trapClassOf(std::string_view trap_line);

// Whether traps of classes `a` (engine `engine_a`) and `b` match. Equal
// classes match, Unknown matches anything, and V8 reports a dereference of
// a value it knows statically to be null (struct.get of ref.null) as
// "unreachable", so V8's Unreachable matches the other side's Null.
bool trapClassesMatch(TrapClass a, std::string_view engine_a, TrapClass b,
                      std::string_view engine_b);

}  // namespace slabfuzz
