#include "runtime/host/fuzzing_support.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <vector>

namespace slabfuzz {
namespace {

ValType anyref() {
  return ValType::ref(HeapType::abstract(HeapType::Any), true);
}
ValType funcref() {
  return ValType::ref(HeapType::abstract(HeapType::Func), true);
}
ValType externref() {
  return ValType::ref(HeapType::abstract(HeapType::Extern), true);
}

}  // namespace

std::span<const FuzzingSupportImport> fuzzingSupportAbi() {
  const ValType i32 = ValType::i32(), i64 = ValType::i64(), f32 = ValType::f32(),
                f64 = ValType::f64();
  static const std::vector<FuzzingSupportImport> abi = {
      {"log-i32", {{i32}, {}}},
      {"log-i64", {{i64}, {}}},
      {"log-f32", {{f32}, {}}},
      {"log-f64", {{f64}, {}}},
      {"log-anyref", {{anyref()}, {}}},
      {"log-funcref", {{funcref()}, {}}},
      {"log-externref", {{externref()}, {}}},
      {"call-export", {{i32, i32}, {}}},
      {"call-export-catch", {{i32}, {i32}}},
      {"call-ref", {{funcref(), i32}, {}}},
      {"call-ref-catch", {{funcref()}, {i32}}},
      {"table-get", {{i32}, {funcref()}}},
      {"table-set", {{i32, funcref()}, {}}},
      {"gc", {{}, {}}},
      {"sleep", {{i32, i32}, {i32}}},
  };
  return abi;
}

bool isJsException(const Outcome& outcome) {
  return outcome.kind == Outcome::Kind::Trapped && outcome.trap == TrapKind::HostTrap &&
         outcome.detail == kJsExceptionDetail;
}

FuzzingSupport::FuzzingSupport(Store& store, LogSink sink) : store_(store), sink_(std::move(sink)) {
  const ValType i32 = ValType::i32(), i64 = ValType::i64(), f32 = ValType::f32(),
                f64 = ValType::f64();
  auto logger = [this](ValType t) {
    return [this, t](Executor&, std::span<const Value> args) { return log(args, {&t, 1}); };
  };
  hostFunc("log-i32", logger(i32));
  hostFunc("log-i64", logger(i64));
  hostFunc("log-f32", logger(f32));
  hostFunc("log-f64", logger(f64));
  hostFunc("log-anyref", logger(anyref()));
  hostFunc("log-funcref", logger(funcref()));
  hostFunc("log-externref", logger(externref()));

  // call-export(index, rethrow): the second operand only chooses whether JS
  // catches and rethrows, which is not observable.
  hostFunc("call-export", [this](Executor& exec, std::span<const Value> args) {
    Outcome o = callExportAsJs(exec, args[0].u32());
    return o.ok() ? Outcome::returned({}) : o;
  });
  hostFunc("call-export-catch", [this](Executor& exec, std::span<const Value> args) {
    Outcome o = callExportAsJs(exec, args[0].u32());
    if (isJsException(o)) return Outcome::returned({Value::i32(1)});
    return o.ok() ? Outcome::returned({Value::i32(0)}) : o;
  });
  hostFunc("call-ref", [this](Executor& exec, std::span<const Value> args) {
    Outcome o = callFuncAsJs(exec, args[0].ref());
    return o.ok() ? Outcome::returned({}) : o;
  });
  hostFunc("call-ref-catch", [this](Executor& exec, std::span<const Value> args) {
             Outcome o = callFuncAsJs(exec, args[0].ref());
             if (isJsException(o)) return Outcome::returned({Value::i32(1)});
             return o.ok() ? Outcome::returned({Value::i32(0)}) : o;
           });
  // table-get/set reach the table exported as "table"; a missing table or
  // an index out of range throws (as JS's Table.get does), it does not trap.
  hostFunc("table-get", [this](Executor&, std::span<const Value> args) {
    TableInst* t = exportedTable();
    if (!t || args[0].u32() >= t->elems.size())
      return Outcome::trapped(TrapKind::HostTrap, std::string(kJsExceptionDetail));
    return Outcome::returned({Value::ref(t->elems[args[0].u32()])});
  });
  hostFunc("table-set", [this](Executor&, std::span<const Value> args) {
    TableInst* t = exportedTable();
    if (!t || args[0].u32() >= t->elems.size())
      return Outcome::trapped(TrapKind::HostTrap, std::string(kJsExceptionDetail));
    t->elems[args[0].u32()] = args[1].ref();
    return Outcome::returned({});
  });
  // gc(): a collection now (slabfuzz's own import, not Binaryen's: modules
  // that use it run only on engines that provide it). A violation the
  // collection finds ends the run as a finding.
  hostFunc("gc", [](Executor& exec, std::span<const Value>) {
    if (!exec.collectGarbage()) return Outcome::violated(*exec.store().heap->violation());
    return Outcome::returned({});
  });
  // sleep(ms, id) does not sleep: it returns the id.
  hostFunc("sleep", [](Executor&, std::span<const Value> args) { return Outcome::returned({args[1]}); });
}

FuncAddr FuzzingSupport::hostFunc(std::string_view name, HostFunction fn) {
  auto it = std::ranges::find(fuzzingSupportAbi(), name, &FuzzingSupportImport::name);
  if (it == fuzzingSupportAbi().end()) {  // a programming error: every host function has its row
    fmt::print(stderr, "fuzzing-support: no ABI row for {}\n", name);
    std::abort();
  }
  CanonTypeId type = store_.internFuncType(it->type.params, it->type.results);
  FuncAddr addr =
      store_.addHostFunction(type, std::move(fn), fmt::format("fuzzing-support.{}", name));
  funcs_.emplace(std::string(name), addr);
  return addr;
}

std::optional<ExternVal> FuzzingSupport::resolve(std::string_view module, std::string_view name) {
  if (module == "fuzzing-support") {
    auto it = funcs_.find(name);
    if (it == funcs_.end()) return std::nullopt;
    ExternVal v;
    v.kind = ExternKind::Func;
    v.func = it->second;
    return v;
  }
  // Binaryen synthesises immutable externref globals for any other import;
  // an immutable (ref extern) matches both `externref` and `(ref extern)`
  // imports, and linking rejects any other kind or type as it should.
  uint32_t payload = 0;
  for (std::string_view part : {module, name})
    for (char c : part)
      payload = (payload + static_cast<uint32_t>(static_cast<unsigned char>(c))) % 251;
  GlobalInst& g = store_.globals.emplace_back();
  g.type = ValType::ref(HeapType::abstract(HeapType::Extern), false);
  g.mut = false;
  g.value = Value::ref(Ref::host(payload));
  ExternVal v;
  v.kind = ExternKind::Global;
  v.global = &g;
  return v;
}

Outcome FuzzingSupport::log(std::span<const Value> args, std::span<const ValType> types) {
  // Built in one buffer: a busy module logs hundreds of lines per run.
  fmt::memory_buffer line;
  auto out = std::back_inserter(line);
  fmt::format_to(out, "[LoggingExternalInterface logging");
  for (size_t i = 0; i < args.size(); ++i) {
    if (types[i].kind() == ValKind::I64) {
      // Binaryen logs an i64 as its two i32 halves, low first, as JS
      // legalisation would pass it.
      uint64_t v = args[i].u64();
      fmt::format_to(out, " {} {}", static_cast<int32_t>(static_cast<uint32_t>(v)),
                     static_cast<int32_t>(static_cast<uint32_t>(v >> 32)));
    } else {
      fmt::format_to(out, " {}", formatBinaryenValue(args[i], types[i]));
    }
  }
  line.push_back(']');
  sink_(std::string_view(line.data(), line.size()));
  return Outcome::returned({});
}

TableInst* FuzzingSupport::exportedTable() const {
  if (!instance_) return nullptr;
  const ExternVal* e = instance_->findExport("table");
  return e && e->kind == ExternKind::Table ? e->table : nullptr;
}

Outcome FuzzingSupport::callExportAsJs(Executor& exec, uint32_t index) {
  if (!instance_ || index >= instance_->exports.size() ||
      instance_->exports[index].second.kind != ExternKind::Func)
    return Outcome::trapped(TrapKind::HostTrap, std::string(kJsExceptionDetail));
  return callFuncAsJs(exec, Ref::func(instance_->exports[index].second.func));
}

Outcome FuzzingSupport::callFuncAsJs(Executor& exec, Ref func) {
  if (!func.isFunc() || func.funcAddr() >= store_.funcs.size())
    return Outcome::trapped(TrapKind::HostTrap, std::string(kJsExceptionDetail));
  FuncAddr addr = func.funcAddr();
  // JS passes undefined for every parameter, which converts to 0 / null; an
  // i64 parameter (no BigInt from undefined) or a non-nullable reference
  // throws before the call.
  std::vector<Value> args;
  for (ValType p : store_.types.params(store_.funcs[addr].type)) {
    if (p.kind() == ValKind::I64 || !isDefaultable(p))
      return Outcome::trapped(TrapKind::HostTrap, std::string(kJsExceptionDetail));
    args.push_back(Value());
  }
  Outcome o = exec.invoke(addr, args);
  if (o.ok()) o.results.clear();  // JS drops what the export returns
  return o;
}

std::string FuzzingSupport::describeFailure(const Outcome& outcome) {
  if (outcome.kind == Outcome::Kind::OutOfFuel) return "[out of fuel]";
  if (outcome.kind == Outcome::Kind::Violation) {
    // Ours alone (no other engine has a slab heap): the distinct prefix
    // keeps it out of comparisons with Binaryen and V8.
    return fmt::format("{} heap violation {} at {}", kSlabfuzzLinePrefix,
                       outcome.violation->signatureKind(), outcome.violation->site);
  }
  if (isJsException(outcome)) return "[exception thrown: imported-js-tag jserror]";
  // Resource traps are Binaryen's "host limit" class: inconclusive.
  if (isResourceTrap(outcome.trap))
    return fmt::format("[host limit {}]", trapMessage(outcome.trap));
  if (!outcome.detail.empty())
    return fmt::format("[trap {}: {}]", trapMessage(outcome.trap), outcome.detail);
  return fmt::format("[trap {}]", trapMessage(outcome.trap));
}

std::string FuzzingSupport::describeInstantiationTrap(TrapKind trap, const std::string& detail) {
  Outcome o = Outcome::trapped(trap, detail);
  if (isJsException(o)) return "[exception thrown: failed to instantiate module]";
  return describeFailure(Outcome::trapped(trap));
}

bool FuzzingSupport::observe(Executor& exec, std::span<const Value> results,
                             std::span<const ValType> types, std::string_view name,
                             FuzzExecSummary& summary) {
  if (!after_call_ || after_call_(exec, results, types)) return true;
  HeapViolation v = store_.heap->violation() ? *store_.heap->violation() : HeapViolation{};
  if (v.site.empty()) v.site = fmt::format("after the call of export {}", name);
  Outcome o = Outcome::violated(std::move(v));
  sink_(describeFailure(o));
  summary.violation = o.violation;
  return false;
}

FuzzExecSummary FuzzingSupport::runExports(Executor& exec) {
  FuzzExecSummary summary;
  if (!instance_) return summary;
  for (const auto& [name, ext] : instance_->exports) {
    if (ext.kind == ExternKind::Global) {
      sink_(fmt::format("[fuzz-exec] export {}", name));
      sink_(fmt::format("[LoggingExternalInterface logging {}]",
                        formatBinaryenValue(ext.global->value, ext.global->type)));
      continue;
    }
    if (ext.kind != ExternKind::Func) continue;  // tables and memories: not logged
    sink_(fmt::format("[fuzz-exec] export {}", name));
    summary.exports_called++;
    const FuncInst& f = store_.funcs[ext.func];
    std::vector<Value> args;
    bool defaultable = true;
    for (ValType p : store_.types.params(f.type)) {
      defaultable = defaultable && isDefaultable(p);
      args.push_back(Value());
    }
    if (!defaultable) {
      sink_("[trap fuzzer can only send defaultable parameters to exports]");
      summary.traps++;
      if (!observe(exec, {}, {}, name, summary)) break;
      continue;
    }
    Outcome o = exec.invoke(ext.func, args);
    // An observation point: the heap must be sound whatever the call did.
    if (verify_after_call_ && o.kind != Outcome::Kind::Violation && !exec.verifyHeap()) {
      HeapViolation v = *store_.heap->violation();
      if (v.site.empty()) v.site = fmt::format("after the call of export {}", name);
      o = Outcome::violated(std::move(v));
    }
    if (o.ok()) {
      std::span<const ValType> types = store_.types.results(f.type);
      for (size_t i = 0; i < o.results.size(); ++i) {
        std::string v = formatBinaryenValue(o.results[i], types[i]);
        sink_(i == 0 ? fmt::format("[fuzz-exec] note result: {} => {}", name, v) : v);
      }
      if (!observe(exec, o.results, types, name, summary)) break;
      continue;
    }
    sink_(describeFailure(o));
    if (o.kind == Outcome::Kind::Violation) {
      // The heap is no longer meaningful: nothing after this proves anything.
      summary.violation = o.violation;
      break;
    }
    if (o.kind == Outcome::Kind::OutOfFuel || isResourceTrap(o.trap)) {
      summary.inconclusive = true;
    } else if (isJsException(o)) {
      summary.exceptions++;
    } else {
      summary.traps++;
    }
    if (!observe(exec, {}, {}, name, summary)) break;
  }
  return summary;
}

}  // namespace slabfuzz
