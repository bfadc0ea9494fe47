// The store; see store.h.
#include "runtime/store.h"

#include <algorithm>

namespace slabfuzz {

Store::Store(const HeapFactory& make_heap) : heap(make_heap(types)) {}

FuncAddr Store::addHostFunction(CanonTypeId type, HostFunction fn, std::string name) {
  FuncInst f;
  f.type = type;
  f.host = std::move(fn);
  f.name = std::move(name);
  funcs.push_back(std::move(f));
  return static_cast<FuncAddr>(funcs.size() - 1);
}

// Interns a one-type rec group through TypeStore::intern with a small
// synthetic module: each distinct canonical id the signature references
// becomes an "earlier" type index (mapped to that id), and the function type
// follows them, so the group's structural key is exactly that of a module
// declaring the same function type.
CanonTypeId Store::internFuncType(std::span<const ValType> params,
                                  std::span<const ValType> results) {
  std::vector<CanonTypeId> earlier;
  auto toSynthetic = [&](ValType t) {
    if (!t.isRef() || !t.heapType().isIndex()) return t;
    CanonTypeId id = t.heapType().index();
    auto it = std::find(earlier.begin(), earlier.end(), id);
    uint32_t index = static_cast<uint32_t>(it - earlier.begin());
    if (it == earlier.end()) earlier.push_back(id);
    return ValType::ref(HeapType::index(index), t.nullable());
  };
  FuncType ft;
  for (ValType t : params) ft.params.push_back(toSynthetic(t));
  for (ValType t : results) ft.results.push_back(toSynthetic(t));
  const uint32_t first = static_cast<uint32_t>(earlier.size());
  Module synthetic;
  synthetic.types.resize(first + 1);  // types [0, first) are never read: they are "earlier"
  SubType& st = synthetic.types[first];
  st.final = true;
  st.composite.kind = CompositeKind::Func;
  st.composite.func = std::move(ft);
  RecGroup group{first, 1};
  return types.intern(synthetic, group, earlier);
}

void Store::forEachRoot(RootVisitor& visitor) {
  const HeapType func_top = HeapType::abstract(HeapType::Func);
  // Only references are visited; a global's type says whether it holds one.
  // Globals of instances that failed to instantiate are visited too: they
  // may be reachable through an import already made by another instance.
  for (GlobalInst& g : globals) {
    if (!g.type.isRef()) continue;
    Ref r = g.value.ref();
    visitor.visit(r);
    g.value = Value::ref(r);
  }
  for (TableInst& t : tables) {
    // A function table holds only function references and nulls, never a
    // heap id (funcrefs become side-table ids only inside GC objects), so a
    // 10-million-entry funcref table costs a collection nothing.
    if (types.top(t.elem.heapType()) == func_top) continue;
    for (Ref& r : t.elems) visitor.visit(r);
  }
  for (const std::unique_ptr<Instance>& inst : instances) {
    for (size_t i = 0; i < inst->elems.size(); ++i) {
      // As for tables: segments of functions hold no heap ids. The
      // segment's type is in the module's type space.
      if (i < inst->module->elems.size() &&
          inst->types.top(inst->module->elems[i].type.heapType()) == func_top)
        continue;
      for (Ref& r : inst->elems[i]) visitor.visit(r);
    }
  }
  for (Ref& r : host_roots) visitor.visit(r);
}

const ExternVal* Instance::findExport(std::string_view name) const {
  for (const auto& [n, v] : exports) {
    if (n == name) return &v;
  }
  return nullptr;
}

}  // namespace slabfuzz
