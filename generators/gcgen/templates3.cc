// The block-params template (issue 5): blocks and loops typed by a function
// type, so that values, references among them, enter a block as its
// parameters and go around a loop's back edge on the operand stack (a
// `br_if 0` carrying them), the stack's copy being their only one across a
// safepoint; a non-nullable local set inside the loop and read there.
// Owns: that template. Does not own: the builder's typed frames
// (BodyGen::openTyped) or the safepoint and read helpers (templates2.cc).
// Contract: valid by construction (the parameters are exactly on the stack
// at the opener and at the back edge), bounded (a counter and the budget),
// and observable (the parameters are logged or read and logged, the
// results consumed by a log or a local).
#include <algorithm>

#include "generators/gcgen/body_gen.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

// A function type with parameters, one with a reference parameter when
// there is one (type_model.cc adds one when the random types have none).
std::optional<uint32_t> chooseBlockType(BodyGen& g) {
  std::vector<uint32_t> with_ref, with_params;
  for (uint32_t t : g.tm().funcs()) {
    const FuncType& ft = g.tm().sig(t);
    if (ft.params.empty()) continue;
    with_params.push_back(t);
    if (std::any_of(ft.params.begin(), ft.params.end(), [](ValType v) { return v.isRef(); })) {
      with_ref.push_back(t);
    }
  }
  const auto& pool = !with_ref.empty() && !g.c().oneIn(4) ? with_ref : with_params;
  if (pool.empty()) return std::nullopt;
  return pool[g.c().upTo(static_cast<uint32_t>(pool.size() - 1))];
}

// The top parameter, when it is a non-null reference to a struct or array
// type: kept on the stack, and read (through a non-nullable local, set
// here) and logged.
void readTopParam(BodyGen& g) {
  const ValType t = g.top();
  if (!t.isRef() || t.nullable() || !t.heapType().isIndex() ||
      g.tm().isFunc(t.heapType().index()) || !g.canAddLocal()) {
    return;
  }
  const uint32_t x = g.newLocal(t, true);
  g.reserve(x);
  g.localTee(x);
  g.countRow("local.tee");
  g.localGet(x);
  readAndLog(g, t.heapType().index());
}

}  // namespace

void runBlockParamsTemplate(BodyGen& g) {
  const std::optional<uint32_t> x = chooseBlockType(g);
  if (!x) return;
  const FuncType sig = g.tm().sig(*x);  // a copy: the body adds locals, not types
  if (g.c().flip()) {
    // loop (type x): params around the back edge.
    const uint32_t counter = g.newLocal(ValType::i32());
    g.reserve(counter);
    g.constI32(0);
    g.localSet(counter);
    for (ValType p : sig.params) g.makeValue(p, 1);
    g.openTyped(Opcode::Loop, *x);
    readTopParam(g);
    templateSafepoint(g);  // the parameters are on the stack across it
    // Sometimes a new value for the top parameter (the old one logged).
    if (g.c().flip()) {
      const ValType p = sig.params.back();
      g.consumeTop();
      g.makeValue(p, 1);
    }
    const uint32_t bound = g.c().inRange(1, std::max<uint32_t>(1, g.ctx().p.max_loop_iterations));
    g.loopLatch(counter, bound);
    g.settle(sig.results);
    g.close();
  } else {
    // block (type x): params in, a br_if carrying the results out.
    for (ValType p : sig.params) g.makeValue(p, 1);
    g.openTyped(Opcode::Block, *x);
    readTopParam(g);
    templateSafepoint(g);
    g.settle(sig.results);
    if (g.c().flip()) {
      g.makeI32(1);
      g.emit(Opcode::BrIf, 0);
      g.pop();
      g.countRow("br_if");
      g.settle(sig.results);
    }
    g.close();
  }
  g.settle({});
  g.ctx().stats.templates["block-params"]++;
}

}  // namespace slabfuzz::gcgen
