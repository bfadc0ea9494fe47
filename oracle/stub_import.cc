#include "oracle/stub_import.h"

#include <map>
#include <utility>
#include <vector>

#include "runtime/instr.h"

namespace slabfuzz {
namespace {

// The body of a function that returns the default value of each result.
std::vector<Instr> stubBody(const Module& m, uint32_t type_index) {
  std::vector<Instr> body;
  auto emit = [&](Opcode op, uint32_t a = 0, uint32_t b = 0) {
    Instr ins;
    ins.op = op;
    ins.a = a;
    ins.b = b;
    body.push_back(ins);
  };
  const FuncType& sig = m.types[type_index].composite.func;
  for (ValType r : sig.results) {
    if (r.isRef()) {
      if (!r.nullable()) {
        body.clear();
        emit(Opcode::Unreachable);
        break;
      }
      emit(Opcode::RefNull, r.heapType().bits());
      continue;
    }
    switch (r.kind()) {
      case ValKind::I32: emit(Opcode::I32Const); break;
      case ValKind::I64: emit(Opcode::I64Const); break;
      case ValKind::F32: emit(Opcode::F32Const); break;
      case ValKind::F64: emit(Opcode::F64Const); break;
      default:  // v128 is out of scope; such a module never gets here
        body.clear();
        emit(Opcode::Unreachable);
        break;
    }
  }
  emit(Opcode::End);
  return body;
}

// A function index after the move. The module may not be valid (the
// engines judge that): an index out of range stays as it is, and stays out
// of range, since the count of functions does not change.
uint32_t moved(const std::vector<uint32_t>& to, uint32_t index) {
  return index < to.size() ? to[index] : index;
}

void remapCode(std::vector<Instr>& code, const std::vector<uint32_t>& to) {
  for (Instr& ins : code) {
    if (opcodeInfo(ins.op).imm == ImmKind::Func) ins.a = moved(to, ins.a);
  }
}

// Names keyed by function index, moved with their functions.
template <typename V>
void remapKeys(std::map<uint32_t, V>& names, const std::vector<uint32_t>& to) {
  std::map<uint32_t, V> moved;
  for (auto& [index, value] : names) {
    if (index < to.size()) moved.emplace(to[index], std::move(value));
  }
  names = std::move(moved);
}

}  // namespace

Module stubFunctionImports(Module m, std::string_view module, std::string_view name,
                           int* replaced) {
  if (replaced) *replaced = 0;
  for (;;) {
    // Function index of the first matching import, if any.
    uint32_t func = 0;
    size_t import = m.imports.size();
    for (size_t i = 0; i < m.imports.size(); ++i) {
      if (m.imports[i].kind != ExternKind::Func) continue;
      if (m.imports[i].module == module && m.imports[i].name == name) {
        import = i;
        break;
      }
      ++func;
    }
    if (import == m.imports.size()) return m;
    // A stub needs the import's function type; without one the module is
    // invalid and goes to the engines as it is, to be refused there.
    const uint32_t type_index = m.imports[import].func_type;
    if (type_index >= m.types.size() || m.types[type_index].composite.kind != CompositeKind::Func ||
        func >= m.func_types.size())
      return m;

    const auto total = static_cast<uint32_t>(m.func_types.size());
    std::vector<uint32_t> to(total);
    for (uint32_t i = 0; i < total; ++i) to[i] = i < func ? i : i == func ? total - 1 : i - 1;

    m.imports.erase(m.imports.begin() + static_cast<std::ptrdiff_t>(import));
    --m.num_imported_funcs;
    m.func_types.erase(m.func_types.begin() + func);
    m.func_types.push_back(type_index);
    Function stub;
    stub.type_index = type_index;
    stub.body = stubBody(m, type_index);
    m.functions.push_back(std::move(stub));
    m.func_decl_offsets.push_back(0);

    for (Function& f : m.functions) remapCode(f.body, to);
    for (Global& g : m.globals) remapCode(g.init.instrs, to);
    for (Table& t : m.tables) {
      if (t.init) remapCode(t.init->instrs, to);
    }
    for (ElemSegment& seg : m.elems) {
      remapCode(seg.table_offset.instrs, to);
      for (ConstExpr& item : seg.items) remapCode(item.instrs, to);
    }
    for (DataSegment& seg : m.datas) remapCode(seg.memory_offset.instrs, to);
    for (Export& e : m.exports) {
      if (e.kind == ExternKind::Func) e.index = moved(to, e.index);
    }
    if (m.start) m.start = moved(to, *m.start);
    remapKeys(m.names.functions, to);
    remapKeys(m.names.locals, to);
    remapKeys(m.names.labels, to);
    if (replaced) ++*replaced;
  }
}

}  // namespace slabfuzz
