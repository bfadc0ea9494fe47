// modulesEqual: a field-by-field walk over two Modules that stops at the
// first difference and names it by path.
#include "generators/module_equal.h"

#include <fmt/format.h>

namespace slabfuzz {

namespace {

constexpr ImmKind kImm[] = {
#define WASM_OP(Name, Prefix, Code, Imm, Sig, Text) ImmKind::Imm,
#include "runtime/opcodes.def"
};

// Which of Instr::a..d an immediate kind uses (instr.h), as bits 0..3.
// BlockType's b only matters when a names a value type or a type index,
// SelectT's b only when there is a type; BrTable's a indexes
// Function::extra and is compared through the targets it resolves to.
uint8_t usedFields(const Instr& ins) {
  const auto index = static_cast<size_t>(ins.op);
  if (index >= kOpcodeCount) return 0xF;
  switch (kImm[index]) {
    case ImmKind::None: return 0;
    case ImmKind::BlockType:
      return static_cast<BlockTypeKind>(ins.a) == BlockTypeKind::Empty ? 0b1101 : 0b1111;
    case ImmKind::Label:
    case ImmKind::Func:
    case ImmKind::Type:
    case ImmKind::Local:
    case ImmKind::Global:
    case ImmKind::Table:
    case ImmKind::Data:
    case ImmKind::Elem:
    case ImmKind::MemIdx:
    case ImmKind::I32:
    case ImmKind::F32:
    case ImmKind::HeapType: return 0b0001;
    case ImmKind::BrTable: return 0b0110;
    case ImmKind::SelectT: return ins.a == 0 ? 0b0001 : 0b0011;
    case ImmKind::MemArg1:
    case ImmKind::MemArg2:
    case ImmKind::MemArg4:
    case ImmKind::MemArg8:
    case ImmKind::BrOnCast: return 0b1111;
    case ImmKind::CallIndirect:
    case ImmKind::I64:
    case ImmKind::F64:
    case ImmKind::TypeField:
    case ImmKind::TypeCount:
    case ImmKind::TypeData:
    case ImmKind::TypeElem:
    case ImmKind::TypeType:
    case ImmKind::MemInit:
    case ImmKind::MemCopy:
    case ImmKind::TableInit:
    case ImmKind::TableCopy: return 0b0011;
  }
  return 0xF;
}

class Comparer {
 public:
  explicit Comparer(std::string* diff) : diff_(diff) {}

  bool modules(const Module& a, const Module& b) {
    return vec("types", a.types, b.types, &Comparer::subType) &&
           vec("rec_groups", a.rec_groups, b.rec_groups, &Comparer::recGroup) &&
           vec("imports", a.imports, b.imports, &Comparer::import) &&
           same("func_types", a.func_types, b.func_types) &&
           vec("table_types", a.table_types, b.table_types, &Comparer::tableType) &&
           vec("memory_types", a.memory_types, b.memory_types, &Comparer::memoryType) &&
           vec("global_types", a.global_types, b.global_types, &Comparer::globalType) &&
           same("num_imported_funcs", a.num_imported_funcs, b.num_imported_funcs) &&
           same("num_imported_tables", a.num_imported_tables, b.num_imported_tables) &&
           same("num_imported_memories", a.num_imported_memories, b.num_imported_memories) &&
           same("num_imported_globals", a.num_imported_globals, b.num_imported_globals) &&
           vec("functions", a.functions, b.functions, &Comparer::function) &&
           vec("tables", a.tables, b.tables, &Comparer::table) &&
           vec("globals", a.globals, b.globals, &Comparer::global) &&
           vec("exports", a.exports, b.exports, &Comparer::exportEntry) &&
           same("start", a.start, b.start) && vec("elems", a.elems, b.elems, &Comparer::elem) &&
           same("data_count", a.data_count, b.data_count) &&
           vec("datas", a.datas, b.datas, &Comparer::data) && customs(a, b) && names(a, b);
  }

 private:
  // --- Reporting ---
  bool fail(const std::string& what, const std::string& va, const std::string& vb) {
    if (diff_ != nullptr) *diff_ = fmt::format("{}: {} vs {}", what, va, vb);
    return false;
  }
  std::string path(std::string_view field) const {
    std::string p = prefix_;
    if (!p.empty() && !field.empty() && field[0] != '[') p += '.';
    p += field;
    return p;
  }
  // Runs `f` with `field` appended to the path.
  template <typename F>
  bool at(const std::string& field, F&& f) {
    std::string saved = prefix_;
    prefix_ = path(field);
    const bool ok = f();
    prefix_ = std::move(saved);
    return ok;
  }

  static std::string show(uint32_t v) { return std::to_string(v); }
  static std::string show(uint64_t v) { return std::to_string(v); }
  static std::string show(bool v) { return v ? "true" : "false"; }
  static std::string show(ValType t) { return t.toString(); }
  static std::string show(const std::string& s) { return fmt::format("\"{}\"", s); }
  template <typename T>
  static std::string show(const std::optional<T>& v) {
    return v ? show(*v) : std::string("none");
  }
  template <typename T>
  static std::string show(const std::vector<T>& v) {
    return fmt::format("[{} items]", v.size());
  }
  static std::string show(ExternKind k) { return std::to_string(static_cast<int>(k)); }
  static std::string show(CompositeKind k) { return std::to_string(static_cast<int>(k)); }
  static std::string show(SegmentMode k) { return std::to_string(static_cast<int>(k)); }
  static std::string show(Opcode op) { return std::string(opcodeName(op)); }

  template <typename T>
  bool same(std::string_view field, const T& a, const T& b) {
    if (a == b) return true;
    if constexpr (requires {
                    a.size();
                    typename T::value_type;
                  } &&
                  !std::is_same_v<T, std::string>) {
      if (a.size() != b.size()) {
        return fail(path(fmt::format("{}.size()", field)), show(uint64_t{a.size()}),
                    show(uint64_t{b.size()}));
      }
      for (size_t i = 0; i < a.size(); ++i) {
        if (!(a[i] == b[i])) {
          return fail(path(fmt::format("{}[{}]", field, i)), show(a[i]), show(b[i]));
        }
      }
    }
    return fail(path(field), show(a), show(b));
  }

  template <typename T>
  bool vec(std::string_view field, const std::vector<T>& a, const std::vector<T>& b,
           bool (Comparer::*each)(const T&, const T&)) {
    if (a.size() != b.size()) {
      return fail(path(fmt::format("{}.size()", field)), show(uint64_t{a.size()}),
                  show(uint64_t{b.size()}));
    }
    for (size_t i = 0; i < a.size(); ++i) {
      if (!at(fmt::format("{}[{}]", field, i), [&] { return (this->*each)(a[i], b[i]); })) {
        return false;
      }
    }
    return true;
  }

  // --- Types ---
  bool fieldType(const FieldType& a, const FieldType& b) {
    return same("type", a.type, b.type) && same("mut", a.mut, b.mut);
  }
  bool subType(const SubType& a, const SubType& b) {
    const CompositeType& ca = a.composite;
    const CompositeType& cb = b.composite;
    if (!same("final", a.final, b.final) || !same("supertypes", a.supertypes, b.supertypes) ||
        !same("rec_group", a.rec_group, b.rec_group) || !same("kind", ca.kind, cb.kind)) {
      return false;
    }
    if (ca.kind == CompositeKind::Func) {
      return same("params", ca.func.params, cb.func.params) &&
             same("results", ca.func.results, cb.func.results);
    }
    return vec("fields", ca.fields, cb.fields, &Comparer::fieldType);
  }
  bool recGroup(const RecGroup& a, const RecGroup& b) {
    return same("first", a.first, b.first) && same("count", a.count, b.count);
  }
  bool limits(const Limits& a, const Limits& b) {
    return same("min", a.min, b.min) && same("max", a.max, b.max);
  }
  bool tableType(const TableType& a, const TableType& b) {
    return same("elem", a.elem, b.elem) && at("limits", [&] { return limits(a.limits, b.limits); });
  }
  bool memoryType(const MemoryType& a, const MemoryType& b) { return limits(a.limits, b.limits); }
  bool globalType(const GlobalType& a, const GlobalType& b) {
    return same("type", a.type, b.type) && same("mut", a.mut, b.mut);
  }

  // --- Instructions ---
  bool instrs(std::string_view field, const std::vector<Instr>& a, const std::vector<Instr>& b,
              const std::vector<uint32_t>& extra_a, const std::vector<uint32_t>& extra_b) {
    if (a.size() != b.size()) {
      return fail(path(fmt::format("{}.size()", field)), show(uint64_t{a.size()}),
                  show(uint64_t{b.size()}));
    }
    for (size_t i = 0; i < a.size(); ++i) {
      const Instr& x = a[i];
      const Instr& y = b[i];
      const std::string where = fmt::format("{}[{}]", field, i);
      if (x.op != y.op) return fail(path(where + ".op"), show(x.op), show(y.op));
      const uint8_t used = usedFields(x);
      const uint32_t xs[] = {x.a, x.b, x.c, x.d};
      const uint32_t ys[] = {y.a, y.b, y.c, y.d};
      for (int f = 0; f < 4; ++f) {
        if ((used & (1u << f)) && xs[f] != ys[f]) {
          return fail(path(fmt::format("{} ({}).{}", where, opcodeName(x.op), "abcd"[f])),
                      show(xs[f]), show(ys[f]));
        }
      }
      if (x.op == Opcode::BrTable) {
        for (uint32_t t = 0; t < x.b; ++t) {
          const uint64_t ia = uint64_t{x.a} + t, ib = uint64_t{y.a} + t;
          const uint32_t ta = ia < extra_a.size() ? extra_a[ia] : ~0u;
          const uint32_t tb = ib < extra_b.size() ? extra_b[ib] : ~0u;
          if (ta != tb)
            return fail(path(fmt::format("{}.targets[{}]", where, t)), show(ta), show(tb));
        }
      }
    }
    return true;
  }
  bool constExpr(const ConstExpr& a, const ConstExpr& b) {
    static const std::vector<uint32_t> kNone;
    return instrs("instrs", a.instrs, b.instrs, kNone, kNone);
  }

  // --- Definitions ---
  bool import(const Import& a, const Import& b) {
    if (!same("module", a.module, b.module) || !same("name", a.name, b.name) ||
        !same("kind", a.kind, b.kind)) {
      return false;
    }
    switch (a.kind) {
      case ExternKind::Func: return same("func_type", a.func_type, b.func_type);
      case ExternKind::Table: return at("table", [&] { return tableType(a.table, b.table); });
      case ExternKind::Memory: return at("memory", [&] { return memoryType(a.memory, b.memory); });
      case ExternKind::Global: return at("global", [&] { return globalType(a.global, b.global); });
      case ExternKind::Tag: return true;
    }
    return true;
  }
  bool function(const Function& a, const Function& b) {
    return same("type_index", a.type_index, b.type_index) && same("locals", a.locals, b.locals) &&
           instrs("body", a.body, b.body, a.extra, b.extra);
  }
  bool table(const Table& a, const Table& b) {
    if (!at("type", [&] { return tableType(a.type, b.type); })) return false;
    if (a.init.has_value() != b.init.has_value()) {
      return fail(path("init"), a.init ? "present" : "none", b.init ? "present" : "none");
    }
    return !a.init || at("init", [&] { return constExpr(*a.init, *b.init); });
  }
  bool global(const Global& a, const Global& b) {
    return at("type", [&] { return globalType(a.type, b.type); }) &&
           at("init", [&] { return constExpr(a.init, b.init); });
  }
  bool exportEntry(const Export& a, const Export& b) {
    return same("name", a.name, b.name) && same("kind", a.kind, b.kind) &&
           same("index", a.index, b.index);
  }
  bool elem(const ElemSegment& a, const ElemSegment& b) {
    if (!same("mode", a.mode, b.mode) || !same("type", a.type, b.type)) return false;
    if (a.mode == SegmentMode::Active &&
        (!same("table", a.table, b.table) ||
         !at("table_offset", [&] { return constExpr(a.table_offset, b.table_offset); }))) {
      return false;
    }
    return vec("items", a.items, b.items, &Comparer::constExpr);
  }
  bool data(const DataSegment& a, const DataSegment& b) {
    if (!same("mode", a.mode, b.mode)) return false;
    if (a.mode == SegmentMode::Active &&
        (!same("memory", a.memory, b.memory) ||
         !at("memory_offset", [&] { return constExpr(a.memory_offset, b.memory_offset); }))) {
      return false;
    }
    if (a.bytes != b.bytes) {
      return fail(path("bytes"), fmt::format("{} bytes", a.bytes.size()),
                  fmt::format("{} bytes (different)", b.bytes.size()));
    }
    return true;
  }

  // --- Custom sections and names ---
  // Custom sections other than the first `name` section, in order.
  static std::vector<const CustomSection*> otherCustoms(const Module& m) {
    std::vector<const CustomSection*> out;
    bool skipped = false;
    for (const CustomSection& c : m.customs) {
      if (c.name == "name" && !skipped) {
        skipped = true;
        continue;
      }
      out.push_back(&c);
    }
    return out;
  }
  bool customs(const Module& a, const Module& b) {
    auto ca = otherCustoms(a), cb = otherCustoms(b);
    if (ca.size() != cb.size()) {
      return fail("customs (besides the name section).size()", show(uint64_t{ca.size()}),
                  show(uint64_t{cb.size()}));
    }
    for (size_t i = 0; i < ca.size(); ++i) {
      if (ca[i]->name != cb[i]->name || ca[i]->payload != cb[i]->payload) {
        return fail(fmt::format("customs (besides the name section)[{}]", i),
                    fmt::format("\"{}\" ({} bytes)", ca[i]->name, ca[i]->payload.size()),
                    fmt::format("\"{}\" ({} bytes)", cb[i]->name, cb[i]->payload.size()));
      }
    }
    return true;
  }
  template <typename M>
  bool nameMap(std::string_view field, const M& a, const M& b) {
    if (a == b) return true;
    return fail(fmt::format("names.{}", field), fmt::format("{} entries", a.size()),
                fmt::format("{} entries (different)", b.size()));
  }
  bool names(const Module& ma, const Module& mb) {
    const Names& a = ma.names;
    const Names& b = mb.names;
    return same("names.module", a.module, b.module) &&
           nameMap("functions", a.functions, b.functions) && nameMap("types", a.types, b.types) &&
           nameMap("tables", a.tables, b.tables) && nameMap("memories", a.memories, b.memories) &&
           nameMap("globals", a.globals, b.globals) && nameMap("elems", a.elems, b.elems) &&
           nameMap("datas", a.datas, b.datas) && nameMap("locals", a.locals, b.locals) &&
           nameMap("labels", a.labels, b.labels) && nameMap("fields", a.fields, b.fields);
  }

  std::string* diff_;
  std::string prefix_;
};

}  // namespace

bool modulesEqual(const Module& a, const Module& b, std::string* first_difference) {
  Comparer comparer(first_difference);
  return comparer.modules(a, b);
}

}  // namespace slabfuzz
