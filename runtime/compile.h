// Compiler: validated function bodies -> slot IR with stack maps.
// Owns: `CompiledModule` (declared in store.h), the IR encoding (ir.def), the
// stack-map table per function and `dumpIR`. Does not own: validation (the
// input must have passed validateModule) or running the IR (exec.h).
// Contract: every wasm local and operand-stack position becomes a numbered
// slot of the function's frame (stack position k is slot num_locals + k; the
// operand stack height is static, spec 3.3 "Validation algorithm"), every
// branch target is an IR index with its value moves emitted before it, and
// every SAFEPOINT (an instruction that may allocate, call or enter the host)
// has a stack map: the reference-typed slots live at that point.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "runtime/module.h"
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

// Stack maps of one function: for every safepoint (sorted by IR index), the
// set of slots holding references there. This issue records every
// reference-typed slot in scope: every reference-typed local (the same at
// every safepoint, so stored once in `locals`) and the reference-typed
// operand slots below the stack height the instruction leaves to its caller
// (a call's arguments belong to the callee's frame; an allocation's operands
// are still in the caller's), as a bitset of `words_per_map` 64-bit words
// over slots num_locals, num_locals + 1, ... per safepoint. Precise liveness
// comes with the collector.
struct StackMaps {
  uint32_t num_locals = 0;
  std::vector<uint64_t> locals;      // bitset over [0, num_locals)
  uint32_t words_per_map = 0;
  std::vector<uint32_t> safepoints;  // IR indices, ascending
  std::vector<uint64_t> operands;    // safepoints.size() * words_per_map

  // The operand bitset of safepoint `pc`; empty when pc is not a safepoint
  // (function entry: the map is the reference locals alone).
  std::span<const uint64_t> operandsAt(uint32_t pc) const;
  // Is `slot` in the map at IR index `pc`?
  bool contains(uint32_t pc, uint32_t slot) const {
    if (slot < num_locals) return test(locals, slot);
    std::span<const uint64_t> ops = operandsAt(pc);
    uint32_t i = slot - num_locals;
    return i / 64 < ops.size() && test(ops, i);
  }
  // Calls f(slot) for every slot in the map at `pc`, ascending.
  template <typename F>
  void forEachSlot(uint32_t pc, F&& f) const {
    forEachBit(locals, 0, f);
    forEachBit(operandsAt(pc), num_locals, f);
  }

  static bool test(std::span<const uint64_t> bits, uint32_t i) {
    return (bits[i / 64] >> (i % 64)) & 1;
  }

 private:
  template <typename F>
  static void forEachBit(std::span<const uint64_t> bits, uint32_t base, F& f) {
    for (size_t w = 0; w < bits.size(); ++w) {
      for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
        f(base + static_cast<uint32_t>(w * 64) + static_cast<uint32_t>(std::countr_zero(word)));
      }
    }
  }
};

// Budget for the stack maps of one module, in 64-bit words (128 MiB). The
// maps grow with stack height times safepoints; a module past the budget
// (only pathological ones) is not run: instantiation fails with the
// resource trap HeapExhausted.
inline constexpr uint64_t kMaxStackMapWords = uint64_t{1} << 24;

struct CompiledFunction {
  CanonTypeId type = kNoCanonType;
  uint32_t num_params = 0;
  uint32_t num_results = 0;
  uint32_t num_locals = 0;   // parameters included
  uint32_t frame_size = 0;   // num_locals + maximum operand stack height
  std::vector<IrInstr> code;
  std::vector<uint32_t> br_tables;  // BrTable targets (IR indices)
  StackMaps maps;
};

struct CompiledModule {
  // Indexed by defined function (function index - num_imported_funcs).
  std::vector<CompiledFunction> funcs;
  uint32_t num_imported_funcs = 0;
  // Set when the module exceeds a compilation budget (kMaxStackMapWords);
  // such a module must not run.
  std::string error;
};

// Compiles every defined function of a validated module. `types` is the
// module's view of the store its canonical ids live in.
std::shared_ptr<const CompiledModule> compileModule(const Module& module,
                                                    const ModuleTypes& types);

// Readable text of one function's IR (for `slabfuzz run --dump-ir`):
// one instruction per line with its operands, safepoints marked with their
// stack maps. `func_index` is in the module's function index space.
std::string dumpIR(const CompiledModule& code, uint32_t func_index, const Module& module);

// Whether an IR instruction is a safepoint (may allocate, call, or enter
// the host).
bool isSafepoint(IrOp op);

}  // namespace slabfuzz
