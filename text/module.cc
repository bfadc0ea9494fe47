// Module fields in the text format (spec 6.6): types, imports, functions,
// tables, memories, globals, exports, start, element and data segments with
// every abbreviation (inline imports and exports, tables with inline
// elements, memories with inline data, offset and item shorthands), the
// rule that imports precede definitions, and the binary's section order
// (spec 5.5), and the optional name section. See assembler.h.
#include <fmt/format.h>

#include "text/assembler.h"
#include "text/numbers.h"

namespace slabfuzz::wat {

const Node& Cursor::next(std::string_view what) {
  if (done())
    failAt(list_, fmt::format("unexpected end of `{}`: expected {}",
                              list_.kids.empty() ? "" : list_.kids[0].text, what));
  return list_.kids[at_++];
}

void Cursor::expectEnd() const {
  if (!done()) {
    const Node& n = peek();
    if (n.kind == Node::Kind::Keyword || n.kind == Node::Kind::Reserved)
      failAt(n, fmt::format("unexpected token `{}` (unknown operator)", n.text));
    failAt(n, "unexpected token");
  }
}

uint32_t Space::add(const Node* id) {
  if (id) {
    if (!ids.emplace(id->text, count).second)
      failAt(*id, fmt::format("duplicate {} ${}", what, id->text));
  }
  return count++;
}

uint32_t Assembler::resolve(const Node& n, Space& space) {
  if (n.kind == Node::Kind::Num) {
    auto v = parseUnsigned(n.text, 32);
    if (!v) failAt(n, fmt::format("malformed {} index", space.what));
    return static_cast<uint32_t>(*v);
  }
  if (n.kind == Node::Kind::Id) {
    auto it = space.ids.find(n.text);
    if (it == space.ids.end()) failAt(n, fmt::format("unknown {} ${}", space.what, n.text));
    return it->second;
  }
  failAt(n, fmt::format("expected a {} index", space.what));
}

namespace {

enum class Kind : uint8_t { Func = 0, Table = 1, Memory = 2, Global = 3 };

struct ImportRec {
  Kind kind;
  std::string module, name;
  const Node* desc;  // the list holding the description
  size_t at;         // where the description starts in it
};
struct DefRec {
  const Node* node;
  size_t at;  // after id, inline exports (and the table/memory abbreviation's start)
};
struct ExportRec {
  std::string name;
  Kind kind;
  const Node* index = nullptr;  // explicit export: the index as written
  uint32_t resolved = 0;        // inline export: the item's index
};
// An element or data segment: explicit, or made by a table/memory abbreviation.
struct SegRec {
  const Node* node;
  size_t at = 0;  // abbreviation: the (elem ...)/(data ...) list's contents start
  bool from_abbrev = false;
  uint32_t target = 0;  // abbreviation: the table or memory index
  VT elem_type;         // table abbreviation: the table's reference type
};

std::string nameOf(const Node& n) {
  if (n.kind != Node::Kind::String) failAt(n, "expected a string");
  if (!isValidUtf8(n.text)) failAt(n, "malformed UTF-8 encoding");
  return n.text;
}

const Node* optionalId(Cursor& c) {
  if (!c.done() && c.peek().kind == Node::Kind::Id) return &c.next("id");
  return nullptr;
}

class ModuleBuilder {
 public:
  ModuleBuilder(Assembler& a, const Node& module, size_t first)
      : a_(a), module_(module), first_(first) {}

  std::vector<uint8_t> build() {
    collect();
    a_.defineTypes();
    Bytes imports = importSection();
    Bytes funcs, code;
    functions(funcs, code);
    Bytes tables = tableSection();
    Bytes memories = memorySection();
    Bytes globals = globalSection();
    Bytes exports = exportSection();
    Bytes elems = elemSection();
    Bytes datas = dataSection();

    Bytes out;
    out.raw(std::string_view("\0asm\1\0\0\0", 8));
    if (!a_.types.empty()) {
      Bytes t;
      a_.writeTypeSection(t);
      out.section(1, t);
    }
    if (!imports_.empty()) out.section(2, imports);
    if (!funcs_.empty()) out.section(3, funcs);
    if (!tables_.empty()) out.section(4, tables);
    if (!memories_.empty()) out.section(5, memories);
    if (!globals_.empty()) out.section(6, globals);
    if (!exports_.empty()) out.section(7, exports);
    if (start_) {
      Bytes s;
      s.u32(a_.resolve(*start_, a_.func_space));
      out.section(8, s);
    }
    if (!elems_.empty()) out.section(9, elems);
    if (!datas_.empty() || a_.needs_data_count) {
      Bytes dc;
      dc.u32(datas_.size());
      out.section(12, dc);
    }
    if (!funcs_.empty()) out.section(10, code);
    if (!datas_.empty()) out.section(11, datas);
    Bytes names = nameSection();
    if (!names.empty()) out.section(0, names);
    return std::move(out.data());
  }

 private:
  // --- the name section -----------------------------------------------------------

  // The ids, so that diagnostics on the binary name what the text named
  // (the "name" custom section, spec 7.4; subsections in increasing order).
  Bytes nameSection() {
    Bytes out;
    auto nameMap = [](const std::map<std::string, uint32_t>& ids, Bytes& into) {
      std::map<uint32_t, const std::string*> by_index;
      for (const auto& [name, index] : ids) by_index[index] = &name;
      into.u32(by_index.size());
      for (const auto& [index, name] : by_index) {
        into.u32(index);
        into.name(*name);
      }
    };
    auto subsection = [&](uint8_t id, const Bytes& payload) { out.section(id, payload); };
    auto simple = [&](uint8_t id, const Space& space) {
      if (space.ids.empty()) return;
      Bytes b;
      nameMap(space.ids, b);
      subsection(id, b);
    };
    simple(1, a_.func_space);
    if (!local_names_.empty()) {
      Bytes b;
      b.u32(local_names_.size());
      for (const auto& [func, ids] : local_names_) {
        b.u32(func);
        nameMap(ids, b);
      }
      subsection(2, b);
    }
    simple(4, a_.type_space);
    simple(5, a_.table_space);
    simple(6, a_.memory_space);
    simple(7, a_.global_space);
    simple(8, a_.elem_space);
    simple(9, a_.data_space);
    std::vector<uint32_t> with_fields;
    for (uint32_t i = 0; i < a_.types.size(); ++i)
      if (!a_.types[i].field_ids.empty()) with_fields.push_back(i);
    if (!with_fields.empty()) {
      Bytes b;
      b.u32(with_fields.size());
      for (uint32_t i : with_fields) {
        b.u32(i);
        nameMap(a_.types[i].field_ids, b);
      }
      subsection(10, b);
    }
    if (out.empty()) return out;
    Bytes section;
    section.name("name");
    section.raw(out);
    return section;
  }

  // --- pass 1: the index spaces and their ids --------------------------------

  void importAllowed(const Node& at, const char* what) {
    // All imports precede every function, table, memory and global
    // definition (spec 6.6.13, "import after definition").
    if (defined_) failAt(at, fmt::format("import after {}", what));
  }
  void define() { defined_ = true; }

  // Duplicate ids and misplaced imports are malformed whatever the feature
  // set, so they are checked before a second memory is found out of scope.
  void addMemory(const Node* id, const Node& at) {
    a_.memory_space.add(id);
    if (a_.memory_space.count > 1) unsupportedAt(at, "multiple memories");
  }

  // Inline exports `(export "name")*` then an optional `(import "m" "n")`.
  // Returns true when the item is imported.
  bool exportsAndImport(Cursor& c, Kind kind, uint32_t index, const Node& field) {
    while (c.atList("export")) {
      Cursor ec(c.next("export"), 1);
      exports_.push_back({nameOf(ec.next("a name")), kind, nullptr, index});
      ec.expectEnd();
    }
    if (!c.atList("import")) return false;
    const Node& imp = c.next("import");
    Cursor ic(imp, 1);
    std::string module = nameOf(ic.next("a module name"));
    std::string name = nameOf(ic.next("a name"));
    ic.expectEnd();
    importAllowed(imp, "definition");
    imports_.push_back({kind, std::move(module), std::move(name), &field, c.position()});
    return true;
  }

  void collect() {
    for (size_t i = first_; i < module_.kids.size(); ++i) {
      const Node& field = module_.kids[i];
      if (!field.isList() || field.kids.empty() || field.kids[0].kind != Node::Kind::Keyword)
        failAt(field, "unexpected token (expected a module field)");
      const std::string& head = field.kids[0].text;
      Cursor c(field, 1);
      if (head == "type") {
        addType(field);
        a_.recs.push_back({static_cast<uint32_t>(a_.types.size() - 1), 1, false});
      } else if (head == "rec") {
        uint32_t first = static_cast<uint32_t>(a_.types.size());
        while (!c.done()) {
          const Node& t = c.next("a type");
          if (!t.isList("type")) failAt(t, "expected `(type ...)`");
          addType(t);
        }
        uint32_t n = static_cast<uint32_t>(a_.types.size()) - first;
        for (uint32_t k = first; k < first + n; ++k) a_.types[k].singleton = n == 1;
        a_.recs.push_back({first, n, true});
      } else if (head == "import") {
        std::string module = nameOf(c.next("a module name"));
        std::string name = nameOf(c.next("a name"));
        const Node& desc = c.next("an import description");
        c.expectEnd();
        Cursor dc(desc, 1);
        const Node* id = optionalId(dc);
        importAllowed(field, "definition");
        Kind kind;
        if (desc.isList("func")) {
          kind = Kind::Func;
          a_.func_space.add(id);
        } else if (desc.isList("table")) {
          kind = Kind::Table;
          a_.table_space.add(id);
        } else if (desc.isList("memory")) {
          kind = Kind::Memory;
          addMemory(id, desc);
        } else if (desc.isList("global")) {
          kind = Kind::Global;
          a_.global_space.add(id);
        } else if (desc.isList("tag")) {
          unsupportedAt(desc, "exceptions");
        } else {
          failAt(desc, "unknown import description");
        }
        imports_.push_back({kind, std::move(module), std::move(name), &desc, dc.position()});
      } else if (head == "func") {
        uint32_t index = a_.func_space.add(optionalId(c));
        if (!exportsAndImport(c, Kind::Func, index, field)) {
          define();
          funcs_.push_back({&field, c.position()});
        }
      } else if (head == "table") {
        uint32_t index = a_.table_space.add(optionalId(c));
        if (!exportsAndImport(c, Kind::Table, index, field)) {
          define();
          tables_.push_back({&field, c.position()});
          // (table id? reftype (elem ...)): an active segment at offset 0.
          Cursor t(field, c.position());
          if (t.atKeyword("i64")) unsupportedAt(t.peek(), "memory64 (64-bit tables)");
          if (t.atKeyword("i32")) t.next("i32");
          if (!t.done() && t.peek().kind != Node::Kind::Num) {
            VT type = a_.refType(t.next("a reference type"));
            if (t.atList("elem")) {
              elems_.push_back({&t.peek(), 1, true, index, type});
              a_.elem_space.add(nullptr);
            }
          }
        }
      } else if (head == "memory") {
        const Node* id = optionalId(c);
        const bool imported = exportsAndImport(c, Kind::Memory, a_.memory_space.count, field);
        addMemory(id, field);
        if (!imported) {
          define();
          memories_.push_back({&field, c.position()});
          Cursor m(field, c.position());
          if (m.atKeyword("i64")) unsupportedAt(m.peek(), "memory64");
          if (m.atKeyword("i32")) m.next("i32");
          if (m.atList("data")) {
            datas_.push_back({&m.peek(), 1, true, 0, {}});
            a_.data_space.add(nullptr);
          }
        }
      } else if (head == "global") {
        uint32_t index = a_.global_space.add(optionalId(c));
        if (!exportsAndImport(c, Kind::Global, index, field)) {
          define();
          globals_.push_back({&field, c.position()});
        }
      } else if (head == "export") {
        std::string name = nameOf(c.next("a name"));
        const Node& desc = c.next("an export description");
        c.expectEnd();
        Kind kind;
        if (desc.isList("func"))
          kind = Kind::Func;
        else if (desc.isList("table"))
          kind = Kind::Table;
        else if (desc.isList("memory"))
          kind = Kind::Memory;
        else if (desc.isList("global"))
          kind = Kind::Global;
        else if (desc.isList("tag"))
          unsupportedAt(desc, "exceptions");
        else
          failAt(desc, "unknown export description");
        Cursor dc(desc, 1);
        const Node& idx = dc.next("an index");
        dc.expectEnd();
        exports_.push_back({std::move(name), kind, &idx, 0});
      } else if (head == "start") {
        if (start_) failAt(field, "multiple start sections");
        start_ = &c.next("a function index");
        c.expectEnd();
      } else if (head == "elem") {
        a_.elem_space.add(optionalId(c));
        elems_.push_back({&field, c.position(), false, 0, {}});
      } else if (head == "data") {
        a_.data_space.add(optionalId(c));
        datas_.push_back({&field, c.position(), false, 0, {}});
      } else if (head == "tag") {
        unsupportedAt(field, "exceptions");
      } else {
        failAt(field, fmt::format("unknown module field `{}`", head));
      }
    }
  }

  void addType(const Node& form) {
    Cursor c(form, 1);
    a_.type_space.add(optionalId(c));
    a_.type_forms.push_back(&form);
    a_.types.emplace_back();
    a_.types.back().node = &form;
  }

  // --- limits, table and memory types ----------------------------------------

  void limits(Cursor& c, Bytes& out) {
    const Node& min_node = c.next("a size");
    auto min = min_node.kind == Node::Kind::Num ? parseUnsigned(min_node.text, 64) : std::nullopt;
    if (!min) failAt(min_node, "malformed size (i64 constant)");
    std::optional<uint64_t> max;
    if (!c.done() && c.peek().kind == Node::Kind::Num) {
      const Node& max_node = c.next("a size");
      max = parseUnsigned(max_node.text, 64);
      if (!max) failAt(max_node, "malformed size (i64 constant)");
    }
    out.u8(max ? 0x01 : 0x00);
    out.u32(*min);
    if (max) out.u32(*max);
  }

  void tableType(Cursor& c, Bytes& out) {
    if (c.atKeyword("i64")) unsupportedAt(c.peek(), "memory64 (64-bit tables)");
    if (c.atKeyword("i32")) c.next("i32");
    Bytes lim;
    limits(c, lim);
    a_.writeValType(out, a_.refType(c.next("a reference type")));
    out.raw(lim);
  }

  void memoryType(Cursor& c, Bytes& out) {
    if (c.atKeyword("i64")) unsupportedAt(c.peek(), "memory64");
    if (c.atKeyword("i32")) c.next("i32");
    limits(c, out);
    if (c.atKeyword("shared")) unsupportedAt(c.peek(), "threads");
    if (c.atList("pagesize")) unsupportedAt(c.peek(), "custom page sizes");
  }

  void globalType(Cursor& c, Bytes& out) {
    const Node& n = c.next("a global type");
    if (n.isList("mut")) {
      Cursor mc(n, 1);
      a_.writeValType(out, a_.valType(mc));
      mc.expectEnd();
      out.u8(1);
      return;
    }
    auto t = a_.tryValType(n);
    if (!t) failAt(n, "unknown global type");
    a_.writeValType(out, *t);
    out.u8(0);
  }

  // --- sections -----------------------------------------------------------------

  Bytes importSection() {
    Bytes out;
    out.u32(imports_.size());
    for (const ImportRec& imp : imports_)
      if (imp.kind == Kind::Func) ++a_.num_imported_funcs;
    for (const ImportRec& imp : imports_) {
      out.name(imp.module);
      out.name(imp.name);
      out.u8(static_cast<uint8_t>(imp.kind));
      Cursor c(*imp.desc, imp.at);
      switch (imp.kind) {
        case Kind::Func: out.u32(a_.typeUse(c, true).index); break;
        case Kind::Table: tableType(c, out); break;
        case Kind::Memory: memoryType(c, out); break;
        case Kind::Global: globalType(c, out); break;
      }
      c.expectEnd();
    }
    return out;
  }

  void functions(Bytes& funcs, Bytes& code) {
    funcs.u32(funcs_.size());
    code.u32(funcs_.size());
    for (const DefRec& def : funcs_) {
      Cursor c(*def.node, def.at);
      TypeUse use = a_.typeUse(c, true);
      funcs.u32(use.index);
      Assembler::FuncCtx f;
      f.locals.what = "local";
      for (uint32_t i = 0; i < use.num_params; ++i)
        f.locals.add(i < use.param_ids.size() ? use.param_ids[i] : nullptr);
      std::vector<VT> locals;
      while (c.atList("local")) {
        Cursor lc(c.next("local"), 1);
        if (!lc.done() && lc.peek().kind == Node::Kind::Id) {
          f.locals.add(&lc.next("id"));
          locals.push_back(a_.valType(lc));
          lc.expectEnd();
          continue;
        }
        while (!lc.done()) {
          locals.push_back(a_.valType(lc));
          f.locals.add(nullptr);
        }
      }
      Bytes body;
      // Locals as runs of equal types (spec 5.5.13).
      std::vector<std::pair<uint32_t, VT>> runs;
      for (const VT& t : locals) {
        if (!runs.empty() && runs.back().second == t) {
          ++runs.back().first;
        } else {
          runs.push_back({1, t});
        }
      }
      body.u32(runs.size());
      for (const auto& [n, t] : runs) {
        body.u32(n);
        a_.writeValType(body, t);
      }
      a_.instrs(c, body, f);
      if (!c.done()) failAt(c.peek(), fmt::format("unexpected `{}`", c.peek().text));
      if (!f.locals.ids.empty())
        local_names_[a_.num_imported_funcs + static_cast<uint32_t>(&def - funcs_.data())] =
            f.locals.ids;
      body.u8(0x0B);
      code.u32(body.size());
      code.raw(body);
    }
  }

  Bytes tableSection() {
    Bytes out;
    out.u32(tables_.size());
    for (const DefRec& def : tables_) {
      Cursor c(*def.node, def.at);
      if (c.atKeyword("i32")) c.next("i32");
      if (!c.done() && c.peek().kind != Node::Kind::Num) {
        // reftype (elem ...): limits from the number of items.
        VT type = a_.refType(c.next("a reference type"));
        const Node& elem = c.next("(elem ...)");
        c.expectEnd();
        uint64_t n = elemItemCount(elem);
        a_.writeValType(out, type);
        out.u8(0x01);
        out.u32(n);
        out.u32(n);
        continue;
      }
      Bytes tt;
      tableType(c, tt);
      if (c.done()) {
        out.raw(tt);
        continue;
      }
      // (table tabletype expr): the 0x40 0x00 form (spec 5.5.6).
      out.u8(0x40);
      out.u8(0x00);
      out.raw(tt);
      a_.constExpr(c, out);
    }
    return out;
  }

  static uint64_t elemItemCount(const Node& elem) {
    uint64_t n = 0;
    for (size_t i = 1; i < elem.kids.size(); ++i)
      if (!elem.kids[i].isKeyword("func")) ++n;
    return n;
  }

  Bytes memorySection() {
    Bytes out;
    out.u32(memories_.size());
    for (const DefRec& def : memories_) {
      Cursor c(*def.node, def.at);
      if (c.atKeyword("i32")) c.next("i32");
      if (c.atList("data")) {
        const Node& data = c.next("data");
        c.expectEnd();
        uint64_t len = 0;
        for (size_t i = 1; i < data.kids.size(); ++i) len += data.kids[i].text.size();
        uint64_t pages = (len + 65535) / 65536;
        out.u8(0x01);
        out.u32(pages);
        out.u32(pages);
        continue;
      }
      memoryType(c, out);
      c.expectEnd();
    }
    return out;
  }

  Bytes globalSection() {
    Bytes out;
    out.u32(globals_.size());
    for (const DefRec& def : globals_) {
      Cursor c(*def.node, def.at);
      globalType(c, out);
      a_.constExpr(c, out);
    }
    return out;
  }

  Bytes exportSection() {
    Bytes out;
    out.u32(exports_.size());
    for (const ExportRec& e : exports_) {
      out.name(e.name);
      out.u8(static_cast<uint8_t>(e.kind));
      uint32_t index = e.resolved;
      if (e.index) {
        switch (e.kind) {
          case Kind::Func: index = a_.resolve(*e.index, a_.func_space); break;
          case Kind::Table: index = a_.resolve(*e.index, a_.table_space); break;
          case Kind::Memory: index = a_.resolve(*e.index, a_.memory_space); break;
          case Kind::Global: index = a_.resolve(*e.index, a_.global_space); break;
        }
      }
      out.u32(index);
    }
    return out;
  }

  // An offset: `(offset instr*)` or one folded instruction (spec 6.6.11).
  void offsetExpr(const Node& n, Bytes& out) {
    if (n.isList("offset")) {
      Cursor c(n, 1);
      a_.constExpr(c, out);
      return;
    }
    Assembler::FuncCtx f;
    a_.folded(n, out, f);
    out.u8(0x0B);
  }

  // An element expression: `(item instr*)` or one folded instruction.
  void itemExpr(const Node& n, Bytes& out) {
    if (n.isList("item")) {
      Cursor c(n, 1);
      a_.constExpr(c, out);
      return;
    }
    if (!n.isList()) failAt(n, "expected an element expression");
    Assembler::FuncCtx f;
    a_.folded(n, out, f);
    out.u8(0x0B);
  }

  bool atRefType(const Cursor& c) {
    if (c.done()) return false;
    const Node& n = c.peek();
    if (n.isList("ref")) return true;
    return n.kind == Node::Kind::Keyword && n.text != "func" && a_.tryValType(n).has_value();
  }

  Bytes elemSection() {
    Bytes out;
    out.u32(elems_.size());
    for (const SegRec& seg : elems_) {
      Cursor c(*seg.node, seg.at);
      enum class Mode { Active, Passive, Declare } mode = Mode::Passive;
      bool explicit_table = false;
      uint32_t table = 0;
      Bytes offset;
      if (seg.from_abbrev) {
        mode = Mode::Active;
        explicit_table = seg.target != 0;
        table = seg.target;
        offset.u8(0x41);
        offset.u8(0x00);
        offset.u8(0x0B);
      } else if (c.atKeyword("declare")) {
        c.next("declare");
        mode = Mode::Declare;
      } else {
        if (c.atList("table")) {
          Cursor tc(c.next("table"), 1);
          table = a_.resolve(tc.next("a table index"), a_.table_space);
          tc.expectEnd();
          explicit_table = true;
          mode = Mode::Active;
          if (c.done() || !c.peek().isList())
            failAt(c.done() ? *seg.node : c.peek(), "expected an offset");
        }
        if (!c.done() && c.peek().isList() && !c.peek().isList("ref")) {
          mode = Mode::Active;
          offsetExpr(c.next("an offset"), offset);
        } else if (explicit_table) {
          failAt(c.done() ? *seg.node : c.peek(), "expected an offset");
        }
      }
      // The element list: `func idx*`, `reftype expr*`, or (active only) bare indices.
      bool indices;
      VT type{0x64, false, 0x70};  // (ref func)
      if (seg.from_abbrev) {
        type = seg.elem_type;
        indices = !c.done() && !c.peek().isList();
        if (c.atKeyword("func")) c.next("func");
      } else if (c.atKeyword("func")) {
        c.next("func");
        indices = true;
      } else if (atRefType(c)) {
        type = a_.refType(c.next("a reference type"));
        indices = false;
      } else {
        if (mode != Mode::Active)
          failAt(c.done() ? *seg.node : c.peek(), "expected an element type");
        indices = true;
      }
      std::vector<Bytes> items;
      while (!c.done()) {
        const Node& n = c.next("an element");
        Bytes item;
        if (indices) {
          item.u32(a_.resolve(n, a_.func_space));
        } else {
          itemExpr(n, item);
        }
        items.push_back(std::move(item));
      }
      if (seg.from_abbrev && indices) {
        // The abbreviation's type is the table's; write expressions so the
        // segment keeps it.
        indices = false;
        for (Bytes& item : items) {
          Bytes e;
          e.u8(0xD2);
          e.raw(item);
          e.u8(0x0B);
          item = std::move(e);
        }
      }
      const bool funcref = type == VT{0x63, false, 0x70};
      uint8_t flags;
      if (indices) {
        flags = mode == Mode::Passive ? 1 : mode == Mode::Declare ? 3 : explicit_table ? 2 : 0;
      } else {
        flags = mode == Mode::Passive          ? 5
                : mode == Mode::Declare        ? 7
                : (explicit_table || !funcref) ? 6
                                               : 4;
      }
      out.u32(flags);
      if (flags == 2 || flags == 6) out.u32(table);
      if (mode == Mode::Active) out.raw(offset);
      if (flags == 1 || flags == 2 || flags == 3) out.u8(0x00);  // elemkind funcref
      if (flags == 5 || flags == 6 || flags == 7) a_.writeValType(out, type);
      out.u32(items.size());
      for (const Bytes& item : items) out.raw(item);
    }
    return out;
  }

  Bytes dataSection() {
    Bytes out;
    out.u32(datas_.size());
    for (const SegRec& seg : datas_) {
      Cursor c(*seg.node, seg.at);
      bool active = seg.from_abbrev;
      Bytes offset;
      if (seg.from_abbrev) {
        offset.u8(0x41);
        offset.u8(0x00);
        offset.u8(0x0B);
      } else {
        if (c.atList("memory")) {
          Cursor mc(c.next("memory"), 1);
          const Node& m = mc.next("a memory index");
          if (a_.resolve(m, a_.memory_space) != 0) unsupportedAt(m, "multiple memories");
          mc.expectEnd();
          if (c.done() || !c.peek().isList())
            failAt(c.done() ? *seg.node : c.peek(), "expected an offset");
        }
        if (!c.done() && c.peek().isList()) {
          active = true;
          offsetExpr(c.next("an offset"), offset);
        }
      }
      std::string bytes;
      while (!c.done()) {
        const Node& s = c.next("a string");
        if (s.kind != Node::Kind::String) failAt(s, "expected a string");
        bytes += s.text;
      }
      out.u8(active ? 0x00 : 0x01);
      if (active) out.raw(offset);
      out.name(bytes);
    }
    return out;
  }

  Assembler& a_;
  const Node& module_;
  size_t first_;
  bool defined_ = false;
  std::vector<ImportRec> imports_;
  std::vector<DefRec> funcs_, tables_, memories_, globals_;
  std::vector<ExportRec> exports_;
  std::vector<SegRec> elems_, datas_;
  const Node* start_ = nullptr;
  std::map<uint32_t, std::map<std::string, uint32_t>> local_names_;  // function -> local ids
};

}  // namespace

std::vector<uint8_t> Assembler::assemble(const std::vector<Node>& top) {
  Node wrapper;  // bare module fields, as if inside `(module ...)`
  const Node* module = nullptr;
  size_t first = 0;
  if (!top.empty() && top[0].isList("module")) {
    if (top.size() > 1) failAt(top[1], "unexpected token after the module");
    module = &top[0];
    first = 1;
    if (module->kids.size() > 1 && module->kids[1].kind == Node::Kind::Id) ++first;
    if (module->kids.size() > first && module->kids[first].isKeyword("quote")) {
      // (module quote "..."*): the strings' text, read as a module of its own.
      std::string text;
      for (size_t i = first + 1; i < module->kids.size(); ++i) {
        const Node& s = module->kids[i];
        if (s.kind != Node::Kind::String) failAt(s, "expected a string");
        text += s.text;
      }
      return Assembler().assemble(readTree(text));
    }
    if (module->kids.size() > first && module->kids[first].isKeyword("binary")) {
      std::vector<uint8_t> bytes;
      for (size_t i = first + 1; i < module->kids.size(); ++i) {
        const Node& s = module->kids[i];
        if (s.kind != Node::Kind::String) failAt(s, "expected a string");
        bytes.insert(bytes.end(), s.text.begin(), s.text.end());
      }
      return bytes;
    }
  } else {
    wrapper.kids = top;
    module = &wrapper;
  }
  return ModuleBuilder(*this, *module, first).build();
}

}  // namespace slabfuzz::wat
