// The shape detectors and the list of favoured shapes (see shape.h).
#include "generators/gcgen/shape.h"

#include <array>
#include <vector>

#include "generators/gcgen/gcgen.h"

namespace slabfuzz::gcgen {

namespace {

bool isCast(Opcode op) {
  return op == Opcode::RefCast || op == Opcode::RefCastNull || op == Opcode::RefTest ||
         op == Opcode::RefTestNull || op == Opcode::BrOnCast || op == Opcode::BrOnCastFail;
}

// A safepoint in the seed bug's sense: a call (the host's included) or an
// allocation.
bool isSafepoint(Opcode op) {
  switch (op) {
    case Opcode::Call:
    case Opcode::CallRef:
    case Opcode::CallIndirect:
    case Opcode::StructNew:
    case Opcode::StructNewDefault:
    case Opcode::ArrayNew:
    case Opcode::ArrayNewDefault:
    case Opcode::ArrayNewFixed:
    case Opcode::ArrayNewData:
    case Opcode::ArrayNewElem: return true;
    default: return false;
  }
}

bool isAllocation(Opcode op) {
  switch (op) {
    case Opcode::StructNew:
    case Opcode::StructNewDefault:
    case Opcode::ArrayNew:
    case Opcode::ArrayNewDefault:
    case Opcode::ArrayNewFixed:
    case Opcode::ArrayNewData:
    case Opcode::ArrayNewElem: return true;
    default: return false;
  }
}

bool isRefLocal(const Module& m, const Function& f, uint32_t x) {
  const FuncType& sig = m.types[f.type_index].composite.func;
  if (x < sig.params.size()) return sig.params[x].isRef();
  x -= static_cast<uint32_t>(sig.params.size());
  return x < f.locals.size() && f.locals[x].isRef();
}

// Is local x carried around loop [begin, end]: written in it, and read
// before its first write?
bool carried(const Function& f, uint32_t begin, uint32_t end, uint32_t x) {
  bool written = false, read_first = false, seen = false;
  for (uint32_t i = begin + 1; i < end; ++i) {
    const Instr& in = f.body[i];
    if (in.a != x) continue;
    if (in.op == Opcode::LocalGet) {
      if (!seen) read_first = true;
      seen = true;
    } else if (in.op == Opcode::LocalSet || in.op == Opcode::LocalTee) {
      written = true;
      seen = true;
    }
  }
  return written && read_first;
}

}  // namespace

bool hasSeedShape(const Module& m, const Function& f) {
  const auto& body = f.body;
  for (uint32_t outer = 0; outer < body.size(); ++outer) {
    if (body[outer].op != Opcode::Loop) continue;
    const uint32_t outer_end = body[outer].c;
    for (uint32_t inner = outer + 1; inner < outer_end; ++inner) {
      if (body[inner].op != Opcode::Loop) continue;
      const uint32_t inner_end = body[inner].c;
      bool safepoint = false;
      for (uint32_t i = outer + 1; i < outer_end && !safepoint; ++i) {
        if (i == inner) i = inner_end;
        safepoint = isSafepoint(body[i].op);
      }
      if (!safepoint) continue;
      for (uint32_t i = inner + 2; i < inner_end; ++i) {
        const Instr& get = body[i - 1];
        if (!isCast(body[i].op) || get.op != Opcode::LocalGet) continue;
        if (isRefLocal(m, f, get.a) && carried(f, outer, outer_end, get.a)) return true;
      }
    }
  }
  return false;
}

namespace {

// The element type of array type a, or i32 when a is not an array type.
ValType arrayElem(const Module& m, uint32_t a) {
  if (a >= m.types.size() || m.types[a].composite.kind != CompositeKind::Array) {
    return ValType::i32();
  }
  return m.types[a].composite.fields[0].type;
}

// Does Block/Loop/If `in` have a typed block type with parameters (and a
// reference among them)?
bool typedParams(const Module& m, const Instr& in, bool* ref_param) {
  if (in.a != static_cast<uint32_t>(BlockTypeKind::TypeIndex) || in.b >= m.types.size()) {
    return false;
  }
  const FuncType& ft = m.types[in.b].composite.func;
  for (ValType v : ft.params) *ref_param = *ref_param || v.isRef();
  return !ft.params.empty();
}

// A block that carries a reference out: a value type or a typed one with a
// reference result.
bool refResult(const Module& m, const Instr& in) {
  if (in.a == static_cast<uint32_t>(BlockTypeKind::Value)) return ValType::fromBits(in.b).isRef();
  if (in.a != static_cast<uint32_t>(BlockTypeKind::TypeIndex) || in.b >= m.types.size()) {
    return false;
  }
  for (ValType v : m.types[in.b].composite.func.results) {
    if (v.isRef()) return true;
  }
  return false;
}

struct Frame {
  bool loop;
  bool carries_ref;  // a branch to it carries a reference
};

// Walks one body, counting its shapes into `shapes`.
// Counts per body in a flat map first (names are literals, few distinct),
// then once into the module's counter.
struct LocalCounts {
  std::array<std::pair<std::string_view, uint32_t>, 32> items{};
  size_t size = 0;
  void add(std::string_view name) {
    for (size_t i = 0; i < size; ++i) {
      if (items[i].first.data() == name.data()) {
        ++items[i].second;
        return;
      }
    }
    if (size < items.size()) items[size++] = {name, 1};
  }
};

void detectIn(const Module& m, const Function& f, uint32_t gc_import, NameCounter& shapes,
              bool* alloc_outer_cast_inner) {
  const auto& body = f.body;
  LocalCounts counts;
  bool loop_nest = false, casts = false;
  std::vector<Frame> frames{{false, false}};
  uint32_t loops = 0;
  bool to_extern = false;
  uint32_t last_gc_or_alloc = UINT32_MAX;  // index of the latest one
  uint32_t last_bulk = UINT32_MAX;         // latest bulk op on a reference array
  constexpr uint32_t kNear = 40;           // "near": within this many instructions
  auto near = [&](uint32_t a, uint32_t b) { return a != UINT32_MAX && b - a <= kNear; };
  auto add = [&](std::string_view name) { counts.add(name); };
  for (uint32_t i = 0; i < body.size(); ++i) {
    const Instr& in = body[i];
    const bool in_loop = loops > 0;
    switch (in.op) {
      case Opcode::Block:
      case Opcode::Loop:
      case Opcode::If: {
        bool ref_param = false;
        if (typedParams(m, in, &ref_param)) {
          add("block-params");
          if (ref_param && in.op == Opcode::Loop) add("loop-ref-param");
        }
        if (in.op == Opcode::Loop) {
          if (in_loop) add("loop-nest>=2");
          loop_nest = loop_nest || in_loop;
          ++loops;
          frames.push_back({true, ref_param});
        } else {
          if (in.op == Opcode::Block && refResult(m, in)) add("block-result-ref");
          frames.push_back({false, refResult(m, in)});
        }
        break;
      }
      case Opcode::End:
        if (frames.size() > 1) {
          if (frames.back().loop) --loops;
          frames.pop_back();
        }
        break;
      case Opcode::BrIf:
        if (in.a < frames.size()) {
          const Frame& t = frames[frames.size() - 1 - in.a];
          if (in.a == 0 && t.loop) add("br_if-0-back-edge");
          if (t.carries_ref) add("br_if-ref-value");
        }
        break;
      case Opcode::Call:
        if (in.a >= m.num_imported_funcs) {
          if (in_loop) add("call-in-loop");
        } else if (in_loop) {
          add("host-call-in-loop");
          if (in.a == gc_import) add("gc-in-loop");
        }
        if (in.a == gc_import) {
          if (near(last_bulk, i)) add("bulk-ref-array-near-gc");
          last_gc_or_alloc = i;
        }
        break;
      case Opcode::CallRef:
        if (in_loop) add("call_ref-in-loop");
        break;
      case Opcode::CallIndirect:
        if (in_loop) add("call_indirect-in-loop");
        break;
      case Opcode::ReturnCall:
      case Opcode::ReturnCallIndirect:
      case Opcode::ReturnCallRef:
        add("return_call*");
        if (in_loop) add("return_call*-in-loop");
        break;
      case Opcode::RefTest:
      case Opcode::RefTestNull: add("ref.test"); break;
      case Opcode::BrOnCast: add("br_on_cast"); break;
      case Opcode::BrOnCastFail: add("br_on_cast_fail"); break;
      case Opcode::BrOnNull: add("br_on_null"); break;
      case Opcode::BrOnNonNull: add("br_on_non_null"); break;
      case Opcode::SelectT:
        if (ValType::fromBits(in.b).isRef()) add("select-ref");
        break;
      case Opcode::ExternConvertAny: to_extern = true; break;
      case Opcode::AnyConvertExtern:
        if (to_extern) add("any<->extern-round-trip");
        break;
      case Opcode::ArrayCopy:
      case Opcode::ArrayFill:
      case Opcode::ArrayNewElem:
      case Opcode::ArrayInitElem:
        if (arrayElem(m, in.a).isRef()) {
          if (near(last_gc_or_alloc, i)) add("bulk-ref-array-near-gc");
          last_bulk = i;
        }
        break;
      default: break;
    }
    casts = casts || isCast(in.op);
    if (isAllocation(in.op)) {
      if (near(last_bulk, i) && in.op != Opcode::ArrayNewElem) add("bulk-ref-array-near-gc");
      last_gc_or_alloc = i;
    }
  }
  for (ValType l : f.locals) {
    if (l.isRef() && !l.nullable()) {
      add("non-null-local");
      break;
    }
  }
  for (size_t i = 0; i < counts.size; ++i) shapes.add(counts.items[i].first, counts.items[i].second);
  // Nested loops with an allocation in the outer one (outside the inner)
  // and a cast in the inner one: once per module is enough for the report.
  if (*alloc_outer_cast_inner || !loop_nest || !casts) return;
  for (uint32_t outer = 0; outer < body.size(); ++outer) {
    if (body[outer].op != Opcode::Loop) continue;
    bool alloc = false;
    uint32_t inner_with_cast = 0;
    for (uint32_t i = outer + 1; i < body[outer].c; ++i) {
      if (body[i].op == Opcode::Loop) {
        for (uint32_t k = i + 1; k < body[i].c && inner_with_cast == 0; ++k) {
          if (isCast(body[k].op)) inner_with_cast = i;
        }
        i = body[i].c;
        continue;
      }
      alloc = alloc || isAllocation(body[i].op);
    }
    if (alloc && inner_with_cast != 0) {
      shapes.add("alloc-outer+cast-inner");
      *alloc_outer_cast_inner = true;
      break;
    }
  }
}

// Every favoured shape, in report order: syntactic ones (detectShapes),
// then the ones the generator records (BodyGen::countShape).
constexpr std::array kShapes = {
    ShapeInfo{"seed-bug", "cast in an inner loop, call/alloc in the outer with a loop-carried ref live"},
    ShapeInfo{"loop-nest>=2", "a loop inside a loop"},
    ShapeInfo{"alloc-outer+cast-inner", "allocation in an outer loop, a cast in its inner loop"},
    ShapeInfo{"br_if-0-back-edge", "br_if 0 to the enclosing loop"},
    ShapeInfo{"inner-cast:same", "inner-loop access through ref.cast to the object's type"},
    ShapeInfo{"inner-cast:supertype", "... to a supertype"},
    ShapeInfo{"inner-cast:subtype", "... to a subtype (guarded by ref.test)"},
    ShapeInfo{"inner-cast:unrelated", "... to an unrelated type (guarded by ref.test)"},
    ShapeInfo{"inner-cast:br_on_cast", "... through br_on_cast"},
    ShapeInfo{"ref.test", "ref.test"},
    ShapeInfo{"br_on_cast", "br_on_cast"},
    ShapeInfo{"br_on_cast_fail", "br_on_cast_fail"},
    ShapeInfo{"call-in-loop", "a direct call inside a loop"},
    ShapeInfo{"call_ref-in-loop", "call_ref inside a loop"},
    ShapeInfo{"call_ref:struct-field", "call_ref of a funcref read from a struct field"},
    ShapeInfo{"call_ref:table", "call_ref of a table.get, ref.test-guarded ref.cast"},
    ShapeInfo{"call_ref:host-table", "call_ref of the table-get import's funcref, guarded"},
    ShapeInfo{"call_indirect-in-loop", "call_indirect inside a loop"},
    ShapeInfo{"return_call*", "return_call, return_call_indirect or return_call_ref"},
    ShapeInfo{"return_call*-in-loop", "... inside a loop (under an if)"},
    ShapeInfo{"host-call-in-loop", "an import called inside a loop"},
    ShapeInfo{"gc-in-loop", "the gc import called inside a loop"},
    ShapeInfo{"carried-ref-across:call", "seed loop: the carried ref's only copy in a local across a direct call"},
    ShapeInfo{"carried-ref-across:call_ref", "... across call_ref (struct field or table)"},
    ShapeInfo{"carried-ref-across:call_indirect", "... across call_indirect"},
    ShapeInfo{"carried-ref-across:host", "... across a host call (log-*, gc, table-get/-set, call-export*)"},
    ShapeInfo{"carried-ref-across:alloc", "... across an allocation"},
    ShapeInfo{"call-export", "call-export / call-export-catch of an earlier export"},
    ShapeInfo{"host-table", "table-get / table-set imports on the exported table"},
    ShapeInfo{"redefined-local", "a local redefined while its old value is on the stack across a safepoint"},
    ShapeInfo{"redefined-local-at-call", "... redefined with no allocation or call since the read, then a call"},
    ShapeInfo{"select-ref", "a typed select of references"},
    ShapeInfo{"block-result-ref", "a block whose result is a reference"},
    ShapeInfo{"br_if-ref-value", "br_if carrying a reference out"},
    ShapeInfo{"br_on_null", "br_on_null"},
    ShapeInfo{"br_on_non_null", "br_on_non_null"},
    ShapeInfo{"br_on_non_null-over-value", "br_on_non_null with a value beneath it in the target block"},
    ShapeInfo{"bulk-ref-array-near-gc", "array.copy/fill/new_elem/init_elem on a ref array near gc/alloc"},
    ShapeInfo{"segment-array-across-safepoint", "an array.new_elem/_data result on the stack across a safepoint, then read"},
    ShapeInfo{"huge-array-length", "an array allocation whose byte size overflows 32 bits, then accessed"},
    ShapeInfo{"subtype-object-as-supertype", "a subtype's object where its supertype is expected"},
    ShapeInfo{"i31-in-anyref/eqref", "an i31 made for an anyref or eqref slot"},
    ShapeInfo{"any<->extern-round-trip", "extern.convert_any then any.convert_extern"},
    ShapeInfo{"non-null-local", "a non-nullable reference local"},
    ShapeInfo{"block-params", "a block, loop or if with parameters"},
    ShapeInfo{"loop-ref-param", "a loop carrying a reference parameter around its back edge"},
    ShapeInfo{"array-subtype-narrowed", "an array subtype whose immutable element type narrows"},
    ShapeInfo{"rec-group-twins", "two struct or array types of one structure in different rec groups"},
    ShapeInfo{"cast-probe:null", "a logged ref.test/ref.cast/br_on_cast of a null"},
    ShapeInfo{"cast-probe:i31", "... of an i31"},
    ShapeInfo{"cast-probe:twin", "... of an object against its rec-group twin"},
};

}  // namespace

std::span<const ShapeInfo> favouredShapes() {
  return kShapes;
}

void detectShapes(const Module& m, NameCounter& shapes) {
  uint32_t gc_import = UINT32_MAX;
  for (uint32_t i = 0; i < m.imports.size(); ++i) {
    if (m.imports[i].name == "gc") gc_import = i;
  }
  bool alloc_outer_cast_inner = false;
  for (const Function& f : m.functions) detectIn(m, f, gc_import, shapes, &alloc_outer_cast_inner);
  for (const SubType& t : m.types) {
    if (t.composite.kind != CompositeKind::Array || t.supertypes.empty()) continue;
    if (m.types[t.supertypes[0]].composite.fields[0].type != t.composite.fields[0].type) {
      shapes.add("array-subtype-narrowed");
    }
  }
}

}  // namespace slabfuzz::gcgen
