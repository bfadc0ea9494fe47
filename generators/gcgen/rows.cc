// The row table (CONVENTIONS.md rule 13): one row per instruction shape, each
// a predicate on the tracked operand stack and context, an emitter, and a
// weight. Swarm settings switch rows off per module. Rows that need operands
// below the top make them (BodyGen::makeValue), so the table stays small and
// every row fires often.
#include <algorithm>
#include <array>

#include "generators/gcgen/body_gen.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

struct Row {
  std::string_view name;
  uint32_t weight;
  bool (*pred)(const BodyGen&);
  void (*emit)(BodyGen&);
};

constexpr size_t kMaxStack = 4;

bool topIs(const BodyGen& g, ValType t) {
  return g.depthAvail() > 0 && g.top() == t;
}
bool topRef(const BodyGen& g) {
  return g.depthAvail() > 0 && g.top().isRef();
}
// The top is a reference to a concrete type of the kind asked for.
bool topConcrete(const BodyGen& g, CompositeKind k) {
  if (!topRef(g) || !g.top().heapType().isIndex()) return false;
  const uint32_t t = g.top().heapType().index();
  return g.tm().def(t).composite.kind == k;
}
bool topInAny(const BodyGen& g) {
  return topRef(g) && g.tm().top(g.top().heapType()) == HT::abstract(HT::Any);
}
bool roomToPush(const BodyGen& g) {
  return g.depthAvail() < kMaxStack && !g.full();
}
bool roomToNest(const BodyGen& g) {
  return g.depthAvail() == 0 && !g.full() && g.nesting() < g.ctx().p.max_nesting + 1;
}
bool roomForTemplate(const BodyGen& g) {
  return roomToNest(g) && g.nesting() + 2 <= g.ctx().p.max_nesting + 1;
}

ValType randomValueType(BodyGen& g) {
  switch (g.c().upTo(5)) {
    case 0: return ValType::i32();
    case 1: return ValType::i64();
    case 2: return ValType::ref(HT::abstract(HT::Any), true);
    case 3: return ValType::ref(HT::index(g.c().pick(g.tm().arrays())), g.c().flip());
    case 4: return ValType::ref(HT::index(g.c().pick(g.tm().structs())), g.c().flip());
    default: return ValType::ref(HT::abstract(HT::Eq), false);
  }
}

// Heap types in t's hierarchy that a cast or test may name.
std::vector<HeapType> castTargets(const BodyGen& g, HeapType from, bool sub_only) {
  std::vector<HeapType> out;
  const HeapType top = g.tm().top(from);
  auto consider = [&](HeapType h) {
    if (g.tm().top(h) != top) return;
    if (sub_only && !g.tm().isHeapSubtype(h, from)) return;
    out.push_back(h);
  };
  for (HT::Abstract a :
       {HT::Any, HT::Eq, HT::I31, HT::Struct, HT::Array, HT::None, HT::Func, HT::NoFunc}) {
    consider(HT::abstract(a));
  }
  for (uint32_t t : g.tm().structs()) consider(HT::index(t));
  for (uint32_t t : g.tm().arrays()) consider(HT::index(t));
  for (uint32_t t : g.tm().funcs()) consider(HT::index(t));
  return out;
}

bool isBottom(HeapType h) {
  return h.isAbstract() && (h.abstractKind() == HT::None || h.abstractKind() == HT::NoFunc ||
                            h.abstractKind() == HT::NoExtern);
}

void binop(BodyGen& g, std::span<const Opcode> ops, ValType t) {
  g.makeValue(t, 1);
  g.emit(ops[g.c().upTo(static_cast<uint32_t>(ops.size() - 1))]);
  g.pop();
  g.pop();
}

// A local to move the top into: a free one of a supertype, or a new one.
uint32_t localFor(BodyGen& g, ValType t) {
  std::vector<uint32_t> cands;
  for (uint32_t i = 0; i < g.numLocals(); ++i) {
    if (!g.isReserved(i) && g.tm().isSubtype(t, g.localType(i))) cands.push_back(i);
  }
  // A new local of a non-nullable type is sometimes declared so: rows then
  // read it only where the validator knows it set (BodyGen::readable).
  if (cands.empty() || (g.canAddLocal() && g.c().oneIn(3))) {
    return g.newLocal(t, t.isRef() && !t.nullable() && g.c().oneIn(2));
  }
  return cands[g.c().upTo(static_cast<uint32_t>(cands.size() - 1))];
}

// Most accesses through a nullable reference first make it non-null
// without a trap: local.set $t; block (result (ref T)) local.get $t;
// br_on_non_null 0; <a new T> end. (Some are left to trap on null: the
// engines' null checks are worth testing too, but traps should not end
// most export calls early.)
void guardNull(BodyGen& g) {
  if (!g.top().nullable() || isBottom(g.top().heapType()) || g.c().oneIn(8)) return;
  const ValType t = g.top();
  const ValType want = t.asNullable(false);
  const uint32_t tmp = g.temp(t);
  g.localSet(tmp);
  g.open(Opcode::Block, want);
  g.localGet(tmp);
  g.emit(Opcode::BrOnNonNull, 0);
  g.pop();
  g.makeValue(want, 1);
  g.close();
  g.countRow("br_on_non_null");
}

// Array index in bounds unless the array is empty: made % len.
void boundedIndex(BodyGen& g, uint32_t arr) {
  g.makeI32(1);
  g.localGet(arr);
  g.emit(Opcode::ArrayLen);
  g.pop();
  g.push(ValType::i32());
  g.emit(Opcode::I32RemU);
  g.pop();
}

// A slot of kFuncTable and a function type it holds a function of: the
// slot's function's, one of its declared supertypes, or (one time in four,
// so that guards fail too) any function type.
std::pair<uint32_t, uint32_t> tableSlotAndType(BodyGen& g, bool exact) {
  const auto& slots = g.ctx().table_funcs;
  const uint32_t i = g.c().upTo(static_cast<uint32_t>(slots.size() - 1));
  uint32_t x = g.ctx().m.func_types[slots[i]];
  if (!exact && g.c().oneIn(4)) return {i, g.c().pick(g.tm().funcs())};
  while (!g.tm().def(x).supertypes.empty() && g.c().oneIn(2)) x = g.tm().def(x).supertypes[0];
  return {i, x};
}

}  // namespace

// WAMR 4942: an array whose byte size overflows 32 bits (array.new,
// array.new_default, or array.new_data / array.new_elem from offset 0,
// whose segment bounds check fails first in a correct engine), then its
// length logged and its last element read (or written) and logged: a heap
// that wraps the size hands out a small slot that these overrun. Correct
// engines trap at the allocation (array too large, or out of bounds).
void hugeArray(BodyGen& g) {
  // Byte arrays cannot overflow (a length is 32 bits): others first.
  std::vector<uint32_t> wide;
  for (uint32_t t : g.tm().arrays()) {
    if (g.tm().fields(t)[0].type.kind() != ValKind::I8) wide.push_back(t);
  }
  const uint32_t a = wide.empty() ? g.c().pick(g.tm().arrays())
                                  : wide[g.c().upTo(static_cast<uint32_t>(wide.size() - 1))];
  const FieldType f = g.tm().fields(a)[0];
  const uint32_t len = g.hugeArrayLength(a);
  const bool from_elem = f.type.isRef() && g.ctx().array_elem_seg[a] >= 0;
  const bool from_data = !f.type.isRef() && g.ctx().data_len > 0;
  const uint32_t form = g.c().upTo(5);
  if (form == 0 && isDefaultable(f.type)) {
    g.constI32(static_cast<int32_t>(len));
    g.emit(Opcode::ArrayNewDefault, a);
    g.pop();
    g.countRow("array.new_default");
  } else if (form == 1 && (from_elem || from_data)) {
    g.constI32(0);
    g.constI32(static_cast<int32_t>(len));
    const Opcode op = from_elem ? Opcode::ArrayNewElem : Opcode::ArrayNewData;
    g.emit(op, a, from_elem ? static_cast<uint32_t>(g.ctx().array_elem_seg[a]) : 0);
    g.pop();
    g.pop();
    g.countRow(opcodeName(op));
  } else {
    g.makeValue(f.type.unpacked(), 1);
    g.constI32(static_cast<int32_t>(len));
    g.emit(Opcode::ArrayNew, a);
    g.pop();
    g.pop();
    g.countRow("array.new");
  }
  g.push(ValType::ref(HT::index(a), false));
  g.countShape("huge-array-length");
  const uint32_t tmp = g.temp(ValType::ref(HT::index(a), true));
  g.localTee(tmp);
  g.emit(Opcode::ArrayLen);
  g.pop();
  g.push(ValType::i32());
  g.logValue(ValType::i32());
  g.localGet(tmp);
  g.constI32(static_cast<int32_t>(len - 1));
  if (f.mut && g.c().flip()) {
    g.makeValue(f.type.unpacked(), 1);
    g.emit(Opcode::ArraySet, a);
    g.pop();
    g.pop();
    g.pop();
    g.countRow("array.set");
    g.localGet(tmp);
    g.constI32(static_cast<int32_t>(len - 1));
  }
  const Opcode get = f.type.isPacked() ? Opcode::ArrayGetU : Opcode::ArrayGet;
  g.emit(get, a);
  g.pop();
  g.pop();
  g.push(f.type.unpacked());
  g.countRow(opcodeName(get));
  g.logValue(g.top());
}

// call_indirect through kFuncTable, whose contents are known: the slot's
// function's type or one of its declared supertypes, so no trap.
void callIndirect(BodyGen& g) {
  const auto [i, x] = tableSlotAndType(g, true);
  const FuncType& sig = g.tm().sig(x);
  for (ValType p : sig.params) g.makeValue(p, 1);
  g.constI32(static_cast<int32_t>(i));
  g.emit(Opcode::CallIndirect, x, kFuncTable);
  g.pop();
  for (size_t k = 0; k < sig.params.size(); ++k) g.pop();
  for (ValType r : sig.results) g.push(r);
  g.countRow("call_indirect");
}

// args; (table.get $t i | call $table-get i); local.tee f; ref.test (ref
// ft); if (type ft) [args on the stack] local.get f; ref.cast (ref ft);
// call_ref ft else [args] log them, make results end. The typed if takes
// the arguments as its parameters, so the guard costs no temporaries.
void callRefThroughTable(BodyGen& g) {
  if (g.ctx().table_funcs.empty()) return;
  const auto [i, ft] = tableSlotAndType(g, false);
  const bool host = g.c().oneIn(3);
  const FuncType& sig = g.tm().sig(ft);
  for (ValType p : sig.params) g.makeValue(p, 1);
  g.constI32(static_cast<int32_t>(i));
  if (host) {
    g.call(kTableGetImport);
    g.countRow("host:table-get");
    g.countShape("host-table");
  } else {
    g.emit(Opcode::TableGet, g.c().flip() ? kHostTable : kFuncTable);
    g.pop();
    g.push(ValType::ref(HT::abstract(HT::Func), true));
    g.countRow("table.get");
  }
  const uint32_t f = g.temp(ValType::ref(HT::abstract(HT::Func), true));
  g.localTee(f);
  g.emit(Opcode::RefTest, HT::index(ft).bits());
  g.pop();
  g.push(ValType::i32());
  g.countRow("ref.test");
  g.openTyped(Opcode::If, ft);
  g.localGet(f);
  g.emit(Opcode::RefCast, HT::index(ft).bits());
  g.pop();
  g.countRow("ref.cast");
  g.emit(Opcode::CallRef, ft);
  for (size_t k = 0; k < sig.params.size(); ++k) g.pop();
  for (ValType r : sig.results) g.push(r);
  g.countRow("call_ref");
  g.countShape(host ? "call_ref:host-table" : "call_ref:table");
  g.elseBranch();
  g.settle(sig.results);
  g.close();
}

// call-export(-catch) of export 0 from a later entry function (see
// ModuleCtx::entry_first); false elsewhere.
bool callExport(BodyGen& g) {
  if (!g.isEntry() || g.funcIndex() == g.ctx().entry_first) return false;
  g.constI32(0);
  if (g.c().flip()) {
    g.call(kCallExportCatch);
    g.logValue(ValType::i32());
    g.countRow("host:call-export-catch");
  } else {
    g.constI32(static_cast<int32_t>(g.c().upTo(1)));
    g.call(kCallExport);
    g.countRow("host:call-export");
  }
  g.countShape("call-export");
  return true;
}

// table-set import: a function into a slot of the exported table.
void hostTableSet(BodyGen& g) {
  const auto& slots = g.ctx().table_funcs;
  if (slots.empty()) return;
  g.constI32(static_cast<int32_t>(g.c().upTo(static_cast<uint32_t>(slots.size() - 1))));
  g.makeValue(ValType::ref(HT::abstract(HT::Func), true), 1);
  g.call(kTableSetImport);
  g.countRow("host:table-set");
  g.countShape("host-table");
}

// A funcref of type (ref null ft) read from a field, made non-null without
// a trap: block (result (ref ft)) br_on_non_null 0; ref.func ...; end.
void nonNullFuncref(BodyGen& g, uint32_t ft) {
  const ValType want = ValType::ref(HT::index(ft), false);
  const uint32_t tmp = g.temp(ValType::ref(HT::index(ft), true));
  g.push(ValType::ref(HT::index(ft), true));
  g.localSet(tmp);
  g.open(Opcode::Block, want);
  g.localGet(tmp);
  g.emit(Opcode::BrOnNonNull, 0);
  g.pop();
  g.makeValue(want, g.ctx().p.max_value_depth);
  g.close();
  g.pop();  // the caller's call_ref consumes it
  g.countRow("br_on_non_null");
}

namespace {

const Row kRows[] = {
    {"value", 6, roomToPush, [](BodyGen& g) { g.makeValue(randomValueType(g)); }},
    {"log", 5, [](const BodyGen& g) { return g.depthAvail() > 0; },
     [](BodyGen& g) { g.logValue(g.top()); }},
    {"i32.binop", 5, [](const BodyGen& g) { return topIs(g, ValType::i32()); },
     [](BodyGen& g) {
       static constexpr Opcode kOps[] = {
           Opcode::I32Add, Opcode::I32Sub, Opcode::I32Mul,  Opcode::I32And,  Opcode::I32Or,
           Opcode::I32Xor, Opcode::I32Shl, Opcode::I32ShrU, Opcode::I32Rotl, Opcode::I32Eq,
           Opcode::I32Ne,  Opcode::I32LtU, Opcode::I32GtS};
       binop(g, kOps, ValType::i32());
       g.push(ValType::i32());
     }},
    {"i32.unop", 2, [](const BodyGen& g) { return topIs(g, ValType::i32()); },
     [](BodyGen& g) {
       static constexpr Opcode kOps[] = {Opcode::I32Eqz,      Opcode::I32Clz,
                                         Opcode::I32Ctz,      Opcode::I32Popcnt,
                                         Opcode::I32Extend8S, Opcode::I32Extend16S};
       g.emit(kOps[g.c().upTo(std::size(kOps) - 1)]);
     }},
    {"i64.binop", 3, [](const BodyGen& g) { return topIs(g, ValType::i64()); },
     [](BodyGen& g) {
       static constexpr Opcode kOps[] = {Opcode::I64Add, Opcode::I64Sub, Opcode::I64Mul,
                                         Opcode::I64And, Opcode::I64Xor, Opcode::I64ShrS};
       binop(g, kOps, ValType::i64());
       g.push(ValType::i64());
     }},
    {"i32.wrap_i64", 1, [](const BodyGen& g) { return topIs(g, ValType::i64()); },
     [](BodyGen& g) {
       g.emit(Opcode::I32WrapI64);
       g.pop();
       g.push(ValType::i32());
     }},
    {"ref.i31", 2, [](const BodyGen& g) { return topIs(g, ValType::i32()); },
     [](BodyGen& g) {
       g.emit(Opcode::RefI31);
       g.pop();
       g.push(ValType::ref(HT::abstract(HT::I31), false));
     }},
    {"local.set", 4, [](const BodyGen& g) { return g.depthAvail() > 0; },
     [](BodyGen& g) { g.localSet(localFor(g, g.top())); }},
    {"local.tee", 3, [](const BodyGen& g) { return g.depthAvail() > 0; },
     [](BodyGen& g) { g.localTee(localFor(g, g.top())); }},
    {"global.set", 2,
     [](const BodyGen& g) {
       if (g.depthAvail() == 0) return false;
       for (uint32_t i = 1; i < g.ctx().m.global_types.size(); ++i) {
         if (g.tm().isSubtype(g.top(), g.ctx().m.global_types[i].type)) return true;
       }
       return false;
     },
     [](BodyGen& g) {
       std::vector<uint32_t> cands;
       for (uint32_t i = 1; i < g.ctx().m.global_types.size(); ++i) {
         if (g.tm().isSubtype(g.top(), g.ctx().m.global_types[i].type)) cands.push_back(i);
       }
       g.emit(Opcode::GlobalSet, cands[g.c().upTo(static_cast<uint32_t>(cands.size() - 1))]);
       g.pop();
     }},
    {"struct.get", 5,
     [](const BodyGen& g) {
       return topConcrete(g, CompositeKind::Struct) &&
              !g.tm().fields(g.top().heapType().index()).empty();
     },
     [](BodyGen& g) {
       guardNull(g);
       const uint32_t s = g.top().heapType().index();
       const auto& fs = g.tm().fields(s);
       const uint32_t i = g.c().upTo(static_cast<uint32_t>(fs.size() - 1));
       const Opcode op = !fs[i].type.isPacked() ? Opcode::StructGet
                         : g.c().flip()         ? Opcode::StructGetS
                                                : Opcode::StructGetU;
       g.emit(op, s, i);
       g.pop();
       g.push(fs[i].type.unpacked());
     }},
    {"struct.set", 4,
     [](const BodyGen& g) {
       if (!topConcrete(g, CompositeKind::Struct)) return false;
       for (const FieldType& f : g.tm().fields(g.top().heapType().index())) {
         if (f.mut) return true;
       }
       return false;
     },
     [](BodyGen& g) {
       guardNull(g);
       const uint32_t s = g.top().heapType().index();
       const auto& fs = g.tm().fields(s);
       std::vector<uint32_t> muts;
       for (uint32_t i = 0; i < fs.size(); ++i) {
         if (fs[i].mut) muts.push_back(i);
       }
       const uint32_t i = muts[g.c().upTo(static_cast<uint32_t>(muts.size() - 1))];
       g.makeValue(fs[i].type.unpacked(), 1);
       g.emit(Opcode::StructSet, s, i);
       g.pop();
       g.pop();
     }},
    {"array.get", 4, [](const BodyGen& g) { return topConcrete(g, CompositeKind::Array); },
     [](BodyGen& g) {
       guardNull(g);
       const uint32_t a = g.top().heapType().index();
       const ValType elem = g.tm().fields(a)[0].type;
       // if (array.len) then the element at index % len else a made one:
       // an empty array is read without a trap.
       const uint32_t tmp = g.temp(g.top());
       g.localTee(tmp);
       g.emit(Opcode::ArrayLen);
       g.pop();
       g.push(ValType::i32());
       g.open(Opcode::If, elem.unpacked());
       g.localGet(tmp);
       boundedIndex(g, tmp);
       const Opcode op = !elem.isPacked() ? Opcode::ArrayGet
                         : g.c().flip()   ? Opcode::ArrayGetS
                                          : Opcode::ArrayGetU;
       g.emit(op, a);
       g.pop();
       g.pop();
       g.push(elem.unpacked());
       g.countRow(opcodeName(op));
       g.elseBranch();
       g.makeValue(elem.unpacked(), 1);
       g.close();
     }},
    {"array.set", 4,
     [](const BodyGen& g) {
       return topConcrete(g, CompositeKind::Array) &&
              g.tm().fields(g.top().heapType().index())[0].mut;
     },
     [](BodyGen& g) {
       guardNull(g);
       const uint32_t a = g.top().heapType().index();
       // Under if (array.len), so an empty array is skipped.
       const uint32_t tmp = g.temp(g.top());
       g.localTee(tmp);
       g.emit(Opcode::ArrayLen);
       g.pop();
       g.push(ValType::i32());
       g.open(Opcode::If, std::nullopt);
       g.localGet(tmp);
       boundedIndex(g, tmp);
       g.makeValue(g.tm().fields(a)[0].type.unpacked(), 1);
       g.emit(Opcode::ArraySet, a);
       g.pop();
       g.pop();
       g.pop();
       g.close();
     }},
    {"array.len", 2,
     [](const BodyGen& g) {
       return topRef(g) && g.tm().isHeapSubtype(g.top().heapType(), HT::abstract(HT::Array));
     },
     [](BodyGen& g) {
       guardNull(g);
       g.emit(Opcode::ArrayLen);
       g.pop();
       g.push(ValType::i32());
     }},
    {"array.fill", 2,
     [](const BodyGen& g) {
       return topConcrete(g, CompositeKind::Array) &&
              g.tm().fields(g.top().heapType().index())[0].mut;
     },
     [](BodyGen& g) {
       guardNull(g);
       const uint32_t a = g.top().heapType().index();
       const uint32_t tmp = g.temp(g.top());
       g.localTee(tmp);
       g.constI32(0);
       g.makeValue(g.tm().fields(a)[0].type.unpacked(), 1);
       g.localGet(tmp);
       g.emit(Opcode::ArrayLen);
       g.pop();
       g.push(ValType::i32());
       g.emit(Opcode::ArrayFill, a);
       for (int i = 0; i < 4; ++i) g.pop();
     }},
    {"array.copy", 2,
     [](const BodyGen& g) {
       return topConcrete(g, CompositeKind::Array) &&
              g.tm().fields(g.top().heapType().index())[0].mut;
     },
     [](BodyGen& g) {
       guardNull(g);
       const uint32_t dst = g.top().heapType().index();
       const ValType de = g.tm().fields(dst)[0].type;
       std::vector<uint32_t> srcs;
       for (uint32_t a : g.tm().arrays()) {
         if (g.tm().isSubtype(g.tm().fields(a)[0].type.unpacked(), de.unpacked()) &&
             (g.tm().fields(a)[0].type.isPacked() == de.isPacked()) &&
             (!de.isPacked() || g.tm().fields(a)[0].type == de)) {
           srcs.push_back(a);
         }
       }
       const uint32_t src =
           srcs.empty() ? dst : srcs[g.c().upTo(static_cast<uint32_t>(srcs.size() - 1))];
       const uint32_t d = g.temp(g.top());
       g.localTee(d);
       g.constI32(0);
       g.makeValue(ValType::ref(HT::index(src), false), 1);
       const uint32_t s = g.temp(ValType::ref(HT::index(src), true));
       g.localTee(s);
       g.constI32(0);
       g.minArrayLen(d, s);
       g.emit(Opcode::ArrayCopy, dst, src);
       for (int i = 0; i < 5; ++i) g.pop();
     }},
    {"ref.is_null", 2, topRef,
     [](BodyGen& g) {
       g.emit(Opcode::RefIsNull);
       g.pop();
       g.push(ValType::i32());
     }},
    {"ref.as_non_null", 1, [](const BodyGen& g) { return topRef(g) && g.top().nullable(); },
     [](BodyGen& g) {
       g.emit(Opcode::RefAsNonNull);
       g.push(g.pop().asNullable(false));
     }},
    {"ref.eq", 2,
     [](const BodyGen& g) {
       return topRef(g) && g.tm().isHeapSubtype(g.top().heapType(), HT::abstract(HT::Eq));
     },
     [](BodyGen& g) {
       g.makeValue(ValType::ref(HT::abstract(HT::Eq), true), 1);
       g.emit(Opcode::RefEq);
       g.pop();
       g.pop();
       g.push(ValType::i32());
     }},
    {"i31.get", 2,
     [](const BodyGen& g) {
       return topRef(g) && !g.top().nullable() &&
              g.tm().isHeapSubtype(g.top().heapType(), HT::abstract(HT::I31));
     },
     [](BodyGen& g) {
       g.emit(g.c().flip() ? Opcode::I31GetS : Opcode::I31GetU);
       g.pop();
       g.push(ValType::i32());
     }},
    {"ref.test", 3,
     [](const BodyGen& g) {
       return topRef(g) && g.tm().top(g.top().heapType()) != HT::abstract(HT::Extern);
     },
     [](BodyGen& g) {
       auto ts = castTargets(g, g.top().heapType(), false);
       const HeapType h = ts[g.c().upTo(static_cast<uint32_t>(ts.size() - 1))];
       g.emit(g.c().flip() ? Opcode::RefTestNull : Opcode::RefTest, h.bits());
       g.pop();
       g.push(ValType::i32());
     }},
    // ref.cast guarded by ref.test, so that a failing cast takes the other
    // arm instead of trapping: if (ref.test) then ref.cast else make one.
    {"ref.cast", 4,
     [](const BodyGen& g) {
       return topRef(g) && g.tm().top(g.top().heapType()) != HT::abstract(HT::Extern);
     },
     [](BodyGen& g) {
       auto ts = castTargets(g, g.top().heapType(), false);
       std::erase_if(ts, isBottom);
       const HeapType h = ts[g.c().upTo(static_cast<uint32_t>(ts.size() - 1))];
       const ValType want = ValType::ref(h, false);
       const uint32_t tmp = g.temp(g.top());
       g.localTee(tmp);
       g.emit(Opcode::RefTest, h.bits());
       g.pop();
       g.push(ValType::i32());
       g.open(Opcode::If, want);
       g.localGet(tmp);
       g.emit(Opcode::RefCast, h.bits());
       g.pop();
       g.push(want);
       g.elseBranch();
       g.makeValue(want, 1);
       g.close();
     }},
    {"br_on_null", 2,
     [](const BodyGen& g) {
       return topRef(g) && g.top().nullable() && g.nesting() <= g.ctx().p.max_nesting;
     },
     [](BodyGen& g) {
       const ValType t = g.top();
       const uint32_t tmp = g.temp(t);
       g.localSet(tmp);
       g.open(Opcode::Block, std::nullopt);
       g.localGet(tmp);
       g.emit(Opcode::BrOnNull, 0);
       g.push(g.pop().asNullable(false));
       g.consumeTop();
       g.close();
     }},
    {"br_on_non_null", 2,
     [](const BodyGen& g) {
       return topRef(g) && g.top().nullable() && g.nesting() <= g.ctx().p.max_nesting;
     },
     [](BodyGen& g) {
       const ValType t = g.top().asNullable(false);
       const uint32_t tmp = g.temp(t);
       g.localSet(tmp);
       g.open(Opcode::Block, t);
       g.localGet(tmp);
       g.emit(Opcode::BrOnNonNull, 0);
       g.pop();
       g.makeValue(t, 1);
       g.close();
     }},
    {"br_on_cast", 3,
     [](const BodyGen& g) {
       return topRef(g) && g.tm().top(g.top().heapType()) != HT::abstract(HT::Extern) &&
              g.nesting() <= g.ctx().p.max_nesting;
     },
     [](BodyGen& g) {
       const ValType from = g.top().asNullable(true);  // as the local reads back
       auto ts = castTargets(g, from.heapType(), true);
       const HeapType h = ts[g.c().upTo(static_cast<uint32_t>(ts.size() - 1))];
       const ValType to = ValType::ref(h, isBottom(h) || g.c().oneIn(3));
       const uint32_t tmp = g.temp(from);
       g.localSet(tmp);
       g.open(Opcode::Block, to);
       g.localGet(tmp);
       g.emit(Opcode::BrOnCast, 0, from.heapType().bits(), h.bits(),
              1u | (to.nullable() ? 2u : 0u));
       g.pop();
       g.push(to.nullable() ? from.asNullable(false) : from);
       g.consumeTop();
       g.makeValue(to, 1);
       g.close();
     }},
    {"br_on_cast_fail", 2,
     [](const BodyGen& g) {
       return topRef(g) && g.tm().top(g.top().heapType()) != HT::abstract(HT::Extern) &&
              g.nesting() <= g.ctx().p.max_nesting;
     },
     [](BodyGen& g) {
       const ValType from = g.top().asNullable(true);
       auto ts = castTargets(g, from.heapType(), true);
       const HeapType h = ts[g.c().upTo(static_cast<uint32_t>(ts.size() - 1))];
       const ValType to = ValType::ref(h, isBottom(h) || g.c().oneIn(3));
       const uint32_t tmp = g.temp(from);
       g.localSet(tmp);
       g.open(Opcode::Block, from);
       g.localGet(tmp);
       g.emit(Opcode::BrOnCastFail, 0, from.heapType().bits(), h.bits(),
              1u | (to.nullable() ? 2u : 0u));
       g.pop();
       g.push(to);  // the cast succeeded: the value at its new type
       g.consumeTop();
       g.makeValue(from, 1);
       g.close();
     }},
    {"extern.round_trip", 1, topInAny,
     [](BodyGen& g) {
       const bool nullable = g.top().nullable();
       g.emit(Opcode::ExternConvertAny);
       g.emit(Opcode::AnyConvertExtern);
       g.pop();
       g.push(ValType::ref(HT::abstract(HT::Any), nullable));
     }},
    {"select", 2, [](const BodyGen& g) { return g.depthAvail() > 0 && g.depthAvail() < kMaxStack; },
     [](BodyGen& g) {
       const ValType t = g.top();
       g.makeValue(t, 1);
       g.makeI32(1);
       g.emit(Opcode::SelectT, 1, t.bits());
       g.pop();
       g.pop();
       g.pop();
       g.push(t);
     }},
    {"br_if", 2, [](const BodyGen& g) { return topIs(g, ValType::i32()); },
     [](BodyGen& g) {
       // Forward branches only (to a block, an if or the function): a
       // branch back to a loop would bypass its counter.
       std::vector<size_t> labels;
       for (size_t i = 0; i < g.ctrls().size(); ++i) {
         if (g.ctrls()[i].op == Opcode::Loop) continue;
         auto lt = g.labelTypes(i);
         if (g.depthAvail() < lt.size() + 1) continue;
         bool ok = true;
         for (size_t j = 0; j < lt.size() && ok; ++j) {
           ok = g.tm().isSubtype(g.top(lt.size() - j), lt[j]);
         }
         if (ok) labels.push_back(i);
       }
       if (labels.empty()) {
         g.logValue(ValType::i32());
         return;
       }
       const size_t i = labels[g.c().upTo(static_cast<uint32_t>(labels.size() - 1))];
       g.emit(Opcode::BrIf, static_cast<uint32_t>(g.ctrls().size() - 1 - i));
       g.pop();
       // br_if leaves its operands at the label's types, not their own.
       const auto lt = g.labelTypes(i);
       for (size_t j = 0; j < lt.size(); ++j) g.pop();
       for (ValType t : lt) g.push(t);
     }},
    {"call", 3, roomToPush,
     [](BodyGen& g) {
       // Direct calls go to later functions only: the call graph is acyclic,
       // and only call_ref can recurse (bounded by the budget).
       const std::vector<uint32_t> defined = g.directCallees();
       if (defined.empty()) return;
       const uint32_t f = defined[g.c().upTo(static_cast<uint32_t>(defined.size() - 1))];
       for (ValType p : g.tm().sig(g.ctx().m.func_types[f]).params) g.makeValue(p, 1);
       g.call(f);
     }},
    {"call_ref", 3, roomToPush,
     [](BodyGen& g) {
       const uint32_t box = g.c().pick(g.tm().boxes());
       std::vector<uint32_t> fields;
       const auto& fs = g.tm().fields(box);
       for (uint32_t i = 0; i < fs.size(); ++i) {
         if (fs[i].type.isRef() && fs[i].type.heapType().isIndex() &&
             g.tm().isFunc(fs[i].type.heapType().index())) {
           fields.push_back(i);
         }
       }
       const uint32_t i = fields[g.c().upTo(static_cast<uint32_t>(fields.size() - 1))];
       const uint32_t ft = fs[i].type.heapType().index();
       const FuncType& sig = g.tm().sig(ft);
       for (ValType p : sig.params) g.makeValue(p, 1);
       g.makeValue(ValType::ref(HT::index(box), false), 1);
       g.emit(Opcode::StructGet, box, i);
       g.pop();
       if (fs[i].type.nullable()) nonNullFuncref(g, ft);
       g.emit(Opcode::CallRef, ft);
       for (size_t k = 0; k < sig.params.size(); ++k) g.pop();
       for (ValType r : sig.results) g.push(r);
       g.countShape("call_ref:struct-field");
     }},
    // Through a funcref table (kFuncTable or the exported one, through the
    // table-get import), guarded by ref.test; counts its own rows.
    {"call_ref.table", 2, roomToPush, [](BodyGen& g) { callRefThroughTable(g); }},
    // Through the funcref table, whose contents are known: the slot's
    // function's type or one of its declared supertypes, so no trap.
    {"call_indirect", 2,
     [](const BodyGen& g) { return roomToPush(g) && !g.ctx().table_funcs.empty(); },
     [](BodyGen& g) { callIndirect(g); }},
    // A tail call under an if (in loops too): if (cond) args return_call* end.
    {"return_call.if", 1, roomToNest,
     [](BodyGen& g) {
       const std::vector<uint32_t> slots = g.tailSlots();
       if (slots.empty()) return;
       g.makeI32(1);
       g.open(Opcode::If, std::nullopt);
       g.emitTailCall(slots);
       g.close();
     }},
    // Binaryen's host imports beside the logs: call-export(-catch) (entry
    // functions only) and table-set on the exported table.
    {"host:call-export", 1, [](const BodyGen& g) { return g.depthAvail() == 0 && !g.full(); },
     [](BodyGen& g) { callExport(g); }},
    {"host:table-set", 1, [](const BodyGen& g) { return g.depthAvail() == 0 && !g.full(); },
     [](BodyGen& g) { hostTableSet(g); }},
    {"table.get", 2, roomToPush,
     [](BodyGen& g) {
       g.makeI32(1);
       g.emit(Opcode::TableSize, kAnyTable);
       g.push(ValType::i32());
       g.emit(Opcode::I32RemU);
       g.pop();
       g.emit(Opcode::TableGet, kAnyTable);
       g.pop();
       g.push(ValType::ref(HT::abstract(HT::Any), true));
     }},
    {"table.set", 2, [](const BodyGen& g) { return g.depthAvail() == 0 && !g.full(); },
     [](BodyGen& g) {
       g.makeI32(1);
       g.emit(Opcode::TableSize, kAnyTable);
       g.push(ValType::i32());
       g.emit(Opcode::I32RemU);
       g.pop();
       g.makeValue(ValType::ref(HT::abstract(HT::Any), true), 1);
       g.emit(Opcode::TableSet, kAnyTable);
       g.pop();
       g.pop();
     }},
    {"table.size", 1, roomToPush,
     [](BodyGen& g) {
       g.emit(Opcode::TableSize, kAnyTable);
       g.push(ValType::i32());
     }},
    {"table.grow", 1, roomToPush,
     [](BodyGen& g) {
       g.makeValue(ValType::ref(HT::abstract(HT::Any), true), 1);
       g.constI32(static_cast<int32_t>(g.c().upTo(2)));
       g.emit(Opcode::TableGrow, kAnyTable);
       g.pop();
       g.pop();
       g.push(ValType::i32());
     }},
    // The call-ref import on an internal function that JS can call (no i64
    // and no non-nullable parameter: those throw before the call) and whose
    // parameters are numbers (null references would make most such calls
    // trap).
    {"call-ref-import", 1, [](const BodyGen& g) { return g.depthAvail() == 0 && !g.full(); },
     [](BodyGen& g) {
       std::vector<uint32_t> fs;
       for (uint32_t f : g.ctx().callable) {
         if (f < kNumImports) continue;
         bool ok = true;
         for (ValType p : g.tm().sig(g.ctx().m.func_types[f]).params) {
           ok = ok && (p == ValType::i32() || p == ValType::f32() || p == ValType::f64());
         }
         if (ok) fs.push_back(f);
       }
       if (fs.empty()) return;
       const uint32_t f = fs[g.c().upTo(static_cast<uint32_t>(fs.size() - 1))];
       g.emit(Opcode::RefFunc, f);
       g.push(ValType::ref(HT::index(g.ctx().m.func_types[f]), false));
       g.constI32(0);
       g.call(kCallRefImport);
     }},
    {"gc", 1, [](const BodyGen& g) { return !g.full(); }, [](BodyGen& g) { g.call(kGcImport); }},
    {"block", 3, roomToNest,
     [](BodyGen& g) {
       std::optional<ValType> r;
       if (g.c().flip()) r = randomValueType(g);
       g.open(Opcode::Block, r);
       g.statements(g.c().inRange(1, g.ctx().p.max_block_statements / 2));
       g.settle(r ? std::span<const ValType>(&*r, 1) : std::span<const ValType>());
       g.close();
     }},
    {"if", 3, roomToNest,
     [](BodyGen& g) {
       std::optional<ValType> r;
       if (g.c().flip()) r = randomValueType(g);
       auto rs = r ? std::span<const ValType>(&*r, 1) : std::span<const ValType>();
       g.makeI32(1);
       g.open(Opcode::If, r);
       g.statements(g.c().inRange(1, g.ctx().p.max_block_statements / 2));
       g.settle(rs);
       g.elseBranch();
       g.statements(g.c().upTo(g.ctx().p.max_block_statements / 2));
       g.settle(rs);
       g.close();
     }},
    {"loop", 3, roomToNest,
     [](BodyGen& g) {
       g.boundedLoop(g.c().inRange(1, g.ctx().p.max_loop_iterations), [&](uint32_t) {
         g.statements(g.c().inRange(1, g.ctx().p.max_block_statements / 2));
       });
     }},
    {"template:seed-loop", 2, roomForTemplate, [](BodyGen& g) { runSeedLoopTemplate(g); }},
    {"template:redefined-local", 2, roomForTemplate,
     [](BodyGen& g) { runRedefinedLocalTemplate(g); }},
    {"template:ref-through-select-and-blocks", 2, roomForTemplate,
     [](BodyGen& g) { runRefSelectBlocksTemplate(g); }},
    {"template:bulk-near-gc", 2, roomForTemplate, [](BodyGen& g) { runBulkNearGcTemplate(g); }},
    {"template:subtype-reads", 2, roomForTemplate, [](BodyGen& g) { runSubtypeReadsTemplate(g); }},
    {"template:block-params", 2, roomForTemplate, [](BodyGen& g) { runBlockParamsTemplate(g); }},
    {"template:cast-probe", 2, roomForTemplate, [](BodyGen& g) { runCastProbeTemplate(g); }},
    // Only in the modules the swarm draw lets have it (ModuleCtx::huge_arrays),
    // and in entry functions, which surely run.
    {"array.huge", 4,
     [](const BodyGen& g) {
       return g.ctx().huge_arrays && g.isEntry() && g.depthAvail() == 0 && !g.full();
     },
     [](BodyGen& g) { hugeArray(g); }},
    {"f32.binop", 2, [](const BodyGen& g) { return topIs(g, ValType::f32()); },
     [](BodyGen& g) {
       static constexpr Opcode kOps[] = {Opcode::F32Add,     Opcode::F32Sub, Opcode::F32Mul,
                                         Opcode::F32Div,     Opcode::F32Min, Opcode::F32Max,
                                         Opcode::F32Copysign};
       binop(g, kOps, ValType::f32());
       g.push(ValType::f32());
     }},
    {"f64.binop", 2, [](const BodyGen& g) { return topIs(g, ValType::f64()); },
     [](BodyGen& g) {
       static constexpr Opcode kOps[] = {Opcode::F64Add, Opcode::F64Sub, Opcode::F64Mul,
                                         Opcode::F64Div, Opcode::F64Min, Opcode::F64Max};
       binop(g, kOps, ValType::f64());
       g.push(ValType::f64());
     }},
    {"f32.unop", 1, [](const BodyGen& g) { return topIs(g, ValType::f32()); },
     [](BodyGen& g) {
       static constexpr Opcode kOps[] = {Opcode::F32Neg, Opcode::F32Abs, Opcode::F32Sqrt,
                                         Opcode::F32Floor, Opcode::F32Nearest};
       g.emit(kOps[g.c().upTo(std::size(kOps) - 1)]);
     }},
    // Numbers between i32, f32 and f64 (no trapping truncations: the
    // saturating ones).
    {"f.convert", 2,
     [](const BodyGen& g) {
       return topIs(g, ValType::i32()) || topIs(g, ValType::f32()) || topIs(g, ValType::f64());
     },
     [](BodyGen& g) {
       const ValType t = g.pop();
       Opcode op;
       ValType r;
       if (t == ValType::i32()) {
         static constexpr Opcode kOps[] = {Opcode::F32ConvertI32S, Opcode::F32ConvertI32U,
                                           Opcode::F64ConvertI32S, Opcode::F64ConvertI32U};
         op = kOps[g.c().upTo(3)];
         r = op == Opcode::F32ConvertI32S || op == Opcode::F32ConvertI32U ? ValType::f32()
                                                                          : ValType::f64();
       } else if (t == ValType::f32()) {
         static constexpr Opcode kOps[] = {Opcode::F64PromoteF32, Opcode::I32TruncSatF32S,
                                           Opcode::I32TruncSatF32U};
         op = kOps[g.c().upTo(2)];
         r = op == Opcode::F64PromoteF32 ? ValType::f64() : ValType::i32();
       } else {
         static constexpr Opcode kOps[] = {Opcode::F32DemoteF64, Opcode::I32TruncSatF64S,
                                           Opcode::I64TruncSatF64U};
         op = kOps[g.c().upTo(2)];
         r = op == Opcode::F32DemoteF64      ? ValType::f32()
             : op == Opcode::I32TruncSatF64S ? ValType::i32()
                                             : ValType::i64();
       }
       g.emit(op);
       g.push(r);
     }},
    // A switch: block block block (i32) br_table 0 1 2 end log end log end,
    // each arm logging which way it went.
    {"br_table", 2,
     [](const BodyGen& g) {
       return topIs(g, ValType::i32()) && g.depthAvail() == 1 &&
              g.nesting() + 2 <= g.ctx().p.max_nesting + 1;
     },
     [](BodyGen& g) {
       const uint32_t arms = g.c().inRange(1, 3);
       const uint32_t sel = g.temp(ValType::i32());
       g.localSet(sel);
       g.open(Opcode::Block, std::nullopt);
       for (uint32_t i = 0; i < arms; ++i) g.open(Opcode::Block, std::nullopt);
       g.localGet(sel);
       std::vector<uint32_t> targets;
       const uint32_t n = g.c().inRange(1, 4);
       for (uint32_t i = 0; i < n; ++i) targets.push_back(g.c().upTo(arms));
       const uint32_t first = g.addExtra(targets);
       g.emit(Opcode::BrTable, first, n, g.c().upTo(arms));
       g.pop();
       for (uint32_t i = 0; i < arms; ++i) {
         g.close();
         g.constI32(static_cast<int32_t>(100 + i));
         g.logValue(ValType::i32());
         if (i + 1 < arms && g.c().oneIn(3)) g.statements(1);
         g.settle({});
       }
       g.close();
     }},
};

}  // namespace

size_t rowCount() {
  return std::size(kRows);
}

void drawSwarm(ModuleCtx& ctx) {
  ctx.row_enabled.assign(rowCount(), true);
  if (ctx.p.swarm_disable_one_in != 0) {
    for (size_t i = 0; i < rowCount(); ++i) {
      // The first row ("value") stays: every body needs some producer.
      if (i > 0 && ctx.c.oneIn(ctx.p.swarm_disable_one_in)) ctx.row_enabled[i] = false;
    }
  }
  // Favoured shapes: each template's weight at function entry (the
  // seed-loop one is drawn first, as in increment one).
  ctx.template_weight.assign(kNumTemplates, 0);
  for (uint32_t k = 0; k < kNumTemplates; ++k) {
    ctx.template_weight[k] = 3 - std::min<uint32_t>(3, ctx.c.upTo(4));
  }
  ctx.huge_arrays = ctx.p.huge_array_one_in != 0 && ctx.c.oneIn(ctx.p.huge_array_one_in);
}

void BodyGen::statements(uint32_t n) {
  std::array<uint32_t, std::size(kRows)> weights{};
  for (uint32_t k = 0; k < n && !full(); ++k) {
    for (size_t i = 0; i < std::size(kRows); ++i) {
      weights[i] = ctx_.row_enabled[i] && kRows[i].pred(*this) ? kRows[i].weight : 0;
    }
    const size_t i = c().weighted(weights);
    if (i >= std::size(kRows)) break;
    kRows[i].emit(*this);
    // Templates count themselves (they also run outside the table).
    if (!kRows[i].name.starts_with("template:") && !kRows[i].name.starts_with("host:") &&
        kRows[i].name != "call_indirect" && kRows[i].name != "call_ref.table" &&
        kRows[i].name != "return_call.if") {
      countRow(kRows[i].name);
    }
  }
}

}  // namespace slabfuzz::gcgen
