// generateModule: the module around the bodies. Owns the module-level layout
// every gcgen module shares: the fuzzing-support imports (one per fixed
// type, in FixedType order), the budget global first, one function per
// function type (so that every typed funcref has a value), the exported
// entry functions (no parameters, an i32 result: Binaryen's --fuzz-exec calls
// them with default arguments), passive element segments (GC constant
// expressions) for the reference arrays and one passive data segment (the
// bulk template's array.new_elem/_data and array.init_elem/_data), a
// funcref table filled once by an active segment (call_indirect, whose
// callees are thereby known) and an anyref table for the table rows, and a
// declarative element segment that makes every function ref.func-able.
#include <memory>
#include <string>

#include "generators/gcgen/body_gen.h"
#include "generators/gcgen/gcgen.h"
#include "generators/gcgen/shape.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

constexpr const char* kImportNames[kNumImports] = {
    "log-i32",     "log-i64",       "log-f32", "log-f64",  "log-anyref",
    "log-funcref", "log-externref", "gc",      "call-ref", "call-export",
    "call-export-catch", "table-get", "table-set",
};
static_assert(uint32_t{kLogI32} == uint32_t{kTypeLogI32} &&
                  uint32_t{kGcImport} == uint32_t{kTypeVoid} &&
                  uint32_t{kCallRefImport} == uint32_t{kTypeCallRef} &&
                  uint32_t{kTableSetImport} == uint32_t{kTypeTableSet} &&
                  uint32_t{kNumImports} == uint32_t{kTypeEntry},
              "import i has fixed type i");

ConstExpr constExpr(Instr ins) {
  ConstExpr e;
  e.instrs.push_back(ins);
  return e;
}

Instr instr(Opcode op, uint32_t a = 0, uint32_t b = 0) {
  Instr ins;
  ins.op = op;
  ins.a = a;
  ins.b = b;
  return ins;
}

void addGlobal(Module& m, ValType t, Instr init) {
  Global g;
  g.type = {t, true};
  g.init = constExpr(init);
  m.globals.push_back(g);
  m.global_types.push_back(g.type);
}

// Mutable globals of drawn types, initialised to zero or null: rows read
// and write them, and they outlive calls (roots the collector must see).
void addGlobals(Choices& c, const GenParams& p, const TypeModel& tm, Module& m) {
  addGlobal(m, ValType::i32(), instr(Opcode::I32Const, 0));  // kBudgetGlobal
  const uint32_t n = c.upTo(p.max_globals);
  for (uint32_t i = 0; i < n; ++i) {
    switch (c.upTo(4)) {
      case 0: addGlobal(m, ValType::i32(), instr(Opcode::I32Const, c.upTo(100))); break;
      case 1: addGlobal(m, ValType::i64(), instr(Opcode::I64Const, c.upTo(100))); break;
      case 2: {
        const HT h = HT::abstract(c.flip() ? HT::Any : HT::Eq);
        addGlobal(m, ValType::ref(h, true), instr(Opcode::RefNull, h.bits()));
        break;
      }
      default: {
        const uint32_t t = c.flip() ? c.pick(tm.arrays()) : c.pick(tm.structs());
        addGlobal(m, ValType::ref(HT::index(t), true), instr(Opcode::RefNull, HT::index(t).bits()));
        break;
      }
    }
  }
}

// A constant expression of type t for an element segment item (GC constant
// expressions: ref.null, ref.func, ref.i31, struct.new_default,
// array.new_default); false when t has no such value.
bool constItem(Choices& c, const TypeModel& tm, const Module& m, std::span<const uint32_t> callable,
               ValType t, ConstExpr& out) {
  const HT h = t.heapType();
  auto funcOf = [&](HT want) -> bool {
    std::vector<uint32_t> fs;
    for (uint32_t f : callable) {
      if (tm.isHeapSubtype(HT::index(m.func_types[f]), want)) fs.push_back(f);
    }
    if (fs.empty()) return false;
    out.instrs.push_back(instr(Opcode::RefFunc, fs[c.upTo(static_cast<uint32_t>(fs.size() - 1))]));
    return true;
  };
  auto defaultableStruct = [&](uint32_t s) {
    for (const FieldType& f : tm.fields(s)) {
      if (!isDefaultable(f.type)) return false;
    }
    return true;
  };
  auto structOf = [&](uint32_t s) {
    out.instrs.push_back(instr(Opcode::StructNewDefault, s));
    return true;
  };
  auto arrayOf = [&](uint32_t a) {
    out.instrs.push_back(instr(Opcode::I32Const, c.upTo(4)));
    out.instrs.push_back(instr(Opcode::ArrayNewDefault, a));
    return true;
  };
  out.instrs.clear();
  if (t.nullable() && c.oneIn(4)) {
    out.instrs.push_back(instr(Opcode::RefNull, h.bits()));
    return true;
  }
  bool made = false;
  if (h.isIndex()) {
    const uint32_t x = h.index();
    if (tm.isFunc(x)) {
      made = funcOf(h);
    } else if (tm.isStruct(x) && defaultableStruct(x)) {
      made = structOf(x);
    } else if (tm.isArray(x) && isDefaultable(tm.fields(x)[0].type)) {
      made = arrayOf(x);
    }
  } else {
    switch (h.abstractKind()) {
      case HT::Any:
      case HT::Eq:
      case HT::I31:
        out.instrs.push_back(instr(Opcode::I32Const, c.upTo(1000)));
        out.instrs.push_back(instr(Opcode::RefI31));
        made = true;
        break;
      case HT::Func: made = funcOf(h); break;
      case HT::Struct:
        for (uint32_t s : tm.structs()) {
          if (!made && defaultableStruct(s)) made = structOf(s);
        }
        break;
      case HT::Array:
        for (uint32_t a : tm.arrays()) {
          if (!made && isDefaultable(tm.fields(a)[0].type)) made = arrayOf(a);
        }
        break;
      default: break;
    }
  }
  if (!made && t.nullable()) {
    out.instrs.assign(1, instr(Opcode::RefNull, h.bits()));
    made = true;
  }
  return made;
}

// Passive element segments, one per reference array type whose element
// type has constant values, all of one length; and one passive data
// segment (the bulk template's array.new_data / array.init_data).
void addSegments(Choices& c, const TypeModel& tm, ModuleCtx& ctx) {
  Module& m = ctx.m;
  ctx.array_elem_seg.assign(m.types.size(), -1);
  ctx.elem_seg_len = c.inRange(1, 6);
  for (uint32_t a : tm.arrays()) {
    const ValType et = tm.fields(a)[0].type;
    if (!et.isRef()) continue;
    ElemSegment seg;
    seg.mode = SegmentMode::Passive;
    seg.type = et;
    bool ok = true;
    for (uint32_t i = 0; i < ctx.elem_seg_len && ok; ++i) {
      ConstExpr e;
      ok = constItem(c, tm, m, ctx.callable, et, e);
      seg.items.push_back(std::move(e));
    }
    if (!ok) continue;
    ctx.array_elem_seg[a] = static_cast<int32_t>(m.elems.size());
    m.elems.push_back(std::move(seg));
  }
  DataSegment data;
  data.mode = SegmentMode::Passive;
  ctx.data_len = 64;
  for (uint32_t i = 0; i < ctx.data_len; ++i)
    data.bytes.push_back(static_cast<uint8_t>(c.upTo(255)));
  m.datas.push_back(std::move(data));
  m.data_count = 1;
}

// Table 0: every internal function once (drawn order), filled by an active
// element segment; table 1: anyrefs, null at first; table 2: like table 0
// (another active segment), exported as "table" for the table-get/-set
// imports, and written by rows.
void addTables(Choices& c, ModuleCtx& ctx) {
  Module& m = ctx.m;
  for (uint32_t f : ctx.callable) {
    if (f >= kNumImports) ctx.table_funcs.push_back(f);
  }
  for (size_t i = ctx.table_funcs.size(); i > 1; --i) {
    std::swap(ctx.table_funcs[i - 1], ctx.table_funcs[c.upTo(static_cast<uint32_t>(i - 1))]);
  }
  const auto n = static_cast<uint32_t>(ctx.table_funcs.size());
  Table funcs;
  funcs.type.elem = ValType::ref(HT::abstract(HT::Func), true);
  funcs.type.limits.min = n;
  funcs.type.limits.max = n;
  m.tables.push_back(funcs);
  m.table_types.push_back(funcs.type);
  Table anys;
  anys.type.elem = ValType::ref(HT::abstract(HT::Any), true);
  anys.type.limits.min = kAnyTableMin;
  anys.type.limits.max = 64;
  m.tables.push_back(anys);
  m.table_types.push_back(anys.type);
  ElemSegment fill;
  fill.mode = SegmentMode::Active;
  fill.table = kFuncTable;
  fill.table_offset = constExpr(instr(Opcode::I32Const, 0));
  fill.type = ValType::ref(HT::abstract(HT::Func), false);
  for (uint32_t f : ctx.table_funcs) fill.items.push_back(constExpr(instr(Opcode::RefFunc, f)));
  Table host = funcs;
  m.tables.push_back(host);
  m.table_types.push_back(host.type);
  ElemSegment host_fill = fill;
  host_fill.table = kHostTable;
  m.elems.push_back(std::move(fill));
  m.elems.push_back(std::move(host_fill));
}

}  // namespace

Module generateModule(std::span<const uint8_t> input, const GenParams& params,
                      GenStats* stats_out) {
  Choices c(input);
  GenStats stats;
  Module m;
  generateTypes(c, params, m);
  const TypeModel tm(m);
  if (!tm.ok()) return m;  // not reached: generateTypes only makes valid types

  for (uint32_t i = 0; i < kNumImports; ++i) {
    Import imp;
    imp.module = "fuzzing-support";
    imp.name = kImportNames[i];
    imp.kind = ExternKind::Func;
    imp.func_type = i;
    m.imports.push_back(imp);
    m.func_types.push_back(i);
  }
  m.num_imported_funcs = kNumImports;

  // Internal functions: one per function type, then extra ones.
  std::vector<uint32_t> internal_types(tm.funcs().begin(), tm.funcs().end());
  const uint32_t extra = c.upTo(params.max_extra_functions);
  for (uint32_t i = 0; i < extra && !tm.funcs().empty(); ++i)
    internal_types.push_back(c.pick(tm.funcs()));
  const uint32_t entries = c.inRange(1, std::max<uint32_t>(1, params.max_exports));

  auto row_counts = std::make_unique<NameCounter>();
  auto shape_counts = std::make_unique<NameCounter>();
  ModuleCtx ctx{m,  tm, c, params, stats, *row_counts, *shape_counts, {}, {}, false, {}, {}, 0, 0,
                {}, 0, 0};
  // The imports a body may call_ref or ref.func: not call-export(-catch)
  // (an arbitrary index could call an entry from itself) nor table-get/-set.
  for (uint32_t i = 0; i <= kCallRefImport; ++i) ctx.callable.push_back(i);
  for (uint32_t t : internal_types) {
    ctx.callable.push_back(static_cast<uint32_t>(m.func_types.size()));
    m.func_types.push_back(t);
  }
  ctx.entry_first = static_cast<uint32_t>(m.func_types.size());
  ctx.entries = entries;
  for (uint32_t i = 0; i < entries; ++i) m.func_types.push_back(kTypeEntry);
  // Every body is generated in place: size the vector once.
  m.functions.resize(m.func_types.size() - kNumImports);
  for (uint32_t f = kNumImports; f < m.func_types.size(); ++f) {
    m.functions[f - kNumImports].type_index = m.func_types[f];
  }
  addGlobals(c, params, tm, m);
  addSegments(c, tm, ctx);
  addTables(c, ctx);
  drawSwarm(ctx);
  if (!tm.twins().empty()) shape_counts->add("rec-group-twins");

  for (uint32_t f = kNumImports; f < m.func_types.size(); ++f) {
    const bool entry = f >= m.func_types.size() - entries;
    BodyGen(ctx, f, entry).run();
  }
  for (uint32_t i = 0; i < entries; ++i) {
    Export ex;
    ex.name = "e" + std::to_string(i);
    ex.kind = ExternKind::Func;
    ex.index = static_cast<uint32_t>(m.func_types.size() - entries + i);
    m.exports.push_back(ex);
  }
  // After the functions, so that export i is entry i for call-export.
  Export table;
  table.name = "table";
  table.kind = ExternKind::Table;
  table.index = kHostTable;
  m.exports.push_back(table);
  ElemSegment declare;
  declare.mode = SegmentMode::Declarative;
  declare.type = ValType::ref(HT::abstract(HT::Func), false);
  for (uint32_t f : ctx.callable) declare.items.push_back(constExpr(instr(Opcode::RefFunc, f)));
  m.elems.push_back(std::move(declare));

  stats.types = static_cast<uint32_t>(m.types.size());
  stats.functions = static_cast<uint32_t>(m.functions.size());
  for (const Function& f : m.functions) {
    stats.instructions += static_cast<uint32_t>(f.body.size());
    if (stats_out && !stats.seed_shape) stats.seed_shape = hasSeedShape(m, f);
  }
  if (stats_out) {
    row_counts->fold(stats.rows);
    detectShapes(m, *shape_counts);
    shape_counts->fold(stats.shapes);
    if (stats.seed_shape) stats.shapes["seed-bug"] = 1;
  }
  if (stats_out) *stats_out = std::move(stats);
  return m;
}

}  // namespace slabfuzz::gcgen
