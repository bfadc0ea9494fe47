// The store: every runtime object that outlives one call (spec 4.2 "Runtime
// structure"): function, table, memory and global instances, module
// instances, the canonical type store and the GC heap.
// Owns: the shapes of those instances and their addresses. Does not own:
// creating them from a module (instantiate.h), running code (exec.h), or GC
// objects (heap/heap.h, reached through Store::heap).
// Contract: instances live in deques, so their addresses are stable for the
// store's lifetime; instances of different modules share them through
// imports. A FuncAddr indexes Store::funcs and is what a funcref holds.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "heap/heap.h"
#include "runtime/module.h"
#include "runtime/types.h"
#include "runtime/value.h"

namespace slabfuzz {

using FuncAddr = uint32_t;
struct Instance;
struct CompiledModule;  // runtime/compile.h
class Executor;         // runtime/exec.h
struct Outcome;         // runtime/exec.h

// A host function: called with the executor (so that it can call back into
// wasm, e.g. fuzzing-support's call-export) and its arguments; returns the
// results or a trap as an Outcome.
using HostFunction = std::function<Outcome(Executor& exec, std::span<const Value> args)>;

struct FuncInst {
  CanonTypeId type = kNoCanonType;
  Instance* instance = nullptr;  // null for host functions
  uint32_t index = 0;            // index in instance->module's function space
  HostFunction host;             // host functions only
  std::string name;              // for diagnostics: "$export" or "module.name"
};

struct TableInst {
  ValType elem;  // canonical space
  std::optional<uint64_t> max;
  std::vector<Ref> elems;
};

struct MemoryInst {
  std::vector<uint8_t> bytes;  // size is a multiple of kPageSize
  std::optional<uint64_t> max_pages;
  static constexpr uint64_t kPageSize = 65536;
  uint64_t pages() const { return bytes.size() / kPageSize; }
};

struct GlobalInst {
  ValType type;  // canonical space
  bool mut = false;
  Value value;
};

// What an export or an import names.
struct ExternVal {
  ExternKind kind = ExternKind::Func;
  FuncAddr func = 0;              // Func
  TableInst* table = nullptr;     // Table
  MemoryInst* memory = nullptr;   // Memory
  GlobalInst* global = nullptr;   // Global
};

struct Instance {
  std::shared_ptr<const Module> module;
  ModuleTypes types;                         // canonical ids of the module's types
  std::shared_ptr<const CompiledModule> code;
  std::vector<FuncAddr> funcs;               // the module's function index space
  std::vector<TableInst*> tables;
  std::vector<MemoryInst*> memories;
  std::vector<GlobalInst*> globals;
  std::vector<std::vector<Ref>> elems;       // element segments; dropped = empty
  std::vector<bool> data_dropped;            // data segment bytes live in `module`
  std::vector<std::pair<std::string, ExternVal>> exports;  // in module order

  const ExternVal* findExport(std::string_view name) const;
};

// Makes the heap a store uses, given the store's canonical types.
using HeapFactory = std::function<std::unique_ptr<Heap>(const TypeStore&)>;

class Store {
 public:
  explicit Store(const HeapFactory& make_heap);
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  TypeStore types;
  std::unique_ptr<Heap> heap;
  std::deque<FuncInst> funcs;
  std::deque<TableInst> tables;
  std::deque<MemoryInst> memories;
  std::deque<GlobalInst> globals;
  std::vector<std::unique_ptr<Instance>> instances;
  // References the host or the oracle holds across calls (a result it keeps
  // to pass back later): roots, like globals. Whoever pushes one pops it.
  std::vector<Ref> host_roots;

  // The store's part of the collector's roots (DESIGN.md "Heap"): every
  // reference-typed global, every table element, every element segment not
  // yet dropped (passive ones are read by table.init and array.new_elem),
  // and host_roots. Frames are the executor's part (Executor::roots()).
  void forEachRoot(RootVisitor& visitor);

  // Registers a host function of canonical type `type`; returns its address.
  FuncAddr addHostFunction(CanonTypeId type, HostFunction fn, std::string name);
  // The canonical id of a function type given in canonical space (interned on
  // first use), for host functions.
  CanonTypeId internFuncType(std::span<const ValType> params, std::span<const ValType> results);
};

}  // namespace slabfuzz
