// Liveness of frame slots over a compiled function's slot IR (DESIGN.md
// "Compile": the precise stack maps).
// Owns: the one table of what every IR op reads and writes (`irEffects`),
// the IR's control-flow edges, and the backward data-flow that turns them
// into "live across each safepoint" sets. Does not own: which slots hold
// references (the compiler's stack model knows that and masks the sets) or
// how stack maps are stored (compile.h).
// Contract: a slot is live at a point when some path from that point reads
// it before writing it. The sets are exact for every slot asked about,
// loops included (iterated to a fixed point), unless the caller asks for the
// deliberately broken mode that ignores loop back edges.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/compile.h"

namespace slabfuzz {

// Consecutive slots [first, first + count).
struct SlotRange {
  uint32_t first = 0;
  uint32_t count = 0;
  bool has(uint32_t slot) const { return slot - first < count; }
};

// Where control goes after an instruction.
enum class IrFlow : uint8_t {
  Next,    // to pc + 1
  Jump,    // to c only
  Branch,  // to c or to pc + 1
  Table,   // to one of br_tables[b .. b + c]
  Exit,    // out of the function (return, tail call, trap)
};

// What one IR instruction does to the slots of its frame, and where control
// goes next. Every read happens before the write (an instruction may read
// and write the same slot: `a = c ? a : b`, struct.new's first field and
// its result).
struct IrEffects {
  IrFlow flow = IrFlow::Next;
  std::array<SlotRange, 3> reads{};
  // Written on every path that leaves the instruction normally (a trap
  // leaves the function, so it does not count).
  SlotRange writes{};
  // Whether the reads are still in this frame while the instruction's
  // safepoint runs: yes for an allocation (the collection comes first and
  // the operands are then copied into the object), no for a call (the
  // arguments are the callee frame's, its entry map covers them; the
  // funcref of call_ref and the index of call_indirect are used up before
  // the callee is entered).
  bool reads_held_at_safepoint = false;
};

// The part of a call's shape that its encoding does not hold: the number of
// parameters of `call` and of results of every call kind. The compiler
// records one per call instruction.
struct CallShape {
  uint32_t params = 0;
  uint32_t results = 0;
};

// The effects of `in` in a function with `num_results` results (`Return`
// reads them from slots [0, num_results)); `call` is used for call ops only.
IrEffects irEffects(const IrInstr& in, uint32_t num_results, CallShape call = {});

// A call instruction and its shape.
struct CallSite {
  uint32_t pc = 0;
  CallShape shape;
};

struct LivenessInput {
  std::span<const IrInstr> code;
  std::span<const uint32_t> br_tables;
  uint32_t num_results = 0;
  std::span<const CallSite> calls;       // every call op of `code`, pc ascending
  std::span<const uint32_t> tracked;     // the slots to compute, ascending
  std::span<const uint32_t> safepoints;  // pcs to report at, ascending
  // Deliberately broken (CompileOptions::liveness_ignores_back_edges): the
  // live-out of a block leaves out what flows back along a backward jump.
  bool ignore_back_edges = false;
};

// Bitsets over the tracked slots (bit i = tracked[i]), `words` per set.
struct LiveSets {
  uint32_t words = 0;
  // Per safepoint, in the order given: the slots live *across* it, the
  // slots its stack map must hold if they hold references: those live after
  // the instruction that it does not write, plus its own reads when they
  // are held at its safepoint (IrEffects::reads_held_at_safepoint).
  std::vector<uint64_t> across;
  // Live on entry to the function (before pc 0).
  std::vector<uint64_t> entry;
};

LiveSets computeLiveness(const LivenessInput& in);

}  // namespace slabfuzz
