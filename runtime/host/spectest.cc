#include "runtime/host/spectest.h"

#include <fmt/format.h>

#include <vector>

namespace slabfuzz {

SpecTest::SpecTest(Store& store, LogSink sink) {
  auto addPrint = [&](std::string name, std::vector<ValType> params) {
    CanonTypeId type = store.internFuncType(params, {});
    HostFunction fn = [sink, params](Executor&, std::span<const Value> args) {
      for (size_t i = 0; i < args.size(); ++i)
        sink(fmt::format("{} : {}", formatBinaryenValue(args[i], params[i]), params[i].toString()));
      return Outcome::returned({});
    };
    ExternVal v;
    v.kind = ExternKind::Func;
    v.func = store.addHostFunction(type, std::move(fn), "spectest." + name);
    exports_.emplace(std::move(name), v);
  };
  const ValType i32 = ValType::i32(), i64 = ValType::i64(), f32 = ValType::f32(),
                f64 = ValType::f64();
  addPrint("print", {});
  addPrint("print_i32", {i32});
  addPrint("print_i64", {i64});
  addPrint("print_f32", {f32});
  addPrint("print_f64", {f64});
  addPrint("print_i32_f32", {i32, f32});
  addPrint("print_f64_f64", {f64, f64});

  auto addGlobal = [&](std::string name, ValType type, Value value) {
    GlobalInst& g = store.globals.emplace_back();
    g.type = type;
    g.mut = false;
    g.value = value;
    ExternVal v;
    v.kind = ExternKind::Global;
    v.global = &g;
    exports_.emplace(std::move(name), v);
  };
  addGlobal("global_i32", i32, Value::i32(666));
  addGlobal("global_i64", i64, Value::i64(666));
  addGlobal("global_f32", f32, Value::f32(666.6f));
  addGlobal("global_f64", f64, Value::f64(666.6));

  TableInst& table = store.tables.emplace_back();
  table.elem = ValType::ref(HeapType::abstract(HeapType::Func), true);
  table.max = 20;
  table.elems.assign(10, Ref::null());
  ExternVal t;
  t.kind = ExternKind::Table;
  t.table = &table;
  exports_.emplace("table", t);

  MemoryInst& memory = store.memories.emplace_back();
  memory.bytes.assign(MemoryInst::kPageSize, 0);
  memory.max_pages = 2;
  ExternVal m;
  m.kind = ExternKind::Memory;
  m.memory = &memory;
  exports_.emplace("memory", m);
}

std::optional<ExternVal> SpecTest::resolve(std::string_view module, std::string_view name) const {
  if (module != "spectest") return std::nullopt;
  auto it = exports_.find(name);
  if (it == exports_.end()) return std::nullopt;
  return it->second;
}

}  // namespace slabfuzz
