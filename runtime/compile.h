// Compiler: validated function bodies -> slot IR with stack maps.
// Owns: `CompiledModule` (declared in store.h), the IR encoding (ir.def), the
// stack-map table per function and `dumpIR`. Does not own: validation (the
// input must have passed validateModule) or running the IR (exec.h).
// Contract: every wasm local and operand-stack position becomes a numbered
// slot of the function's frame (stack position k is slot num_locals + k; the
// operand stack height is static, spec 3.3 "Validation algorithm"), every
// branch target is an IR index with its value moves emitted before it, and
// every SAFEPOINT (an instruction that may allocate, call or enter the host)
// has two stack maps: every reference-typed slot, and those of them live at
// that point (backward liveness over the IR, runtime/liveness.h).
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/module.h"
#include "runtime/stack_map_mode.h"
#include "runtime/store.h"
#include "runtime/types.h"

namespace slabfuzz {

enum class IrOp : uint16_t {
#define IR_OP(Name, Fmt) Name,
#define IR_UNARY(Name, In, Out, expr) Name,
#define IR_BINARY(Name, In, Out, expr) Name, Name##Imm,
#define IR_BINARY_NOIMM(Name, In, Out, expr) Name,
#define IR_BRCMP(Name, In, expr) BrIf##Name, BrIf##Name##Imm,
#include "runtime/ir.def"
  Count_
};
inline constexpr size_t kIrOpCount = static_cast<size_t>(IrOp::Count_);

std::string_view irOpName(IrOp op);

// One IR instruction: 16 bytes (see ir.def for the meaning of x, a, b, c).
struct IrInstr {
  IrOp op = IrOp::Nop;
  uint16_t x = 0;
  uint32_t a = 0, b = 0, c = 0;
};
static_assert(sizeof(IrInstr) == 16);

// Stack maps of one function, both kinds (stack_map_mode.h), computed once
// by the compiler. At every safepoint (sorted by IR index) and at function
// entry (the map of a frame just entered, used for any pc that is not a
// safepoint):
//   Conservative: every slot that holds a reference there: the
//     reference-typed locals and the reference-typed operand slots below the
//     stack height the instruction leaves to its caller (a call's arguments
//     belong to the callee's frame and its funcref or table index is used
//     up; an allocation's operands are still in the caller's). At entry:
//     the reference-typed locals.
//   Precise: the slots of the conservative map that are live there
//     (runtime/liveness.h: read on some path before being written), the
//     instruction's own held operands included. At entry: the reference
//     parameters that are live (other locals hold null on entry).
//   Invariant: precise is a subset of conservative at every map (checked
//   when compiling in checking builds).
// Representation: `ref_slots` lists, ascending, every slot that is in some
// conservative map of the function; each map is a bitset of `words` 64-bit
// words over that list (bit i = ref_slots[i]), so maps cost one bit per
// reference-holding slot and iterate in ascending slot order. `bits` holds,
// for map m (0 = entry, 1 + i = safepoints[i]), the precise bitset at
// (2m + 0) * words and the conservative one at (2m + 1) * words.
// `map_of_pc` gives m for every IR index, so that a collection finds each
// frame's map in one load (a zeal run collects thousands of times per
// module, scanning dozens of frames each time).
struct StackMaps {
  std::vector<uint32_t> ref_slots;  // ascending
  uint32_t words = 0;
  std::vector<uint32_t> safepoints;  // IR indices, ascending
  std::vector<uint64_t> bits;        // (1 + safepoints.size()) * 2 * words
  std::vector<uint32_t> map_of_pc;   // per IR index: m (0 where not a safepoint)

  // The bitset of the map at IR index `pc` (the entry map if pc is not a
  // safepoint).
  std::span<const uint64_t> mapAt(uint32_t pc, StackMapMode mode) const {
    if (bits.empty()) return {};  // a function whose maps were never built
    size_t m = pc < map_of_pc.size() ? map_of_pc[pc] : 0;
    size_t kind = mode == StackMapMode::Precise ? 0 : 1;
    return {bits.data() + (2 * m + kind) * words, words};
  }
  // Is `slot` in the map at `pc`?
  bool contains(uint32_t pc, StackMapMode mode, uint32_t slot) const;
  // Calls f(slot) for every slot in the map at IR index `pc` (the entry map
  // if pc is not a safepoint), ascending.
  template <typename F>
  void forEachSlot(uint32_t pc, StackMapMode mode, F&& f) const {
    std::span<const uint64_t> map = mapAt(pc, mode);
    for (size_t w = 0; w < map.size(); ++w) {
      for (uint64_t word = map[w]; word != 0; word &= word - 1) {
        f(ref_slots[w * 64 + static_cast<size_t>(std::countr_zero(word))]);
      }
    }
  }
};

// Budget for the stack maps of one module, in 64-bit words (128 MiB). The
// maps grow with reference slots times safepoints; a module past the budget
// (only pathological ones) is not run: instantiation fails with the
// resource trap HeapExhausted.
inline constexpr uint64_t kMaxStackMapWords = uint64_t{1} << 24;

// How compileModule builds its products.
struct CompileOptions {
  // Deliberately broken mode, for detection tests only: the liveness pass
  // ignores backward edges, so the live-out of a block leaves out what flows
  // back along a loop back edge. References live only across a back edge
  // then drop out of the precise maps: the bug class of wasmtime issues
  // 9071 and 10397, which the heap must notice. Defaults to false.
  bool liveness_ignores_back_edges = false;
  // Budget for the module's stack maps (and the compiler's working copies
  // of them), in 64-bit words. Defaults to kMaxStackMapWords.
  uint64_t max_stack_map_words = kMaxStackMapWords;

  bool operator==(const CompileOptions&) const = default;
};

struct CompiledFunction {
  CanonTypeId type = kNoCanonType;
  uint32_t num_params = 0;
  uint32_t num_results = 0;
  uint32_t num_locals = 0;   // parameters included
  uint32_t frame_size = 0;   // num_locals + maximum operand stack height
  std::vector<IrInstr> code;
  std::vector<uint32_t> br_tables;  // BrTable targets (IR indices)
  StackMaps maps;
  // Fault zoo builds only (subtype-layout-moves-field): per IR index, the
  // static struct type of a StructGet/StructSet (kNoCanonType elsewhere).
  std::vector<CanonTypeId> struct_access_types;
};

struct CompiledModule {
  // Indexed by defined function (function index - num_imported_funcs).
  std::vector<CompiledFunction> funcs;
  uint32_t num_imported_funcs = 0;
  // Set when the module exceeds a compilation budget
  // (CompileOptions::max_stack_map_words); such a module must not run.
  std::string error;
};

// Compiles every defined function of a validated module. `types` is the
// module's view of the store its canonical ids live in.
std::shared_ptr<const CompiledModule> compileModule(const Module& module, const ModuleTypes& types,
                                                    const CompileOptions& options = {});

// Readable text of one function's IR (for `slabfuzz run --dump-ir`):
// one instruction per line with its operands, safepoints marked with both
// stack maps (`safepoint live {L2 s5} all {L2 L3 s5}`: precise, then
// conservative), the entry maps on the header's next line. `func_index` is in the module's function
// index space.
std::string dumpIR(const CompiledModule& code, uint32_t func_index, const Module& module);

// Whether an IR instruction is a safepoint (may allocate, call, or enter
// the host).
bool isSafepoint(IrOp op);

}  // namespace slabfuzz
