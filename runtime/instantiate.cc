// Instantiation (spec 4.5.4 "Instantiation"); see instantiate.h.
#include "runtime/instantiate.h"

#include <fmt/format.h>

#include <algorithm>

#include "runtime/compile.h"

namespace slabfuzz {

namespace {

InstantiationFailure unlinkable(std::string message) {
  return {InstantiationFailure::Kind::Unlinkable, std::move(message), TrapKind::Unreachable, {}, {}};
}
InstantiationFailure trapped(TrapKind trap) {
  return {InstantiationFailure::Kind::Trapped, std::string(trapMessage(trap)), trap, {}, {}};
}

// Limits matching (spec 3.3.x "Limits"): at least the minimum, and within
// the maximum when the import declares one.
bool limitsMatch(uint64_t actual_min, std::optional<uint64_t> actual_max, const Limits& expected) {
  if (actual_min < expected.min) return false;
  if (!expected.max) return true;
  return actual_max && *actual_max <= *expected.max;
}

// Evaluates a validated constant expression (spec 3.4.x "Constant
// expressions", 4.4.x): numbers, extended arithmetic, global.get, ref.null,
// ref.func, ref.i31, extern conversions and the GC allocations.
Result<Value, TrapKind> evalConst(const ConstExpr& expr, Instance& inst, Store& store) {
  std::vector<Value> stack;
  auto pop = [&] {
    Value v = stack.back();
    stack.pop_back();
    return v;
  };
  for (const Instr& in : expr.instrs) {
    switch (in.op) {
      case Opcode::I32Const: stack.push_back(Value::i32(static_cast<int32_t>(in.a))); break;
      case Opcode::I64Const: stack.push_back(Value::i64(static_cast<int64_t>(in.u64()))); break;
      case Opcode::F32Const: stack.push_back(Value::f32Bits(in.a)); break;
      case Opcode::F64Const: stack.push_back(Value::f64Bits(in.u64())); break;
      case Opcode::RefNull: stack.push_back(Value::ref(Ref::null())); break;
      case Opcode::RefFunc: stack.push_back(Value::ref(Ref::func(inst.funcs[in.a]))); break;
      case Opcode::GlobalGet: stack.push_back(inst.globals[in.a]->value); break;
      case Opcode::I32Add:
      case Opcode::I32Sub:
      case Opcode::I32Mul: {
        uint32_t y = pop().u32(), x = pop().u32();
        uint32_t r = in.op == Opcode::I32Add ? x + y : in.op == Opcode::I32Sub ? x - y : x * y;
        stack.push_back(Value::i32(static_cast<int32_t>(r)));
        break;
      }
      case Opcode::I64Add:
      case Opcode::I64Sub:
      case Opcode::I64Mul: {
        uint64_t y = pop().u64(), x = pop().u64();
        uint64_t r = in.op == Opcode::I64Add ? x + y : in.op == Opcode::I64Sub ? x - y : x * y;
        stack.push_back(Value::i64(static_cast<int64_t>(r)));
        break;
      }
      case Opcode::RefI31: stack.push_back(Value::ref(Ref::i31(pop().u32()))); break;
      case Opcode::AnyConvertExtern:
      case Opcode::ExternConvertAny: break;  // same bits (value.h)
      case Opcode::StructNew:
      case Opcode::StructNewDefault: {
        CanonTypeId t = inst.types.canon(in.a);
        size_t n = store.types.fields(t).size();
        std::vector<Value> fields(n);
        if (in.op == Opcode::StructNew) {
          for (size_t i = n; i-- > 0;) fields[i] = pop();
        }
        Result<Ref, TrapKind> r = store.heap->newStruct(t, fields);
        if (!r.ok()) return r.error();
        stack.push_back(Value::ref(r.value()));
        break;
      }
      case Opcode::ArrayNew:
      case Opcode::ArrayNewDefault: {
        CanonTypeId t = inst.types.canon(in.a);
        uint32_t len = pop().u32();
        Value init = in.op == Opcode::ArrayNew ? pop() : Value();
        Result<Ref, TrapKind> r = store.heap->newArray(t, len, init);
        if (!r.ok()) return r.error();
        stack.push_back(Value::ref(r.value()));
        break;
      }
      case Opcode::ArrayNewFixed: {
        CanonTypeId t = inst.types.canon(in.a);
        std::vector<Value> elems(in.b);
        for (size_t i = in.b; i-- > 0;) elems[i] = pop();
        Result<Ref, TrapKind> r = store.heap->newArrayFrom(t, elems);
        if (!r.ok()) return r.error();
        stack.push_back(Value::ref(r.value()));
        break;
      }
      default:
        // The validator admits nothing else in a constant expression.
        return TrapKind::Unreachable;
    }
  }
  if (stack.empty()) return TrapKind::Unreachable;
  return stack.back();
}

// Import matching (spec 4.5.x "Import matching", with subtyping on
// canonical types). Returns an empty string on success.
std::string matchImport(const Import& imp, const ExternVal& v, const Instance& inst,
                        const Store& store) {
  static const std::string kIncompatible = "incompatible import type";
  if (v.kind != imp.kind) return kIncompatible;
  const ModuleTypes& mt = inst.types;
  switch (imp.kind) {
    case ExternKind::Func: {
      if (v.func >= store.funcs.size()) return kIncompatible;
      CanonTypeId actual = store.funcs[v.func].type;
      CanonTypeId expected = mt.canon(imp.func_type);
      if (actual != expected && !store.types.isSubtype(actual, expected)) return kIncompatible;
      return {};
    }
    case ExternKind::Table: {
      if (!v.table) return kIncompatible;
      ValType expected = mt.toCanon(imp.table.elem);
      // Table element types are invariant: both ways subtypes.
      if (!store.types.isSubtype(v.table->elem, expected) ||
          !store.types.isSubtype(expected, v.table->elem)) {
        return kIncompatible;
      }
      if (!limitsMatch(v.table->elems.size(), v.table->max, imp.table.limits)) return kIncompatible;
      return {};
    }
    case ExternKind::Memory: {
      if (!v.memory) return kIncompatible;
      if (!limitsMatch(v.memory->pages(), v.memory->max_pages, imp.memory.limits)) {
        return kIncompatible;
      }
      return {};
    }
    case ExternKind::Global: {
      if (!v.global) return kIncompatible;
      ValType expected = mt.toCanon(imp.global.type);
      if (v.global->mut != imp.global.mut) return kIncompatible;
      bool ok = imp.global.mut ? v.global->type == expected
                               : store.types.isSubtype(v.global->type, expected);
      return ok ? std::string() : kIncompatible;
    }
    case ExternKind::Tag: return "unsupported import kind";
  }
  return kIncompatible;
}

}  // namespace

Result<Instance*, InstantiationFailure> instantiate(Executor& executor,
                                                   std::shared_ptr<const Module> module_ptr,
                                                   ModuleTypes types,
                                                   const ImportResolver& imports,
                                                   const CompileOptions& compile,
                                                   std::shared_ptr<const CompiledModule> code) {
  Store& store = executor.store();
  const Module& m = *module_ptr;
  // The instance joins the store first: a failed instantiation may leave
  // it there (its functions may already sit in imported tables).
  store.instances.push_back(std::make_unique<Instance>());
  Instance& inst = *store.instances.back();
  inst.module = module_ptr;
  inst.types = std::move(types);
  inst.code = code ? std::move(code) : compileModule(m, inst.types, compile);
  if (!inst.code->error.empty()) {
    return InstantiationFailure{InstantiationFailure::Kind::Trapped, inst.code->error,
                                TrapKind::HeapExhausted, {}, {}};
  }

  // 1. Imports, in order.
  for (const Import& imp : m.imports) {
    std::optional<ExternVal> v = imports ? imports(imp.module, imp.name) : std::nullopt;
    if (!v) return unlinkable(fmt::format("unknown import \"{}\" \"{}\"", imp.module, imp.name));
    std::string why = matchImport(imp, *v, inst, store);
    if (!why.empty()) return unlinkable(fmt::format("{} \"{}\" \"{}\"", why, imp.module, imp.name));
    switch (imp.kind) {
      case ExternKind::Func: inst.funcs.push_back(v->func); break;
      case ExternKind::Table: inst.tables.push_back(v->table); break;
      case ExternKind::Memory: inst.memories.push_back(v->memory); break;
      case ExternKind::Global: inst.globals.push_back(v->global); break;
      case ExternKind::Tag: break;
    }
  }

  // 2. Functions (their addresses are needed by ref.func in initialisers).
  for (uint32_t i = 0; i < m.functions.size(); ++i) {
    uint32_t index = m.num_imported_funcs + i;
    FuncInst f;
    f.type = inst.types.canon(m.func_types[index]);
    f.instance = &inst;
    f.index = index;
    auto name = m.names.functions.find(index);
    f.name = name != m.names.functions.end() ? "$" + name->second : fmt::format("func {}", index);
    store.funcs.push_back(std::move(f));
    inst.funcs.push_back(static_cast<FuncAddr>(store.funcs.size() - 1));
  }

  // 3. Globals, in order (each initialiser sees the globals before it).
  for (const Global& g : m.globals) {
    Result<Value, TrapKind> v = evalConst(g.init, inst, store);
    if (!v.ok()) return trapped(v.error());
    store.globals.push_back({inst.types.toCanon(g.type.type), g.type.mut, v.value()});
    inst.globals.push_back(&store.globals.back());
  }

  // 4. Tables and memories.
  const RunLimits& limits = executor.limits();
  for (const Table& t : m.tables) {
    Ref init = Ref::null();
    if (t.init) {
      Result<Value, TrapKind> v = evalConst(*t.init, inst, store);
      if (!v.ok()) return trapped(v.error());
      init = v.value().ref();
    }
    if (t.type.limits.min > limits.max_table_elems) return trapped(TrapKind::HeapExhausted);
    TableInst ti;
    ti.elem = inst.types.toCanon(t.type.elem);
    ti.max = t.type.limits.max;
    ti.elems.assign(t.type.limits.min, init);
    store.tables.push_back(std::move(ti));
    inst.tables.push_back(&store.tables.back());
  }
  for (uint32_t i = m.num_imported_memories; i < m.memory_types.size(); ++i) {
    const MemoryType& mt = m.memory_types[i];
    if (mt.limits.min > limits.max_memory_pages) return trapped(TrapKind::HeapExhausted);
    MemoryInst mi;
    mi.max_pages = mt.limits.max;
    mi.bytes.assign(mt.limits.min * MemoryInst::kPageSize, 0);
    store.memories.push_back(std::move(mi));
    inst.memories.push_back(&store.memories.back());
  }

  // 5. Element segments: their items, evaluated.
  for (const ElemSegment& seg : m.elems) {
    std::vector<Ref> refs;
    refs.reserve(seg.items.size());
    for (const ConstExpr& item : seg.items) {
      Result<Value, TrapKind> v = evalConst(item, inst, store);
      if (!v.ok()) return trapped(v.error());
      refs.push_back(v.value().ref());
    }
    inst.elems.push_back(std::move(refs));
  }
  inst.data_dropped.assign(m.datas.size(), false);

  // 6. Exports.
  for (const Export& e : m.exports) {
    ExternVal v;
    v.kind = e.kind;
    switch (e.kind) {
      case ExternKind::Func: v.func = inst.funcs[e.index]; break;
      case ExternKind::Table: v.table = inst.tables[e.index]; break;
      case ExternKind::Memory: v.memory = inst.memories[e.index]; break;
      case ExternKind::Global: v.global = inst.globals[e.index]; break;
      case ExternKind::Tag: break;
    }
    inst.exports.emplace_back(e.name, v);
  }

  // 7. Active element segments: table.init then elem.drop; declarative
  // segments are dropped (spec 4.5.4, steps "elem_i").
  for (uint32_t i = 0; i < m.elems.size(); ++i) {
    const ElemSegment& seg = m.elems[i];
    if (seg.mode == SegmentMode::Active) {
      Result<Value, TrapKind> off = evalConst(seg.table_offset, inst, store);
      if (!off.ok()) return trapped(off.error());
      uint64_t d = off.value().u32();
      TableInst* t = inst.tables[seg.table];
      std::vector<Ref>& items = inst.elems[i];
      if (d + items.size() > t->elems.size()) return trapped(TrapKind::TableOutOfBounds);
      std::copy(items.begin(), items.end(), t->elems.begin() + static_cast<ptrdiff_t>(d));
      items.clear();
    } else if (seg.mode == SegmentMode::Declarative) {
      inst.elems[i].clear();
    }
  }

  // 8. Active data segments: memory.init then data.drop.
  for (uint32_t i = 0; i < m.datas.size(); ++i) {
    const DataSegment& seg = m.datas[i];
    if (seg.mode != SegmentMode::Active) continue;
    Result<Value, TrapKind> off = evalConst(seg.memory_offset, inst, store);
    if (!off.ok()) return trapped(off.error());
    uint64_t d = off.value().u32();
    MemoryInst* mem = inst.memories[seg.memory];
    if (d + seg.bytes.size() > mem->bytes.size()) return trapped(TrapKind::MemoryOutOfBounds);
    std::copy(seg.bytes.begin(), seg.bytes.end(), mem->bytes.begin() + static_cast<ptrdiff_t>(d));
    inst.data_dropped[i] = true;
  }

  // 9. The start function.
  if (m.start) {
    Outcome o = executor.invoke(inst.funcs[*m.start], {});
    if (o.kind == Outcome::Kind::OutOfFuel) {
      return InstantiationFailure{InstantiationFailure::Kind::OutOfFuel, "out of fuel",
                                  TrapKind::Unreachable, {}, {}};
    }
    if (o.kind == Outcome::Kind::Trapped) {
      InstantiationFailure f = trapped(o.trap);
      f.detail = o.detail;
      return f;
    }
    if (o.kind == Outcome::Kind::Violation) {
      return InstantiationFailure{InstantiationFailure::Kind::Violation,
                                  o.violation->signatureKind(), TrapKind::Unreachable,
                                  o.violation, {}};
    }
  }
  return &inst;
}

}  // namespace slabfuzz
