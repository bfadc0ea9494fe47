// Types in the text format (spec 6.4 "Types", 6.6.3 "Type Uses"): value,
// heap, storage and field types, type definitions with rec/sub/final, and
// typeuses with the implicit-type rule. See assembler.h.
#include <fmt/format.h>

#include "text/assembler.h"
#include "text/numbers.h"

namespace slabfuzz::wat {
namespace {

constexpr uint8_t kRefNull = 0x63, kRef = 0x64;

// Abstract heap types in scope, by keyword (spec 6.4.2), with their codes.
std::optional<uint8_t> abstractHeap(std::string_view k) {
  if (k == "func") return 0x70;
  if (k == "extern") return 0x6F;
  if (k == "any") return 0x6E;
  if (k == "eq") return 0x6D;
  if (k == "i31") return 0x6C;
  if (k == "struct") return 0x6B;
  if (k == "array") return 0x6A;
  if (k == "none") return 0x71;
  if (k == "nofunc") return 0x73;
  if (k == "noextern") return 0x72;
  return std::nullopt;
}

// Reference type abbreviations (spec 6.4.3): `funcref` = `(ref null func)`.
std::optional<uint8_t> refShorthand(std::string_view k) {
  if (k == "funcref") return 0x70;
  if (k == "externref") return 0x6F;
  if (k == "anyref") return 0x6E;
  if (k == "eqref") return 0x6D;
  if (k == "i31ref") return 0x6C;
  if (k == "structref") return 0x6B;
  if (k == "arrayref") return 0x6A;
  if (k == "nullref") return 0x71;
  if (k == "nullfuncref") return 0x73;
  if (k == "nullexternref") return 0x72;
  return std::nullopt;
}

void rejectOutOfScopeType(const Node& n) {
  if (n.kind != Node::Kind::Keyword) return;
  const std::string& k = n.text;
  if (k == "v128") unsupportedAt(n, "SIMD");
  if (k == "exn" || k == "noexn" || k == "exnref" || k == "nullexnref")
    unsupportedAt(n, "exceptions");
  if (k == "cont" || k == "nocont" || k == "contref" || k == "nullcontref")
    unsupportedAt(n, "stack switching");
}

}  // namespace

uint32_t Assembler::typeIndex(const Node& n) {
  return resolve(n, type_space);
}

void Assembler::heapType(const Node& n, bool& heap_index, uint32_t& heap) {
  if (n.isIndex()) {
    heap_index = true;
    heap = typeIndex(n);
    return;
  }
  rejectOutOfScopeType(n);
  if (n.isList("shared")) unsupportedAt(n, "shared-everything threads");
  if (n.kind == Node::Kind::Keyword) {
    if (auto code = abstractHeap(n.text)) {
      heap_index = false;
      heap = *code;
      return;
    }
  }
  failAt(n, "unknown heap type");
}

VT Assembler::refType(const Node& n) {
  rejectOutOfScopeType(n);
  if (n.kind == Node::Kind::Keyword) {
    if (auto code = refShorthand(n.text)) return VT{kRefNull, false, *code};
    failAt(n, fmt::format("unknown type `{}`", n.text));
  }
  if (!n.isList("ref")) failAt(n, "expected a reference type");
  Cursor c(n, 1);
  VT t{kRef, false, 0};
  if (c.atKeyword("null")) {
    t.code = kRefNull;
    c.next("null");
  }
  heapType(c.next("a heap type"), t.heap_index, t.heap);
  c.expectEnd();
  return t;
}

std::optional<VT> Assembler::tryValType(const Node& n) {
  rejectOutOfScopeType(n);
  if (n.kind == Node::Kind::Keyword) {
    if (n.text == "i32") return VT{0x7F};
    if (n.text == "i64") return VT{0x7E};
    if (n.text == "f32") return VT{0x7D};
    if (n.text == "f64") return VT{0x7C};
    if (refShorthand(n.text)) return refType(n);
    return std::nullopt;
  }
  if (n.isList("ref")) return refType(n);
  return std::nullopt;
}

VT Assembler::valType(Cursor& c) {
  const Node& n = c.next("a value type");
  if (auto t = tryValType(n)) return *t;
  failAt(n, "unknown value type");
}

VT Assembler::storageType(const Node& n) {
  if (n.isKeyword("i8")) return VT{0x78};
  if (n.isKeyword("i16")) return VT{0x77};
  if (auto t = tryValType(n)) return *t;
  failAt(n, "unknown storage type");
}

FieldT Assembler::fieldType(const Node& n) {
  if (n.isList("mut")) {
    Cursor c(n, 1);
    FieldT f{storageType(c.next("a storage type")), true};
    c.expectEnd();
    return f;
  }
  return FieldT{storageType(n), false};
}

void Assembler::paramsResults(Cursor& c, bool names, std::vector<VT>& params,
                              std::vector<VT>& results, std::vector<const Node*>* ids) {
  while (c.atList("param")) {
    const Node& p = c.next("param");
    Cursor pc(p, 1);
    if (!pc.done() && pc.peek().kind == Node::Kind::Id) {
      // (param $x t): one named parameter (spec 6.4.6).
      if (!names) failAt(pc.peek(), "unexpected identifier in parameter");
      const Node* id = &pc.next("id");
      params.push_back(valType(pc));
      if (ids) ids->push_back(id);
      pc.expectEnd();
      continue;
    }
    while (!pc.done()) {
      params.push_back(valType(pc));
      if (ids) ids->push_back(nullptr);
    }
  }
  while (c.atList("result")) {
    Cursor rc(c.next("result"), 1);
    while (!rc.done()) results.push_back(valType(rc));
  }
}

uint32_t Assembler::implicitType(const std::vector<VT>& params, const std::vector<VT>& results) {
  // The smallest index whose definition is `(rec (type (sub final (func
  // params results))))`, else a new such type appended (spec 6.6.3).
  for (uint32_t i = 0; i < types.size(); ++i) {
    const TypeDef& t = types[i];
    if (t.comp == Comp::Func && t.final && t.supers.empty() && t.singleton && t.params == params &&
        t.results == results)
      return i;
  }
  TypeDef t;
  t.params = params;
  t.results = results;
  types.push_back(std::move(t));
  recs.push_back({static_cast<uint32_t>(types.size() - 1), 1, false});
  return static_cast<uint32_t>(types.size() - 1);
}

TypeUse Assembler::typeUse(Cursor& c, bool names) {
  TypeUse use;
  const Node* type_ref = nullptr;
  if (c.atList("type")) {
    const Node& t = c.next("type");
    Cursor tc(t, 1);
    type_ref = &tc.next("a type index");
    tc.expectEnd();
    use.index = typeIndex(*type_ref);
  }
  std::vector<VT> params, results;
  const size_t before = c.position();
  paramsResults(c, names, params, results, &use.param_ids);
  const bool inline_sig = c.position() != before;
  if (type_ref) {
    if (use.index < types.size() && types[use.index].comp == Comp::Func) {
      const TypeDef& t = types[use.index];
      if (inline_sig && (t.params != params || t.results != results))
        failAt(*type_ref, "inline function type does not match the type");
      use.num_params = static_cast<uint32_t>(t.params.size());
      if (!inline_sig) use.param_ids.assign(t.params.size(), nullptr);
    } else if (inline_sig) {
      failAt(*type_ref, "inline function type does not match the type");
    }
    return use;
  }
  use.index = implicitType(params, results);
  use.num_params = static_cast<uint32_t>(params.size());
  return use;
}

// --- type definitions ----------------------------------------------------------

void Assembler::defineType(const Node& form, uint32_t index) {
  TypeDef& t = types[index];
  Cursor c(form, 1);
  if (!c.done() && c.peek().kind == Node::Kind::Id) c.next("id");
  const Node* comp = &c.next("a composite type");
  c.expectEnd();
  t.final = true;
  if (comp->isList("sub")) {
    Cursor sc(*comp, 1);
    t.final = false;
    if (sc.atKeyword("final")) {
      sc.next("final");
      t.final = true;
    }
    while (sc.atIndex()) t.supers.push_back(typeIndex(sc.next("a type index")));
    comp = &sc.next("a composite type");
    sc.expectEnd();
  }
  Cursor cc(*comp, 1);
  if (comp->isList("func")) {
    t.comp = Comp::Func;
    paramsResults(cc, true, t.params, t.results, nullptr);
  } else if (comp->isList("struct")) {
    t.comp = Comp::Struct;
    while (cc.atList("field")) {
      const Node& f = cc.next("field");
      Cursor fc(f, 1);
      if (!fc.done() && fc.peek().kind == Node::Kind::Id) {
        const Node& id = fc.next("id");
        if (!t.field_ids.emplace(id.text, static_cast<uint32_t>(t.fields.size())).second)
          failAt(id, "duplicate field");
        t.fields.push_back(fieldType(fc.next("a field type")));
        fc.expectEnd();
        continue;
      }
      while (!fc.done()) t.fields.push_back(fieldType(fc.next("a field type")));
    }
  } else if (comp->isList("array")) {
    t.comp = Comp::Array;
    const Node& f = cc.next("a field type");
    if (f.isList("field")) {
      Cursor fc(f, 1);
      t.fields.push_back(fieldType(fc.next("a field type")));
      fc.expectEnd();
    } else {
      t.fields.push_back(fieldType(f));
    }
  } else {
    if (comp->isList("cont")) unsupportedAt(*comp, "stack switching");
    if (comp->isList("shared")) unsupportedAt(*comp, "shared-everything threads");
    failAt(*comp, "unknown composite type");
  }
  cc.expectEnd();
}

void Assembler::defineTypes() {
  for (uint32_t i = 0; i < type_forms.size(); ++i) defineType(*type_forms[i], i);
}

// --- encoding ------------------------------------------------------------------

void Assembler::writeHeapType(Bytes& out, bool heap_index, uint32_t heap) const {
  if (heap_index) {
    out.s64(heap);  // s33
  } else {
    out.u8(static_cast<uint8_t>(heap));
  }
}

void Assembler::writeValType(Bytes& out, const VT& t) const {
  out.u8(t.code);
  if (t.isRef()) writeHeapType(out, t.heap_index, t.heap);
}

void Assembler::writeTypeSection(Bytes& out) const {
  out.u32(recs.size());
  for (const RecDef& r : recs) {
    if (r.explicit_rec) {
      out.u8(0x4E);
      out.u32(r.count);
    }
    for (uint32_t i = r.first; i < r.first + r.count; ++i) {
      const TypeDef& t = types[i];
      if (!t.final || !t.supers.empty()) {
        out.u8(t.final ? 0x4F : 0x50);
        out.u32(t.supers.size());
        for (uint32_t s : t.supers) out.u32(s);
      }
      switch (t.comp) {
        case Comp::Func:
          out.u8(0x60);
          out.u32(t.params.size());
          for (const VT& p : t.params) writeValType(out, p);
          out.u32(t.results.size());
          for (const VT& r2 : t.results) writeValType(out, r2);
          break;
        case Comp::Struct:
        case Comp::Array:
          out.u8(t.comp == Comp::Struct ? 0x5F : 0x5E);
          if (t.comp == Comp::Struct) out.u32(t.fields.size());
          for (const FieldT& f : t.fields) {
            writeValType(out, f.type);
            out.u8(f.mut ? 1 : 0);
          }
          break;
      }
    }
  }
}

}  // namespace slabfuzz::wat
