// Compiler: validated wasm bodies -> slot IR; see compile.h for the contract.
//
// One pass over each body with a model of the operand stack (spec 3.3,
// appendix "Validation algorithm": the height at every instruction is
// static). An operand-stack entry is kept *lazy* where that saves a copy:
// a `local.get` stays a reference to the local's slot and a constant stays
// an immediate until something needs it in its canonical slot
// (num_locals + position). Everything is materialised before a branch, a
// block boundary and a safepoint, so that values cross control flow and
// calls in fixed slots and stack maps describe real slot contents.
// Peepholes: an i32/i64 operator with a constant right operand takes it as
// an immediate (`I32AddImm`); a `local.set` after an operator redirects the
// operator's destination to the local; an i32 compare feeding br_if / if
// becomes one compare-and-branch (`BrIfI32LtSImm`).
#include "runtime/compile.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "heap/faults.h"
#include "runtime/liveness.h"

namespace slabfuzz {

namespace {

constexpr std::string_view kIrNames[] = {
#define IR_OP(Name, Fmt) #Name,
#define IR_UNARY(Name, In, Out, expr) #Name,
#define IR_BINARY(Name, In, Out, expr) #Name, #Name "Imm",
#define IR_BINARY_NOIMM(Name, In, Out, expr) #Name,
#define IR_BRCMP(Name, In, expr) "BrIf" #Name, "BrIf" #Name "Imm",
#include "runtime/ir.def"
};
static_assert(std::size(kIrNames) == kIrOpCount);



// IR ops that write their result to slot `a` and read nothing through `a`:
// a following local.set may redirect `a` to the local (no copy).
constexpr std::array<bool, kIrOpCount> buildRetargetable() {
  std::array<bool, kIrOpCount> t{};
#define IR_UNARY(Name, In, Out, expr) t[static_cast<size_t>(IrOp::Name)] = true;
#define IR_BINARY(Name, In, Out, expr)          \
  t[static_cast<size_t>(IrOp::Name)] = true;    \
  t[static_cast<size_t>(IrOp::Name##Imm)] = true;
#define IR_BINARY_NOIMM(Name, In, Out, expr) t[static_cast<size_t>(IrOp::Name)] = true;
#include "runtime/ir.def"
  for (IrOp op : {IrOp::Copy, IrOp::Const32, IrOp::Const64, IrOp::GlobalGet, IrOp::I32DivS,
                  IrOp::I32DivU, IrOp::I32RemS, IrOp::I32RemU, IrOp::I64DivS, IrOp::I64DivU,
                  IrOp::I64RemS, IrOp::I64RemU, IrOp::I32TruncF32S, IrOp::I32TruncF32U,
                  IrOp::I32TruncF64S, IrOp::I32TruncF64U, IrOp::I64TruncF32S,
                  IrOp::I64TruncF32U, IrOp::I64TruncF64S, IrOp::I64TruncF64U, IrOp::I32Load,
                  IrOp::I64Load, IrOp::F32Load, IrOp::F64Load, IrOp::I32Load8S, IrOp::I32Load8U,
                  IrOp::I32Load16S, IrOp::I32Load16U, IrOp::I64Load8S, IrOp::I64Load8U,
                  IrOp::I64Load16S, IrOp::I64Load16U, IrOp::I64Load32S, IrOp::I64Load32U,
                  IrOp::MemorySize, IrOp::MemoryGrow, IrOp::TableGet, IrOp::TableSize,
                  IrOp::RefIsNull, IrOp::RefFunc, IrOp::RefEq, IrOp::RefAsNonNull, IrOp::RefTest,
                  IrOp::RefCast, IrOp::RefI31, IrOp::I31GetS, IrOp::I31GetU, IrOp::StructGet,
                  IrOp::ArrayGet, IrOp::ArrayLen}) {
    t[static_cast<size_t>(op)] = true;
  }
  return t;
}
constexpr auto kRetargetable = buildRetargetable();

// wasm opcode -> IR op for instructions that map one to one (numerics:
// IR_UNARY/IR_BINARY rows and the trapping numerics share the wasm name).
constexpr uint16_t kNoIr = 0xFFFF;
struct SimpleOp {
  uint16_t ir = kNoIr;
  uint8_t arity = 0;   // 1 or 2
  bool has_imm = false;
  bool is64 = false;   // imm form: the constant must fit an int32
};
constexpr std::array<SimpleOp, kOpcodeCount> buildSimple() {
  std::array<SimpleOp, kOpcodeCount> t{};
#define IR_UNARY(Name, In, Out, expr) \
  t[static_cast<size_t>(Opcode::Name)] = {static_cast<uint16_t>(IrOp::Name), 1, false, false};
#define IR_BINARY(Name, In, Out, expr)                                                       \
  t[static_cast<size_t>(Opcode::Name)] = {static_cast<uint16_t>(IrOp::Name), 2, true, \
                                          sizeof(In) == 8};
#define IR_BINARY_NOIMM(Name, In, Out, expr) \
  t[static_cast<size_t>(Opcode::Name)] = {static_cast<uint16_t>(IrOp::Name), 2, false, false};
#include "runtime/ir.def"
#define TRAPPING(Name, Arity) \
  t[static_cast<size_t>(Opcode::Name)] = {static_cast<uint16_t>(IrOp::Name), Arity, false, false};
  TRAPPING(I32DivS, 2) TRAPPING(I32DivU, 2) TRAPPING(I32RemS, 2) TRAPPING(I32RemU, 2)
  TRAPPING(I64DivS, 2) TRAPPING(I64DivU, 2) TRAPPING(I64RemS, 2) TRAPPING(I64RemU, 2)
  TRAPPING(I32TruncF32S, 1) TRAPPING(I32TruncF32U, 1) TRAPPING(I32TruncF64S, 1)
  TRAPPING(I32TruncF64U, 1) TRAPPING(I64TruncF32S, 1) TRAPPING(I64TruncF32U, 1)
  TRAPPING(I64TruncF64S, 1) TRAPPING(I64TruncF64U, 1)
#undef TRAPPING
  return t;
}
constexpr auto kSimple = buildSimple();

// Memory access opcodes (wasm name == IR name), loads and stores.
constexpr std::array<uint16_t, kOpcodeCount> buildMemOps() {
  std::array<uint16_t, kOpcodeCount> t{};
  for (auto& v : t) v = kNoIr;
#define M(Name) t[static_cast<size_t>(Opcode::Name)] = static_cast<uint16_t>(IrOp::Name);
  M(I32Load) M(I64Load) M(F32Load) M(F64Load) M(I32Load8S) M(I32Load8U) M(I32Load16S)
  M(I32Load16U) M(I64Load8S) M(I64Load8U) M(I64Load16S) M(I64Load16U) M(I64Load32S)
  M(I64Load32U) M(I32Store) M(I64Store) M(F32Store) M(F64Store) M(I32Store8) M(I32Store16)
  M(I64Store8) M(I64Store16) M(I64Store32)
#undef M
  return t;
}
constexpr auto kMemOps = buildMemOps();

// i32 compare -> fused compare-and-branch, and the branch on its negation.
struct FusedBranch {
  IrOp op, inverse;
};
std::optional<FusedBranch> fusedBranchOf(IrOp cmp) {
  switch (cmp) {
#define F(Cmp, Neg)                                                     \
  case IrOp::Cmp: return FusedBranch{IrOp::BrIf##Cmp, IrOp::BrIf##Neg}; \
  case IrOp::Cmp##Imm: return FusedBranch{IrOp::BrIf##Cmp##Imm, IrOp::BrIf##Neg##Imm};
    F(I32Eq, I32Ne) F(I32Ne, I32Eq) F(I32LtS, I32GeS) F(I32GeS, I32LtS) F(I32LtU, I32GeU)
    F(I32GeU, I32LtU) F(I32GtS, I32LeS) F(I32LeS, I32GtS) F(I32GtU, I32LeU) F(I32LeU, I32GtU)
#undef F
    case IrOp::I32Eqz: return FusedBranch{IrOp::BrIfEqz, IrOp::BrIf};
    default: return std::nullopt;
  }
}

class FunctionCompiler {
 public:
  FunctionCompiler(const Module& m, const ModuleTypes& types, const CompileOptions& options,
                   uint32_t defined_index, CompiledFunction& out)
      : m_(m),
        types_(types),
        options_(options),
        fn_(m.functions[defined_index]),
        func_index_(m.num_imported_funcs + defined_index),
        out_(out) {}

  void run();

 private:
  enum class Kind : uint8_t { Slot, Local, Const };
  struct Entry {
    Kind kind = Kind::Slot;
    bool ref = false;
    uint32_t local = 0;  // Kind::Local
    uint64_t k = 0;      // Kind::Const
    // Fault zoo only: the fault that leaves this reference out of the stack
    // maps (Fault::None in a correct compiler).
    Fault unrooted = Fault::None;
  };
  struct Ctrl {
    Opcode op = Opcode::Nop;  // Nop: the function body
    uint32_t height = 0;      // stack height below the block's params
    std::vector<ValType> params, results;
    uint32_t loop_pc = 0;
    std::vector<uint32_t> fixups;        // IR indices whose c is the end label
    std::vector<uint32_t> table_fixups;  // br_tables indices holding the end label
    uint32_t else_fixup = UINT32_MAX;    // If: the BrUnless to patch at else/end
  };

  uint32_t canon(uint32_t pos) const { return num_locals_ + pos; }
  uint32_t sp() const { return static_cast<uint32_t>(stack_.size()); }
  uint32_t pc() const { return static_cast<uint32_t>(out_.code.size()); }

  uint32_t emit(IrOp op, uint32_t a = 0, uint32_t b = 0, uint32_t c = 0, uint16_t x = 0) {
    uint32_t at = pc();
    out_.code.push_back({op, x, a, b, c});
    last_retarget_ = kRetargetable[static_cast<size_t>(op)] ? static_cast<int64_t>(at) : -1;
    return at;
  }
  void bindLabel() { last_retarget_ = -1; }

  void push(Entry e) {
    if (e.kind != Kind::Slot) first_lazy_ = std::min(first_lazy_, sp());
    if constexpr (kFaultsBuilt) {
      // Fault zoo (stale-ref-mark): the mark a reference leaves on its
      // operand position, never cleared by a later number there.
      if (e.ref) {
        if (ever_ref_.size() <= sp()) ever_ref_.resize(sp() + 1, false);
        ever_ref_[sp()] = true;
      }
    }
    stack_.push_back(e);
    max_height_ = std::max(max_height_, sp());
  }
  void pushSlot(bool ref) { push({Kind::Slot, ref, 0, 0}); }
  Entry pop() {
    Entry e = stack_.back();
    stack_.pop_back();
    return e;
  }

  void materialize(uint32_t pos) {
    Entry& e = stack_[pos];
    if (e.kind == Kind::Local) {
      emit(IrOp::Copy, canon(pos), e.local);
    } else if (e.kind == Kind::Const) {
      emitConst(canon(pos), e.k);
    }
    e.kind = Kind::Slot;
  }
  // Entries below first_lazy_ are all Kind::Slot, so that scans for lazy
  // entries cost O(lazy entries), not O(stack height), per instruction.
  void materializeAll() {
    for (uint32_t i = first_lazy_; i < sp(); ++i) {
      if (stack_[i].kind != Kind::Slot) materialize(i);
    }
    first_lazy_ = sp();
  }
  void emitConst(uint32_t slot, uint64_t k) {
    if (k <= 0xFFFFFFFFu) {
      emit(IrOp::Const32, slot, static_cast<uint32_t>(k));
    } else {
      emit(IrOp::Const64, slot, static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32));
    }
  }
  // The slot an operand (just popped from position `pos`) can be read from.
  uint32_t operand(const Entry& e, uint32_t pos) {
    if (e.kind == Kind::Local) return e.local;
    if (e.kind == Kind::Const) emitConst(canon(pos), e.k);
    return canon(pos);
  }

  // Safepoints: which operand positions below `typed_height` (the height
  // while the instruction reads its operands) hold references, as a bitset
  // of ceil(typed_height / 64) words appended to map_words_. The
  // conservative map keeps those below `height` (the height it leaves to
  // its caller: below a call's arguments); the precise one keeps the live
  // ones (buildStackMaps). Charged to the module's budget until the maps
  // are built.
  void recordSafepoint(uint32_t at, uint32_t height, uint32_t typed_height) {
    uint32_t words = (typed_height + 63) / 64;
    if (*budget_ < words + 1) {
      budget_exceeded_ = true;
      return;
    }
    *budget_ -= words + 1;
    pending_charge_ += words + 1;
    size_t base = map_words_.size();
    map_words_.resize(base + words, 0);
    for (uint32_t i = 0; i < typed_height; ++i) {
      bool ref = stack_[i].ref;
      if constexpr (kFaultsBuilt) ref = faultyStackMapBit(at, i);
      if (ref) map_words_[base + i / 64] |= uint64_t{1} << (i % 64);
    }
    safepoints_.push_back({at, static_cast<uint32_t>(base), height, typed_height});
  }
  // What the fault zoo's stack-map faults make of position `pos`'s bit at
  // the safepoint at IR `at` (the correct bit is stack_[pos].ref).
  bool faultyStackMapBit(uint32_t at, uint32_t pos) {
    const Entry& e = stack_[pos];
    if (e.ref && e.unrooted != Fault::None) {
      // redefined-local-at-call drops the old value at calls only.
      if (e.unrooted != Fault::RedefinedLocalAtCall || isCallOp(out_.code[at].op)) {
        faults::noteTriggered(e.unrooted);
        return false;
      }
    }
    if (!e.ref && pos < ever_ref_.size() && ever_ref_[pos] && SLABFUZZ_FAULT(StaleRefMark)) {
      SLABFUZZ_FAULT_TRIGGERED(StaleRefMark);
      return true;
    }
    return e.ref;
  }
  static bool isCallOp(IrOp op) {
    return op == IrOp::Call || op == IrOp::CallIndirect || op == IrOp::CallRef;
  }
  void buildStackMaps();
  [[noreturn]] void mapBug(const char* what, uint32_t pc, uint32_t slot) const;

  void setStack(uint32_t height, const std::vector<ValType>& types) {
    stack_.resize(height);
    first_lazy_ = std::min(first_lazy_, height);
    for (ValType t : types) pushSlot(t.isRef());
  }

  void blockSig(const Instr& in, std::vector<ValType>& params, std::vector<ValType>& results) {
    switch (static_cast<BlockTypeKind>(in.a)) {
      case BlockTypeKind::Empty: break;
      case BlockTypeKind::Value: results.push_back(ValType::fromBits(in.b)); break;
      case BlockTypeKind::TypeIndex: {
        const FuncType& ft = types_.funcType(in.b);
        params = ft.params;
        results = ft.results;
        break;
      }
    }
  }

  Ctrl& label(uint32_t depth) { return ctrl_[ctrl_.size() - 1 - depth]; }
  static uint32_t arity(const Ctrl& c) {
    return static_cast<uint32_t>(c.op == Opcode::Loop ? c.params.size() : c.results.size());
  }
  // Does a branch to `depth`, with its values ending at position `top`,
  // need code besides the jump (value moves, or a return)?
  bool branchNeedsStub(uint32_t depth, uint32_t top) {
    const Ctrl& c = label(depth);
    if (c.op == Opcode::Nop) return true;
    uint32_t n = arity(c);
    return n != 0 && top - n != c.height;
  }
  // Unconditional branch (after materializeAll), values at [top - n, top).
  void emitBranch(uint32_t depth, uint32_t top) {
    Ctrl& c = label(depth);
    if (c.op == Opcode::Nop) {
      emitReturn(top);
      return;
    }
    uint32_t n = arity(c);
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t src = canon(top - n + i), dst = canon(c.height + i);
      if (src == dst) continue;
      // Fault zoo (br-on-non-null-clobber): the label's slot gets the value
      // beneath the carried reference (or zero), not the reference.
      if (clobber_carried_ref_ && i == n - 1) {
        SLABFUZZ_FAULT_TRIGGERED(BrOnNonNullClobber);
        uint32_t from = top - n + i;
        if (from > 0) {
          emit(IrOp::Copy, dst, canon(from - 1));
        } else {
          emitConst(dst, 0);
        }
        continue;
      }
      emit(IrOp::Copy, dst, src);
    }
    if (c.op == Opcode::Loop) {
      emit(IrOp::Jump, 0, 0, c.loop_pc);
    } else {
      c.fixups.push_back(emit(IrOp::Jump));
    }
  }
  // A conditional branch on `cond_op` (with its inverse `inverse_op`)
  // testing slot `slot`; values at [top - n, top).
  void emitCondBranch(IrOp cond_op, IrOp inverse_op, uint32_t slot, uint32_t depth, uint32_t top,
                      uint32_t b = 0, uint16_t x = 0) {
    if (!branchNeedsStub(depth, top)) {
      Ctrl& c = label(depth);
      if (c.op == Opcode::Loop) {
        emit(cond_op, slot, b, c.loop_pc, x);
      } else {
        c.fixups.push_back(emit(cond_op, slot, b, 0, x));
      }
      return;
    }
    uint32_t skip = emit(inverse_op, slot, b, 0, x);
    emitBranch(depth, top);
    out_.code[skip].c = pc();
    bindLabel();
  }
  void emitReturn(uint32_t top) {
    uint32_t n = out_.num_results;
    // One result just computed by a retargetable instruction: compute it
    // straight into slot 0 (nothing else is read after a return).
    if (n == 1 && last_retarget_ >= 0 && static_cast<uint32_t>(last_retarget_) + 1 == pc() &&
        out_.code.back().a == canon(top - 1)) {
      out_.code.back().a = 0;
      emit(IrOp::Return);
      return;
    }
    for (uint32_t i = 0; i < n; ++i) {
      uint32_t src = canon(top - n + i);
      if (src != i) emit(IrOp::Copy, i, src);
    }
    emit(IrOp::Return);
  }

  // The test of a conditional branch on i32 `cond` (popped from `pos`):
  // a plain slot test, or, when `cond` was computed by the instruction just
  // emitted and that is an i32 compare, the compare fused into the branch
  // (its operands are locals, slots at or above `pos`, or an immediate,
  // none of which a later materializeAll writes).
  struct CondTest {
    IrOp op, inverse;
    uint32_t a, b;
  };
  CondTest condTest(const Entry& cond, uint32_t pos) {
    if (cond.kind == Kind::Slot && last_retarget_ >= 0 &&
        static_cast<uint32_t>(last_retarget_) + 1 == pc() && out_.code.back().a == canon(pos)) {
      const IrInstr last = out_.code.back();
      if (std::optional<FusedBranch> f = fusedBranchOf(last.op)) {
        out_.code.pop_back();
        last_retarget_ = -1;
        return {f->op, f->inverse, last.b, last.c};
      }
    }
    return {IrOp::BrIf, IrOp::BrUnless, operand(cond, pos), 0};
  }

  void localSet(uint32_t local, bool tee);
  void compileInstr(const Instr& in);
  void compileSimple(const Instr& in, SimpleOp s);
  void brTable(const Instr& in);
  void call(IrOp op, uint32_t a, uint32_t nparams, const FuncType& ft, uint32_t extra_operand,
            uint16_t x = 0);
  // An instruction with `n` operands in consecutive canonical slots.
  uint32_t baseOperands(uint32_t n) {
    materializeAll();
    return canon(sp() - n);
  }
  void allocate(IrOp op, uint32_t n, uint32_t b, uint32_t c = 0) {
    uint32_t base = baseOperands(n);
    uint32_t at = emit(op, base, b, c);
    recordSafepoint(at, sp(), sp());
    stack_.resize(sp() - n);
    pushSlot(true);
  }
  CanonTypeId canonType(uint32_t index) const { return types_.canon(index); }
  // Fault zoo builds: the static type of the struct access at IR `at`.
  void noteStructAccess(uint32_t at, uint32_t type_index) {
    if constexpr (kFaultsBuilt) {
      auto& types = out_.struct_access_types;
      if (types.size() <= at) types.resize(size_t{at} + 1, kNoCanonType);
      types[at] = canonType(type_index);
    }
  }
  uint32_t canonHeapBits(uint32_t bits) const {
    return types_.toCanon(HeapType::fromBits(bits)).bits();
  }
  ValType fieldType(uint32_t type_index, uint32_t field) const {
    return types_.fields(type_index)[field].type;
  }

  const Module& m_;
  const ModuleTypes& types_;
  const CompileOptions& options_;
  const Function& fn_;
  uint32_t func_index_;  // in the module's function index space
  CompiledFunction& out_;
  uint32_t num_locals_ = 0;
  std::vector<bool> local_ref_;
  std::vector<Entry> stack_;
  std::vector<bool> ever_ref_;  // fault zoo: positions that ever held a reference
  bool clobber_carried_ref_ = false;  // fault zoo: br-on-non-null-clobber at work
  std::vector<Ctrl> ctrl_;
  uint32_t max_height_ = 0;
  uint32_t first_lazy_ = 0;  // no entry below this index is lazy
  int64_t last_retarget_ = -1;
  bool dead_ = false;
  uint32_t dead_depth_ = 0;
  struct PendingMap {
    uint32_t pc, first_word, height, typed_height;
  };
  std::vector<PendingMap> safepoints_;
  std::vector<uint64_t> map_words_;
  std::vector<CallSite> calls_;  // every call op, for the liveness pass
  uint64_t* budget_ = nullptr;   // words left for this module's maps
  uint64_t pending_charge_ = 0;  // of which the pending maps hold

 public:
  void setBudget(uint64_t* budget) { budget_ = budget; }
  bool budget_exceeded_ = false;
};

void FunctionCompiler::run() {
  const FuncType& ft = types_.funcType(fn_.type_index);
  out_.type = types_.canon(fn_.type_index);
  out_.num_params = static_cast<uint32_t>(ft.params.size());
  out_.num_results = static_cast<uint32_t>(ft.results.size());
  for (ValType t : ft.params) local_ref_.push_back(t.isRef());
  for (ValType t : fn_.locals) local_ref_.push_back(t.isRef());
  num_locals_ = static_cast<uint32_t>(local_ref_.size());
  out_.num_locals = num_locals_;

  Ctrl body;
  body.results = ft.results;
  ctrl_.push_back(std::move(body));
  for (const Instr& in : fn_.body) {
    if (ctrl_.empty()) break;
    if (dead_) {
      // Unreachable code (after br, return, unreachable, ...): skipped up to
      // the else or end that makes code reachable again.
      if (in.op == Opcode::Block || in.op == Opcode::Loop || in.op == Opcode::If) {
        ++dead_depth_;
        continue;
      }
      if (in.op == Opcode::End && dead_depth_ > 0) {
        --dead_depth_;
        continue;
      }
      if (in.op != Opcode::End && in.op != Opcode::Else) continue;
      if (in.op == Opcode::Else && dead_depth_ > 0) continue;
    }
    compileInstr(in);
  }

  out_.frame_size = num_locals_ + max_height_ + 1;
  if (!budget_exceeded_) buildStackMaps();
}

// An internal invariant of the stack maps broken: a compiler bug, never bad
// input (checked in checking builds only: CONVENTIONS.md rule 10).
void FunctionCompiler::mapBug(const char* what, uint32_t pc, uint32_t slot) const {
  std::fprintf(stderr,
               "slabfuzz: compile: func %u: %s (IR %u, slot %u); `slabfuzz run --dump-ir` shows "
               "the maps\n",
               func_index_, what, pc, slot);
  std::abort();
}

// Both stack maps of the function from the pending safepoint records and the
// liveness pass (the representation is described at StackMaps).
void FunctionCompiler::buildStackMaps() {
  StackMaps& maps = out_.maps;
  const size_t num_sp = safepoints_.size();
  auto typedAt = [&](const PendingMap& p, uint32_t pos) {
    return pos < p.typed_height && ((map_words_[p.first_word + pos / 64] >> (pos % 64)) & 1) != 0;
  };
  // Slots to run liveness on: every slot that holds a reference at some
  // safepoint, call arguments included (so that the checks below see
  // whether liveness keeps them out of the caller's map). The maps' own
  // slot list is the subset that is in some conservative map.
  std::vector<uint8_t> typed_ever(max_height_, 0), in_map_ever(max_height_, 0);
  for (const PendingMap& p : safepoints_) {
    for (uint32_t pos = 0; pos < p.typed_height; ++pos) {
      if (!typedAt(p, pos)) continue;
      typed_ever[pos] = 1;
      if (pos < p.height) in_map_ever[pos] = 1;
    }
  }
  std::vector<uint32_t> tracked;
  constexpr uint32_t kNone = UINT32_MAX;
  std::vector<uint32_t> map_index;  // tracked index -> index in ref_slots
  maps.ref_slots.clear();
  for (uint32_t l = 0; l < num_locals_; ++l) {
    if (!local_ref_[l]) continue;
    tracked.push_back(l);
    map_index.push_back(static_cast<uint32_t>(maps.ref_slots.size()));
    maps.ref_slots.push_back(l);
  }
  const uint32_t num_ref_locals = static_cast<uint32_t>(maps.ref_slots.size());
  for (uint32_t pos = 0; pos < max_height_; ++pos) {
    if (!typed_ever[pos]) continue;
    tracked.push_back(canon(pos));
    if (in_map_ever[pos]) {
      map_index.push_back(static_cast<uint32_t>(maps.ref_slots.size()));
      maps.ref_slots.push_back(canon(pos));
    } else {
      map_index.push_back(kNone);
    }
  }

  std::vector<uint32_t> sp_pcs(num_sp);
  for (size_t i = 0; i < num_sp; ++i) sp_pcs[i] = safepoints_[i].pc;
  LivenessInput li;
  li.code = out_.code;
  li.br_tables = out_.br_tables;
  li.num_results = out_.num_results;
  li.calls = calls_;
  li.tracked = tracked;
  li.safepoints = sp_pcs;
  li.ignore_back_edges = options_.liveness_ignores_back_edges;
  // Fault zoo (heap/faults.def): the seed bug's class. Triggered when the
  // broken maps differ from the correct ones (a loop's back edge carries a
  // reference).
  const bool broken_loops = SLABFUZZ_FAULT(LoopBackEdgeLiveness);
  if (broken_loops) li.ignore_back_edges = true;
  const LiveSets live = computeLiveness(li);
  if (broken_loops) {
    LivenessInput correct = li;
    correct.ignore_back_edges = options_.liveness_ignores_back_edges;
    LiveSets good = computeLiveness(correct);
    if (good.across != live.across || good.entry != live.entry) {
      SLABFUZZ_FAULT_TRIGGERED(LoopBackEdgeLiveness);
    }
  }

  // The pending records give way to the maps in the budget.
  *budget_ += pending_charge_;
  pending_charge_ = 0;
  const uint32_t words = static_cast<uint32_t>((maps.ref_slots.size() + 63) / 64);
  const uint64_t need = (num_sp + 1) * 2 * uint64_t{words} +
                        (maps.ref_slots.size() + num_sp + out_.code.size()) / 2 + 2;
  if (*budget_ < need) {
    budget_exceeded_ = true;
    return;
  }
  *budget_ -= need;
  maps.words = words;
  maps.safepoints = std::move(sp_pcs);
  maps.map_of_pc.assign(out_.code.size(), 0);
  for (size_t i = 0; i < num_sp; ++i) maps.map_of_pc[maps.safepoints[i]] = static_cast<uint32_t>(i + 1);
  maps.bits.assign((num_sp + 1) * 2 * size_t{words}, 0);
  auto set = [](uint64_t* bits, uint32_t i) { bits[i / 64] |= uint64_t{1} << (i % 64); };
  auto test = [](const uint64_t* bits, uint32_t i) {
    return ((bits[i / 64] >> (i % 64)) & 1) != 0;
  };
  // Calls f(i) for every bit i >= `from` set in the `n`-word bitset `bits`.
  auto forEachBit = [](const uint64_t* bits, uint32_t n, uint32_t from, auto&& f) {
    for (uint32_t w = from / 64; w < n; ++w) {
      uint64_t word = bits[w];
      if (w == from / 64) word &= ~uint64_t{0} << (from % 64);
      for (; word != 0; word &= word - 1) {
        f(w * 64 + static_cast<uint32_t>(std::countr_zero(word)));
      }
    }
  };
  // The reference locals come first, in the same order, in `tracked` and in
  // ref_slots: bits [0, num_ref_locals) of both, a whole-word copy.
  const uint64_t last_local_mask = (uint64_t{1} << (num_ref_locals % 64)) - 1;
  auto setRefLocals = [&](uint64_t* bits) {
    std::fill(bits, bits + num_ref_locals / 64, ~uint64_t{0});
    if (num_ref_locals % 64) bits[num_ref_locals / 64] |= last_local_mask;
  };
  auto copyRefLocals = [&](uint64_t* dst, const uint64_t* src) {
    std::copy_n(src, num_ref_locals / 64, dst);
    if (num_ref_locals % 64) dst[num_ref_locals / 64] |= src[num_ref_locals / 64] & last_local_mask;
  };

  // Entry: conservative = the reference locals; precise = the live
  // reference parameters (the other locals are null on entry, no roots).
  // Nothing on the operand stack may be live on entry: it would be read
  // before anything wrote it.
  uint64_t* precise = maps.bits.data();
  uint64_t* conservative = precise + words;
  setRefLocals(conservative);
  forEachBit(live.entry.data(), live.words, 0, [&](uint32_t t) {
    if (SLABFUZZ_CHECKING >= 1 && tracked[t] >= num_locals_) {
      mapBug("an operand slot is live on entry", 0, tracked[t]);
    }
    if (tracked[t] < out_.num_params) set(precise, map_index[t]);
  });

  for (size_t i = 0; i < num_sp; ++i) {
    const PendingMap& p = safepoints_[i];
    precise = maps.bits.data() + (i + 1) * 2 * words;
    conservative = precise + words;
    setRefLocals(conservative);
    for (uint32_t r = num_ref_locals; r < maps.ref_slots.size(); ++r) {
      uint32_t pos = maps.ref_slots[r] - num_locals_;
      if (pos < p.height && typedAt(p, pos)) set(conservative, r);
    }
    const uint64_t* across = live.across.data() + i * live.words;
    // Live reference locals are reference slots of every map.
    copyRefLocals(precise, across);
    forEachBit(across, live.words, num_ref_locals, [&](uint32_t t) {
      const uint32_t slot = tracked[t];
      // Live across the safepoint, so in this frame during it: an operand
      // slot at or above the height the instruction leaves would be a
      // callee's argument, a used-up operand or garbage, read later.
      if (SLABFUZZ_CHECKING >= 1 && slot >= num_locals_ && slot - num_locals_ >= p.height) {
        mapBug("a slot above the stack height is live across a safepoint", p.pc, slot);
      }
      // Precise = live and holding a reference here.
      if (slot >= num_locals_ && !typedAt(p, slot - num_locals_)) return;
      const uint32_t r = map_index[t];
      if (r == kNone || !test(conservative, r)) {
        if (SLABFUZZ_CHECKING >= 1) {
          mapBug("the precise map is not a subset of the conservative map", p.pc, slot);
        }
        return;  // cannot happen with a correct compiler; dropped, not represented
      }
      set(precise, r);
    });
  }
}

void FunctionCompiler::localSet(uint32_t local, bool tee) {
  uint32_t top_pos = sp() - 1;
  Entry top = stack_.back();
  // Entries still reading the old value of `local` get it first.
  bool others = false;
  for (uint32_t i = first_lazy_; i < top_pos; ++i) {
    if (stack_[i].kind == Kind::Local && stack_[i].local == local) {
      others = true;
      materialize(i);
      // Fault zoo: the old value's copy is not declared to the stack maps.
      if (stack_[i].ref && SLABFUZZ_FAULT(RedefinedLocalAtCall)) {
        stack_[i].unrooted = Fault::RedefinedLocalAtCall;
      }
    }
  }
  if (top.kind == Kind::Const) {
    emitConst(local, top.k);
  } else if (top.kind == Kind::Local) {
    if (top.local != local) emit(IrOp::Copy, local, top.local);
  } else if (!others && last_retarget_ >= 0 &&
             out_.code[static_cast<size_t>(last_retarget_)].a == canon(top_pos)) {
    out_.code[static_cast<size_t>(last_retarget_)].a = local;  // write the local directly
    last_retarget_ = -1;
  } else {
    emit(IrOp::Copy, local, canon(top_pos));
  }
  stack_.pop_back();
  if (tee) push({Kind::Local, top.ref, local, 0});
}

void FunctionCompiler::compileSimple(const Instr& in, SimpleOp s) {
  IrOp op = static_cast<IrOp>(s.ir);
  if (s.arity == 1) {
    uint32_t pos = sp() - 1;
    Entry x = pop();
    uint32_t src = operand(x, pos);
    emit(op, canon(pos), src);
    pushSlot(false);
    return;
  }
  uint32_t rpos = sp() - 1, lpos = sp() - 2;
  Entry y = pop();
  Entry x = pop();
  if (s.has_imm && y.kind == Kind::Const &&
      (!s.is64 || static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(y.k))) == y.k)) {
    uint32_t lhs = operand(x, lpos);
    emit(static_cast<IrOp>(s.ir + 1), canon(lpos), lhs, static_cast<uint32_t>(y.k));
  } else {
    uint32_t lhs = operand(x, lpos);
    uint32_t rhs = operand(y, rpos);
    emit(op, canon(lpos), lhs, rhs);
  }
  pushSlot(false);
}

void FunctionCompiler::call(IrOp op, uint32_t a, uint32_t nparams, const FuncType& ft,
                            uint32_t extra_operand, uint16_t x) {
  uint32_t base = baseOperands(nparams + extra_operand);
  uint32_t at = emit(op, a, base, 0, x);
  calls_.push_back({at, {nparams, static_cast<uint32_t>(ft.results.size())}});
  // The arguments now belong to the callee's frame (its entry map).
  recordSafepoint(at, sp() - nparams - extra_operand, sp());
  stack_.resize(sp() - nparams - extra_operand);
  for (ValType t : ft.results) pushSlot(t.isRef());
  bool tail = op == IrOp::ReturnCall || op == IrOp::ReturnCallIndirect ||
              op == IrOp::ReturnCallRef;
  if (tail) dead_ = true;
}

void FunctionCompiler::brTable(const Instr& in) {
  uint32_t pos = sp() - 1;
  Entry idx = pop();
  uint32_t slot = operand(idx, pos);
  materializeAll();
  const uint32_t count = in.b;
  const uint32_t first = static_cast<uint32_t>(out_.br_tables.size());
  out_.br_tables.resize(first + count + 1, 0);
  emit(IrOp::BrTable, slot, first, count);
  std::vector<std::pair<uint32_t, uint32_t>> stubs;  // depth -> stub pc
  for (uint32_t i = 0; i <= count; ++i) {
    uint32_t depth = i < count ? fn_.extra[in.a + i] : in.c;
    uint32_t entry = first + i;
    if (!branchNeedsStub(depth, sp())) {
      Ctrl& c = label(depth);
      if (c.op == Opcode::Loop) {
        out_.br_tables[entry] = c.loop_pc;
      } else {
        c.table_fixups.push_back(entry);
      }
      continue;
    }
    auto found = std::find_if(stubs.begin(), stubs.end(),
                              [&](const auto& s) { return s.first == depth; });
    if (found != stubs.end()) {
      out_.br_tables[entry] = found->second;
      continue;
    }
    uint32_t stub = pc();
    bindLabel();
    emitBranch(depth, sp());
    stubs.emplace_back(depth, stub);
    out_.br_tables[entry] = stub;
  }
  dead_ = true;
}

void FunctionCompiler::compileInstr(const Instr& in) {
  if (SimpleOp s = kSimple[static_cast<size_t>(in.op)]; s.ir != kNoIr) {
    compileSimple(in, s);
    return;
  }
  if (uint16_t mem = kMemOps[static_cast<size_t>(in.op)]; mem != kNoIr) {
    IrOp op = static_cast<IrOp>(mem);
    uint32_t offset = in.b;  // memory32: the validator bounds offsets by 2^32
    if (op >= IrOp::I32Store) {
      uint32_t vpos = sp() - 1, apos = sp() - 2;
      Entry v = pop();
      Entry addr = pop();
      uint32_t vs = operand(v, vpos);
      uint32_t as = operand(addr, apos);
      emit(op, as, vs, offset);
    } else {
      uint32_t pos = sp() - 1;
      Entry addr = pop();
      uint32_t as = operand(addr, pos);
      emit(op, canon(pos), as, offset);
      pushSlot(false);
    }
    return;
  }

  switch (in.op) {
    // --- Control (spec 4.4.8) ---
    case Opcode::Nop: return;
    case Opcode::Unreachable:
      emit(IrOp::Unreachable);
      dead_ = true;
      return;
    case Opcode::Block:
    case Opcode::Loop:
    case Opcode::If: {
      Ctrl c;
      c.op = in.op;
      blockSig(in, c.params, c.results);
      CondTest test{};
      if (in.op == Opcode::If) {
        uint32_t pos = sp() - 1;
        Entry cond = pop();
        test = condTest(cond, pos);
      }
      materializeAll();
      c.height = sp() - static_cast<uint32_t>(c.params.size());
      if (in.op == Opcode::If) c.else_fixup = emit(test.inverse, test.a, test.b);
      if (in.op == Opcode::Loop) {
        c.loop_pc = pc();
        bindLabel();
      }
      ctrl_.push_back(std::move(c));
      return;
    }
    case Opcode::Else: {
      Ctrl& c = ctrl_.back();
      if (!dead_) {
        materializeAll();
        c.fixups.push_back(emit(IrOp::Jump));
      }
      out_.code[c.else_fixup].c = pc();
      c.else_fixup = UINT32_MAX;
      c.op = Opcode::Else;
      bindLabel();
      setStack(c.height, c.params);
      dead_ = false;
      return;
    }
    case Opcode::End: {
      Ctrl& c = ctrl_.back();
      if (c.op == Opcode::Nop) {  // the function's end
        if (!dead_) {
          materializeAll();
          emitReturn(sp());
        }
        ctrl_.pop_back();
        return;
      }
      if (!dead_) materializeAll();
      uint32_t here = pc();
      for (uint32_t f : c.fixups) out_.code[f].c = here;
      for (uint32_t f : c.table_fixups) out_.br_tables[f] = here;
      if (c.else_fixup != UINT32_MAX) out_.code[c.else_fixup].c = here;
      bindLabel();
      uint32_t height = c.height;
      std::vector<ValType> results = std::move(c.results);
      ctrl_.pop_back();
      setStack(height, results);
      dead_ = false;
      return;
    }
    case Opcode::Br:
      materializeAll();
      emitBranch(in.a, sp());
      dead_ = true;
      return;
    case Opcode::BrIf: {
      uint32_t pos = sp() - 1;
      Entry cond = pop();
      CondTest test = condTest(cond, pos);
      materializeAll();
      emitCondBranch(test.op, test.inverse, test.a, in.a, sp(), test.b);
      return;
    }
    case Opcode::BrTable: brTable(in); return;
    case Opcode::Return:
      materializeAll();
      emitReturn(sp());
      dead_ = true;
      return;
    case Opcode::BrOnNull: {
      materializeAll();
      uint32_t slot = canon(sp() - 1);
      emitCondBranch(IrOp::BrOnNull, IrOp::BrOnNonNull, slot, in.a, sp() - 1);
      return;  // the reference stays, now non-null
    }
    case Opcode::BrOnNonNull: {
      materializeAll();
      uint32_t slot = canon(sp() - 1);
      clobber_carried_ref_ = SLABFUZZ_FAULT(BrOnNonNullClobber);
      emitCondBranch(IrOp::BrOnNonNull, IrOp::BrOnNull, slot, in.a, sp());
      clobber_carried_ref_ = false;
      pop();
      return;
    }
    case Opcode::BrOnCast:
    case Opcode::BrOnCastFail: {
      materializeAll();
      uint32_t slot = canon(sp() - 1);
      uint32_t target = canonHeapBits(in.c);
      uint16_t nullable = (in.d & 2) ? 1 : 0;
      bool on_success = in.op == Opcode::BrOnCast;
      emitCondBranch(on_success ? IrOp::BrOnCast : IrOp::BrOnCastFail,
                     on_success ? IrOp::BrOnCastFail : IrOp::BrOnCast, slot, in.a, sp(), target,
                     nullable);
      return;
    }

    // --- Calls (spec 4.4.8) ---
    case Opcode::Call:
    case Opcode::ReturnCall: {
      const FuncType& ft = types_.funcType(m_.func_types[in.a]);
      call(in.op == Opcode::Call ? IrOp::Call : IrOp::ReturnCall, in.a,
           static_cast<uint32_t>(ft.params.size()), ft, 0);
      return;
    }
    case Opcode::CallIndirect:
    case Opcode::ReturnCallIndirect: {
      const FuncType& ft = types_.funcType(in.a);
      uint32_t np = static_cast<uint32_t>(ft.params.size());
      uint32_t base = baseOperands(np + 1);
      IrOp op = in.op == Opcode::CallIndirect ? IrOp::CallIndirect : IrOp::ReturnCallIndirect;
      uint32_t at = emit(op, canonType(in.a), base, in.b, static_cast<uint16_t>(np));
      calls_.push_back({at, {np, static_cast<uint32_t>(ft.results.size())}});
      recordSafepoint(at, sp() - np - 1, sp());
      stack_.resize(sp() - np - 1);
      for (ValType t : ft.results) pushSlot(t.isRef());
      if (op == IrOp::ReturnCallIndirect) dead_ = true;
      return;
    }
    case Opcode::CallRef:
    case Opcode::ReturnCallRef: {
      const FuncType& ft = types_.funcType(in.a);
      uint32_t np = static_cast<uint32_t>(ft.params.size());
      call(in.op == Opcode::CallRef ? IrOp::CallRef : IrOp::ReturnCallRef, np, np, ft, 1);
      return;
    }

    // --- Parametric and variables ---
    case Opcode::Drop: pop(); return;
    case Opcode::Select:
    case Opcode::SelectT: {
      uint32_t cpos = sp() - 1, v2pos = sp() - 2, v1pos = sp() - 3;
      Entry cond = pop();
      Entry v2 = pop();
      uint32_t cs = operand(cond, cpos);
      uint32_t v2s = operand(v2, v2pos);
      materialize(v1pos);
      emit(IrOp::Select, canon(v1pos), v2s, cs);
      // Fault zoo: the selected reference is not declared to the stack maps.
      if (stack_[v1pos].ref && SLABFUZZ_FAULT(SelectResultUnrooted)) {
        stack_[v1pos].unrooted = Fault::SelectResultUnrooted;
      }
      return;
    }
    case Opcode::LocalGet: push({Kind::Local, local_ref_[in.a], in.a, 0}); return;
    case Opcode::LocalSet: localSet(in.a, false); return;
    case Opcode::LocalTee: localSet(in.a, true); return;
    case Opcode::GlobalGet:
      emit(IrOp::GlobalGet, canon(sp()), in.a);
      pushSlot(m_.global_types[in.a].type.isRef());
      return;
    case Opcode::GlobalSet: {
      uint32_t pos = sp() - 1;
      Entry v = pop();
      emit(IrOp::GlobalSet, operand(v, pos), in.a);
      return;
    }

    // --- Constants ---
    case Opcode::I32Const:
    case Opcode::F32Const: push({Kind::Const, false, 0, in.a}); return;
    case Opcode::I64Const:
    case Opcode::F64Const: push({Kind::Const, false, 0, in.u64()}); return;

    // --- Memory (spec 4.4.7) ---
    case Opcode::MemorySize: emit(IrOp::MemorySize, canon(sp())); pushSlot(false); return;
    case Opcode::MemoryGrow: {
      uint32_t pos = sp() - 1;
      Entry d = pop();
      emit(IrOp::MemoryGrow, canon(pos), operand(d, pos));
      pushSlot(false);
      return;
    }
    case Opcode::MemoryFill:
    case Opcode::MemoryCopy:
    case Opcode::MemoryInit: {
      uint32_t base = baseOperands(3);
      IrOp op = in.op == Opcode::MemoryFill   ? IrOp::MemoryFill
                : in.op == Opcode::MemoryCopy ? IrOp::MemoryCopy
                                              : IrOp::MemoryInit;
      emit(op, base, in.op == Opcode::MemoryInit ? in.a : 0);
      stack_.resize(sp() - 3);
      return;
    }
    case Opcode::DataDrop: emit(IrOp::DataDrop, in.a); return;

    // --- Tables (spec 4.4.6) ---
    case Opcode::TableGet: {
      uint32_t pos = sp() - 1;
      Entry i = pop();
      emit(IrOp::TableGet, canon(pos), operand(i, pos), in.a);
      pushSlot(true);
      return;
    }
    case Opcode::TableSet: {
      uint32_t base = baseOperands(2);
      emit(IrOp::TableSet, base, 0, in.a);
      stack_.resize(sp() - 2);
      return;
    }
    case Opcode::TableSize: emit(IrOp::TableSize, canon(sp()), 0, in.a); pushSlot(false); return;
    case Opcode::TableGrow: {
      uint32_t base = baseOperands(2);
      emit(IrOp::TableGrow, base, 0, in.a);
      stack_.resize(sp() - 2);
      pushSlot(false);
      return;
    }
    case Opcode::TableFill: {
      uint32_t base = baseOperands(3);
      emit(IrOp::TableFill, base, 0, in.a);
      stack_.resize(sp() - 3);
      return;
    }
    case Opcode::TableCopy:
    case Opcode::TableInit: {
      uint32_t base = baseOperands(3);
      emit(in.op == Opcode::TableCopy ? IrOp::TableCopy : IrOp::TableInit, base, in.a, in.b);
      stack_.resize(sp() - 3);
      return;
    }
    case Opcode::ElemDrop: emit(IrOp::ElemDrop, in.a); return;

    // --- References (spec 4.4.2) ---
    case Opcode::RefNull: push({Kind::Const, true, 0, 0}); return;
    case Opcode::RefIsNull:
    case Opcode::RefAsNonNull:
    case Opcode::RefI31:
    case Opcode::I31GetS:
    case Opcode::I31GetU:
    case Opcode::ArrayLen: {
      IrOp op = in.op == Opcode::RefIsNull      ? IrOp::RefIsNull
                : in.op == Opcode::RefAsNonNull ? IrOp::RefAsNonNull
                : in.op == Opcode::RefI31       ? IrOp::RefI31
                : in.op == Opcode::I31GetS      ? IrOp::I31GetS
                : in.op == Opcode::I31GetU      ? IrOp::I31GetU
                                                : IrOp::ArrayLen;
      uint32_t pos = sp() - 1;
      Entry x = pop();
      emit(op, canon(pos), operand(x, pos));
      pushSlot(op == IrOp::RefAsNonNull || op == IrOp::RefI31);
      return;
    }
    case Opcode::RefFunc: emit(IrOp::RefFunc, canon(sp()), in.a); pushSlot(true); return;
    case Opcode::RefEq: {
      uint32_t rpos = sp() - 1, lpos = sp() - 2;
      Entry y = pop();
      Entry x = pop();
      uint32_t l = operand(x, lpos), r = operand(y, rpos);
      emit(IrOp::RefEq, canon(lpos), l, r);
      pushSlot(false);
      return;
    }
    case Opcode::RefTest:
    case Opcode::RefTestNull:
    case Opcode::RefCast:
    case Opcode::RefCastNull: {
      bool test = in.op == Opcode::RefTest || in.op == Opcode::RefTestNull;
      uint16_t nullable = (in.op == Opcode::RefTestNull || in.op == Opcode::RefCastNull) ? 1 : 0;
      uint32_t pos = sp() - 1;
      Entry x = pop();
      emit(test ? IrOp::RefTest : IrOp::RefCast, canon(pos), operand(x, pos),
           canonHeapBits(in.a), nullable);
      pushSlot(!test);
      return;
    }
    case Opcode::AnyConvertExtern:
    case Opcode::ExternConvertAny: return;  // same bits (value.h)

    // --- GC (spec 4.4.3) ---
    case Opcode::StructNew: {
      // c repeats the field count so the interpreter need not look it up.
      uint32_t n = static_cast<uint32_t>(types_.fields(in.a).size());
      allocate(IrOp::StructNew, n, canonType(in.a), n);
      return;
    }
    case Opcode::StructNewDefault: allocate(IrOp::StructNewDefault, 0, canonType(in.a)); return;
    case Opcode::StructGet:
    case Opcode::StructGetS:
    case Opcode::StructGetU: {
      ValType ft = fieldType(in.a, in.b);
      uint16_t sext = 0;
      if (in.op == Opcode::StructGetS) sext = ft.kind() == ValKind::I8 ? 8 : 16;
      uint32_t pos = sp() - 1;
      Entry obj = pop();
      noteStructAccess(emit(IrOp::StructGet, canon(pos), operand(obj, pos), in.b, sext), in.a);
      pushSlot(ft.isRef());
      return;
    }
    case Opcode::StructSet: {
      uint32_t vpos = sp() - 1, opos = sp() - 2;
      Entry v = pop();
      Entry obj = pop();
      uint32_t vs = operand(v, vpos), os = operand(obj, opos);
      noteStructAccess(emit(IrOp::StructSet, os, vs, in.b), in.a);
      return;
    }
    case Opcode::ArrayNew: allocate(IrOp::ArrayNew, 2, canonType(in.a)); return;
    case Opcode::ArrayNewDefault: allocate(IrOp::ArrayNewDefault, 1, canonType(in.a)); return;
    case Opcode::ArrayNewFixed: allocate(IrOp::ArrayNewFixed, in.b, canonType(in.a), in.b); return;
    case Opcode::ArrayNewData:
    case Opcode::ArrayNewElem:
      allocate(in.op == Opcode::ArrayNewData ? IrOp::ArrayNewData : IrOp::ArrayNewElem, 2,
               canonType(in.a), in.b);
      // Fault zoo: the new array is not declared to the stack maps.
      if (SLABFUZZ_FAULT(ArrayNewSegmentUnrooted)) stack_.back().unrooted = Fault::ArrayNewSegmentUnrooted;
      return;
    case Opcode::ArrayGet:
    case Opcode::ArrayGetS:
    case Opcode::ArrayGetU: {
      ValType ft = fieldType(in.a, 0);
      uint16_t sext = 0;
      if (in.op == Opcode::ArrayGetS) sext = ft.kind() == ValKind::I8 ? 8 : 16;
      uint32_t ipos = sp() - 1, apos = sp() - 2;
      Entry i = pop();
      Entry arr = pop();
      uint32_t as = operand(arr, apos), is = operand(i, ipos);
      emit(IrOp::ArrayGet, canon(apos), as, is, sext);
      pushSlot(ft.isRef());
      return;
    }
    case Opcode::ArraySet: {
      uint32_t base = baseOperands(3);
      emit(IrOp::ArraySet, base);
      stack_.resize(sp() - 3);
      return;
    }
    case Opcode::ArrayFill: {
      uint32_t base = baseOperands(4);
      emit(IrOp::ArrayFill, base);
      stack_.resize(sp() - 4);
      return;
    }
    case Opcode::ArrayCopy: {
      // A safepoint: copying references may collect (as an engine's write
      // barriers may), so both arrays must be held while it does.
      uint32_t base = baseOperands(5);
      uint32_t at = emit(IrOp::ArrayCopy, base);
      // Fault zoo: the arrays are treated as used up before the safepoint.
      if (SLABFUZZ_FAULT(ArrayCopyUnrooted)) {
        SLABFUZZ_FAULT_TRIGGERED(ArrayCopyUnrooted);
        recordSafepoint(at, sp() - 5, sp() - 5);
      } else {
        recordSafepoint(at, sp(), sp());
      }
      stack_.resize(sp() - 5);
      return;
    }
    case Opcode::ArrayInitData:
    case Opcode::ArrayInitElem: {
      uint32_t base = baseOperands(4);
      emit(in.op == Opcode::ArrayInitData ? IrOp::ArrayInitData : IrOp::ArrayInitElem, base,
           canonType(in.a), in.b);
      stack_.resize(sp() - 4);
      return;
    }
    default: break;
  }
  // Every opcode of opcodes.def is handled above (the validator admits no
  // other); were one missing, it would trap rather than miscompile.
  emit(IrOp::Unreachable);
  dead_ = true;
}

}  // namespace

std::string_view irOpName(IrOp op) { return kIrNames[static_cast<size_t>(op)]; }

bool isSafepoint(IrOp op) {
  switch (op) {
    case IrOp::Call:
    case IrOp::CallIndirect:
    case IrOp::CallRef:
    case IrOp::ReturnCall:
    case IrOp::ReturnCallIndirect:
    case IrOp::ReturnCallRef:
    case IrOp::StructNew:
    case IrOp::StructNewDefault:
    case IrOp::ArrayNew:
    case IrOp::ArrayNewDefault:
    case IrOp::ArrayNewFixed:
    case IrOp::ArrayNewData:
    case IrOp::ArrayNewElem:
    case IrOp::ArrayCopy: return true;
    default: return false;
  }
}

bool StackMaps::contains(uint32_t pc, StackMapMode mode, uint32_t slot) const {
  auto it = std::lower_bound(ref_slots.begin(), ref_slots.end(), slot);
  if (it == ref_slots.end() || *it != slot) return false;
  size_t i = static_cast<size_t>(it - ref_slots.begin());
  std::span<const uint64_t> map = mapAt(pc, mode);
  return !map.empty() && ((map[i / 64] >> (i % 64)) & 1) != 0;
}

std::shared_ptr<const CompiledModule> compileModule(const Module& module, const ModuleTypes& types,
                                                    const CompileOptions& options) {
  auto out = std::make_shared<CompiledModule>();
  out->num_imported_funcs = module.num_imported_funcs;
  out->funcs.resize(module.functions.size());
  uint64_t budget = options.max_stack_map_words;
  for (uint32_t i = 0; i < module.functions.size(); ++i) {
    FunctionCompiler compiler(module, types, options, i, out->funcs[i]);
    compiler.setBudget(&budget);
    compiler.run();
    if (compiler.budget_exceeded_) {
      out->error = fmt::format("func {}: stack maps exceed {} words", module.num_imported_funcs + i,
                               options.max_stack_map_words);
      out->funcs.clear();
      break;
    }
  }
  return out;
}

}  // namespace slabfuzz
