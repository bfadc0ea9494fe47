// The favoured shapes beside the seed loop (issue 5), each a template that
// counts itself in GenStats::templates:
// - redefined-local: a local redefined while its older value is still on the
//   operand stack across a call or an allocation (wasmtime 13449), the old
//   value then read and logged;
// - ref-through-select-and-blocks: references through a typed select, block
//   results, br_if values and br_on_null/_non_null results across a
//   safepoint (wasmtime 12862), then read;
// - bulk-near-gc: array.new_elem/_data, array.init_elem/_data, array.fill and
//   array.copy on reference and numeric arrays in a loop with allocations
//   and `gc` calls around them (wasmtime 12935/12936, 13450);
// - subtype-reads: a subtype's object read through its supertype's fields,
//   i31 values in eqref/anyref slots, extern/any round trips.
// Every template is valid by construction, runs no unbounded loop, and
// traps only where a row would (reads are in bounds, casts are known to
// hold).
#include <algorithm>

#include "generators/gcgen/body_gen.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

uint32_t byteSize(ValType t) {
  switch (t.kind()) {
    case ValKind::I8: return 1;
    case ValKind::I16: return 2;
    case ValKind::I64:
    case ValKind::F64: return 8;
    case ValKind::V128: return 16;
    default: return 4;
  }
}

uint32_t pickOf(BodyGen& g, const std::vector<uint32_t>& v) {
  return v[g.c().upTo(static_cast<uint32_t>(v.size() - 1))];
}

// A collection, an allocation kept observable, or a call to a later
// function: a point where a collector may move or free what is not rooted.
void safepoint(BodyGen& g) {
  switch (g.c().upTo(2)) {
    case 0: {
      const std::vector<uint32_t> later = g.directCallees();
      if (!later.empty()) {
        const uint32_t f = pickOf(g, later);
        for (ValType p : g.tm().sig(g.ctx().m.func_types[f]).params) g.makeValue(p, 1);
        g.call(f);
        g.countRow("call");
        // The results, logged (the values below stay where they are).
        const auto& rs = g.tm().sig(g.ctx().m.func_types[f]).results;
        for (size_t i = 0; i < rs.size(); ++i) g.logValue(g.top());
        break;
      }
      [[fallthrough]];
    }
    case 1:
      g.call(kGcImport);
      g.countRow("gc");
      break;
    default: {
      const uint32_t s = g.c().pick(g.tm().structs());
      g.makeValue(ValType::ref(HT::index(s), false), 1);
      g.logValue(g.top());
      break;
    }
  }
}

}  // namespace

void templateSafepoint(BodyGen& g) {
  safepoint(g);
}

// Reads something of the (ref [null] t) on top (t a struct or array type)
// and logs it; arrays are read at an index taken modulo their length
// (guarded against the empty array).
void readAndLog(BodyGen& g, uint32_t t) {
  const auto& fs = g.tm().fields(t);
  if (g.tm().isStruct(t)) {
    if (fs.empty()) {
      g.emit(Opcode::RefIsNull);
      g.pop();
      g.push(ValType::i32());
      g.logValue(ValType::i32());
      return;
    }
    const uint32_t i = g.c().upTo(static_cast<uint32_t>(fs.size() - 1));
    const Opcode op = fs[i].type.isPacked() ? Opcode::StructGetS : Opcode::StructGet;
    g.emit(op, t, i);
    g.pop();
    g.push(fs[i].type.unpacked());
    g.countRow(opcodeName(op));
    g.logValue(g.top());
    return;
  }
  const uint32_t tmp = g.temp(ValType::ref(HT::index(t), true));
  g.localTee(tmp);
  g.emit(Opcode::ArrayLen);
  g.pop();
  g.push(ValType::i32());
  g.open(Opcode::If, std::nullopt);
  g.localGet(tmp);
  g.constI32(static_cast<int32_t>(g.c().upTo(7)));
  g.localGet(tmp);
  g.emit(Opcode::ArrayLen);
  g.pop();
  g.push(ValType::i32());
  g.emit(Opcode::I32RemU);
  g.pop();
  const Opcode op = fs[0].type.isPacked() ? Opcode::ArrayGetU : Opcode::ArrayGet;
  g.emit(op, t);
  g.pop();
  g.pop();
  g.push(fs[0].type.unpacked());
  g.countRow(opcodeName(op));
  g.logValue(g.top());
  g.close();
}

namespace {

uint32_t concreteAggregate(BodyGen& g) {
  const bool s = g.tm().arrays().empty() || (!g.tm().structs().empty() && g.c().flip());
  return s ? g.c().pick(g.tm().structs()) : g.c().pick(g.tm().arrays());
}

}  // namespace

namespace {

// A call while values below it stay on the operand stack: the `gc` import
// most often (it collects in every slab configuration), else a direct call
// to a later function, call_indirect or a guarded call_ref through a table
// (which collect when the callee allocates under a zeal-like schedule).
// Results are logged, so the stack is as before.
void callSafepoint(BodyGen& g) {
  const size_t before = g.depthAvail();
  switch (g.c().upTo(4)) {
    case 0:
    case 1: break;
    case 2: {
      const std::vector<uint32_t> later = g.directCallees();
      if (later.empty()) break;
      const uint32_t f = pickOf(g, later);
      for (ValType p : g.tm().sig(g.ctx().m.func_types[f]).params) g.makeValue(p, 1);
      g.call(f);
      g.countRow("call");
      while (g.depthAvail() > before) g.logValue(g.top());
      return;
    }
    case 3:
      if (g.ctx().table_funcs.empty()) break;
      callIndirect(g);
      while (g.depthAvail() > before) g.logValue(g.top());
      return;
    default:
      if (g.ctx().table_funcs.empty()) break;
      callRefThroughTable(g);
      while (g.depthAvail() > before) g.logValue(g.top());
      return;
  }
  g.call(kGcImport);
  g.countRow("gc");
}

}  // namespace

// wasmtime 13449: `local.get $x` leaves a lazy read of $x on the operand
// stack; a `local.set $x` while it is there makes the compiler copy the old
// value aside, and that copy must be in the stack maps at the next call.
// The new value therefore comes without an allocation or a call in between
// (those would materialise the read first): another local's object, or
// null. The old object's only copy is the one on the stack, so a missing
// root frees it at the call, and the read after it finds out.
void runRedefinedLocalTemplate(BodyGen& g) {
  const uint32_t t = concreteAggregate(g);
  const ValType v = ValType::ref(HT::index(t), false);
  const uint32_t leaf = g.ctx().p.max_value_depth;  // an allocation of exactly t
  // Non-nullable half the time: set here, before every read below.
  const bool non_null = g.c().flip();
  const uint32_t x = g.newLocal(v, non_null);
  g.reserve(x);
  const uint32_t y = g.newLocal(v, non_null);
  g.reserve(y);
  g.countShape("redefined-local");
  auto body = [&] {
    g.makeValue(v, leaf);  // the only copy of its object, in x
    g.localSet(x);
    const bool lazy = !g.c().oneIn(4);
    if (!lazy) {
      // The older form: the redefinition after a safepoint or an allocation.
      g.localGet(x);
      if (g.c().flip()) safepoint(g);
      g.makeValue(v, 1);
    } else {
      // y's object first, so nothing allocates between the read and the set.
      const bool to_null = !non_null && g.c().oneIn(4);
      if (!to_null) {
        g.makeValue(v, leaf);
        g.localSet(y);
      }
      g.localGet(x);  // the old value, left on the stack
      if (to_null) {
        g.emit(Opcode::RefNull, HT::index(t).bits());
        g.push(v.asNullable(true));
      } else {
        g.localGet(y);
      }
    }
    const bool tee = g.c().flip();
    if (tee) {
      g.localTee(x);
    } else {
      g.localSet(x);
    }
    if (lazy) {
      g.countShape("redefined-local-at-call");
      if (tee) g.logValue(g.top());  // a call already (a log import)
      callSafepoint(g);
    } else {
      if (tee) g.logValue(g.top());
      safepoint(g);
    }
    readAndLog(g, t);  // the old value, read after the redefinition
    g.localGet(x);
    if (g.knownNonNull(x)) {
      readAndLog(g, t);
    } else {
      g.emit(Opcode::RefIsNull);
      g.pop();
      g.push(ValType::i32());
      g.logValue(ValType::i32());
    }
  };
  if (g.c().flip()) {
    g.boundedLoop(g.c().inRange(1, std::max<uint32_t>(1, g.ctx().p.max_loop_iterations)),
                  [&](uint32_t) { body(); });
  } else {
    body();
  }
  g.settle({});
  g.ctx().stats.templates["redefined-local"]++;
}

void runRefSelectBlocksTemplate(BodyGen& g) {
  const uint32_t t = concreteAggregate(g);
  const ValType v = ValType::ref(HT::index(t), false);
  const ValType vn = ValType::ref(HT::index(t), true);
  const uint32_t n = g.newLocal(vn);
  g.reserve(n);
  // A nullable local, null or not.
  if (g.c().oneIn(3)) {
    g.emit(Opcode::RefNull, HT::index(t).bits());
    g.push(vn);
  } else {
    g.makeValue(v, 1);
  }
  g.localSet(n);
  // block (result (ref t)): a typed select, a br_if carrying it out, a
  // safepoint while it is on the stack.
  g.open(Opcode::Block, v);
  g.makeValue(v, 1);
  g.makeValue(v, 1);
  g.makeI32(1);
  g.emit(Opcode::SelectT, 1, v.bits());
  g.pop();
  g.pop();
  g.pop();
  g.push(v);
  g.countRow("select");
  g.makeI32(1);
  g.emit(Opcode::BrIf, 0);
  g.pop();
  g.countRow("br_if");
  safepoint(g);
  g.close();
  // block (result (ref t)): br_on_non_null of the nullable local, or a new
  // one. Often with a value beneath it in the block (WAMR 5099: a taken
  // branch must then move the reference into the label's slot): a number
  // that would be an object id if it were a reference (its low three bits
  // clear), or another object of the type.
  g.open(Opcode::Block, v);
  static constexpr uint32_t kBeneath[] = {1, 2, 1};  // nothing, a number, an object
  const size_t beneath = g.c().weighted(kBeneath);
  if (beneath == 1) {
    if (g.c().flip()) {
      g.constI32(static_cast<int32_t>((1 + g.c().upTo(0x0FFFFFFF)) << 3));
    } else {
      const uint64_t k = (uint64_t{1 + g.c().upTo(0xFFFFFF)} << 32 | g.c().upTo(0xFFFFFFFF)) & ~7ull;
      g.emit(Opcode::I64Const, static_cast<uint32_t>(k), static_cast<uint32_t>(k >> 32));
      g.push(ValType::i64());
    }
  } else if (beneath == 2) {
    g.makeValue(v, g.ctx().p.max_value_depth);
  }
  g.localGet(n);
  g.emit(Opcode::BrOnNonNull, 0);
  g.pop();
  g.countRow("br_on_non_null");
  if (beneath != 0) g.countShape("br_on_non_null-over-value");
  safepoint(g);
  while (g.depthAvail() > 0) g.consumeTop();
  g.makeValue(v, 1);
  g.close();
  if (beneath == 1) {
    // A result that is not the reference would be a number taken for an
    // object id. Kept in a local across a collection (whose marking
    // resolves it) and only tested for null, never dereferenced: the
    // reference heap, which does not trace, then runs on unharmed.
    const uint32_t r = g.temp(v.asNullable(true));
    g.localSet(r);
    g.call(kGcImport);
    g.countRow("gc");
    g.localGet(r);
    g.emit(Opcode::RefIsNull);
    g.pop();
    g.push(ValType::i32());
    g.logValue(ValType::i32());
    // Nothing else may read it: the local is cleared, and the reads below
    // take a new value.
    g.emit(Opcode::RefNull, HT::index(t).bits());
    g.push(v.asNullable(true));
    g.localSet(r);
    g.makeValue(v, 1);
  }
  // Both results on the stack across a safepoint, then read.
  safepoint(g);
  readAndLog(g, t);
  readAndLog(g, t);
  // block: br_on_null; the non-null value across a safepoint, then read.
  g.open(Opcode::Block, std::nullopt);
  g.localGet(n);
  g.emit(Opcode::BrOnNull, 0);
  g.push(g.pop().asNullable(false));
  g.countRow("br_on_null");
  safepoint(g);
  readAndLog(g, t);
  g.close();
  g.settle({});
  g.ctx().stats.templates["ref-through-select-and-blocks"]++;
}

void runBulkNearGcTemplate(BodyGen& g) {
  const ModuleCtx& ctx = g.ctx();
  std::vector<uint32_t> elem_arrays, data_arrays, mut_arrays;
  for (uint32_t a : g.tm().arrays()) {
    const FieldType& f = g.tm().fields(a)[0];
    if (ctx.array_elem_seg[a] >= 0) elem_arrays.push_back(a);
    if (!f.type.isRef() && ctx.data_len > 0) data_arrays.push_back(a);
    if (f.mut) mut_arrays.push_back(a);
  }
  const GenParams& p = g.ctx().p;
  const uint32_t iters = g.c().inRange(1, std::max<uint32_t>(1, p.max_loop_iterations));
  g.boundedLoop(iters, [&](uint32_t) {
    uint32_t a = 0;
    const bool use_elem = !elem_arrays.empty() && (data_arrays.empty() || g.c().flip());
    uint32_t len = 0;
    if (use_elem || !data_arrays.empty()) {
      a = use_elem ? pickOf(g, elem_arrays) : pickOf(g, data_arrays);
      const FieldType& f = g.tm().fields(a)[0];
      // array.new_elem / array.new_data, in bounds of the segment.
      uint32_t seg = 0, seg_units = 0;
      if (use_elem) {
        seg = static_cast<uint32_t>(ctx.array_elem_seg[a]);
        seg_units = ctx.elem_seg_len;
      } else {
        seg_units = ctx.data_len / byteSize(f.type);
      }
      len = g.c().inRange(1, seg_units);
      const uint32_t off = g.c().upTo(seg_units - len);
      g.constI32(static_cast<int32_t>(use_elem ? off : off * byteSize(f.type)));
      g.constI32(static_cast<int32_t>(len));
      const Opcode op = use_elem ? Opcode::ArrayNewElem : Opcode::ArrayNewData;
      g.emit(op, a, seg);
      g.pop();
      g.pop();
      g.push(ValType::ref(HT::index(a), false));
      g.countRow(opcodeName(op));
      const uint32_t arr = g.newLocal(ValType::ref(HT::index(a), true));
      g.reserve(arr);
      // Half the time the new array stays on the operand stack, its only
      // copy, across the safepoint (wasmtime 12936: a segment array left
      // out of the stack maps there), and is read after it.
      const bool on_stack = g.c().flip();
      if (on_stack) {
        g.countShape("segment-array-across-safepoint");
        safepoint(g);
      }
      g.localSet(arr);
      if (!on_stack) safepoint(g);
      if (f.mut) {
        // array.init_elem / array.init_data over part of it.
        const uint32_t n = g.c().upTo(len);
        const uint32_t d = g.c().upTo(len - n);
        const uint32_t s = g.c().upTo(seg_units - n);
        g.localGet(arr);
        g.constI32(static_cast<int32_t>(d));
        g.constI32(static_cast<int32_t>(use_elem ? s : s * byteSize(f.type)));
        g.constI32(static_cast<int32_t>(n));
        const Opcode init = use_elem ? Opcode::ArrayInitElem : Opcode::ArrayInitData;
        g.emit(init, a, seg);
        for (int i = 0; i < 4; ++i) g.pop();
        g.countRow(opcodeName(init));
        if (g.c().flip()) safepoint(g);
      }
      g.localGet(arr);
    } else if (!mut_arrays.empty()) {
      a = pickOf(g, mut_arrays);
      g.makeValue(ValType::ref(HT::index(a), false), 1);
    } else {
      a = g.c().pick(g.tm().arrays());
      g.makeValue(ValType::ref(HT::index(a), false), 1);
    }
    const FieldType& f = g.tm().fields(a)[0];
    const uint32_t arr = g.newLocal(ValType::ref(HT::index(a), true));
    g.reserve(arr);
    g.localSet(arr);
    if (f.mut) {
      // array.fill of a prefix, then array.copy from a fresh array.
      g.localGet(arr);
      g.constI32(0);
      g.makeValue(f.type.unpacked(), 1);
      g.localGet(arr);
      g.emit(Opcode::ArrayLen);
      g.pop();
      g.push(ValType::i32());
      g.constI32(static_cast<int32_t>(g.c().upTo(1)));
      g.emit(Opcode::I32ShrU);
      g.pop();
      g.emit(Opcode::ArrayFill, a);
      for (int i = 0; i < 4; ++i) g.pop();
      g.countRow("array.fill");
      safepoint(g);
      const uint32_t src = g.newLocal(ValType::ref(HT::index(a), true));
      g.reserve(src);
      g.makeValue(ValType::ref(HT::index(a), false), 1);
      g.localSet(src);
      // array.copy arr[0..m) <- src[0..m), m = min(len arr, len src);
      // sometimes src is arr itself (overlapping).
      const uint32_t from = g.c().oneIn(3) ? arr : src;
      g.localGet(arr);
      g.constI32(0);
      g.localGet(from);
      g.constI32(0);
      g.minArrayLen(arr, from);
      g.emit(Opcode::ArrayCopy, a, a);
      for (int i = 0; i < 5; ++i) g.pop();
      g.countRow("array.copy");
      safepoint(g);
    }
    g.localGet(arr);
    readAndLog(g, a);
  });
  g.settle({});
  g.ctx().stats.templates["bulk-near-gc"]++;
}

void runSubtypeReadsTemplate(BodyGen& g) {
  const TypeModel& tm = g.tm();
  // A struct type with a proper subtype, if any.
  std::vector<uint32_t> supers;
  for (uint32_t s : tm.structs()) {
    if (tm.subtypesOf(s).size() > 1) supers.push_back(s);
  }
  const uint32_t s = supers.empty() ? g.c().pick(tm.structs()) : pickOf(g, supers);
  std::vector<uint32_t> subs;
  for (uint32_t u : tm.subtypesOf(s)) {
    if (u != s || supers.empty()) subs.push_back(u);
  }
  const uint32_t u = subs.empty() ? s : pickOf(g, subs);
  if (u != s) g.countShape("subtype-object-as-supertype");
  const uint32_t x = g.newLocal(ValType::ref(HT::index(s), true));
  g.reserve(x);
  g.makeValue(ValType::ref(HT::index(u), false), 1);
  g.localSet(x);
  // An i31 in an eqref or anyref slot, and an extern made of an internal value.
  const bool eq = g.c().flip();
  const ValType slot = ValType::ref(HT::abstract(eq ? HT::Eq : HT::Any), true);
  const uint32_t y = g.newLocal(slot);
  g.reserve(y);
  g.makeI32(1);
  g.emit(Opcode::RefI31);
  g.pop();
  g.push(ValType::ref(HT::abstract(HT::I31), false));
  g.localSet(y);
  g.countShape("i31-in-anyref/eqref");
  const uint32_t e = g.newLocal(ValType::ref(HT::abstract(HT::Extern), true));
  g.reserve(e);
  g.localGet(x);
  g.emit(Opcode::ExternConvertAny);
  g.pop();
  g.push(ValType::ref(HT::abstract(HT::Extern), true));
  g.countRow("extern.convert_any");
  g.localSet(e);
  safepoint(g);
  // The subtype's object through the supertype's fields.
  const uint32_t reads = g.c().inRange(1, 3);
  for (uint32_t i = 0; i < reads; ++i) {
    g.localGet(x);
    readAndLog(g, s);
  }
  // The i31 back, through a cast known to hold.
  g.localGet(y);
  g.emit(Opcode::RefCast, HT::abstract(HT::I31).bits());
  g.pop();
  g.push(ValType::ref(HT::abstract(HT::I31), false));
  g.countRow("ref.cast");
  g.emit(g.c().flip() ? Opcode::I31GetS : Opcode::I31GetU);
  g.pop();
  g.push(ValType::i32());
  g.logValue(ValType::i32());
  // The extern back to any, tested against the subtype and the supertype.
  g.localGet(e);
  g.emit(Opcode::AnyConvertExtern);
  g.pop();
  g.push(ValType::ref(HT::abstract(HT::Any), true));
  g.countRow("any.convert_extern");
  const uint32_t back = g.temp(ValType::ref(HT::abstract(HT::Any), true));
  g.localTee(back);
  g.emit(Opcode::RefTest, HT::index(u).bits());
  g.pop();
  g.push(ValType::i32());
  g.logValue(ValType::i32());
  g.localGet(back);
  g.emit(Opcode::RefTestNull, HT::index(s).bits());
  g.pop();
  g.push(ValType::i32());
  g.logValue(ValType::i32());
  // And through the cast, the fields again.
  g.localGet(back);
  g.emit(Opcode::RefCast, HT::index(s).bits());
  g.pop();
  g.push(ValType::ref(HT::index(s), false));
  g.countRow("ref.cast");
  readAndLog(g, s);
  g.settle({});
  g.ctx().stats.templates["subtype-reads"]++;
}

void runTemplate(BodyGen& g, uint32_t k) {
  switch (k) {
    case kTemplateSeedLoop: runSeedLoopTemplate(g); return;
    case kTemplateRedefinedLocal: runRedefinedLocalTemplate(g); return;
    case kTemplateRefSelectBlocks: runRefSelectBlocksTemplate(g); return;
    case kTemplateBulkNearGc: runBulkNearGcTemplate(g); return;
    case kTemplateSubtypeReads: runSubtypeReadsTemplate(g); return;
    case kTemplateCastProbe: runCastProbeTemplate(g); return;
    default: runBlockParamsTemplate(g); return;
  }
}

}  // namespace slabfuzz::gcgen
