// The body builder: instruction emission with operand-stack, frame and local
// tracking (see body_gen.h), and the scaffolding every body shares (entry
// prologue, loop latches, settling a frame's results, logging).
#include <algorithm>

#include "generators/gcgen/body_gen.h"

namespace slabfuzz::gcgen {

BodyGen::BodyGen(ModuleCtx& ctx, uint32_t func_index, bool entry)
    : ctx_(ctx),
      func_index_(func_index),
      entry_(entry),
      f_(ctx.m.functions[func_index - ctx.m.num_imported_funcs]) {
  const FuncType& sig = ctx.tm.sig(ctx.m.func_types[func_index]);
  locals_ = sig.params;
  num_params_ = static_cast<uint32_t>(sig.params.size());
  nonnull_.assign(locals_.size(), 0);
  reserved_.assign(locals_.size(), 0);
  results_ = sig.results;
}

void BodyGen::emit(Opcode op, uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  Instr ins;
  ins.op = op;
  // Not a byte offset (there are no bytes yet): the instruction's position,
  // so that diagnostics about a generated module still point somewhere.
  ins.offset = static_cast<uint32_t>(f_.body.size());
  ins.a = a;
  ins.b = b;
  ins.c = c;
  ins.d = d;
  f_.body.push_back(ins);
}

void BodyGen::open(Opcode op, std::optional<ValType> result) {
  if (op == Opcode::If) pop();
  const auto at = static_cast<uint32_t>(f_.body.size());
  if (result) {
    emit(op, static_cast<uint32_t>(BlockTypeKind::Value), result->bits());
  } else {
    emit(op, static_cast<uint32_t>(BlockTypeKind::Empty));
  }
  ctrls_.push_back({op, result, -1, stack_.size(), at, nonnull_});
  if (op == Opcode::Loop) ++loop_depth_;
}

void BodyGen::openTyped(Opcode op, uint32_t type) {
  if (op == Opcode::If) pop();
  const auto at = static_cast<uint32_t>(f_.body.size());
  emit(op, static_cast<uint32_t>(BlockTypeKind::TypeIndex), type);
  const size_t params = ctx_.tm.sig(type).params.size();
  // The parameters stay on the stack, as the frame's own values.
  for (size_t i = 0; i < params; ++i) stack_[stack_.size() - params + i] = ctx_.tm.sig(type).params[i];
  ctrls_.push_back(
      {op, std::nullopt, static_cast<int32_t>(type), stack_.size() - params, at, nonnull_});
  if (op == Opcode::Loop) ++loop_depth_;
}

// As the decoder: the If's d names its Else.
void BodyGen::elseBranch() {
  Ctrl& ctrl = ctrls_.back();
  f_.body[ctrl.at].d = static_cast<uint32_t>(f_.body.size());
  emit(Opcode::Else);
  stack_.resize(ctrl.height);
  // The else arm starts with the parameters again.
  if (ctrl.type >= 0) {
    for (ValType p : ctx_.tm.sig(static_cast<uint32_t>(ctrl.type)).params) push(p);
  }
  nonnull_ = ctrl.nonnull;
  nonnull_.resize(locals_.size(), 0);  // locals declared since are unknown
}

// As the decoder: the opener's c names its End, and an If without an Else
// has d == c.
void BodyGen::close() {
  Ctrl ctrl = std::move(ctrls_.back());
  ctrls_.pop_back();
  const auto end = static_cast<uint32_t>(f_.body.size());
  emit(Opcode::End);
  Instr& opener = f_.body[ctrl.at];
  opener.c = end;
  if (opener.op == Opcode::If && opener.d == 0) opener.d = end;
  stack_.resize(ctrl.height);
  if (ctrl.result) push(*ctrl.result);
  if (ctrl.type >= 0) {
    for (ValType r : ctx_.tm.sig(static_cast<uint32_t>(ctrl.type)).results) push(r);
  }
  if (ctrl.op == Opcode::Loop) --loop_depth_;
  // Sets inside the frame may not have run: only what held on entry holds.
  nonnull_ = std::move(ctrl.nonnull);
  nonnull_.resize(locals_.size(), 0);  // locals declared since are unknown
}

std::vector<ValType> BodyGen::labelTypes(size_t i) const {
  if (i == 0) return results_;
  const Ctrl& ctrl = ctrls_[i];
  if (ctrl.type >= 0) {
    const FuncType& ft = ctx_.tm.sig(static_cast<uint32_t>(ctrl.type));
    return ctrl.op == Opcode::Loop ? ft.params : ft.results;
  }
  if (ctrl.op == Opcode::Loop || !ctrl.result) return {};
  return {*ctrl.result};
}

uint32_t BodyGen::newLocal(ValType t, bool keep_non_null) {
  if (t.isRef() && !keep_non_null) t = t.asNullable(true);
  f_.locals.push_back(t);
  locals_.push_back(t);
  nonnull_.push_back(0);
  reserved_.push_back(0);
  return static_cast<uint32_t>(locals_.size() - 1);
}

uint32_t BodyGen::temp(ValType t) {
  const ValType want = t.isRef() ? t.asNullable(true) : t;
  for (uint32_t i = num_params_; i < numLocals(); ++i) {
    if (locals_[i] == want && !isReserved(i)) return i;
  }
  return newLocal(want);
}

void BodyGen::localGet(uint32_t i) {
  emit(Opcode::LocalGet, i);
  push(locals_[i]);
}

void BodyGen::localSet(uint32_t i) {
  ValType v = pop();
  emit(Opcode::LocalSet, i);
  if (v.isRef()) noteRefSet(i, v);
}

void BodyGen::localTee(uint32_t i) {
  ValType v = pop();
  emit(Opcode::LocalTee, i);
  if (v.isRef()) noteRefSet(i, v);
  push(locals_[i]);  // local.tee's result has the local's type (spec 3.4.x)
}

// A set of a possibly-null value may run before any enclosing frame ends,
// so no frame's end state can claim the local non-null any more.
void BodyGen::noteRefSet(uint32_t i, ValType v) {
  nonnull_[i] = v.nullable() ? 0 : 1;
  if (!v.nullable()) return;
  for (Ctrl& ctrl : ctrls_) {
    if (i < ctrl.nonnull.size()) ctrl.nonnull[i] = 0;
  }
}

bool BodyGen::knownNonNull(uint32_t i) const {
  return locals_[i].isRef() && (!locals_[i].nullable() || nonnull_[i] != 0);
}

void BodyGen::call(uint32_t func) {
  const FuncType& sig = ctx_.tm.sig(ctx_.m.func_types[func]);
  for (size_t i = 0; i < sig.params.size(); ++i) pop();
  emit(Opcode::Call, func);
  for (ValType r : sig.results) push(r);
}

std::vector<uint32_t> BodyGen::directCallees() const {
  std::vector<uint32_t> out;
  for (uint32_t f : ctx_.callable) {
    if (f >= kNumImports && (f > func_index_ || entry_)) out.push_back(f);
  }
  return out;
}

void BodyGen::minArrayLen(uint32_t a, uint32_t b) {
  // select(len a, len b, len a < len b)
  for (uint32_t l : {a, b, a, b}) {
    localGet(l);
    emit(Opcode::ArrayLen);
    pop();
    push(ValType::i32());
  }
  emit(Opcode::I32LtU);
  pop();
  emit(Opcode::Select);
  pop();
  pop();
}

void BodyGen::logValue(ValType t) {
  switch (t.kind()) {
    case ValKind::I32: call(kLogI32); return;
    case ValKind::I64: call(kLogI64); return;
    case ValKind::F32: call(kLogF32); return;
    case ValKind::F64: call(kLogF64); return;
    default: break;
  }
  HeapType top = ctx_.tm.top(t.heapType());
  if (top == HeapType::abstract(HeapType::Func)) {
    call(kLogFuncref);
  } else if (top == HeapType::abstract(HeapType::Extern)) {
    call(kLogExternref);
  } else {
    call(kLogAnyref);
  }
}

void BodyGen::consumeTop() {
  const ValType t = top();
  // Mostly a log line (a wrong value changes the log); sometimes a local of
  // the value's type, which later rows may read back.
  if (c().oneIn(3)) {
    for (uint32_t i = 0; i < numLocals(); ++i) {
      if (locals_[i] == (t.isRef() ? t.asNullable(true) : t) && !isReserved(i) &&
          !(knownNonNull(i) && t.isRef() && t.nullable())) {
        localSet(i);
        countRow("consume:local.set");
        return;
      }
    }
    if (canAddLocal()) {
      localSet(newLocal(t));
      countRow("consume:local.set");
      return;
    }
  }
  logValue(t);
  countRow("consume:log");
}

void BodyGen::settle(std::span<const ValType> results) {
  if (depthAvail() == results.size()) {
    bool match = true;
    for (size_t i = 0; i < results.size() && match; ++i) {
      match = ctx_.tm.isSubtype(top(results.size() - 1 - i), results[i]);
    }
    if (match) return;
  }
  while (depthAvail() > 0) consumeTop();
  for (ValType r : results) makeValue(r);
}

void BodyGen::loopLatch(uint32_t counter, uint32_t bound) {
  // counter += 1; continue while counter < bound and the budget lasts
  localGet(counter);
  constI32(1);
  emit(Opcode::I32Add);
  pop();
  localTee(counter);
  constI32(static_cast<int32_t>(bound));
  emit(Opcode::I32LtU);
  pop();
  emit(Opcode::GlobalGet, kBudgetGlobal);
  push(ValType::i32());
  constI32(0);
  emit(Opcode::I32GtS);
  pop();
  emit(Opcode::I32And);
  pop();
  // budget -= 1 (every iteration of every loop draws from it)
  emit(Opcode::GlobalGet, kBudgetGlobal);
  constI32(1);
  emit(Opcode::I32Sub);
  emit(Opcode::GlobalSet, kBudgetGlobal);
  pop();
  emit(Opcode::BrIf, 0);
  pop();
  // br_if leaves its operands at the label's types (a typed loop's
  // parameters), not their own.
  const std::vector<ValType> lt = labelTypes(ctrls_.size() - 1);
  for (size_t i = 0; i < lt.size(); ++i) stack_[stack_.size() - lt.size() + i] = lt[i];
}

// Slots of kFuncTable whose function's results fit this function's (never
// an entry function: those are not in the table, and would reset the
// budget).
std::vector<uint32_t> BodyGen::tailSlots() const {
  auto fits = [&](uint32_t f) {
    const auto& rs = ctx_.tm.sig(ctx_.m.func_types[f]).results;
    if (rs.size() != results_.size()) return false;
    for (size_t i = 0; i < rs.size(); ++i) {
      if (!ctx_.tm.isSubtype(rs[i], results_[i])) return false;
    }
    return true;
  };
  std::vector<uint32_t> slots;
  for (uint32_t i = 0; i < ctx_.table_funcs.size(); ++i) {
    if (fits(ctx_.table_funcs[i])) slots.push_back(i);
  }
  return slots;
}

// return_call, return_call_indirect or return_call_ref (of a ref.func, or
// of a table.get cast to the slot's type, which holds: kFuncTable is never
// written) to the function in one of `slots`, its arguments made here.
void BodyGen::emitTailCall(std::span<const uint32_t> slots) {
  const uint32_t i = slots[c().upTo(static_cast<uint32_t>(slots.size() - 1))];
  const uint32_t f = ctx_.table_funcs[i];
  const uint32_t x = ctx_.m.func_types[f];
  const size_t params = ctx_.tm.sig(x).params.size();
  for (ValType p : ctx_.tm.sig(x).params) makeValue(p, 1);
  switch (c().upTo(2)) {
    case 0:
      emit(Opcode::ReturnCall, f);
      countRow("return_call");
      break;
    case 1:
      constI32(static_cast<int32_t>(i));
      emit(Opcode::ReturnCallIndirect, x, kFuncTable);
      pop();
      countRow("return_call_indirect");
      break;
    default:
      if (c().flip()) {
        emit(Opcode::RefFunc, f);
      } else {
        constI32(static_cast<int32_t>(i));
        emit(Opcode::TableGet, kFuncTable);
        emit(Opcode::RefCast, HeapType::index(x).bits());
        pop();
        countRow("table.get");
      }
      emit(Opcode::ReturnCallRef, x);
      countRow("return_call_ref");
      break;
  }
  for (size_t k = 0; k < params; ++k) pop();
  if (loop_depth_ > 0) countShape("return_call*-in-loop");
}

// A tail call in tail position, when one fits and the bytes say so.
bool BodyGen::tailCall() {
  if (!c().oneIn(4)) return false;
  const std::vector<uint32_t> slots = tailSlots();
  if (slots.empty()) return false;
  settle({});
  emitTailCall(slots);
  return true;
}

void BodyGen::run() {
  ctrls_.push_back({Opcode::Nop, std::nullopt, -1, 0, 0, nonnull_});
  if (entry_) {
    // Each export call starts with a full budget.
    constI32(static_cast<int32_t>(ctx_.p.budget));
    emit(Opcode::GlobalSet, kBudgetGlobal);
    pop();
  } else {
    // Every call draws from the budget (recursion through call_ref is
    // possible, so calls need a bound too). An exhausted budget returns at
    // once with leaf values (no calls, no loops): the run goes on, and the
    // exports' results stay comparable, where a trap would end the call.
    emit(Opcode::GlobalGet, kBudgetGlobal);
    push(ValType::i32());
    constI32(0);
    emit(Opcode::I32LeS);
    pop();
    open(Opcode::If, std::nullopt);
    for (ValType r : results_) makeValue(r, ctx_.p.max_value_depth);
    emit(Opcode::Return);
    close();
    emit(Opcode::GlobalGet, kBudgetGlobal);
    push(ValType::i32());
    constI32(1);
    emit(Opcode::I32Sub);
    pop();
    emit(Opcode::GlobalSet, kBudgetGlobal);
    pop();
  }
  if (entry_ && ctx_.template_weight[0] > 0 && !c().oneIn(ctx_.template_weight[0] + 1)) {
    runSeedLoopTemplate(*this);
  }
  // Entry functions often start with one of the other favoured shapes too.
  if (entry_ && !c().oneIn(3)) {
    std::span<const uint32_t> w(ctx_.template_weight);
    const size_t k = c().weighted(w.subspan(1));
    if (k < kNumTemplates - 1) runTemplate(*this, static_cast<uint32_t>(k + 1));
  }
  statements(c().inRange(1, ctx_.p.max_block_statements));
  // A module with huge arrays has one at the end of its last entry
  // function, which runs after everything else (correct engines trap
  // there, and the run is inconclusive from then on).
  if (entry_ && ctx_.huge_arrays && func_index_ + 1 == ctx_.entry_first + ctx_.entries) {
    settle({});
    hugeArray(*this);
  }
  if (!tailCall()) settle(results_);
  emit(Opcode::End);
  ctrls_.pop_back();
}

}  // namespace slabfuzz::gcgen
