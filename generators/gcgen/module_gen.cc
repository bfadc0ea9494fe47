// generateModule: the module around the bodies. Owns the module-level layout
// every gcgen module shares: the fuzzing-support imports (one per fixed
// type, in FixedType order), the budget global first, one function per
// function type (so that every typed funcref has a value), the exported
// entry functions (no parameters, an i32 result: Binaryen's --fuzz-exec calls
// them with default arguments), and a declarative element segment that makes
// every function ref.func-able.
#include <string>

#include "generators/gcgen/body_gen.h"
#include "generators/gcgen/gcgen.h"
#include "generators/gcgen/shape.h"

namespace slabfuzz::gcgen {

namespace {

using HT = HeapType;

constexpr const char* kImportNames[kNumImports] = {
    "log-i32", "log-i64", "log-f32", "log-f64", "log-anyref", "log-funcref", "log-externref", "gc",
};
static_assert(uint32_t{kLogI32} == uint32_t{kTypeLogI32} &&
                  uint32_t{kGcImport} == uint32_t{kTypeVoid},
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

  ModuleCtx ctx{m, tm, c, params, stats, {}, {}, {}};
  for (uint32_t i = 0; i < kNumImports; ++i) ctx.callable.push_back(i);
  for (uint32_t t : internal_types) {
    ctx.callable.push_back(static_cast<uint32_t>(m.func_types.size()));
    m.func_types.push_back(t);
  }
  for (uint32_t i = 0; i < entries; ++i) m.func_types.push_back(kTypeEntry);
  // Every body is generated in place: size the vector once.
  m.functions.resize(m.func_types.size() - kNumImports);
  for (uint32_t f = kNumImports; f < m.func_types.size(); ++f) {
    m.functions[f - kNumImports].type_index = m.func_types[f];
  }
  addGlobals(c, params, tm, m);
  drawSwarm(ctx);

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
  ElemSegment declare;
  declare.mode = SegmentMode::Declarative;
  declare.type = ValType::ref(HT::abstract(HT::Func), false);
  for (uint32_t f : ctx.callable) declare.items.push_back(constExpr(instr(Opcode::RefFunc, f)));
  m.elems.push_back(std::move(declare));

  stats.types = static_cast<uint32_t>(m.types.size());
  stats.functions = static_cast<uint32_t>(m.functions.size());
  for (const Function& f : m.functions) {
    stats.instructions += static_cast<uint32_t>(f.body.size());
    if (!stats.seed_shape) stats.seed_shape = hasSeedShape(m, f);
  }
  if (stats_out) *stats_out = std::move(stats);
  return m;
}

}  // namespace slabfuzz::gcgen
